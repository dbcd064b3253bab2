"""Safe file I/O for runs: atomic writes that never follow a symlink, and reads of untrusted
files (a run downloaded from a stranger) that never block, never follow a link out of the run,
never read more than a cap, and never unpickle.

Atomic writes follow the write-to-temp, fsync, rename protocol of databases and of git's ref
updates: a reader (or a process restarted after ``kill -9``) sees the old file or the new one,
never half of one. The temp file is created with ``O_EXCL`` next to its target and renamed onto
it; ``os.replace`` replaces a symlink at the target, it never writes through it. Opens never
follow a link at the name itself: ``O_NOFOLLOW`` on POSIX, the checks of
:func:`gan_zoo.portable.open_no_link` on Windows. Every
``OSError`` (a full disk, a read-only file system, a file where a folder should be) is a
one-line :class:`WriteError` naming the path and what to do.

Reads of a run (the safetensors idea applied to everything beside the weights): the file must
resolve inside its run (:func:`run_root`), be a regular file (a FIFO or a device is refused by
``stat`` before it is opened, and opened with ``O_NONBLOCK``), and be no larger than a cap
(JSON and pointer files are small; a safetensors header is at most the format's 100 MB).
Safetensors headers are checked entry by entry (dtype, shape, offsets) against the file size,
so a truncated download, a pickle or a ``torch.save`` zip renamed to ``.safetensors`` is a
one-line :class:`~gan_zoo.errors.CheckpointError`, and tensor shapes and dtypes can be compared
with a model before anything is allocated.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePath
from typing import IO, Any

from . import portable
from .errors import CheckpointError, GanZooError

#: Caps on what a run may hold beside its weights, checked before reading.
JSON_CAP = 16 * 2**20
POINTER_CAP = 4096
_STEP_DIR = re.compile(r"^step-\d+$")


class WriteError(GanZooError):
    """A file that cannot be written (full disk, read-only file system, no permission, ...)."""


class MissingFile(CheckpointError):
    """A file of a checkpoint is not there (e.g. pruned by a training while it was read)."""


def shown(path: Any) -> str:
    """``path`` as printable text: bytes that are not UTF-8 appear as ``\\xNN``."""
    try:
        return os.fsencode(path).decode("utf-8", "backslashreplace")
    except (UnicodeError, TypeError):
        return str(path).encode("utf-8", "backslashreplace").decode("utf-8")


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if round(n, 0 if unit == "bytes" else 1) < 1000 or unit == "TB":  # 999.96 KB is 1.0 MB
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return ""  # pragma: no cover


# Atomic writes. The three building blocks below are public: the checkpoint writer
# (gan_zoo.checkpoint.save) writes a whole folder with them, not one file at a time.
def current_umask() -> int:
    """The process umask, read without changing it for long (it is set back at once).

    Temp files and folders are created private (0o600, 0o700); once complete they get the mode
    an ordinary ``open`` would have given them, ``0o666 & ~current_umask()`` for a file and
    ``0o777 & ~current_umask()`` for a folder."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in the folder ``path`` durable: fsync the folder itself.

    Call it after the last ``os.rename``/new file in a folder (a file's own fsync does not
    persist its name). A no-op where folders cannot be opened (Windows); errors are ignored,
    because the data itself is already on disk."""
    try:
        fd = os.open(path, portable.open_flags("O_RDONLY", "O_DIRECTORY"))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_durable(path: Path, data: bytes) -> None:
    """Create the new file ``path`` (never a link, never an existing file: ``O_EXCL``), write
    ``data`` and fsync it. Meant for files in a fresh temp folder that is renamed into place
    afterwards (then :func:`fsync_dir`); an ``OSError`` (a full disk) is raised as it is."""
    flags = portable.open_flags("O_WRONLY", "O_CREAT", "O_EXCL")
    fd = portable.open_no_link(path, flags, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


_WHAT_TO_DO = {
    errno.ENOSPC: "free some space or write somewhere else",
    errno.EDQUOT: "free some space or write somewhere else",
    errno.EROFS: "the file system is read-only; write somewhere else",
    errno.EACCES: "you may not write there; pick a folder you can write to",
    errno.EPERM: "you may not write there; pick a folder you can write to",
    errno.ENOTDIR: "a part of the path is a file, not a folder; pick another path",
    errno.EEXIST: "a part of the path is a file, not a folder; pick another path",
    errno.EISDIR: "a folder is in the way; pick another path",
    errno.ENAMETOOLONG: "the name is too long; pick a shorter path",
    errno.ELOOP: "a symbolic link is in the way, which gan-zoo does not write through; remove it",
}


def write_error(path: Any, exc: BaseException) -> WriteError:
    """The one-line error for an ``OSError`` (or an unencodable name) met writing ``path``."""
    if isinstance(exc, UnicodeError):
        return WriteError(
            f"cannot write {shown(path)}: the name cannot be encoded on this file system; "
            "pick a path of UTF-8 characters"
        )
    code = getattr(exc, "errno", None)
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    todo = _WHAT_TO_DO.get(code, "check the path or write somewhere else")
    return WriteError(f"cannot write {shown(path)} ({reason}); {todo}")


def make_dirs(path: str | os.PathLike) -> Path:
    """``mkdir -p path``, with a one-line :class:`WriteError` when it cannot be made."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (OSError, UnicodeError) as exc:
        raise write_error(path, exc) from None
    if not path.is_dir():
        raise WriteError(f"cannot write into {shown(path)}: it is not a folder; pick another path")
    return path


@contextmanager
def atomic_file(path: str | os.PathLike, *, run: bool = False) -> Iterator[IO[bytes]]:
    """``with atomic_file(path) as f: f.write(...)``: ``path`` is replaced when the block ends,
    never written through a symlink, never left half-written; errors are one-line WriteErrors.

    ``run=True`` also refuses a ``path`` whose folder leads out of its run (:func:`run_root`).
    """
    path = Path(path)
    make_dirs(path.parent)
    if run:
        inside_run(path, follow_last=False)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        portable.set_mode(fd, tmp, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, (OSError, UnicodeError)):
            raise write_error(path, exc) from None
        raise
    fsync_dir(path.parent)


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, run: bool = False) -> Path:
    """Replace ``path`` with ``data`` atomically: readers see the old or the new file, never
    half."""
    with atomic_file(path, run=run) as f:
        f.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, *, run: bool = False) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"), run=run)


def atomic_write_json(
    path: str | os.PathLike, data: Any, indent: int = 2, *, run: bool = False
) -> Path:
    return atomic_write_text(path, json.dumps(data, indent=indent, allow_nan=True) + "\n", run=run)


def open_append(path: str | os.PathLike) -> int:
    """A file descriptor appending to the regular file ``path`` (created if missing), never
    through a symlink and never blocking on a FIFO; errors are one-line WriteErrors."""
    path = Path(path)
    flags = portable.open_flags("O_WRONLY", "O_APPEND", "O_CREAT", "O_NONBLOCK")
    try:
        fd = portable.open_no_link(path, flags, 0o666)
    except (OSError, UnicodeError) as exc:
        raise write_error(path, exc) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise WriteError(f"cannot append to {shown(path)}: it is not a regular file; remove it")
    return fd


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


# Reading untrusted files.
def run_root(path: str | os.PathLike) -> Path:
    """The folder a file of a run may resolve into: the run above ``checkpoints/step-N/``,
    ``checkpoints/`` or ``samples/``, else the folder the file is in. Lexical: no link is
    followed, so a link anywhere below the run that leads out of it is caught."""
    return run_folder(Path(os.path.abspath(path)))


def run_folder(file: PurePath) -> PurePath:
    """The lexical part of :func:`run_root` for an absolute ``file`` of either flavour
    (``PureWindowsPath("C:/runs/x/checkpoints/step-0000003/generator.safetensors")`` ->
    ``C:/runs/x``)."""
    folder = file.parent
    while folder.name in ("checkpoints", "samples") or _STEP_DIR.match(folder.name):
        folder = folder.parent
    return folder


def inside_run(path: str | os.PathLike, *, follow_last: bool = True) -> Path:
    """The real path of ``path``, which must lie inside its :func:`run_root` (a symlink may
    point elsewhere in the run, never out of it). ``follow_last=False`` resolves only the
    folder (for writes, which replace a link at the name itself)."""
    path = Path(path)
    root = os.path.realpath(run_root(path))
    if follow_last:
        real = os.path.realpath(path)
    else:
        real = os.path.join(os.path.realpath(path.parent), path.name)
    if real != root and not real.startswith(root.rstrip(os.sep) + os.sep):
        raise CheckpointError(
            f"{shown(path)} is a symbolic link out of its run (to {shown(real)}); gan-zoo reads "
            "and writes only files inside a run: replace the link with the file itself"
        )
    return Path(real)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def open_untrusted(path: str | os.PathLike) -> int:
    """A read-only descriptor of the regular file ``path`` inside its run; anything else (a
    link out of the run, a FIFO, a device, a folder) is refused before it could block."""
    real = inside_run(path)
    try:
        mode = os.stat(real).st_mode
        if not stat.S_ISREG(mode):
            raise CheckpointError(
                f"{shown(path)} is {_kind(mode)}, not a regular file; a run holds only regular "
                "files: remove it or re-copy the run"
            )
        fd = portable.open_no_link(real, portable.open_flags("O_RDONLY", "O_NONBLOCK"))
    except FileNotFoundError:
        raise MissingFile(f"{shown(path)} does not exist; the checkpoint is incomplete") from None
    except (OSError, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise CheckpointError(f"cannot read {shown(path)} ({reason})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped since the stat
        os.close(fd)
        raise CheckpointError(f"{shown(path)} is not a regular file; remove it or re-copy the run")
    return fd


def read_capped(path: str | os.PathLike, cap: int, what: str) -> bytes:
    """The bytes of the regular file ``path`` inside its run, refused if larger than ``cap``."""
    fd = open_untrusted(path)
    try:
        size = os.fstat(fd).st_size
        if size > cap:
            raise CheckpointError(
                f"{shown(path)} is {_size(size)}, more than a {what} can be ({_size(cap)}); "
                "it is not what it should be: re-copy the run or use another checkpoint"
            )
        chunks, left = [], cap + 1
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise CheckpointError(f"cannot read {shown(path)} ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if left <= 0:
        raise CheckpointError(f"{shown(path)} grew beyond {_size(cap)} while it was read")
    return b"".join(chunks)


def read_json(path: str | os.PathLike, cap: int = JSON_CAP) -> dict[str, Any]:
    """A JSON object from a run (capped, regular files only, inside the run); one-line errors."""
    raw = read_capped(path, cap, "JSON file")
    data = parse_json(raw, f"{shown(path)}")
    if not isinstance(data, dict):
        raise CheckpointError(f"{shown(path)} is not a JSON object; the checkpoint is corrupt")
    return data


def parse_json(raw: bytes | str, where: str) -> Any:
    """``json.loads`` with one-line errors for bad UTF-8, bad JSON and absurd nesting."""
    try:
        return json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    except UnicodeDecodeError:
        reason = "it is not UTF-8 text"
    except RecursionError:
        reason = "it is nested too deeply"
    except ValueError as exc:
        reason = " ".join(str(exc).split())[:120]
    raise CheckpointError(f"{where} is not valid JSON ({reason}); the checkpoint is corrupt")
