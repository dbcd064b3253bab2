"""An exclusive lock on a run directory while it is trained or resumed.

Two trainings writing into one run would mix seeds, checkpoints and metrics, so ``RUN/.lock``
is locked with ``flock`` on POSIX and ``msvcrt.locking`` on Windows (:mod:`gan_zoo.portable`;
the system releases either when the process ends, even after ``kill -9``, so a lock can never
outlive its holder on a local disk) and holds the holder's PID, host and
start time as JSON, which is what the refusal message shows. A lock file left by a process that
died is stale: the next training takes it over and says so.

The pattern is the one of ``pip``'s and ``git``'s lock files with the crash safety of
``flock``; the lock is taken on the file that is still at the path (a holder that unlinked it
between our ``open`` and our ``flock`` is detected by comparing inodes, and we retry).
"""

from __future__ import annotations

import datetime
import json
import os
import socket
from pathlib import Path
from typing import Any

from . import portable
from .errors import GanZooError

LOCK_FILE = ".lock"


class RunLockedError(GanZooError):
    """Another process is training or resuming this run."""


class RunLock:
    """``with RunLock(run_dir) as lock:`` holds ``run_dir/.lock`` exclusively (or raises).

    ``lock.stale`` is the holder information of a dead process whose lock file was taken over
    (None when the lock file was new or released cleanly).
    """

    def __init__(self, run_dir: str | os.PathLike):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_FILE
        self.stale: dict[str, Any] | None = None
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        for _ in range(10):  # retried only when a holder unlinked the file under us
            fd = self._open()
            if not portable.try_lock(fd):
                holder = _holder_when_written(fd)
                os.close(fd)
                raise RunLockedError(_refusal(self.run_dir, holder)) from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path, follow_symlinks=False).st_ino
            except OSError:
                same = False
            if same:
                break
            os.close(fd)
        else:  # pragma: no cover - ten lost races in a row
            raise RunLockedError(f"{self.run_dir} is being locked and unlocked by other processes")
        self.stale = _read_holder(fd) or None
        try:
            _write_holder(fd)
        except OSError as exc:  # e.g. a full disk: nothing of the run is touched yet
            os.close(fd)
            raise GanZooError(
                f"cannot write the lock file {self.path}: {exc.strerror or exc}; free space on "
                "that disk or use another --out"
            ) from None
        self._fd = fd
        return self

    def _open(self) -> int:
        try:
            return portable.open_no_link(self.path, portable.open_flags("O_RDWR", "O_CREAT"), 0o644)
        except OSError as exc:
            raise GanZooError(
                f"cannot lock run directory {self.run_dir}: {exc.strerror or exc} ({self.path}); "
                "it must be a writable folder and .lock a regular file"
            ) from None

    def release(self) -> None:
        """Remove the lock file and release the lock (the file goes first, so no reader sees a
        lock file that names a process that no longer holds it)."""
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
            unlinked = True
        except OSError:  # Windows cannot remove an open file: empty it, remove it after closing
            unlinked = False
            try:
                os.ftruncate(self._fd, 0)
            except OSError:
                pass
        try:  # explicitly: Windows may release a closed file's locks only some time later
            portable.unlock(self._fd)
        except OSError:
            pass
        os.close(self._fd)
        self._fd = None
        if not unlinked:
            try:
                self.path.unlink(missing_ok=True)
            except OSError:  # another process has it open: it finds an empty, unlocked file
                pass

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()


def holder(run_dir: str | os.PathLike) -> dict[str, Any] | None:
    """Who holds the lock of ``run_dir`` right now (PID, host, start), or None if nobody does."""
    path = Path(run_dir) / LOCK_FILE
    try:
        fd = portable.open_no_link(path, portable.open_flags("O_RDONLY"))
    except OSError:
        return None
    try:
        if not portable.try_lock(fd, shared=True):
            return _read_holder(fd) or {"pid": None, "host": None, "started": None}
        portable.unlock(fd)
        return None
    finally:
        os.close(fd)


def describe_stale(info: dict[str, Any]) -> str:
    """One line about a lock taken over from a process that ended without releasing it."""
    return (
        f"took over the lock of process {info.get('pid', '?')} on {info.get('host', '?')} "
        f"(started {info.get('started', '?')}), which ended without releasing it"
    )


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        raw = portable.pread(fd, 4096, 0)  # a lock file is tiny; never read more
        data = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or not data:
        return {}
    pid = data.get("pid")
    return {
        "pid": pid if isinstance(pid, int) else None,
        "host": str(data.get("host", ""))[:255] or None,
        "started": str(data.get("started", ""))[:64] or None,
    }


def _holder_when_written(fd: int, wait: float = 0.25) -> dict[str, Any]:
    """The holder's record; a holder that has just taken the lock writes it microseconds later,
    so an empty file is read again for up to ``wait`` seconds before giving up on naming it."""
    import time

    deadline = time.monotonic() + wait
    while not (info := _read_holder(fd)) and time.monotonic() < deadline:
        time.sleep(0.01)
    return info


def _write_holder(fd: int) -> None:
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    data = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": now})
    os.ftruncate(fd, 0)
    portable.pwrite(fd, (data + "\n").encode(), 0)


def _refusal(run_dir: Path, info: dict[str, Any]) -> str:
    who = f"process {info['pid']}" if info.get("pid") else "another process"
    where = f" on {info['host']}" if info.get("host") else ""
    since = f" since {info['started']}" if info.get("started") else ""
    return (
        f"{run_dir} is being trained by {who}{where}{since}; wait for it to finish, stop it, "
        "or train into another --out"
    )
