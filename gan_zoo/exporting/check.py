"""The check of an export: the serialized file run (onnxruntime for ONNX) and the eager
generator on the same seeded inputs, at batch sizes other than the traced one."""

from __future__ import annotations

import io
import math
from typing import Any

from .formats import CHECK_BATCHES, CHECK_SEED, example_inputs, quiet_exporters, require

#: The largest |exported - eager| a check accepts, on images in [-1, 1] (one 8-bit level is
#: 2/255 = 7.8e-3). onnxruntime has kernels of its own; the two PyTorch formats run PyTorch's.
TOLERANCES = {"onnx": 1e-3, "exported-program": 1e-4, "torchscript": 1e-4}
#: The seed of the check's latents and the batch sizes it runs (the export is traced at


def check_export(data: bytes, format: str, net: Any, z_dim: int, num_classes: int) -> dict:
    """Run the serialized export and the eager ``net`` on the same seeded inputs at each of
    :data:`CHECK_BATCHES`; ``{"max_abs_diff", "tolerance", "passed", "runtime", ...}``."""
    import torch

    run, runtime = _runner(data, format)
    worst = 0.0
    with torch.no_grad():
        for batch in CHECK_BATCHES:
            inputs = example_inputs(z_dim, num_classes, batch)
            eager = net(inputs[0], inputs[1] if num_classes else None).float()
            got = torch.as_tensor(run(inputs)).float()
            if got.shape != eager.shape:
                shapes = f"shape {tuple(got.shape)} instead of {tuple(eager.shape)}"
                return _result(format, runtime, None, f"at batch {batch}: {shapes}")
            worst = max(worst, float((got - eager).abs().max()))
    return _result(format, runtime, worst)


def _result(format: str, runtime: str, diff: float | None, note: str = "") -> dict[str, Any]:
    tolerance = TOLERANCES[format]
    if diff is not None and not math.isfinite(diff):
        diff, note = None, "the export's output is not finite"
    result = {
        "seed": CHECK_SEED,
        "batch_sizes": list(CHECK_BATCHES),
        "max_abs_diff": diff,
        "tolerance": tolerance,
        "passed": diff is not None and diff <= tolerance,
        "runtime": runtime,
    }
    return {**result, "note": note} if note else result


def _runner(data: bytes, format: str) -> tuple[Any, str]:
    """A function from inputs to the export's output, and the runtime's name and version."""
    import torch

    if format == "onnx":
        require("onnxruntime", "checking an ONNX export")
        import onnxruntime

        session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]

        def run(inputs: tuple) -> Any:
            return session.run(None, {n: t.numpy() for n, t in zip(names, inputs, strict=True)})[0]

        return run, f"onnxruntime {onnxruntime.__version__}"
    with quiet_exporters():
        if format == "exported-program":
            module = torch.export.load(io.BytesIO(data)).module()
        else:
            module = torch.jit.load(io.BytesIO(data), map_location="cpu")
    return (lambda inputs: module(*inputs)), f"torch {torch.__version__}"
