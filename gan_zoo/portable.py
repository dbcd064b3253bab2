"""What differs between POSIX (Linux, macOS) and Windows for files and locks, in one place.

Every call looks the platform's features up when it runs (``getattr(os, "O_NOFOLLOW")``, an
``import fcntl`` inside the function), so nothing POSIX-only is imported at module level and the
Windows branch can be tested on Linux by taking those features away.

* **Opening without following a link.** POSIX has ``O_NOFOLLOW``: the kernel refuses a symlink
  at the last component. Windows has no such flag, so :func:`open_no_link` does the nearest
  safe check: ``lstat`` refuses a link before opening, and after opening the descriptor must
  be the very file the name still names (same device and file index from ``fstat`` and
  ``lstat``), so a link swapped in between is caught. A refusal is an ``OSError`` with
  ``ELOOP``, as the POSIX kernel raises it.
* **Non-blocking opens** (``O_NONBLOCK``) keep a FIFO from hanging a read on POSIX; Windows file
  systems have no FIFOs, and callers ``stat`` for a regular file first anyway.
* ``O_CLOEXEC`` / ``O_NOINHERIT`` keep descriptors out of child processes; ``O_BINARY`` keeps
  Windows from translating line ends.
* **Positional reads and writes** (``os.pread`` / ``os.pwrite``) fall back to ``lseek`` + read /
  write where they are missing.
* **Locks**: :func:`try_lock` takes an exclusive, non-blocking lock on an open file: ``flock``
  on POSIX (released by the kernel when the process dies, even after ``kill -9``), and on
  Windows ``msvcrt.locking`` of one byte far past the data (Windows locks are mandatory, so the
  locked range must not cover what other processes read; the system releases them when the
  process ends). Both are per open file, so two opens in one process exclude each other too.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import Any

#: Where the Windows lock byte sits: past any lock file's contents (a few hundred bytes).
WINDOWS_LOCK_OFFSET = 1 << 30


def open_flags(*names: str) -> int:
    """The OR of the ``os.O_*`` flags this platform has among ``names``, plus the ones every
    open here wants: close-on-exec (``O_CLOEXEC``, or ``O_NOINHERIT`` on Windows) and
    ``O_BINARY`` on Windows."""
    wanted = (*names, "O_CLOEXEC", "O_NOINHERIT", "O_BINARY")
    flags = 0
    for name in wanted:
        flags |= getattr(os, name, 0)
    return flags


def open_no_link(path: Any, flags: int, mode: int = 0o666) -> int:
    """``os.open(path, flags)`` that never opens through a symlink at ``path`` itself."""
    nofollow = getattr(os, "O_NOFOLLOW", None)
    if nofollow is not None:
        return os.open(path, flags | nofollow, mode)
    try:  # no O_NOFOLLOW (Windows): check before and after opening
        before = os.lstat(path)
    except FileNotFoundError:
        before = None
    if before is not None and stat.S_ISLNK(before.st_mode):
        raise OSError(
            errno.ELOOP, "Too many levels of symbolic links (a link is in the way)", str(path)
        )
    fd = os.open(path, flags, mode)
    try:
        opened, now = os.fstat(fd), os.lstat(path)
    except OSError:
        os.close(fd)
        raise
    if stat.S_ISLNK(now.st_mode) or (opened.st_dev, opened.st_ino) != (now.st_dev, now.st_ino):
        os.close(fd)
        raise OSError(errno.ELOOP, "the file was replaced by a link while it was opened", str(path))
    return fd


def pread(fd: int, n: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, n, offset)
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, n)


def pwrite(fd: int, data: bytes, offset: int) -> int:
    if hasattr(os, "pwrite"):
        return os.pwrite(fd, data, offset)
    os.lseek(fd, offset, os.SEEK_SET)
    return os.write(fd, data)


def set_mode(fd: int, path: Any, mode: int) -> None:
    """``fchmod`` where it exists; ``chmod`` of the path elsewhere (Windows: read-only bit)."""
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)
    else:
        os.chmod(path, mode)


def try_lock(fd: int, shared: bool = False) -> bool:
    """Take a lock on the open file ``fd`` without waiting: True if taken. ``shared`` (POSIX
    only; Windows locks are exclusive) lets several readers test a lock at once."""
    try:
        import fcntl
    except ImportError:
        fcntl = None
    if fcntl is not None:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except OSError:
            return False
        return True
    import msvcrt

    os.lseek(fd, WINDOWS_LOCK_OFFSET, os.SEEK_SET)
    try:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    return True


def unlock(fd: int) -> None:
    """Release :func:`try_lock`'s lock (closing the file releases it too)."""
    try:
        import fcntl
    except ImportError:
        fcntl = None
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return
    import msvcrt

    os.lseek(fd, WINDOWS_LOCK_OFFSET, os.SEEK_SET)
    msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
