"""gan-zoo on Windows, proved on Linux: the POSIX-only flags, calls and ``fcntl`` taken away
(``windows_paths.force``), the main paths run; no module imports a POSIX-only module at import
time; paths in the Windows flavour are handled lexically as on POSIX."""

from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path, PureWindowsPath

import pytest
import torch
import windows_paths
from helpers import ROOT, TINY_4

from gan_zoo.errors import GanZooError

ROOT = ROOT
POSIX_ONLY_MODULES = {
    "fcntl",
    "termios",
    "tty",
    "pty",
    "pwd",
    "grp",
    "resource",
    "posix",
    "syslog",
    "msvcrt",
    "winreg",
    "_winapi",
    "winsound",
}


def _top_level_imports(path: Path) -> set[str]:
    """Modules imported when ``path`` is imported: its module-level statements, including
    those under ``if``/``try`` at module level, not those inside functions or classes."""
    found: set[str] = set()

    def walk(body):
        for node in body:
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                for field in ("body", "orelse", "finalbody", "handlers"):
                    for child in getattr(node, field, []):
                        walk(child.body if isinstance(child, ast.ExceptHandler) else [child])

    walk(ast.parse(path.read_text(encoding="utf-8")).body)
    return found


def test_no_module_imports_a_platform_only_module_at_import_time():
    packages = [ROOT / "gan_zoo", *sorted(ROOT.glob("plugins/gan-zoo-*/gan_zoo_*"))]
    offenders = {
        str(path.relative_to(ROOT)): sorted(_top_level_imports(path) & POSIX_ONLY_MODULES)
        for package in packages
        for path in package.rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}
    assert _top_level_imports(ROOT / "gan_zoo" / "portable.py") & POSIX_ONLY_MODULES == set()


@pytest.fixture
def windows(monkeypatch):
    windows_paths.force(monkeypatch)
    assert not hasattr(os, "O_NOFOLLOW") and sys.modules["fcntl"] is None
    return sys.modules["msvcrt"]


def test_the_run_lock_on_windows(windows, tmp_path):
    from gan_zoo.runlock import LOCK_FILE, RunLock, RunLockedError, holder

    with RunLock(tmp_path) as lock:
        assert lock.held and holder(tmp_path)["pid"] == os.getpid()
        with pytest.raises(RunLockedError, match=rf"being trained by process {os.getpid()} "):
            RunLock(tmp_path).acquire()
    assert not (tmp_path / LOCK_FILE).exists() and holder(tmp_path) is None
    # msvcrt.locking was used, one byte far past the holder's record (Windows locks are mandatory).
    modes = {mode for mode, _, _ in windows.calls}
    assert modes == {windows.LK_NBLCK, windows.LK_UNLCK}
    assert {(offset, n) for _, offset, n in windows.calls} == {(1 << 30, 1)}


def test_a_lock_held_by_another_windows_process_is_refused(windows, tmp_path):
    from gan_zoo.runlock import RunLock, RunLockedError

    code = (
        "import sys, windows_paths; windows_paths.force(); from gan_zoo.runlock import RunLock; "
        f"RunLock({str(tmp_path)!r}).acquire(); print('locked', flush=True); sys.stdin.read()"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(RunLockedError, match=rf"process {child.pid} "):
            RunLock(tmp_path).acquire()
    finally:
        child.kill()
        child.wait()
    with RunLock(tmp_path) as lock:  # the system released it with the process
        assert lock.stale["pid"] == child.pid


def test_links_are_refused_without_o_nofollow(windows, tmp_path):
    from gan_zoo.runlock import LOCK_FILE, RunLock
    from gan_zoo.safe_io import WriteError, open_append

    target = tmp_path / "elsewhere"
    target.write_text("keep me\n")
    (tmp_path / LOCK_FILE).symlink_to(target)
    with pytest.raises(GanZooError, match="cannot lock run directory"):
        RunLock(tmp_path).acquire()
    (tmp_path / "metrics.jsonl").symlink_to(target)
    with pytest.raises(WriteError, match="symbolic link"):
        open_append(tmp_path / "metrics.jsonl")
    assert target.read_text() == "keep me\n"


def test_train_resume_generate_load_and_evaluate_on_windows(windows, idx_dir, tmp_path):
    from click.testing import CliRunner

    import gan_zoo
    from gan_zoo.cli import build_cli

    common = dict(data_dir=str(idx_dir), device="cpu", progress="quiet")
    run = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        steps=2,
        batch_size=8,
        out=str(tmp_path / "run"),
        overrides=TINY_4,
        **common,
    )
    resumed = gan_zoo.train(resume=str(run.dir), steps=4, **common)
    assert (
        resumed.step == 4
        and (run.dir / "checkpoints" / "step-0000004" / "generator.safetensors").is_file()
    )
    result = CliRunner().invoke(
        build_cli(), ["generate", str(run.dir), "--n", "4", "--out", str(tmp_path / "g.png")]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    generator = gan_zoo.load(str(run.dir), device="cpu")
    assert generator(torch.randn(2, 100), None).shape == (2, 1, 28, 28)
    scores = gan_zoo.evaluate(
        str(run.dir), metrics=["classifier-fd"], num_samples=32, device="cpu", data_dir=str(idx_dir)
    )
    assert scores["classifier-fd"]["value"] > 0
    assert windows.calls  # the lock went through msvcrt


@pytest.mark.slow
def test_ctrl_c_checkpoints_and_the_run_resumes_on_windows(idx_dir, tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
    args = [
        "train",
        "dcgan",
        "fashion-mnist",
        "--steps",
        "100000",
        "--batch-size",
        "8",
        "--out",
        str(out),
        "--data-dir",
        str(idx_dir),
        "--device",
        "cpu",
        "--quiet",
        "--log-every",
        "1",
        "--set",
        "generator.width=4",
        "--set",
        "discriminator.width=4",
    ]
    code = f"import windows_paths; windows_paths.run_cli({args!r})"
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (out / "metrics.jsonl").exists() or (out / "metrics.jsonl").stat().st_size < 200:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Interrupted at step" in err, err
    step = int((out / "checkpoints" / "latest").read_text().split("-")[1])
    code = (
        "import windows_paths; windows_paths.run_cli("
        f"{['train', '--resume', str(out), '--steps', str(step + 2), '--quiet']!r})"
    )
    resumed = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert resumed.returncode == 0, resumed.stderr
    state = json.loads(
        (out / "checkpoints" / f"step-{step + 2:07d}" / "training-state.json").read_text()
    )
    assert state["state"]["step"] == step + 2


@pytest.mark.parametrize(
    "file, run",
    [
        (
            "C:/Users/me/runs/dcgan/checkpoints/step-0000003/generator.safetensors",
            "C:/Users/me/runs/dcgan",
        ),
        ("C:/Users/me/runs/dcgan/samples/step-0000003.png", "C:/Users/me/runs/dcgan"),
        ("C:/Users/me/runs/dcgan/config.json", "C:/Users/me/runs/dcgan"),
        ("D:/weights/generator.safetensors", "D:/weights"),
        ("//server/share/runs/x/checkpoints/latest", "//server/share/runs/x"),
    ],
)
def test_run_folders_of_windows_paths(file, run):
    from gan_zoo.safe_io import run_folder

    assert run_folder(PureWindowsPath(file.replace("/", "\\"))) == PureWindowsPath(run)
