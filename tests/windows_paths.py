"""Force gan-zoo's Windows code paths on Linux: a helper for tests (not a test module).

Windows lacks ``O_NOFOLLOW``, ``O_NONBLOCK``, ``O_DIRECTORY``, ``O_CLOEXEC``, ``os.pread``,
``os.pwrite``, ``os.fchmod`` (before Python 3.13) and ``fcntl``; it has ``msvcrt.locking``,
``O_BINARY`` and ``O_NOINHERIT``. :func:`force` takes the POSIX ones away and puts in a stand-in
``msvcrt`` whose ``locking`` has Windows' semantics for gan-zoo's use (an exclusive lock per
open file, ``OSError`` at once when another open file holds it), built on ``flock``. The two
Windows-only flags are 0 here (their Windows values mean other things to Linux).

In a subprocess: ``python -c "import windows_paths; windows_paths.run_cli(ARGS)"`` with this
folder on ``PYTHONPATH``.
"""

from __future__ import annotations

import errno
import os
import sys
import types

import pytest

POSIX_ONLY = ("O_NOFOLLOW", "O_NONBLOCK", "O_DIRECTORY", "O_CLOEXEC", "pread", "pwrite", "fchmod")


def fake_msvcrt(fcntl: types.ModuleType) -> types.ModuleType:
    msvcrt = types.ModuleType("msvcrt")
    msvcrt.LK_UNLCK, msvcrt.LK_LOCK, msvcrt.LK_NBLCK, msvcrt.LK_RLCK, msvcrt.LK_NBRLCK = (
        0,
        1,
        2,
        3,
        4,
    )
    msvcrt.calls = []

    def locking(fd: int, mode: int, nbytes: int) -> None:
        msvcrt.calls.append((mode, os.lseek(fd, 0, os.SEEK_CUR), nbytes))
        if mode == msvcrt.LK_UNLCK:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise OSError(errno.EACCES, "Permission denied") from None

    msvcrt.locking = locking
    return msvcrt


def force(mp: pytest.MonkeyPatch | None = None) -> pytest.MonkeyPatch:
    """Take POSIX away (undone by ``mp.undo()``); returns the MonkeyPatch used."""
    import fcntl

    mp = mp or pytest.MonkeyPatch()
    for name in POSIX_ONLY:
        mp.delattr(os, name, raising=False)
    mp.setattr(os, "O_BINARY", 0, raising=False)
    mp.setattr(os, "O_NOINHERIT", 0, raising=False)
    mp.setitem(sys.modules, "fcntl", None)  # `import fcntl` raises ImportError
    mp.setitem(sys.modules, "msvcrt", fake_msvcrt(fcntl))
    return mp


def run_cli(args: list[str]) -> None:
    """``gan-zoo ARGS`` in this process with the Windows paths forced."""
    import torch  # noqa: F401 - imported before, as the CLI would import it anyway

    force()
    from gan_zoo.cli import main

    sys.argv = ["gan-zoo", *args]
    main()
