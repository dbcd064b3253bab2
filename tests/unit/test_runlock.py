"""The run-directory lock: one holder at a time, explained refusals, stale locks taken over."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from gan_zoo.errors import GanZooError
from gan_zoo.runlock import LOCK_FILE, RunLock, RunLockedError, describe_stale, holder


def test_lock_is_exclusive_and_released(tmp_path):
    with RunLock(tmp_path) as lock:
        assert lock.held and (tmp_path / LOCK_FILE).is_file()
        info = json.loads((tmp_path / LOCK_FILE).read_text())
        assert info["pid"] == os.getpid()
        assert holder(tmp_path)["pid"] == os.getpid()
        with pytest.raises(RunLockedError, match=rf"process {os.getpid()} on .* since "):
            RunLock(tmp_path).acquire()
    assert not (tmp_path / LOCK_FILE).exists() and holder(tmp_path) is None
    with RunLock(tmp_path) as again:  # free again after release
        assert again.stale is None


def test_lock_held_by_another_process_is_refused_until_it_ends(tmp_path):
    code = textwrap.dedent(
        f"""
        import sys, time
        from gan_zoo.runlock import RunLock
        lock = RunLock({str(tmp_path)!r}).acquire()
        print("locked", flush=True)
        sys.stdin.read()
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(RunLockedError, match=rf"process {child.pid} "):
            RunLock(tmp_path).acquire()
        assert holder(tmp_path)["pid"] == child.pid
    finally:
        child.kill()  # dies holding the lock: the kernel releases it, the file stays
        child.wait()
    assert (tmp_path / LOCK_FILE).exists()
    with RunLock(tmp_path) as lock:
        assert lock.stale["pid"] == child.pid
        assert f"process {child.pid}" in describe_stale(lock.stale)


def test_many_processes_racing_for_one_lock_get_exactly_one_holder(tmp_path):
    code = textwrap.dedent(
        f"""
        import sys
        from gan_zoo.runlock import RunLock, RunLockedError
        try:
            lock = RunLock({str(tmp_path)!r}).acquire()
        except RunLockedError:
            print("refused", flush=True); sys.exit(0)
        print("locked", flush=True)
        sys.stdin.read()  # hold the lock until the test has every process's answer
        lock.release()
        """
    )
    # The holder keeps the lock until all six have answered, so a late starter on a loaded
    # machine still races against a held lock (a fixed hold of 1 s could expire before it).
    for _ in range(3):
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", code],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(6)
        ]
        try:
            outcomes = sorted(p.stdout.readline().strip() for p in procs)
        finally:
            for p in procs:
                p.stdin.close()
                p.wait(timeout=120)
        assert outcomes.count("locked") == 1, outcomes


def test_a_symlinked_lock_file_is_refused_in_one_line(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("keep me\n")
    run = tmp_path / "run"
    run.mkdir()
    (run / LOCK_FILE).symlink_to(target)
    with pytest.raises(GanZooError, match="cannot lock run directory") as err:
        RunLock(run).acquire()
    assert "\n" not in str(err.value)
    assert target.read_text() == "keep me\n"


def test_garbage_in_a_stale_lock_file_is_ignored(tmp_path):
    (tmp_path / LOCK_FILE).write_bytes(b"\xff[not json" * 1000)
    with RunLock(tmp_path) as lock:
        assert lock.stale is None
        assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == os.getpid()


def _train(out, data, resume_steps=None):
    """``gan-zoo train`` of a tiny DCGAN into ``out`` (or ``--resume out`` to ``resume_steps``)."""
    common = ["--data-dir", str(data), "--device", "cpu", "--quiet"]
    if resume_steps is None:
        args = [
            "dcgan",
            "fashion-mnist",
            "--out",
            str(out),
            "--steps",
            "3",
            "--batch-size",
            "8",
            "--set",
            "generator.width=4",
            "--set",
            "discriminator.width=4",
            *common,
        ]
    else:
        args = ["--resume", str(out), "--steps", str(resume_steps), *common]
    return subprocess.Popen(
        [sys.executable, "-m", "gan_zoo", "train", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_two_trainings_started_together_into_one_run_never_both_run(idx_dir, tmp_path):
    for i in range(6):
        out = tmp_path / f"run-{i}"
        pair = [_train(out, idx_dir), _train(out, idx_dir)]
        results = [(p.wait(timeout=300), p.communicate()[1]) for p in pair]
        codes = sorted(code for code, _ in results)
        assert codes == [0, 2], results
        refused = next(err for code, err in results if code == 2)
        assert refused.count("\n") == 1 and (
            "is being trained by" in refused or "already holds a run" in refused
        ), refused
        records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
        assert [r["step"] for r in records] == sorted({r["step"] for r in records})  # one writer
        assert not (out / LOCK_FILE).exists()


def _holding(out, proc, timeout=120.0):
    """Wait until ``proc`` holds the lock of ``out`` and freeze it there (SIGSTOP): True, or
    False when it ended first. Freezing it makes the overlap certain, whatever the load."""
    import signal
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        info = holder(out)
        if info and info.get("pid") == proc.pid:
            os.kill(proc.pid, signal.SIGSTOP)
            return True
        time.sleep(0.002)
    return False


@pytest.mark.slow
def test_two_resumes_of_one_run_never_both_run(idx_dir, tmp_path):
    """The first resume is frozen while it holds the lock, so the second really overlaps it
    (two resumes merely started together can run one after the other on a loaded machine,
    and then both succeed, as they should); the second must be refused, the first then ends."""
    import signal

    out = tmp_path / "run"
    assert _train(out, idx_dir).wait(timeout=300) == 0
    for steps in (6, 9):
        first = _train(out, idx_dir, resume_steps=steps)
        assert _holding(out, first), first.communicate()
        try:
            second = _train(out, idx_dir, resume_steps=steps)
            err = second.communicate(timeout=300)[1]
            code = second.returncode
        finally:
            os.kill(first.pid, signal.SIGCONT)
        assert code == 2, err
        assert "is being trained by process" in err and err.count("\n") == 1, err
        assert f"process {first.pid} " in err, err
        first_err = first.communicate(timeout=300)[1]
        assert first.returncode == 0, first_err
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == sorted({r["step"] for r in records})  # one writer


def test_a_lock_that_cannot_be_written_is_one_line(tmp_path, monkeypatch):
    import errno

    from gan_zoo import runlock

    def full(fd, data, offset):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(runlock.os, "pwrite", full)
    with pytest.raises(
        GanZooError, match="cannot write the lock file .*No space left on device"
    ) as err:
        RunLock(tmp_path).acquire()
    assert "\n" not in str(err.value)
