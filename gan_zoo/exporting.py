"""Export a generator out of PyTorch: ONNX, a ``torch.export`` program (``.pt2``) or TorchScript.

The exported graph is the generator's ``forward`` in eval mode on the CPU in float32, with the
latent ``z`` (B, z_dim) float32 and, for a class-conditional generator, ``labels`` (B,) int64 as
inputs and ``images`` (B, C, H, W) as output; the batch size B is dynamic. Every export is
loaded back and checked against the eager generator on seeded latents, at batch sizes other
than the one it was traced with (onnxruntime runs the ONNX file); the result of the check goes
into the file's metadata (ONNX ``metadata_props``; the extra files of ``.pt2`` and TorchScript)
and, for a run of the user's own, into the checkpoint's ``exports.json`` and model card.

Design origin: ``torch.onnx.export(..., dynamo=True)``, the exporter built on ``torch.export``
(the TorchScript-based one, ``dynamo=False``, is deprecated and cannot export a convolution
whose weights are computed per sample, as StyleGAN2's modulated convolution is), and the
``verify`` step of ``torch.onnx`` (compare with eager on given inputs). TorchScript
(``torch.jit.trace``) is deprecated in PyTorch but still the format C++ ``libtorch`` loads.
Importing this module does not import torch.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import math
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._version import __version__
from .errors import ExportError, GanZooError, unknown

#: The formats and the file suffix each is usually given.
SUFFIXES = {"onnx": ".onnx", "exported-program": ".pt2", "torchscript": ".pt"}
FORMATS = tuple(SUFFIXES)
#: The largest |exported - eager| a check accepts, on images in [-1, 1] (one 8-bit level is
#: 2/255 = 7.8e-3). onnxruntime has kernels of its own; the two PyTorch formats run PyTorch's.
TOLERANCES = {"onnx": 1e-3, "exported-program": 1e-4, "torchscript": 1e-4}
#: The seed of the check's latents and the batch sizes it runs (the export is traced at
#: :data:`TRACE_BATCH`, so a batch size baked into the graph shows up as a failed check).
CHECK_SEED, CHECK_BATCHES, TRACE_BATCH = 0, (1, 7), 4
#: The name of the metadata: an ONNX ``metadata_props`` key, and an extra file of ``.pt2`` and
#: TorchScript archives (``gan_zoo_export.json``).
METADATA_KEY = "gan_zoo_export"
METADATA_FILE = f"{METADATA_KEY}.json"
#: Warnings of the exporters that say nothing to a user of gan-zoo.
_QUIET = ("deprecated", "axis name", "torch.jit")


@dataclass
class ExportResult:
    """What :func:`export` wrote: the file, its format, the metadata in it (with ``check``),
    and the checkpoint folder whose card records it (None: a tag, a download or a lone file)."""

    path: Path
    format: str
    metadata: dict[str, Any]
    recorded_in: Path | None

    @property
    def check(self) -> dict[str, Any]:
        return self.metadata["check"]


def export(
    source: str | os.PathLike,
    format: str = "onnx",
    out: str | os.PathLike | None = None,
    *,
    record: bool = True,
) -> ExportResult:
    """Export the generator of ``source`` (a run, a checkpoint, a ``generator.safetensors``, a
    pretrained tag or ``hf-hub:owner/name``) to ``out`` in ``format`` (see :data:`FORMATS`),
    checked against the eager generator (see the module docstring).

    Example::

        result = gan_zoo.export("dcgan.fashion-mnist", "onnx", "dcgan.onnx")
        print(result.check["max_abs_diff"], result.check["tolerance"])

    ``out`` defaults to ``generator`` plus the format's suffix; the file is replaced atomically
    and only once the check has passed. With ``record`` a run of the user's own records the
    export in its checkpoint's ``exports.json`` and model card (a tag or a download never).
    """
    from .checkpoint.sources import find_source
    from .safe_io import atomic_file, shown
    from .sampling import load

    if format not in SUFFIXES:
        raise unknown("export format", str(format), FORMATS)
    out = Path(out if out is not None else f"generator{SUFFIXES[format]}")
    source_found = find_source(source)
    _check_out(out, source_found.path)
    generator = load(source_found.path, device="cpu")
    described = _describe(generator, source_found)
    z_dim, num_classes, what = generator.z_dim, generator.num_classes, described["what"]
    data, opset = export_bytes(generator.net, format, z_dim, num_classes, what)
    check = check_export(data, format, generator.net, generator.z_dim, generator.num_classes)
    if not check["passed"]:
        diff = check["max_abs_diff"]
        how = check.get("note") or f"by {diff:.3g} (tolerance {check['tolerance']:g})"
        raise ExportError(
            f"{described['what']} exported to {format} differs from the eager generator {how} "
            "on seeded latents; the exporter recorded one of its operations for the traced "
            "batch size only: try another --format, or report it to the plugin's author"
        )
    metadata = {**_metadata(described, format, opset), "check": check}
    with atomic_file(out) as f:
        f.write(_with_metadata(data, format, metadata))
    recorded = None
    ckpt = generator.source
    if record and source_found.writable and ckpt.is_dir():
        from .checkpoint import record_exports

        entry = {"file": shown(out), "created": metadata["created"], "check": check}
        record_exports(ckpt, {format: entry})
        recorded = ckpt
    return ExportResult(out, format, metadata, recorded)


def _check_out(out: Path, source: Path) -> None:
    """``out`` must be a file name, and never one of the files of the run it exports."""
    from .checkpoint.layout import RUN_FILES
    from .safe_io import shown

    if out.is_dir():
        raise ExportError(f"--out {shown(out)} is a folder; give a file name such as g.onnx")
    real, src = Path(os.path.realpath(out)), Path(os.path.realpath(source))
    root = src if src.is_dir() else src.parent
    ours = real == src or (real.name in RUN_FILES and (root == real.parent or root in real.parents))
    if ours and real.exists():
        raise ExportError(
            f"--out {shown(out)} is a file of the run being exported; write the export elsewhere"
        )


def _describe(generator: Any, source: Any) -> dict[str, Any]:
    """The facts the metadata and the error lines name: the generator and its plugin."""
    from .checkpoint.record import part_name, plugin_shown
    from .safe_io import shown

    record = generator.config
    name = part_name(record.get("generator")) or type(generator.net).__name__
    plugin = plugin_shown((record.get("plugins") or {}).get("generator", "unknown 0"))
    given = shown(source.path) if source.kind == "path" else source.spec
    return {
        "what": f"generator '{name}' ({plugin})",
        "name": name,
        "plugin": plugin,
        "source": given,
        "model": record.get("model"),
        "dataset": record.get("dataset"),
        "z_dim": generator.z_dim,
        "num_classes": generator.num_classes,
        "image_size": generator.image_size,
        "channels": generator.channels,
        "class_names": list(generator.class_names),
    }


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
def _quiet():
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
        with _quiet(), torch.no_grad():
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
            _need("onnxscript", "torch.onnx's exporter")
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


def _need(module: str, what: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise ExportError(
            f"{what} needs the '{module}' package, which is not installed; "
            "install the export extra: pip install 'gan-zoo[export]'"
        )


def _metadata(described: dict[str, Any], format: str, opset: Any) -> dict[str, Any]:
    import torch

    inputs = {"z": ["batch", described["z_dim"], "float32"]}
    if described["num_classes"]:
        inputs["labels"] = ["batch", "int64", f"0..{described['num_classes'] - 1}"]
    size, channels = described["image_size"], described["channels"]
    return {
        "format": format,
        "gan_zoo_version": __version__,
        "torch_version": torch.__version__,
        **({"onnx_opset": opset} if opset is not None else {}),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "source": described["source"],
        "model": described["model"],
        "dataset": described["dataset"],
        "generator": described["name"],
        "generator_plugin": described["plugin"],
        "inputs": inputs,
        "output": ["images", "batch", channels, size, size, "float32 in [-1, 1]"],
        "class_names": described["class_names"],
    }


def _with_metadata(data: bytes, format: str, metadata: dict[str, Any]) -> bytes:
    """The serialized export with ``metadata`` inside (the graph itself is unchanged)."""
    text = json.dumps(metadata, separators=(",", ":"))
    if format == "onnx":
        import onnx

        proto = onnx.load_from_string(data)
        entry = proto.metadata_props.add()
        entry.key, entry.value = METADATA_KEY, text
        return proto.SerializeToString()
    import torch

    buffer = io.BytesIO()
    with _quiet():
        if format == "exported-program":
            program = torch.export.load(io.BytesIO(data))
            torch.export.save(program, buffer, extra_files={METADATA_FILE: text})
        else:
            module = torch.jit.load(io.BytesIO(data), map_location="cpu")
            torch.jit.save(module, buffer, _extra_files={METADATA_FILE: text})
    return buffer.getvalue()


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
        _need("onnxruntime", "checking an ONNX export")
        import onnxruntime

        session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]

        def run(inputs: tuple) -> Any:
            return session.run(None, {n: t.numpy() for n, t in zip(names, inputs, strict=True)})[0]

        return run, f"onnxruntime {onnxruntime.__version__}"
    with _quiet():
        if format == "exported-program":
            module = torch.export.load(io.BytesIO(data)).module()
        else:
            module = torch.jit.load(io.BytesIO(data), map_location="cpu")
    return (lambda inputs: module(*inputs)), f"torch {torch.__version__}"


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The gan-zoo metadata of an exported file of any of the three formats, read without
    running it: ``.pt2`` and TorchScript files are zip archives that hold it as
    ``<archive>/extra/gan_zoo_export.json``; an ONNX file is a protobuf (read with ``onnx``)."""
    import zipfile

    path = Path(path)
    text = ""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith(f"/extra/{METADATA_FILE}")]
            text = archive.read(names[0]).decode("utf-8") if names else ""
    else:
        _need("onnx", "reading an ONNX file's metadata")
        import onnx

        try:
            proto = onnx.load(str(path), load_external_data=False)
        except Exception as exc:  # not an ONNX file at all
            raise ExportError(f"{path} is not an ONNX, .pt2 or TorchScript file") from exc
        text = {p.key: p.value for p in proto.metadata_props}.get(METADATA_KEY, "")
    if not text:
        raise ExportError(f"{path} holds no gan-zoo export metadata")
    return json.loads(text)


__all__ = [
    "CHECK_BATCHES",
    "FORMATS",
    "METADATA_FILE",
    "METADATA_KEY",
    "SUFFIXES",
    "TOLERANCES",
    "ExportResult",
    "check_export",
    "example_inputs",
    "export",
    "export_bytes",
    "read_metadata",
]
