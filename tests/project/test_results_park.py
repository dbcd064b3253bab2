"""benchmarks/results_park.py: an unfinished row's run parked in git, restored on a "new machine"
(its runs/ folder gone) and continued to the same weights; damaged copies are refused."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import results_park
import results_rows
import results_runner
from helpers import ROOT
from results_rows import load_rows
from safetensors.torch import load_file

BENCH = ROOT / "benchmarks"
SCRIPT = Path(sys.executable).parent / "gan-zoo"
#: A tiny recipe with a checkpoint every 10 steps and a log line at each.
ARGS = [
    "--steps",
    "40",
    "--batch-size",
    "8",
    "--set",
    "generator.width=4",
    "--set",
    "discriminator.width=4",
    "--log-every",
    "1",
    "--checkpoint-every",
    "10",
    "--eval-metric",
    "none",
    "--precision",
    "fp32",
]


#: The same with classifier-FD (16 samples) at each checkpoint: a curve to park.
SCORED = [*ARGS[: ARGS.index("--eval-metric")], "--eval-metric", "classifier-fd"]
SCORED += ["--eval-samples", "16", "--precision", "fp32"]


def _script():
    spec = importlib.util.spec_from_file_location("results_script", BENCH / "results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _job(results_dir: Path, args: list[str] = ARGS) -> results_runner.Job:
    rows = results_dir / "rows.json"
    rows.parent.mkdir(parents=True, exist_ok=True)
    data = {"dataset": "fashion-mnist", "metrics": ["classifier-fd"]}
    data["rows"] = [{"name": "t", "preset": "dcgan", "args": args}]
    rows.write_text(json.dumps(data), encoding="utf-8")
    rows_file = load_rows(rows)
    settings = results_runner.Settings(results_dir)
    return results_runner.plan(rows_file, rows_file.rows, settings)[0][0]


def _env(data: Path) -> dict[str, str]:
    return {**os.environ, "GAN_ZOO_DATA": str(data)}


def _train(job: results_runner.Job, data: Path, head: str, stop_after: int | None = None) -> None:
    """The row's own command, as the runner starts it (its segment listed first); with
    ``stop_after``, stopped by SIGTERM once that many steps are logged (it saves and exits)."""
    first = {"commit": head, "from_step": 0, "command": results_rows.command(job.train)}
    results_runner.write_json(results_runner.segments_file(job), [first])
    proc = subprocess.Popen(
        [str(SCRIPT), *job.train[1:], "--quiet"],
        env=_env(data),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if stop_after is not None:
        log = job.run_dir / "metrics.jsonl"
        deadline = time.monotonic() + 120
        while not (log.exists() and log.read_text(encoding="utf-8").count("\n") >= stop_after):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1]
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == (0 if stop_after is None else 130), proc.communicate()[1]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    from gan_zoo.testing import write_fashion_mnist

    return write_fashion_mnist(tmp_path_factory.mktemp("data") / "fashion-mnist").parent


@pytest.fixture(scope="module")
def finished(tmp_path_factory, data) -> Path:
    """The results folder of one finished run of the row (trained once for the module)."""
    results = tmp_path_factory.mktemp("finished") / "results"
    job = _job(results, SCORED)
    _train(job, data, "a" * 40)
    return results


@pytest.fixture
def results(tmp_path, finished) -> Path:
    """A copy of ``finished`` of one's own."""
    shutil.copytree(finished, tmp_path / "results")
    return tmp_path / "results"


@pytest.mark.slow
def test_a_parked_run_continues_on_a_new_machine_to_the_same_weights(
    tmp_path, data, clean_repo, capsys
):
    job = _job(tmp_path / "results")
    head = clean_repo("rev-parse", "HEAD")
    _train(job, data, head, stop_after=15)
    stopped = results_runner.resumable_step(job)
    assert stopped is not None and 15 <= stopped < 40

    argv = ["--rows-file", str(tmp_path / "results" / "rows.json")]
    assert _script().main([*argv, "--results-dir", str(tmp_path / "results"), "--park"]) == 0
    out = capsys.readouterr().out
    assert f"t-s0: parked step {stopped} in " in out and "commit it (git add -A " in out
    parked = results_park.parked_path(job)
    manifest = json.loads((parked / results_park.MANIFEST).read_text(encoding="utf-8"))
    assert manifest["step"] == stopped and "run/checkpoints/latest" in manifest["files"]
    kept = [p.name for p in (parked / "run" / "checkpoints").iterdir() if p.is_dir()]
    assert kept == [f"step-{stopped:07d}"]  # the latest only: older checkpoints stay behind
    assert not (parked / "run" / "samples").exists()

    # A new machine: the clone has the parked copy, not the runs/ folder.
    shutil.rmtree(job.run_dir.parent)
    os.environ["GAN_ZOO_DATA"] = str(data)  # the runner's training subprocess reads it
    try:
        done = results_runner.train(job, job.run_dir.parent)
    finally:
        del os.environ["GAN_ZOO_DATA"]
    out = capsys.readouterr().out
    assert f"t-s0: restored its parked run at step {stopped} from " in out
    assert f"t-s0: continuing the interrupted run at step {stopped}" in out
    assert done["steps"] == 40 and [s["from_step"] for s in done["segments"]] == [0, stopped]
    assert done["segments"][1]["commit"] == head
    steps = [
        json.loads(line)["step"]
        for line in (job.run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert steps == list(range(1, 41))  # one run, no step twice, none missing

    # The same weights as the row's command run without a stop.
    straight = _job(tmp_path / "straight")
    _train(straight, data, head)
    for name in ("generator.safetensors", "discriminator.safetensors"):
        a = load_file(job.run_dir / "checkpoints" / "step-0000040" / name)
        b = load_file(straight.run_dir / "checkpoints" / "step-0000040" / name)
        assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a), name


def test_parking_replaces_the_older_copy_and_a_finished_run_keeps_its_summary(results):
    job = _job(results, SCORED)
    done = {"command": results_rows.command(job.train), "seconds": 1.0, "steps": 40}
    results_runner.write_json(job.run_dir.with_name("t-s0.train.json"), done)
    parked = results_park.parked_path(job)
    (parked / "run").mkdir(parents=True)
    (parked / "run" / "stale.bin").write_bytes(b"old")
    said = results_park.park(job)
    assert "t-s0: parked step 40 in " in said and "classifier-fd (16 samples) at each" in said
    curve = json.loads((parked / "curve.json").read_text(encoding="utf-8"))
    assert curve["command"] == "python benchmarks/results.py --rows t --seeds 0 --park"
    assert [p["step"] for p in curve["points"]] == [10, 20, 30, 40]
    assert all(p["value"] > 0 for p in curve["points"]) and curve["metric"] == "classifier-fd"
    assert not (parked / "run" / "stale.bin").exists()
    assert json.loads((parked / "train.json").read_text(encoding="utf-8")) == done
    assert sorted(p.name for p in parked.parent.iterdir()) == ["t-s0"]  # no .tmp or .old left

    # Restored where the run is gone: the finished training is reused, nothing trains.
    shutil.rmtree(job.run_dir.parent)
    assert results_park.restore(job, job.run_dir.parent)
    assert results_runner.resumable_step(job) == 40
    assert json.loads(job.run_dir.with_name("t-s0.train.json").read_text()) == done
    # A run here as far as the parked one is kept as it is.
    assert not results_park.restore(job, job.run_dir.parent)


def test_a_best_checkpoint_that_is_not_the_latest_stays_behind(results):
    """Only the latest checkpoint is parked (a best one from an earlier epoch would double it)."""
    job = _job(results, SCORED)
    checkpoints = job.run_dir / "checkpoints"
    assert (checkpoints / "step-0000030").is_dir()
    (checkpoints / "best").write_text("step-0000030\n", encoding="utf-8")
    results_park.park(job)
    parked = results_park.parked_path(job) / "run" / "checkpoints"
    assert sorted(p.name for p in parked.iterdir()) == ["latest", "step-0000040"]
    manifest = json.loads((parked.parents[1] / "parked.json").read_text(encoding="utf-8"))
    assert manifest["best_left_behind"] == "step-0000030"
    (checkpoints / "best").write_text("step-0000040\n", encoding="utf-8")  # best is the latest
    results_park.park(job)
    assert (parked / "best").read_text(encoding="utf-8") == "step-0000040\n"
    assert json.loads((parked.parents[1] / "parked.json").read_text())["best_left_behind"] is None


@pytest.mark.parametrize(
    "damage, message",
    [
        ("edit", "run/checkpoints/step-0000040/generator.safetensors differs from its manifest"),
        ("extra", "run/extra.txt is not in its manifest"),
        ("missing", "run/metrics.jsonl is missing"),
        ("link", "run/config.json is a link"),
        ("manifest", "is not the manifest of t-s0"),
    ],
)
def test_a_damaged_parked_copy_is_refused_and_nothing_is_restored(results, damage, message):
    job = _job(results, SCORED)
    results_park.park(job)
    parked = results_park.parked_path(job)
    if damage == "edit":
        path = parked / "run" / "checkpoints" / "step-0000040" / "generator.safetensors"
        blob = bytearray(path.read_bytes())
        blob[-1] ^= 1
        path.write_bytes(bytes(blob))
    elif damage == "extra":
        (parked / "run" / "extra.txt").write_text("x", encoding="utf-8")
    elif damage == "missing":
        (parked / "run" / "metrics.jsonl").unlink()
    elif damage == "link":
        (parked / "run" / "config.json").unlink()
        (parked / "run" / "config.json").symlink_to(job.run_dir / "config.json")
    else:
        manifest = json.loads((parked / "parked.json").read_text(encoding="utf-8"))
        (parked / "parked.json").write_text(json.dumps({**manifest, "key": "other-s0"}))
    shutil.rmtree(job.run_dir.parent)
    with pytest.raises(results_runner.RunnerError) as info:
        results_park.restore(job, job.run_dir.parent)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert not job.run_dir.exists()


def test_nothing_to_park_is_one_line_and_exit_2(tmp_path, capsys):
    job = _job(tmp_path / "results")
    argv = ["--rows-file", str(tmp_path / "results" / "rows.json")]
    argv += ["--results-dir", str(tmp_path / "results"), "--park"]
    assert _script().main(argv) == 2
    captured = capsys.readouterr()
    assert "no run of the row's recipe with a checkpoint" in captured.out
    assert captured.err == "Error: nothing to park (no chosen seed has an unrecorded run)\n"
    assert not results_park.parked_path(job).exists()
    with pytest.raises(SystemExit) as info:
        _script().main([*argv, "--dry-run"])
    assert info.value.code == 2 and "--park goes alone" in capsys.readouterr().err


def test_the_record_removes_the_parked_copy_and_its_deletion_keeps_the_tree_clean(
    results, clean_repo, monkeypatch
):
    job = _job(results, SCORED)
    results_park.park(job)
    head = clean_repo("rev-parse", "HEAD")
    train = {"command": results_rows.command(job.train), "seconds": 1.0, "img_s": 1.0}
    train |= {"steps": 40, "precision": "fp32", "segments": [{"commit": head, "from_step": 0}]}
    monkeypatch.setattr(results_runner, "train", lambda *a, **k: train)
    monkeypatch.setattr(results_runner, "evaluate", lambda job: ({}, 1.0))
    results_runner.run_job(job, results_runner.Settings(results))
    assert job.record_path.is_file() and not results_park.parked_path(job).exists()

    # In git: the runner deleting a committed parked file is not a dirty tree; an edit is.
    repo = results_runner.GIT_REPO
    parked = repo / results_runner.PARKED_PREFIX / "t-s0"
    parked.mkdir(parents=True)
    (parked / "parked.json").write_text("{}\n", encoding="utf-8")
    (parked / "weights.bin").write_bytes(b"w")
    clean_repo("add", ".")
    clean_repo("commit", "-qm", "park")
    (parked / "weights.bin").write_bytes(b"x")
    with pytest.raises(results_runner.RunnerError, match="parked/t-s0/weights.bin"):
        results_runner.clean_commit("now")
    shutil.rmtree(parked)
    assert results_runner.clean_commit("now") == clean_repo("rev-parse", "HEAD")
