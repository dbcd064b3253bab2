"""benchmarks/screen.py: a candidate recipe trained on its full schedule, stopped after K epochs
(a real tiny run), its curve stored beside recorded ones, and continued exactly."""

from __future__ import annotations

import importlib.util
import json

import pytest
import results_runner
from helpers import ROOT

BENCH = ROOT / "benchmarks"
#: A tiny recipe with many short epochs, scored at each: the screen stops it long before its end.
TRAIN = [
    "dcgan",
    "fashion-mnist",
    "--epochs",
    "30",
    "--batch-size",
    "32",
    "--set",
    "generator.width=4",
    "--set",
    "discriminator.width=4",
    "--eval-samples",
    "16",
    "--log-every",
    "1",
    "--precision",
    "fp32",
    "--seed",
    "0",
]


def _script(monkeypatch):
    spec = importlib.util.spec_from_file_location("screen", BENCH / "screen.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "POLL_SECONDS", 0.02)
    return module


@pytest.fixture
def screening(tmp_path, idx_dir_256, monkeypatch, clean_repo):
    """The script, its results folder (a stored curve to set beside it) and its argv head."""
    monkeypatch.setenv("GAN_ZOO_DATA", str(idx_dir_256.parent))
    results = tmp_path / "results"
    (results / "curves").mkdir(parents=True)
    points = [{"step": 8 * e, "epoch": e, "value": 100.0 - e} for e in range(1, 31)]
    curve = {"metric": "classifier-fd", "eval_samples": 16, "points": points}
    (results / "curves" / "base-s0.json").write_text(json.dumps(curve), encoding="utf-8")
    return _script(monkeypatch), results, ["--results-dir", str(results)]


def test_a_screen_stops_after_its_epoch_and_a_larger_one_continues_the_run_exactly(
    screening, capsys
):
    script, results, head = screening
    argv = ["wide", *head, "--against", "base-s0", "--until-epoch"]
    assert script.main([*argv, "1", "--", *TRAIN]) == 0
    first = json.loads((results / "screens" / "wide.json").read_text(encoding="utf-8"))
    run = results / "screens" / "runs" / "wide"
    logged = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    stopped_at = max(r["step"] for r in logged)
    assert 8 <= stopped_at < 240  # stopped after epoch 1's score, long before its 30 epochs
    assert [p["epoch"] for p in first["points"]] == [1] and first["stopped"] == "after epoch 1"
    assert first["metric"] == "classifier-fd" and first["eval_samples"] == 16
    assert first["against"]["base-s0"]["1"] == 99.0
    assert first["train"].startswith("gan-zoo train dcgan fashion-mnist --epochs 30 ")
    assert first["command"].startswith("python benchmarks/screen.py wide --until-epoch 1 ")
    assert first["provenance"]["tree"] == "clean" and len(first["provenance"]["segments"]) == 1
    assert first["hardware"]["cpu"] and first["training"]["img_s"] > 0
    out = capsys.readouterr().out
    assert "screen wide: classifier-fd (16 samples, 'test' split)" in out and "99.00" in out

    assert script.main([*argv, "3", "--", *TRAIN]) == 0
    second = json.loads((results / "screens" / "wide.json").read_text(encoding="utf-8"))
    assert [p["epoch"] for p in second["points"]] == [1, 2, 3]
    assert second["points"][0] == first["points"][0]  # the same run, continued
    segments = second["provenance"]["segments"]
    assert len(segments) == 2 and segments[1]["command"].startswith("gan-zoo train --resume ")
    assert segments[1]["from_step"] == stopped_at
    logged = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    steps = [r["step"] for r in logged if "loss/d" in r]
    assert steps == list(range(1, steps[-1] + 1))  # each step once: a resume, not a new run
    assert "continuing at step" in capsys.readouterr().out

    # What is stored is printed again without training; so is a smaller K, from the same run.
    assert script.main(["wide", *head, "--show"]) == 0
    assert capsys.readouterr().out.strip() == script.text(second)
    assert script.main([*argv, "2", "--", *TRAIN]) == 0
    third = json.loads((results / "screens" / "wide.json").read_text(encoding="utf-8"))
    assert [p["epoch"] for p in third["points"]] == [1, 2]
    assert third["provenance"]["segments"] == segments  # nothing trained
    assert (run / "metrics.jsonl").read_text().count("\n") == len(logged)
    # The same name with another recipe is refused, the run kept.
    other = [*TRAIN[:-1], "1"]
    assert script.main([*argv, "3", "--", *other]) == 2
    assert "trains another command" in capsys.readouterr().err
    assert (run / "config.json").is_file()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["x", "--until-epoch", "2", "--", *TRAIN[:-4], "--seed", "0"], "name the precision"),
        (["x", "--until-epoch", "2", "--", *TRAIN, "--out", "y"], "--out is not a screen's"),
        (["x", "--", *TRAIN], "--until-epoch K (K >= 1) is needed"),
        (["X!", "--until-epoch", "2", "--", *TRAIN], "must be lower-case"),
        (["x", "--until-epoch", "2"], "give the training after '--'"),
        (["x", "--show", "--until-epoch", "2"], "--show prints the stored screen"),
    ],
)
def test_bad_options_are_one_line(monkeypatch, capsys, argv, message):
    with pytest.raises(SystemExit) as stop:
        _script(monkeypatch).main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and message in err and err.count("\n") == 1


def test_a_dirty_tree_or_a_missing_screen_is_refused_before_anything_runs(screening, capsys):
    script, results, head = screening
    assert script.main(["nothing", *head, "--show"]) == 2
    assert "no screen" in capsys.readouterr().err
    (results_runner.GIT_REPO / "tracked.txt").write_text("changed\n", encoding="utf-8")
    assert script.main(["x", *head, "--until-epoch", "1", "--", *TRAIN]) == 2
    err = capsys.readouterr().err
    assert "tracked files differ from HEAD (tracked.txt)" in err and err.count("\n") == 1
    assert not (results / "screens" / "runs" / "x").exists()


def test_a_curve_of_another_metric_cannot_be_set_beside_it(screening, capsys):
    script, results, head = screening
    path = results / "curves" / "base-s0.json"
    path.write_text(path.read_text().replace('"eval_samples": 16', '"eval_samples": 2000'))
    argv = ["x", *head, "--against", "base-s0", "--until-epoch", "1", "--", *TRAIN]
    assert script.main(argv) == 2
    assert "cannot be set side by side" in capsys.readouterr().err


STORED = sorted((ROOT / "benchmarks" / "results" / "screens").glob("*.json"))


@pytest.mark.parametrize("path", STORED, ids=[p.stem for p in STORED])
def test_every_stored_screen_is_what_its_command_wrote_from_a_clean_tree(path, monkeypatch):
    data = json.loads(path.read_text(encoding="utf-8"))
    assert _script(monkeypatch).problems(data, path.stem) == []
    assert "/work/" not in json.dumps(data) and "/home/" not in json.dumps(data)


def test_the_screen_check_refuses_edits_and_dirty_trees(screening, monkeypatch):
    script, results, head = screening
    assert script.main(["tiny", *head, "--until-epoch", "1", "--", *TRAIN]) == 0
    data = json.loads((results / "screens" / "tiny.json").read_text(encoding="utf-8"))
    # A tmp results folder: its run folder is not the repository's, so compare through that.
    run_dir = script.display_path(results / "screens" / "runs" / "tiny")
    data["train"] = data["train"].replace(run_dir, "benchmarks/results/screens/runs/tiny")
    data["provenance"]["segments"][0]["command"] = data["train"]
    assert script.problems(data, "tiny") == []
    assert "its command screens 'tiny', not 'other'" in script.problems(data, "other")
    edited = json.loads(json.dumps(data))
    edited["points"][0]["epoch"] = 2
    assert script.problems(edited, "tiny") == ["its points are not the epochs 1 to K, one each"]
    dirty = json.loads(json.dumps(data))
    dirty["provenance"]["tree"] = "dirty"
    assert script.problems(dirty, "tiny") == ["no training segment from a clean tree is listed"]
    other = json.loads(json.dumps(data))
    other["train"] = other["train"].replace("--seed 0", "--seed 1")
    assert "its train command is not the one its command runs" in script.problems(other, "tiny")
    assert script.problems({**data, "extra": 1}, "tiny")[0].startswith("not a screen file")
