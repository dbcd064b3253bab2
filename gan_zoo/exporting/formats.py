"""The three formats: the graph that is exported, the exporters' calls, and the operator an
exporter's failure names. Importing this module does not import torch."""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from typing import Any

from ..errors import ExportError, GanZooError

#: The formats and the file suffix each is usually given.
SUFFIXES = {"onnx": ".onnx", "exported-program": ".pt2", "torchscript": ".pt"}
FORMATS = tuple(SUFFIXES)
#: :data:`TRACE_BATCH`, so a batch size baked into the graph shows up as a failed check).
CHECK_SEED, CHECK_BATCHES, TRACE_BATCH = 0, (1, 7), 4
#: Warnings of the exporters that say nothing to a user of gan-zoo.
_QUIET = ("deprecated", "axis name", "torch.jit")


def _graph(net: Any, conditional: bool) -> Any:
    """The module that is exported: ``forward(z)`` or ``forward(z, labels)``, so that the
    inputs have those names and an unconditional generator has no labels input."""
    from torch import nn

    class Conditional(nn.Module):
        def __init__(self, net: nn.Module):
            super().__init__()
            self.net = net

        def forward(self, z, labels):  # (B, z_dim), (B,) -> (B, C, H, W)
            return self.net(z, labels)

    class Unconditional(Conditional):
        def forward(self, z):  # (B, z_dim) -> (B, C, H, W)
            return self.net(z, None)

    return (Conditional if conditional else Unconditional)(net).eval()


def example_inputs(z_dim: int, num_classes: int, batch: int, seed: int = CHECK_SEED) -> tuple:
    """``(z,)`` or ``(z, labels)``: N(0, 1) latents drawn on the CPU from ``seed`` and labels
    0..K-1 cycling (what the check feeds both the export and the eager generator)."""
    import torch

    z = torch.randn(batch, z_dim, generator=torch.Generator().manual_seed(seed))
    return (z, torch.arange(batch) % num_classes) if num_classes else (z,)


@contextlib.contextmanager
def quiet_exporters():
    """The exporters print progress lines and warn about their own deprecations: keep both
    out of the command's output (a failure still raises)."""
    import torch

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        for text in _QUIET:
            warnings.filterwarnings("ignore", message=f".*{text}")
        warnings.filterwarnings("ignore", category=UserWarning, module="torch")
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        yield


def export_bytes(
    net: Any, format: str, z_dim: int, num_classes: int, what: str = "the generator"
) -> tuple[bytes, int | None]:
    """``net`` (in eval mode, on the CPU) exported to ``format``, serialized without metadata,
    and the ONNX opset (None for the others); ``what`` names it in a one-line error."""
    import torch

    graph = _graph(net, bool(num_classes))
    inputs = example_inputs(z_dim, num_classes, TRACE_BATCH)
    batch = torch.export.Dim("batch", min=1)
    dynamic = tuple({0: batch} for _ in inputs)
    try:
        with quiet_exporters(), torch.no_grad():
            if format == "torchscript":
                traced = torch.jit.trace(graph, inputs, check_trace=False)
                buffer = io.BytesIO()
                torch.jit.save(traced, buffer)
                return buffer.getvalue(), None
            if format == "exported-program":
                program = torch.export.export(graph, inputs, dynamic_shapes=dynamic)
                buffer = io.BytesIO()
                torch.export.save(program, buffer)
                return buffer.getvalue(), None
            require("onnxscript", "torch.onnx's exporter")
            names = ["z", "labels"][: len(inputs)]
            onnx_program = torch.onnx.export(
                graph,
                inputs,
                dynamo=True,
                verbose=False,
                dynamic_shapes=dynamic,
                input_names=names,
                output_names=["images"],
            )
            proto = onnx_program.model_proto
            opset = next(
                (o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None
            )
            return proto.SerializeToString(), opset
    except GanZooError:
        raise
    except Exception as exc:
        raise ExportError(
            f"{what} cannot be exported to {format}: operator {operator_of(exc)} "
            f"is not supported ({first_line(exc)}); try another --format, or ask the plugin's "
            "author for an export-friendly form"
        ) from exc


_OPERATOR = (
    re.compile(r"target=torch\.ops\.([\w.]+)"),
    re.compile(r"torch\.ops\.([\w]+\.[\w.]+)"),
    re.compile(r"\b(aten::\w+|prims::\w+|\w+::\w+)"),
)


def operator_of(exc: BaseException) -> str:
    """The operator an exporter's error names (``aten.kthvalue.default``), looked for through
    the chain of causes; ``(not named by the exporter)`` when none does."""
    texts, seen = [], exc
    while seen is not None and len(texts) < 10:
        texts.append(str(seen))
        seen = seen.__cause__ or seen.__context__
    for pattern in _OPERATOR:
        for text in texts:
            if match := pattern.search(text):
                return match.group(1)
    return "(not named by the exporter)"


def first_line(exc: BaseException) -> str:
    """The first line of an error, without terminal colours, at most 160 characters."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line if len(line) <= 160 else line[:157] + "..."


def require(module: str, what: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise ExportError(
            f"{what} needs the '{module}' package, which is not installed; "
            "install the export extra: pip install 'gan-zoo[export]'"
        )
