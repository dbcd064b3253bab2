"""Safe file I/O for checkpoints: atomic writes, and safetensors read without ever unpickling.

Atomic writes follow the write-to-temp, fsync, rename protocol of databases and of git's ref
updates: a reader (or a process restarted after ``kill -9``) sees the old file or the new one,
never half of one. Safetensors files are checked before use: the 8-byte header length, the JSON
header and the total size must agree, so a truncated download, a pickle or a ``torch.save`` zip
renamed to ``.safetensors`` is a one-line :class:`~gan_zoo.errors.CheckpointError`. Loading
weights into a module checks every tensor name and shape first, and names the first mismatch.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
from pathlib import Path
from typing import Any

from .errors import CheckpointError


# Atomic writes.
def _umask() -> int:
    """The process umask (temp files and dirs are created private; finished ones get the usual mode)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(path: Path) -> None:
    """Make a rename or a new file in ``path`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_durable(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` and fsync it (the file is new: it lives in a temp dir)."""
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Replace ``path`` with ``data`` atomically: readers see the old or the new file, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, data: Any, indent: int = 2) -> Path:
    return atomic_write_text(path, json.dumps(data, indent=indent, allow_nan=True) + "\n")


def _cpu_tensors(tensors: dict[str, Any]) -> dict[str, Any]:
    """Contiguous CPU copies; tensors that share storage (tied weights) are cloned apart."""
    seen: set[tuple[int, int]] = set()
    out = {}
    for name, t in tensors.items():
        t = t.detach().to("cpu").contiguous()
        key = (t.untyped_storage().data_ptr(), t.storage_offset()) if t.numel() else (0, id(t))
        if key in seen or t.untyped_storage().nbytes() != t.numel() * t.element_size():
            t = t.clone()
        seen.add(key)
        out[name] = t
    return out


def safetensors_bytes(tensors: dict[str, Any], metadata: dict[str, str]) -> bytes:
    from safetensors.torch import save

    return save(_cpu_tensors(tensors), metadata=metadata)


def read_header(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON header of a safetensors file, checked against the file size; never unpickles.

    A file that is missing, truncated, or not safetensors at all (a pickle, a zip from
    ``torch.save``) is a one-line :class:`CheckpointError`.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path} does not exist")
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        n = struct.unpack("<Q", head)[0] if len(head) == 8 else -1
        if n < 2 or 8 + n > size:
            raise CheckpointError(_not_safetensors(path, size, n))
        raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise CheckpointError(_not_safetensors(path, size, n)) from None
    if not isinstance(header, dict):
        raise CheckpointError(_not_safetensors(path, size, n))
    end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0)
    if 8 + n + end != size:
        raise CheckpointError(
            f"{path} is truncated or corrupt: its header declares {8 + n + end} bytes but the "
            f"file has {size}; re-copy it or use another checkpoint"
        )
    return header


def _not_safetensors(path: Path, size: int, n: int) -> str:
    if size < 8 or 0 <= n and 8 + n > size and n < 100_000_000:
        what = "truncated or corrupt (its header is cut off)"
    else:
        what = "not a safetensors file (pickles and torch.save files are never loaded)"
    return f"{path} is {what}; re-copy it or use another checkpoint"


def read_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The string metadata of a safetensors file (empty if it has none)."""
    return dict(read_header(path).get("__metadata__") or {})


def read_safetensors(
    path: str | os.PathLike, device: str = "cpu"
) -> tuple[dict[str, Any], dict[str, str]]:
    """``(tensors, metadata)`` of a safetensors file, with one-line errors for bad files."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    metadata = read_metadata(path)
    try:
        tensors = load_file(str(path), device=str(device))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"{path} is corrupt ({line}); re-copy it or use another checkpoint"
        ) from None
    return tensors, metadata


def load_weights(module: Any, tensors: dict[str, Any], source: str, what: str) -> None:
    """Load ``tensors`` into ``module`` after checking every name and shape (one-line errors)."""
    expected = module.state_dict()
    hint = "weights of another architecture or other options?"
    for name, t in expected.items():
        if name not in tensors:
            raise CheckpointError(f"{source} has no tensor '{name}' that {what} needs ({hint})")
        if tuple(tensors[name].shape) != tuple(t.shape):
            raise CheckpointError(
                f"{source} does not fit {what}: tensor '{name}' has shape "
                f"{tuple(tensors[name].shape)} in the file but {tuple(t.shape)} in the model ({hint})"
            )
    extra = sorted(set(tensors) - set(expected))
    if extra:
        raise CheckpointError(
            f"{source} has tensor '{extra[0]}' that {what} does not have ({hint})"
        )
    module.load_state_dict(tensors, strict=True)


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{path} does not exist; the checkpoint is incomplete") from None
    except (OSError, ValueError) as exc:
        raise CheckpointError(
            f"{path} is not valid JSON ({exc}); the checkpoint is corrupt"
        ) from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path} is not a JSON object; the checkpoint is corrupt")
    return data
