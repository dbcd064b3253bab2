"""``gan-zoo reproduce`` (``gan_zoo/cli/reproduce.py``): what it prints, its JSON, errors."""

from __future__ import annotations

import json

import pytest
from helpers import cli_in_process, make_run, train_tiny

from gan_zoo.checkpoint import record_metrics
from gan_zoo.testing.data import write_fashion_mnist


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli-reproduce")
    data = write_fashion_mnist(root / "fashion-mnist")
    run = train_tiny(data, root / "run", ema=0.0)
    protocol = {"num_samples": 16, "reference_split": "test"}
    record_metrics(run, {"classifier-fd": {"value": 12.5, "protocol": protocol}})
    return run, data


def test_reproduce_prints_the_card_next_to_mean_and_std_and_says_smoke_check(scored, tmp_path):
    run, data = scored
    out = tmp_path / "r"
    args = ["reproduce", run, "--steps", 1, "--seeds", 2, "--data-dir", data, "--out", out]
    result = cli_in_process(*args, "--quiet")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"Reproduced {run}: 2 runs (seeds 0, 1) in {out}"
    assert lines[1].startswith("Smoke check: 1 steps per run instead of the recipe's 2 steps")
    assert lines[2] == "Versions: gan-zoo and every plugin as recorded with the card"
    row = next(line for line in lines if "classifier-fd" in line)
    assert "12.5" in row and "± " in row and "(n=2)" in row and "(smoke check)" in row
    assert "within the spread" in row or "outside the spread" in row


def test_reproduce_json_is_the_report_file(scored, tmp_path):
    run, data = scored
    out = tmp_path / "r"
    result = cli_in_process(
        "reproduce", run, "--steps", 1, "--seeds", 1, "--data-dir", data, "--out", out, "--json"
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report == json.loads((out / "reproduction.json").read_text())
    assert report["metrics"]["classifier-fd"]["std"] is None  # one seed: no spread


def test_reproduce_errors_are_one_line(tmp_path):
    run, _ = make_run(tmp_path)
    for args, text in (
        (["--seeds", 0], "Invalid value for '--seeds'"),
        ([], "records no metric to reproduce"),
        (["--metric", "classifer-fd"], "records no metric to reproduce"),
    ):
        result = cli_in_process("reproduce", run, *args)
        assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
        assert text in result.output
