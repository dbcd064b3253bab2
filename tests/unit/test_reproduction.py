"""``gan_zoo.reproduction``: the statistics and verdict, version differences, the recipe taken
from a card (never its paths), which metrics are reproduced, and a whole tiny reproduction on
the kit's Fashion-MNIST-format files."""

from __future__ import annotations

import json
import statistics

import pytest
from helpers import make_run, train_tiny

from gan_zoo.checkpoint import record_metrics, resolve_checkpoint
from gan_zoo.errors import CheckpointError, ConfigError, GanZooError, UnknownNameError
from gan_zoo.reproduction import (
    NOT_INSTALLED,
    REPORT_FILE,
    SPREAD,
    MetricResult,
    choose_metrics,
    read_card,
    recipe,
    reproduce,
    version_differences,
)
from gan_zoo.testing.data import write_fashion_mnist

PROTOCOL = {"num_samples": 16, "reference_split": "test"}


@pytest.mark.parametrize("card", [2.2, 2.9, 9.0])
def test_the_verdict_is_the_card_value_within_mean_plus_minus_two_std(card):
    result = MetricResult("classifier-fd", card, {}, values=[2.0, 2.5, 3.1])
    assert result.mean == pytest.approx(statistics.mean(result.values))
    assert result.std == pytest.approx(statistics.stdev(result.values))
    expected = abs(card - result.mean) <= SPREAD * statistics.stdev(result.values)
    assert result.within is expected
    assert result.as_dict()["within_spread"] is expected


def test_one_seed_has_no_spread_and_no_verdict():
    result = MetricResult("fid", 10.0, {}, values=[11.0])
    assert result.std is None and result.within is None


def test_versions_that_differ_from_the_card_are_named(tmp_path):
    run, parts = make_run(tmp_path)
    record = json.loads((resolve_checkpoint(run) / "config.json").read_text())
    assert version_differences(record, parts.config) == []
    record["gan_zoo_version"] = "0.0.9"
    record["plugins"]["generator"] = "gan-zoo-elsewhere 2.0"
    lines = version_differences(record, parts.config)
    assert lines[0].startswith("gan-zoo: card 0.0.9, installed ")
    assert any(
        line.startswith("generator: card gan-zoo-elsewhere 2.0, installed gan-zoo ")
        for line in lines
    )


def test_the_recipe_is_the_cards_config_with_a_new_seed_and_never_its_paths(tmp_path):
    run, _ = make_run(tmp_path)
    record = json.loads((resolve_checkpoint(run) / "config.json").read_text())
    record.update(out="/etc/somewhere", data_dir="/root/data", download=True, seed=5)
    config = recipe(record, 6, tmp_path / "seed-6", {"steps": 3, "device": "cpu"})
    assert (config.seed, config.out, config.steps, config.device) == (
        6,
        str(tmp_path / "seed-6"),
        3,
        "cpu",
    )
    assert config.data_dir is None and config.download is False and config.eval_metric == "none"
    assert config.generator.options == record["generator"]["options"]
    assert (config.batch_size, config.g_optim.lr) == (record["batch_size"], record["g_optim"]["lr"])


def test_the_metrics_to_reproduce_are_those_installed_here():
    card = {
        "classifier-fd": {"value": 22.3, "protocol": PROTOCOL},
        "fid": {"value": 16.5, "protocol": {"num_samples": 10000}},
    }
    chosen, skipped = choose_metrics(card, None)
    assert chosen == {"classifier-fd": {"value": 22.3, "protocol": PROTOCOL}}
    assert skipped == {"fid": NOT_INSTALLED} and "gan-zoo-fid" in NOT_INSTALLED
    with pytest.raises(
        ConfigError, match="the card has no metric 'kid'; it has classifier-fd, fid"
    ):
        choose_metrics(card, ["kid"])
    with pytest.raises(UnknownNameError, match="unknown metric 'fid'"):
        choose_metrics(card, ["fid"])
    with pytest.raises(
        GanZooError, match=r"none of the card's metrics can be computed here \(fid:"
    ):
        choose_metrics({"fid": card["fid"]}, None)


def test_a_source_without_a_card_metric_is_one_line(tmp_path):
    run, _ = make_run(tmp_path)
    with pytest.raises(CheckpointError, match="records no metric to reproduce; score it first"):
        read_card(run)
    weights = resolve_checkpoint(run) / "generator.safetensors"
    with pytest.raises(CheckpointError, match="is a lone weights file"):
        read_card(weights)
    with pytest.raises(ConfigError, match="--seeds must be at least 1"):
        reproduce(run, seeds=0)


@pytest.fixture(scope="module")
def scored_run(tmp_path_factory):
    """A real two-step run whose card records a classifier-fd under a 16-sample protocol."""
    root = tmp_path_factory.mktemp("reproduce")
    data = write_fashion_mnist(root / "fashion-mnist")
    run = train_tiny(data, root / "run", ema=0.0)
    record_metrics(run, {"classifier-fd": {"value": 12.5, "protocol": PROTOCOL}})
    return run, data


def test_a_tiny_reproduction_retrains_scores_and_reports(scored_run, tmp_path):
    run, data = scored_run
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    found = reproduce(
        run, seeds=2, steps=2, data_dir=str(data), out=tmp_path / "r", progress="quiet"
    )
    assert found.smoke and found.seeds == [0, 1] and found.version_differences == []
    assert [r.name for r in found.runs] == ["seed-0", "seed-1"]
    (metric,) = found.metrics
    assert metric.name == "classifier-fd" and metric.card == 12.5 and len(metric.values) == 2
    for run_dir, value in zip(
        found.runs, metric.values, strict=True
    ):  # each run scored as the card
        scored = json.loads((resolve_checkpoint(run_dir) / "metrics.json").read_text())
        assert scored["classifier-fd"]["value"] == value
        assert scored["classifier-fd"]["protocol"]["num_samples"] == 16
    report = json.loads((tmp_path / "r" / REPORT_FILE).read_text())
    assert report == json.loads(json.dumps(found.as_dict()))
    assert (
        report["smoke_check"] is True
        and report["metrics"]["classifier-fd"]["values"] == metric.values
    )
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


def test_an_out_folder_that_holds_runs_is_refused_before_any_training(scored_run, tmp_path):
    run, data = scored_run
    (tmp_path / "r" / "seed-1").mkdir(parents=True)
    (tmp_path / "r" / "seed-1" / "metrics.jsonl").write_text("")
    with pytest.raises(ConfigError, match=r"seed-1 already holds a run; pick another --out"):
        reproduce(run, seeds=2, steps=1, data_dir=str(data), out=tmp_path / "r")
    assert not (tmp_path / "r" / "seed-0").exists()


def test_a_card_metric_without_a_usable_protocol_or_value_is_skipped():
    card = {
        "classifier-fd": {"value": 22.3, "protocol": {"num_samples": "all of them"}},
        "class-coverage": {"value": None, "protocol": PROTOCOL},
    }
    with pytest.raises(GanZooError, match="num_samples is not a count in 2..200000.*no value"):
        choose_metrics(card, None)
