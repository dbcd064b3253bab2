"""What an exported file says about itself: the generator, its inputs, the versions and the
check, as ONNX ``metadata_props`` or as an extra file of a ``.pt2`` / TorchScript archive."""

from __future__ import annotations

import datetime
import io
import json
import os
from pathlib import Path
from typing import Any

from .._version import __version__
from ..errors import ExportError
from .formats import quiet_exporters, require

#: The name of the metadata: an ONNX ``metadata_props`` key, and an extra file of ``.pt2`` and
#: TorchScript archives (``gan_zoo_export.json``).
METADATA_KEY = "gan_zoo_export"
METADATA_FILE = f"{METADATA_KEY}.json"


def metadata_of(described: dict[str, Any], format: str, opset: Any) -> dict[str, Any]:
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


def with_metadata(data: bytes, format: str, metadata: dict[str, Any]) -> bytes:
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
    with quiet_exporters():
        if format == "exported-program":
            program = torch.export.load(io.BytesIO(data))
            torch.export.save(program, buffer, extra_files={METADATA_FILE: text})
        else:
            module = torch.jit.load(io.BytesIO(data), map_location="cpu")
            torch.jit.save(module, buffer, _extra_files={METADATA_FILE: text})
    return buffer.getvalue()


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
        require("onnx", "reading an ONNX file's metadata")
        import onnx

        try:
            proto = onnx.load(str(path), load_external_data=False)
        except Exception as exc:  # not an ONNX file at all
            raise ExportError(f"{path} is not an ONNX, .pt2 or TorchScript file") from exc
        text = {p.key: p.value for p in proto.metadata_props}.get(METADATA_KEY, "")
    if not text:
        raise ExportError(f"{path} holds no gan-zoo export metadata")
    return json.loads(text)
