"""Experiment trackers (gan_zoo/training/trackers.py): names checked before training, and a
tracker that fails (not installed here; failing mid-run) is one warning while the run goes on.
The real trackers' runs, read back with their own readers, are tests/e2e/test_tracker_runs.py."""

from __future__ import annotations

import sys

import pytest
from helpers import TINY, cli_in_process

import gan_zoo
from gan_zoo.errors import GanZooError
from gan_zoo.training.reporter import Reporter, Sink
from gan_zoo.training.trackers import Guarded, check_trackers, open_trackers


def test_unknown_tracker_names_fail_with_a_suggestion():
    check_trackers(["tensorboard", "wandb", "mlflow"])
    with pytest.raises(GanZooError, match="unknown tracker 'mlfow'; did you mean 'mlflow'?"):
        check_trackers(["wandb", "mlfow"])


def test_a_tracker_that_is_not_installed_is_one_warning(tmp_path, monkeypatch):
    for module in ("wandb", "mlflow", "torch.utils.tensorboard"):
        monkeypatch.setitem(sys.modules, module, None)  # as if the package were not installed
    warnings = []
    sinks = open_trackers(
        ["wandb", "mlflow", "wandb", "tensorboard"], tmp_path, {}, warnings.append
    )
    assert sinks == []
    assert warnings == [
        f"--log {name} needs the {name} package (pip install 'gan-zoo[{name}]'); training goes "
        f"on without {name}"
        for name in ("wandb", "mlflow", "tensorboard")
    ]


def test_training_goes_on_without_trackers_that_cannot_start(tmp_path, idx_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "wandb", None)
    monkeypatch.setitem(sys.modules, "mlflow", None)
    result = cli_in_process(
        "train", "dcgan", "fashion-mnist", "--steps", 2, "--batch-size", 16, "--data-dir",
        idx_dir, "--out", tmp_path / "run", "--eval-metric", "none", "--log", "wandb",
        "--log", "mlflow", "--plain", *(a for s in TINY for a in ("--set", s)),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("Warning:")]
    assert [w.split()[2] for w in warnings] == ["wandb", "mlflow"]
    assert "Done: 2 steps" in result.output
    assert (tmp_path / "run" / "checkpoints" / "step-0000002" / "generator.safetensors").is_file()


class Flaky(Sink):
    """A tracker whose connection drops at its second report."""

    def __init__(self):
        self.calls = []

    def stats(self, record):
        self.calls.append(("stats", record["step"]))
        if record["step"] == 2:
            raise ConnectionError("network is unreachable")

    def image(self, tag, grid, step):
        self.calls.append(("image", step))

    def close(self):
        self.calls.append(("close",))


def test_a_tracker_failing_mid_run_is_one_warning_and_left_out():
    flaky = Flaky()
    reporter = Reporter()
    reporter.sinks.append(Guarded(flaky, "flaky", reporter.warn))
    for step in (1, 2, 3):
        reporter.report(step, 1, {"loss/d": 1.0})
        reporter.image("samples", None, step)
    reporter.close()
    assert flaky.calls == [("stats", 1), ("image", 1), ("stats", 2), ("close",)]
    assert reporter.warnings == [
        "flaky failed (ConnectionError: network is unreachable); training goes on without it"
    ]


def test_python_api_takes_log(tmp_path, idx_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "wandb", None)
    run = gan_zoo.train(
        "dcgan", "fashion-mnist", steps=1, batch_size=16, data_dir=str(idx_dir),
        out=str(tmp_path / "run"), eval_metric="none", log=["wandb"], overrides=TINY,
        progress="quiet",
    )  # fmt: skip
    assert run.config.log == ["wandb"] and len(run.warnings) == 1
