"""A full disk while a run is trained, resumed, sampled from or evaluated: one line, exit code 2,
the last checkpoint intact, and the run resumes once there is space again.

Two ways to fill a disk: a real 4 MB tmpfs filled to the last byte (needs root, as in CI's
container; skipped otherwise), and ``ENOSPC`` injected into ``fsync`` of the files whose path
matches, which reaches the writers exactly where a real full disk would (data hits the disk
on fsync)."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import CKPT, cli_in_process

from gan_zoo.errors import GanZooError


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def one_line(result, *fragments) -> str:
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def resume(run, data, steps=4):
    return cli_in_process(
        "train", "--resume", run, "--steps", steps, "--data-dir", data, "--device", "cpu", "--quiet"
    )


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB tmpfs, unmounted after; ``fill()`` takes every free byte, ``free()`` gives it back."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    for i in range(10_000):  # the last bytes of the last block
        try:
            (disk / f"f{i}").write_bytes(b"x" * 512)
        except OSError:
            break
    return filler


@pytest.fixture
def full_at(monkeypatch):
    """``full_at("fragment")``: fsync of any file whose path contains it fails with ENOSPC."""
    real = os.fsync

    def install(fragment: str) -> None:
        def fsync(fd):
            try:
                path = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                path = ""
            if fragment in path:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real(fd)

        monkeypatch.setattr(os, "fsync", fsync)

    yield install
    monkeypatch.setattr(os, "fsync", real)


def test_resume_on_a_full_disk_then_again_with_space(small_disk, trained, data_dir):  # noqa: F811
    run = small_disk / "run"
    shutil.copytree(trained, run)
    # The lock's holder line reuses this block: gan_zoo/runlock.py's own write on a full disk
    # is not this file's subject (reported separately).
    (run / ".lock").write_bytes(b" " * 4096)
    before = digest(run / CKPT)
    filler = fill(small_disk)
    one_line(resume(run, data_dir), "No space left on device", "free some space")
    assert digest(run / CKPT) == before
    assert (run / "checkpoints" / "latest").read_text().strip() == "step-0000002"
    filler.unlink()
    for extra in small_disk.glob("f*"):
        extra.unlink()
    result = resume(run, data_dir)
    assert result.exit_code == 0, result.output
    assert (run / "checkpoints" / "latest").read_text().strip() == "step-0000004"


@pytest.mark.parametrize(
    "where, fragment",
    [("samples", "/samples/"), ("checkpoint", "/.tmp-step-"), ("pointer", "/.latest.")],
)
def test_a_full_disk_during_training_keeps_the_last_checkpoint(
    tmp_path,
    trained,  # noqa: F811
    data_dir,  # noqa: F811
    full_at,
    where,
    fragment,
):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    (run / ".lock").unlink(missing_ok=True)
    before = digest(run / CKPT)
    full_at(fragment)
    line = one_line(resume(run, data_dir), "No space left on device")
    assert "step-0000002 is still the latest" in line or "free some space" in line
    assert digest(run / CKPT) == before
    assert (run / "checkpoints" / "latest").read_text().strip() == "step-0000002"
    assert not [p for p in (run / "checkpoints").iterdir() if p.name.startswith(".tmp-")]


def test_the_run_resumes_after_a_failed_checkpoint(tmp_path, trained, data_dir, monkeypatch):  # noqa: F811
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    (run / ".lock").unlink(missing_ok=True)
    real = os.fsync

    def fsync(fd):
        if "/.tmp-step-" in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    one_line(resume(run, data_dir), "No space left on device")
    monkeypatch.setattr(os, "fsync", real)
    result = resume(run, data_dir)
    assert result.exit_code == 0, result.output
    assert (run / "checkpoints" / "latest").read_text().strip() == "step-0000004"


@pytest.mark.parametrize("command", ["grid", "npz", "out-dir", "interpolate"])
def test_generate_and_interpolate_on_a_full_disk(small_disk, trained, command):  # noqa: F811
    fill(small_disk)
    args = {
        "grid": ["generate", trained, "--n", 16, "--out", small_disk / "grid.png"],
        "npz": ["generate", trained, "--n", 16, "--out", small_disk / "x.npz"],
        "out-dir": ["generate", trained, "--n", 4, "--out-dir", small_disk / "many"],
        "interpolate": ["interpolate", trained, "--out", small_disk / "walk.gif"],
    }[command]
    line = one_line(cli_in_process(*args))
    assert "No space left on device" in line or "on disk but" in line, line
    assert not [p for p in small_disk.rglob("*") if p.name.endswith(".tmp")]


def test_evaluate_records_nothing_half_on_a_full_disk(small_disk, trained):  # noqa: F811
    from gan_zoo.checkpoint import record_metrics

    run = small_disk / "run"
    shutil.copytree(trained, run)
    before = digest(run / CKPT)
    fill(small_disk)
    with pytest.raises(GanZooError, match="No space left on device") as info:
        record_metrics(run / CKPT, {"fid": {"value": 12.5, "protocol": {"num_samples": 8}}})
    assert len(str(info.value).splitlines()) == 1
    assert digest(run / CKPT) == before


@pytest.mark.parametrize("problem", ["under a file", "read-only file system"])
def test_generate_into_an_unwritable_place_is_one_line(tmp_path, trained, problem):  # noqa: F811
    if problem == "under a file":
        (tmp_path / "file").write_text("x")
        out, fragment = tmp_path / "file" / "sub" / "grid.png", "is a file, not a folder"
    else:
        out, fragment = Path("/proc/grid.png"), "cannot write /proc/grid.png"
    one_line(cli_in_process("generate", trained, "--n", 4, "--out", out), fragment)
