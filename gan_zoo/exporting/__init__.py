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

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ExportError, unknown
from .check import TOLERANCES, check_export
from .formats import (
    CHECK_BATCHES,
    CHECK_SEED,
    FORMATS,
    SUFFIXES,
    TRACE_BATCH,
    example_inputs,
    export_bytes,
    operator_of,
)
from .metadata import METADATA_FILE, METADATA_KEY, metadata_of, read_metadata, with_metadata


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
    from ..checkpoint.sources import find_source
    from ..safe_io import atomic_file, shown
    from ..sampling import load

    if format not in SUFFIXES:
        raise unknown("export format", str(format), FORMATS)
    out = Path(out if out is not None else f"generator{SUFFIXES[format]}")
    source_found = find_source(source)
    _check_out(out, source_found.path)
    generator = load(source_found.path, device="cpu")
    described = _describe(generator, source_found)
    z_dim, num_classes, what = generator.z_dim, generator.num_classes, described["what"]
    data, opset = export_bytes(generator.net, format, z_dim, num_classes, what)
    check = check_export(data, format, generator.net, z_dim, num_classes)
    if not check["passed"]:
        diff = check["max_abs_diff"]
        how = check.get("note") or f"by {diff:.3g} (tolerance {check['tolerance']:g})"
        raise ExportError(
            f"{described['what']} exported to {format} differs from the eager generator {how} "
            "on seeded latents, so the export does not compute the same function; nothing was "
            "written: try another --format, or report it to the plugin's author"
        )
    metadata = {**metadata_of(described, format, opset), "check": check}
    with atomic_file(out) as f:
        f.write(with_metadata(data, format, metadata))
    recorded = None
    ckpt = generator.source
    if record and source_found.writable and ckpt.is_dir():
        from ..checkpoint import record_exports

        entry = {"file": shown(out), "created": metadata["created"], "check": check}
        record_exports(ckpt, {format: entry})
        recorded = ckpt
    return ExportResult(out, format, metadata, recorded)


def _check_out(out: Path, source: Path) -> None:
    """``out`` must be a file name, and never one of the files of the run it exports."""
    from ..checkpoint.layout import RUN_FILES
    from ..safe_io import shown

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
    from ..checkpoint.record import part_name, plugin_shown
    from ..safe_io import shown

    record = generator.config
    name = part_name(record.get("generator")) or type(generator.net).__name__
    recorded = (record.get("plugins") or {}).get("generator")
    plugin = plugin_shown(recorded) if recorded else "plugin not recorded"
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


__all__ = [
    "CHECK_BATCHES",
    "CHECK_SEED",
    "FORMATS",
    "METADATA_FILE",
    "METADATA_KEY",
    "SUFFIXES",
    "TOLERANCES",
    "TRACE_BATCH",
    "ExportResult",
    "check_export",
    "example_inputs",
    "export",
    "export_bytes",
    "operator_of",
    "read_metadata",
]
