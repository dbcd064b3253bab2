"""gan_zoo.portable: open flags, link-free opens, positional I/O and locks on POSIX, and the
Windows branches proved on Linux by taking the POSIX features away (``monkeypatch.delattr``).
The whole-run Windows paths (the run lock through ``msvcrt``) are in tests/test_windows_paths.py."""

from __future__ import annotations

import errno
import os

import pytest

from gan_zoo import portable


@pytest.fixture
def no_nofollow(monkeypatch):
    """A platform without ``O_NOFOLLOW`` (Windows): open_no_link checks before and after."""
    monkeypatch.delattr(os, "O_NOFOLLOW")


def test_open_flags_adds_close_on_exec_and_skips_flags_this_platform_lacks(monkeypatch):
    assert portable.open_flags("O_RDONLY") == os.O_RDONLY | os.O_CLOEXEC
    assert portable.open_flags("O_WRONLY", "O_NO_SUCH_FLAG") == os.O_WRONLY | os.O_CLOEXEC
    # Windows: O_NOINHERIT and O_BINARY instead of O_CLOEXEC.
    monkeypatch.delattr(os, "O_CLOEXEC")
    monkeypatch.setattr(os, "O_NOINHERIT", 0x80, raising=False)
    monkeypatch.setattr(os, "O_BINARY", 0x8000, raising=False)
    assert portable.open_flags("O_WRONLY") == os.O_WRONLY | 0x80 | 0x8000


def test_open_no_link_opens_a_file_and_refuses_a_link(tmp_path):
    path = tmp_path / "file"
    path.write_bytes(b"data")
    fd = portable.open_no_link(path, os.O_RDONLY)
    try:
        assert os.read(fd, 10) == b"data"
    finally:
        os.close(fd)
    (tmp_path / "link").symlink_to(path)
    with pytest.raises(OSError) as info:
        portable.open_no_link(tmp_path / "link", os.O_RDONLY)
    assert info.value.errno == errno.ELOOP


def test_without_o_nofollow_a_link_is_refused_before_opening(no_nofollow, tmp_path, monkeypatch):
    target = tmp_path / "target"
    target.write_bytes(b"keep me")
    (tmp_path / "link").symlink_to(target)
    opened = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda *a: opened.append(a) or real_open(*a))
    with pytest.raises(OSError) as info:
        portable.open_no_link(tmp_path / "link", os.O_WRONLY | os.O_TRUNC)
    assert info.value.errno == errno.ELOOP and "a link is in the way" in str(info.value)
    assert opened == [] and target.read_bytes() == b"keep me"


def test_without_o_nofollow_a_new_file_is_created(no_nofollow, tmp_path):
    path = tmp_path / "new"
    fd = portable.open_no_link(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, b"x")
    finally:
        os.close(fd)
    assert path.read_bytes() == b"x" and not path.is_symlink()


def test_without_o_nofollow_a_link_swapped_in_while_opening_is_caught(
    no_nofollow, tmp_path, monkeypatch
):
    path, elsewhere = tmp_path / "metrics.jsonl", tmp_path / "elsewhere"
    path.write_bytes(b"mine")
    elsewhere.write_bytes(b"theirs")
    real_open, fds = os.open, []

    def open_then_swap(*args):  # another process replaces the name by a link just after
        fd = real_open(*args)
        fds.append(fd)
        swap = tmp_path / "swap"
        swap.symlink_to(elsewhere)
        os.replace(swap, path)
        return fd

    monkeypatch.setattr(os, "open", open_then_swap)
    with pytest.raises(OSError, match="replaced by a link while it was opened") as info:
        portable.open_no_link(path, os.O_RDONLY)
    assert info.value.errno == errno.ELOOP
    with pytest.raises(OSError):  # the descriptor was closed, not leaked
        os.fstat(fds[0])


@pytest.mark.parametrize("native", [True, False])
def test_pread_and_pwrite_with_and_without_the_native_calls(tmp_path, monkeypatch, native):
    if not native:
        monkeypatch.delattr(os, "pread")
        monkeypatch.delattr(os, "pwrite")
    path = tmp_path / "file"
    path.write_bytes(b"0123456789")
    fd = os.open(path, os.O_RDWR)
    try:
        assert portable.pwrite(fd, b"ab", 4) == 2
        assert portable.pread(fd, 3, 3) == b"3ab"
        assert portable.pread(fd, 100, 8) == b"89"
    finally:
        os.close(fd)
    assert path.read_bytes() == b"0123ab6789"


@pytest.mark.parametrize("native", [True, False])
def test_set_mode_with_and_without_fchmod(tmp_path, monkeypatch, native):
    if not native:
        monkeypatch.delattr(os, "fchmod")
    path = tmp_path / "file"
    path.write_bytes(b"")
    fd = os.open(path, os.O_RDONLY)
    try:
        portable.set_mode(fd, path, 0o640)
    finally:
        os.close(fd)
    assert path.stat().st_mode & 0o777 == 0o640


def test_locks_exclude_each_other_per_open_file_even_in_one_process(tmp_path):
    path = tmp_path / "lock"
    path.write_bytes(b"")
    a, b = os.open(path, os.O_RDWR), os.open(path, os.O_RDWR)
    try:
        assert portable.try_lock(a)
        assert not portable.try_lock(b)
        assert not portable.try_lock(b, shared=True)
        portable.unlock(a)
        assert portable.try_lock(b)
    finally:
        os.close(a)
        os.close(b)


def test_shared_locks_coexist_and_keep_an_exclusive_one_out(tmp_path):
    path = tmp_path / "lock"
    path.write_bytes(b"")
    fds = [os.open(path, os.O_RDWR) for _ in range(3)]
    try:
        assert portable.try_lock(fds[0], shared=True)
        assert portable.try_lock(fds[1], shared=True)
        assert not portable.try_lock(fds[2])
    finally:
        for fd in fds:
            os.close(fd)
    fd = os.open(path, os.O_RDWR)
    try:  # closing released every lock
        assert portable.try_lock(fd)
    finally:
        os.close(fd)
