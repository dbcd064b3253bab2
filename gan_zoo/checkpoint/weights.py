"""Safetensors files read as untrusted input: the header checked entry by entry (dtype, shape,
offsets) against the file size before any tensor is read, at most the format's 100 MB of header,
and tensor names, shapes and dtypes compared with a model (built on the meta device) before
anything is allocated. Nothing is ever unpickled: a pickle or a ``torch.save`` zip renamed to
``.safetensors`` is a one-line :class:`~gan_zoo.errors.CheckpointError`.
"""

from __future__ import annotations

import json
import math
import os
import struct
from pathlib import Path
from typing import Any

from ..errors import CheckpointError
from ..safe_io import MissingFile, inside_run, open_untrusted, shown

#: The safetensors format's own limit on its JSON header.
HEADER_CAP = 100_000_000

# Safetensors headers.
#: Bytes per element of each safetensors dtype.
DTYPE_SIZES = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "U64": 8,
    "F64": 8,
}


def read_header(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON header of a safetensors file, checked entry by entry against the file size;
    reads at most the format's 100 MB of header and never unpickles.

    A file that is missing, truncated, or not safetensors at all (a pickle, a zip from
    ``torch.save``) is a one-line :class:`CheckpointError`.
    """
    path = Path(path)
    fd = open_untrusted(path)
    with os.fdopen(fd, "rb") as f:
        size = os.fstat(fd).st_size
        head = f.read(8)
        n = struct.unpack("<Q", head)[0] if len(head) == 8 else -1
        if n < 2 or 8 + n > size or n > HEADER_CAP:
            raise CheckpointError(_not_safetensors(path, size, n))
        raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise CheckpointError(_not_safetensors(path, size, n)) from None
    if not isinstance(header, dict):
        raise CheckpointError(_not_safetensors(path, size, n))
    end = _check_entries(header, path)
    if 8 + n + end != size:
        raise CheckpointError(
            f"{shown(path)} is truncated or corrupt: its header declares {8 + n + end} bytes but "
            f"the file has {size}; re-copy it or use another checkpoint"
        )
    return header


def _check_entries(header: dict[str, Any], path: Path) -> int:
    """Check every tensor entry (and ``__metadata__``) of a header; the end of the data."""
    bad = f"{shown(path)} is corrupt: its safetensors header has a bad"
    meta = header.get("__metadata__", {})
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise CheckpointError(f"{bad} __metadata__ (it must map names to strings); re-copy it")
    end = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        shape = entry.get("shape") if isinstance(entry, dict) else None
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        ok = (
            isinstance(entry, dict)
            and entry.get("dtype") in DTYPE_SIZES
            and isinstance(shape, list)
            and all(type(d) is int and d >= 0 for d in shape)
            and isinstance(offsets, list)
            and len(offsets) == 2
            and all(type(o) is int for o in offsets)
            and 0 <= offsets[0] <= offsets[1]
        )
        if not ok or offsets[1] - offsets[0] != math.prod(shape) * DTYPE_SIZES[entry["dtype"]]:
            raise CheckpointError(
                f"{bad} entry {_name(name)}; re-copy it or use another checkpoint"
            )
        end = max(end, offsets[1])
    return end


def _name(name: str) -> str:
    """A tensor name from a file, quoted and cut short for an error line."""
    return repr(name[:80] + ("..." if len(name) > 80 else ""))


def _not_safetensors(path: Path, size: int, n: int) -> str:
    if size < 8 or 0 <= n and 8 + n > size and n < HEADER_CAP:
        what = "truncated or corrupt (its header is cut off)"
    else:
        what = "not a safetensors file (pickles and torch.save files are never loaded)"
    return f"{shown(path)} is {what}; re-copy it or use another checkpoint"


def read_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The string metadata of a safetensors file (empty if it has none)."""
    return dict(read_header(path).get("__metadata__") or {})


def torch_dtype_name(dtype: Any) -> str:
    """The safetensors name of a torch dtype (``torch.float32`` -> ``F32``)."""
    return _TORCH_DTYPES.get(str(dtype).removeprefix("torch."), str(dtype))


_TORCH_DTYPES = {
    "float64": "F64",
    "float32": "F32",
    "float16": "F16",
    "bfloat16": "BF16",
    "int64": "I64",
    "int32": "I32",
    "int16": "I16",
    "int8": "I8",
    "uint8": "U8",
    "bool": "BOOL",
    "uint16": "U16",
    "uint32": "U32",
    "uint64": "U64",
    "float8_e4m3fn": "F8_E4M3",
    "float8_e5m2": "F8_E5M2",
}


def check_fits(expected: dict[str, Any], header: dict[str, Any], source: str, what: str) -> None:
    """Compare the tensors ``expected`` (a state dict, e.g. of a model built on the meta
    device) with a safetensors header: every name, shape and dtype, before anything is read."""
    hint = "weights of another architecture or other options?"
    for name, t in expected.items():
        entry = header.get(name)
        if name == "__metadata__" or not isinstance(entry, dict):
            raise CheckpointError(f"{source} has no tensor '{name}' that {what} needs ({hint})")
        if tuple(entry["shape"]) != tuple(t.shape):
            raise CheckpointError(
                f"{source} does not fit {what}: tensor '{name}' has shape {tuple(entry['shape'])} "
                f"in the file but {tuple(t.shape)} in the model ({hint})"
            )
        if entry["dtype"] != torch_dtype_name(t.dtype):
            raise CheckpointError(
                f"{source} does not fit {what}: tensor '{name}' is {entry['dtype']} in the file "
                f"but {torch_dtype_name(t.dtype)} in the model; re-export the weights as floats"
            )
    extra = sorted(set(header) - set(expected) - {"__metadata__"})
    if extra:
        raise CheckpointError(
            f"{source} has tensor {_name(extra[0])} that {what} does not have ({hint})"
        )


def read_safetensors(
    path: str | os.PathLike, device: str = "cpu"
) -> tuple[dict[str, Any], dict[str, str]]:
    """``(tensors, metadata)`` of a safetensors file, with one-line errors for bad files."""
    from safetensors import SafetensorError
    from safetensors.torch import load, load_file

    metadata = read_metadata(path)
    real = inside_run(path)
    try:
        if _utf8(real):
            tensors = load_file(str(real), device=str(device))
        else:  # safetensors takes UTF-8 paths only: read the bytes through our own open
            tensors = {k: v.to(device) for k, v in load(_read_all(real)).items()}
    except FileNotFoundError:
        raise MissingFile(f"{shown(path)} does not exist; the checkpoint is incomplete") from None
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        line = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"{shown(path)} is corrupt ({line}); re-copy it or use another checkpoint"
        ) from None
    return tensors, metadata


def _utf8(path: Any) -> bool:
    """Whether ``path`` is valid UTF-8 (a folder name from another system may not be)."""
    try:
        os.fsencode(path).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _read_all(path: Any) -> bytes:
    """The bytes of the regular file ``path`` of a run (already checked to lie inside it)."""
    fd = open_untrusted(path)
    try:
        size, chunks = os.fstat(fd).st_size, []
        while chunk := os.read(fd, 1 << 24):
            chunks.append(chunk)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    if len(data) != size:
        raise CheckpointError(f"{shown(path)} changed while it was read; try again")
    return data


def load_weights(module: Any, tensors: dict[str, Any], source: str, what: str) -> None:
    """Load ``tensors`` into ``module`` after checking every name, shape and dtype (one-line
    errors)."""
    check_fits(
        module.state_dict(),
        {
            k: {"shape": list(t.shape), "dtype": torch_dtype_name(t.dtype)}
            for k, t in tensors.items()
        },
        source,
        what,
    )
    module.load_state_dict(tensors, strict=True)
