"""`gan-zoo evaluate`: a trained run scored by the installed gan-zoo-fid plugin, card updated."""

import json

import pytest
from click.testing import CliRunner
from helpers import ROOT, TINY

import gan_zoo
from gan_zoo import plugins
from gan_zoo.checkpoint import split_front_matter
from gan_zoo.cli import build_cli


@pytest.fixture
def tiny_run(idx_dir, tmp_path):
    run = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        overrides=TINY,
        progress="quiet",
        data_dir=str(idx_dir),
        batch_size=16,
        device="cpu",
        steps=4,
        out=str(tmp_path / "run"),
    )
    return run


def test_missing_metric_plugin_is_one_line(tiny_run):
    result = CliRunner().invoke(build_cli(), ["evaluate", str(tiny_run.dir), "--n", "4"])
    assert result.exit_code == 2
    assert result.output == (
        "Error: metric 'fid' is not installed; install it with 'pip install gan-zoo-fid' "
        "(see 'gan-zoo list metrics')\n"
    )


@pytest.mark.slow
def test_evaluate_records_metrics_in_the_card(tiny_run, idx_dir, use_distribution, monkeypatch):
    use_distribution(ROOT / "plugins" / "gan-zoo-fid")
    monkeypatch.setenv("GAN_ZOO_LOAD_PLUGINS", "gan-zoo-fid")
    plugins.reset()
    args = [
        "evaluate",
        str(tiny_run.dir),
        "--metric",
        "fid",
        "--metric",
        "kid",
        "--n",
        "8",
        "--batch-size",
        "8",
        "--device",
        "cpu",
        "--data-dir",
        str(idx_dir),
        "--json",
    ]
    result = CliRunner().invoke(build_cli(), args)
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert scores["fid"]["value"] > 0
    assert scores["fid"]["protocol"]["reference"] == "8 images of fashion-mnist/test"
    ckpt = tiny_run.dir / "checkpoints" / "step-0000004"
    assert json.loads((ckpt / "metrics.json").read_text())["fid"]["value"] == scores["fid"]["value"]
    import yaml

    front, body = split_front_matter((ckpt / "README.md").read_text())
    meta = yaml.safe_load(front)
    results = meta["model-index"][0]["results"][0]["metrics"]
    assert {m["type"]: m["value"] for m in results}["fid"] == pytest.approx(scores["fid"]["value"])
    assert "TF-Inception" in body


def test_reference_stats_are_written_and_compared_with(tiny_run, idx_dir_256, tmp_path):
    """`gan-zoo ref-stats` writes mu/sigma in the pytorch-fid layout; `evaluate --ref-stats`
    compares with them and gives the number it gives against the dataset itself."""
    import numpy as np

    stats = tmp_path / "fmnist-test.npz"
    common = ["--n", "64", "--batch-size", "32", "--device", "cpu", "--data-dir", str(idx_dir_256)]
    out = CliRunner().invoke(
        build_cli(),
        ["ref-stats", "fashion-mnist", "--metric", "classifier-fd", "--out", str(stats), *common],
    )
    assert out.exit_code == 0, out.output
    with np.load(stats, allow_pickle=False) as data:
        assert data["mu"].ndim == 1 and data["sigma"].shape == (len(data["mu"]),) * 2
    scores = {}
    for extra in ([], ["--ref-stats", str(stats)]):
        args = [
            "evaluate",
            str(tiny_run.dir),
            "--metric",
            "classifier-fd",
            "--no-record",
            "--json",
            *common,
            *extra,
        ]
        out = CliRunner().invoke(build_cli(), args)
        assert out.exit_code == 0, out.output
        scores[bool(extra)] = json.loads(out.output)["classifier-fd"]
    assert scores[True]["value"] == pytest.approx(scores[False]["value"], rel=1e-4)
    assert "stats file fmnist-test.npz" in json.dumps(scores[True]["protocol"])


def test_ref_stats_refuse_a_metric_without_statistics(tiny_run, idx_dir, tmp_path):
    from gan_zoo.evaluation import write_reference_stats

    stats = write_reference_stats(
        "fashion-mnist",
        tmp_path / "s.npz",
        metric="classifier-fd",
        num_samples=64,
        device="cpu",
        data_dir=str(idx_dir),
    )
    args = [
        "evaluate",
        str(tiny_run.dir),
        "--metric",
        "class-coverage",
        "--ref-stats",
        str(stats),
        "--data-dir",
        str(idx_dir),
    ]
    out = CliRunner().invoke(build_cli(), args)
    assert out.exit_code == 2 and out.output.count("\n") == 1
    assert out.output.startswith("Error: class-coverage") and "ref_stats" in out.output


def test_every_metric_is_checked_before_any_computes(tiny_run, idx_dir, monkeypatch):
    """A metric that cannot score this generator fails before the others spend their time
    (the standard FID protocol alone takes 20 minutes on a CPU)."""
    from gan_zoo.metrics import MetricError, classifier

    def computed(*args, **kwargs):
        raise AssertionError("classifier-fd was computed before class-accuracy was checked")

    monkeypatch.setattr(classifier.ClassifierFD, "compute", computed)
    metrics_json = tiny_run.dir / "checkpoints" / "latest"
    with pytest.raises(MetricError, match="class-accuracy needs a conditional generator"):
        gan_zoo.evaluate(
            tiny_run.dir,
            ["classifier-fd", "class-accuracy"],
            num_samples=8,
            data_dir=str(idx_dir),
            device="cpu",
        )
    assert metrics_json.exists()
    result = CliRunner().invoke(
        build_cli(),
        [
            "evaluate",
            str(tiny_run.dir),
            "--metric",
            "classifier-fd",
            "--metric",
            "class-accuracy",
            "--n",
            "8",
            "--data-dir",
            str(idx_dir),
        ],
    )
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
