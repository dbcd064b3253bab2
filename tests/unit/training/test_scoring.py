"""Evaluation during training (``--eval-metric``): scores at checkpoints, ``best``, isolation.

The metrics here are registered through the plugin hook like any third-party metric. One of
them returns scripted scores so that which checkpoint is best is known in advance; both do real
work on what they are given (sample the generator, read the reference images).
"""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner
from helpers import TINY
from safetensors.torch import load_file

import gan_zoo
from gan_zoo.cli import build_cli
from gan_zoo.hookspecs import hookimpl


class ScriptedMetric:
    """Returns the next scripted score; records what it was asked to score."""

    name = "scripted"
    higher_is_better = False
    scores: list[float] = []
    seen: list[dict] = []

    def __init__(self, num_samples=2000, batch_size=50, device="cpu"):
        self.num_samples = num_samples

    def compute(self, generator, dataset, seed=0):
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            images = generator(torch.randn(4, generator.z_dim, generator=g), None)
        ScriptedMetric.seen.append(
            {
                "training": generator.training,
                "shape": tuple(images.shape),
                "n": len(dataset),
                "samples": self.num_samples,
            }
        )
        return ScriptedMetric.scores[len(ScriptedMetric.seen) - 1]

    def protocol(self, dataset):
        return f"{self.num_samples} samples"


class MeanGapMetric:
    """|mean pixel of generated images - mean pixel of the reference split|, higher is worse.

    It draws its latents from torch's global generator, as a careless metric would: training
    must not notice.
    """

    name = "mean-gap"
    higher_is_better = False

    def __init__(self, num_samples=2000, batch_size=50, device="cpu"):
        self.num_samples = num_samples

    def compute(self, generator, dataset, seed=0):
        with torch.no_grad():
            fake = generator(torch.randn(self.num_samples, generator.z_dim), None)
        real = dataset.images[: self.num_samples].float() / 127.5 - 1
        return float((fake.mean() - real.mean()).abs())

    def protocol(self, dataset):
        return f"{self.num_samples} samples"


class MetricsPlugin:
    @hookimpl
    def register_metrics(self, register):
        register("scripted", ScriptedMetric, description="Scripted scores (tests).")
        register("mean-gap", MeanGapMetric, description="Mean pixel gap (tests).")


def options(idx_dir, tmp_path, name="run", **extra):
    base = dict(
        data_dir=str(idx_dir),
        batch_size=16,
        device="cpu",
        log_every=2,
        out=str(tmp_path / name),
        progress="quiet",
        overrides=TINY,
    )
    base.update(extra)
    return base


def test_checkpoints_are_scored_and_the_best_is_kept(idx_dir_256, tmp_path, register_plugin):
    register_plugin(MetricsPlugin(), "test-metrics")
    ScriptedMetric.scores, ScriptedMetric.seen = [3.0, 1.0, 2.0], []
    run = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        **options(
            idx_dir_256,
            tmp_path,
            steps=6,
            checkpoint_every=2,
            keep=1,
            eval_metric="scripted",
            eval_samples=64,
        ),
    )
    checkpoints = run.dir / "checkpoints"
    assert (checkpoints / "best").read_text().strip() == "step-0000004"
    assert (checkpoints / "latest").read_text().strip() == "step-0000006"
    assert sorted(p.name for p in checkpoints.glob("step-*")) == ["step-0000004", "step-0000006"]
    # The metric saw the generator in eval mode (restored after), the test split, the settings.
    assert [s["training"] for s in ScriptedMetric.seen] == [False, False, False]
    assert ScriptedMetric.seen[0]["shape"] == (4, 1, 28, 28)
    assert ScriptedMetric.seen[0]["n"] == 64 and ScriptedMetric.seen[0]["samples"] == 64
    assert run.generator.training
    records = [json.loads(x) for x in (run.dir / "metrics.jsonl").read_text().splitlines()]
    assert [(r["step"], r["eval/scripted"]) for r in records if "eval/scripted" in r] == [
        (2, 3.0),
        (4, 1.0),
        (6, 2.0),
    ]
    best = json.loads((checkpoints / "step-0000004" / "training-state.json").read_text())
    assert best["metric"] == {"name": "scripted", "value": 1.0, "higher_is_better": False}
    assert "scripted" in (checkpoints / "step-0000004" / "README.md").read_text()


def test_evaluation_does_not_change_training(idx_dir, tmp_path, register_plugin):
    register_plugin(MetricsPlugin(), "test-metrics")
    plain = gan_zoo.train(
        "dcgan", "fashion-mnist", **options(idx_dir, tmp_path, "plain", steps=6, checkpoint_every=2)
    )
    scored = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        **options(
            idx_dir,
            tmp_path,
            "scored",
            steps=6,
            checkpoint_every=2,
            eval_metric="mean-gap",
            eval_samples=32,
        ),
    )
    a = load_file(str(plain.checkpoint / "generator.safetensors"))
    b = load_file(str(scored.checkpoint / "generator.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    values = [
        r["eval/mean-gap"]
        for r in map(json.loads, (scored.dir / "metrics.jsonl").read_text().splitlines())
        if "eval/mean-gap" in r
    ]
    assert len(values) == 3 and all(0 <= v < 2 for v in values)
    assert (scored.dir / "checkpoints" / "best").exists()
    assert not (plain.dir / "checkpoints" / "best").exists()


def test_an_unknown_metric_fails_before_training(idx_dir, tmp_path, register_plugin):
    register_plugin(MetricsPlugin(), "test-metrics")
    result = CliRunner().invoke(
        build_cli(),
        [
            "train",
            "dcgan",
            "fashion-mnist",
            "--data-dir",
            str(idx_dir),
            "--steps",
            "2",
            "--eval-metric",
            "mean-gapp",
            "--out",
            str(tmp_path / "run"),
        ],
    )
    assert result.exit_code == 2
    assert "did you mean 'mean-gap'" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("name", ["fid", "kid"])
def test_fid_without_its_plugin_names_the_pip_command(idx_dir, tmp_path, name):
    from gan_zoo import plugins

    if name in plugins.registry("metrics"):
        pytest.skip("gan-zoo-fid is installed in this environment")
    with pytest.raises(gan_zoo.errors.GanZooError, match="pip install gan-zoo-fid"):
        gan_zoo.train(
            "dcgan", "fashion-mnist", **options(idx_dir, tmp_path, steps=1, eval_metric=name)
        )


def run_config(run) -> dict:
    return json.loads((run.dir / "config.json").read_text())


def test_auto_scores_cpu_runs_with_the_shipped_classifier(idx_dir, tmp_path):
    # The default eval_metric is "auto": on the CPU, Fashion-MNIST at 28x28x1 with a reference
    # split of at least eval_samples images gets classifier-fd at every checkpoint.
    run = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        **options(idx_dir, tmp_path, steps=4, checkpoint_every=2, eval_samples=16),
    )
    assert run_config(run)["eval_metric"] == "classifier-fd"
    records = [json.loads(x) for x in (run.dir / "metrics.jsonl").read_text().splitlines()]
    scores = [r["eval/classifier-fd"] for r in records if "eval/classifier-fd" in r]
    assert len(scores) == 2 and all(v >= 0 for v in scores)
    assert (run.dir / "checkpoints" / "best").exists()
    assert "classifier-fd" in (run.checkpoint / "README.md").read_text()


@pytest.mark.parametrize(
    "extra",
    [{"eval_samples": 65}, {"eval_metric": "none", "eval_samples": 16}],
    ids=["reference-split-smaller-than-eval-samples", "none"],
)
def test_auto_is_off_where_it_does_not_apply_and_none_is_off(idx_dir, tmp_path, extra):
    run = gan_zoo.train(
        "dcgan", "fashion-mnist", **options(idx_dir, tmp_path, steps=2, checkpoint_every=2, **extra)
    )
    assert run_config(run)["eval_metric"] is None
    assert "eval/" not in (run.dir / "metrics.jsonl").read_text()
    assert not (run.dir / "checkpoints" / "best").exists()
