"""benchmarks/results_curves.py: the stored training curve of a recorded seed, from its real run."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest
from helpers import ROOT, TINY

import gan_zoo

BENCH = ROOT / "benchmarks"
sys.path.insert(0, str(BENCH))
CURVES = ROOT / "benchmarks" / "results" / "curves"
COMMIT = "a" * 40


def _script():
    spec = importlib.util.spec_from_file_location("results_curves", BENCH / "results_curves.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def recorded(idx_dir, tmp_path):
    """A real tiny run scored at two checkpoints, with its segments file and record."""
    results = tmp_path / "results"
    run = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        data_dir=str(idx_dir),
        batch_size=16,
        device="cpu",
        steps=4,
        checkpoint_every=2,
        eval_samples=16,
        seed=3,
        out=str(results / "runs" / "tiny-s3"),
        progress="quiet",
        overrides=TINY,
    )
    segments = [{"commit": COMMIT, "from_step": 0, "command": "gan-zoo train ..."}]
    (results / "runs" / "tiny-s3.segments.json").write_text(json.dumps(segments))
    record = {
        "seed": 3,
        "commands": {"train": "gan-zoo train x"},
        "provenance": {"commit": COMMIT, "segments": segments},
    }
    (results / "tiny-s3.json").write_text(json.dumps(record))
    return results, run


def test_the_curve_is_the_metric_the_run_logged_at_each_checkpoint(recorded, capsys):
    results, run = recorded
    assert _script().main(["tiny-s3", "--results-dir", str(results)]) == 0
    stored = json.loads((results / "curves" / "tiny-s3.json").read_text())
    logged = [json.loads(line) for line in (run.dir / "metrics.jsonl").read_text().splitlines()]
    wanted = [r["eval/classifier-fd"] for r in logged if "eval/classifier-fd" in r]
    assert [p["value"] for p in stored["points"]] == wanted and len(wanted) == 2
    assert [p["step"] for p in stored["points"]] == [2, 4]
    assert stored["commit"] == COMMIT and stored["metric"] == "classifier-fd"
    assert stored["eval_samples"] == 16 and stored["train"] == "gan-zoo train x"
    assert stored["command"] == "python benchmarks/results_curves.py tiny-s3"  # what printed it
    out = capsys.readouterr().out
    assert "classifier-fd (16 samples, 'test' split)" in out and out.count("\n") == 4
    assert _script().main(["tiny-s3", "--results-dir", str(results), "--check"]) == 0


def test_a_curve_from_another_commit_or_an_edited_file_is_refused(recorded, capsys):
    results, _ = recorded
    argv = ["tiny-s3", "--results-dir", str(results)]
    assert _script().main(argv) == 0
    path = results / "curves" / "tiny-s3.json"
    path.write_text(path.read_text().replace('"value": ', '"value": 1', 1))
    capsys.readouterr()
    assert _script().main([*argv, "--check"]) == 2
    assert "curves/tiny-s3.json differs from the run's curve" in capsys.readouterr().err
    segments = results / "runs" / "tiny-s3.segments.json"
    segments.write_text(json.dumps([{"commit": "b" * 40, "from_step": 0, "command": "c"}]))
    assert _script().main(argv) == 2
    err = capsys.readouterr().err
    assert "was not trained at the commit its record names" in err and err.count("\n") == 1


def test_every_stored_curve_belongs_to_a_committed_record():
    for path in sorted(CURVES.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        record = json.loads((ROOT / data["record"]).read_text(encoding="utf-8"))
        assert record["provenance"]["commit"] == data["commit"], path.name
        assert record["commands"]["train"] == data["train"], path.name
        assert data["points"] and all(p["value"] >= 0 for p in data["points"]), path.name


def test_a_run_resumed_across_commits_gives_its_curve_when_the_record_lists_the_same_segments(
    recorded, capsys
):
    results, _ = recorded
    segments = [
        {"commit": "b" * 40, "from_step": 0, "command": "gan-zoo train ..."},
        {"commit": COMMIT, "from_step": 2, "command": "gan-zoo train --resume ..."},
    ]
    (results / "runs" / "tiny-s3.segments.json").write_text(json.dumps(segments))
    record_path = results / "tiny-s3.json"
    record = json.loads(record_path.read_text())
    argv = ["tiny-s3", "--results-dir", str(results)]
    assert _script().main(argv) == 2  # the record lists no such segments: refused
    assert "was not trained at the commit its record names" in capsys.readouterr().err
    record["provenance"]["segments"] = segments
    record_path.write_text(json.dumps(record))
    assert _script().main(argv) == 0
    assert json.loads((results / "curves" / "tiny-s3.json").read_text())["commit"] == COMMIT
    record["provenance"]["segments"] = segments[::-1]  # another order: not this run's record
    record_path.write_text(json.dumps(record))
    assert _script().main(argv) == 2
