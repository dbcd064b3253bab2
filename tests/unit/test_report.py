"""gan_zoo.report without a browser: what the page holds, how a run is read (as untrusted input,
in progress or half there), and the training's own report and events (NaN stops, resumes).
The same pages in headless Chromium: tests/e2e/test_report_browser.py."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from helpers import cli_in_process, train_tiny

import gan_zoo
from gan_zoo.report import gather, read_run, render_report, svg, write_report
from gan_zoo.training.result import TrainingDiverged
from gan_zoo.training.step_stats import StepStats

HOSTILE = "<script>window.__pwned = true</script><b>bold</b>"


def grids_in(page: str) -> int:
    return page.count('src="data:image/png;base64,')


def test_the_page_is_self_contained(trained):
    page = render_report([trained])
    assert grids_in(page) == len(list((trained / "samples").glob("step-*.png"))) > 0
    # Nothing is fetched: no link, no stylesheet, no URL but the SVG namespace.
    assert not re.search(r"<link|<iframe|<object|@import|url\(|href=", page)
    assert set(re.findall(r"https?://[^\s\"']+", page)) == {"http://www.w3.org/2000/svg"}
    assert "Content-Security-Policy" in page and "img-src data:" in page
    assert page.count("<script>") == 1  # the slider's, allowed by its hash
    for key in ("loss/d", "loss/g", "d/real_acc", "d/fake_acc", "lr", "img/s"):
        assert f'data-series="{key}"' in page


def test_curves_hold_every_logged_point(trained):
    logged = [json.loads(line) for line in (trained / "metrics.jsonl").read_text().splitlines()]
    view = read_run(trained)
    assert [x for x, _ in view.series["loss/d"]] == [r["step"] for r in logged if "loss/d" in r]
    page = render_report([trained])
    polyline = re.search(r'<polyline points="([^"]*)" data-series="loss/d"', page)
    assert len(polyline.group(1).split()) == len(view.series["loss/d"])


def hostile_copy(trained: Path, tmp_path: Path) -> Path:
    run = tmp_path / "hostile"
    shutil.copytree(trained, run, symlinks=True)
    config = json.loads((run / "config.json").read_text())
    config["data_dir"] = HOSTILE
    config["model"] = HOSTILE  # not a registry name: the schema check fails, the page stays
    (run / "config.json").write_text(json.dumps(config))
    with (run / "events.jsonl").open("a") as log:
        log.write(json.dumps({"step": 1, "level": "warning", "message": HOSTILE}) + "\n")
    return run


def test_a_hostile_run_is_escaped(trained, tmp_path):
    page = render_report([hostile_copy(trained, tmp_path)])
    assert HOSTILE not in page and "<b>" not in page
    assert page.count("&lt;script&gt;window.__pwned = true&lt;/script&gt;") >= 3
    assert "model must be a registry name" in page  # shown as a problem, the rest still there
    assert grids_in(page) > 0


def test_links_out_of_the_run_and_fifos_are_not_read(trained, tmp_path):
    run = tmp_path / "linked"
    shutil.copytree(trained, run, symlinks=True)
    outside = tmp_path / "secret.png"
    shutil.copy(next((trained / "samples").glob("*.png")), outside)
    (run / "samples" / "step-0000099.png").symlink_to(outside)
    (run / "metrics.jsonl").unlink()
    os.mkfifo(run / "metrics.jsonl")  # reading it would block forever
    view = read_run(run)
    assert 99 not in [grid.step for grid in view.grids]
    assert view.series == {}
    problems = " ".join(view.problems)
    assert "symbolic link out of its run" in problems and "FIFO" in problems


def test_a_run_in_progress_without_checkpoint(trained, tmp_path):
    run = tmp_path / "young"
    run.mkdir()
    for name in ("config.json", "metrics.jsonl"):
        shutil.copy(trained / name, run / name)
    view = read_run(run)
    assert view.status == "no checkpoint yet" and view.series["loss/g"]
    assert "none yet" in render_report([run])


def test_not_a_run_is_one_line(tmp_path):
    result = cli_in_process("report", tmp_path)
    assert result.exit_code == 2
    assert result.output.strip().startswith("Error:") and "not a gan-zoo run" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_cli_writes_into_the_run_and_compares(trained, tmp_path):
    run = tmp_path / "copy"
    shutil.copytree(trained, run, symlinks=True)
    (run / "report.html").unlink()
    result = cli_in_process("report", run)
    assert result.exit_code == 0 and (run / "report.html").is_file(), result.output
    both = write_report([run, trained], tmp_path / "both.html").read_text()
    assert both.count('<section class="run">') == 2
    assert f'data-series="1: {run.name}"' in both and f'data-series="2: {trained.name}"' in both


def test_many_grids_are_thinned_evenly(trained, tmp_path, monkeypatch):
    run = tmp_path / "many"
    shutil.copytree(trained, run, symlinks=True)
    grid = next((run / "samples").glob("*.png"))
    for step in range(10, 30):
        shutil.copy(grid, run / "samples" / f"step-{step:07d}.png")
    monkeypatch.setattr(gather, "SAMPLES_BUDGET", grid.stat().st_size * 5)
    view = read_run(run)
    assert len(view.grids) == 5 and view.grids_total == 21
    assert view.grids[-1].step == 29  # the latest is always kept
    assert "5 of 21 grids" in render_report([run])


def test_the_training_keeps_events_and_its_report(idx_dir, tmp_path, monkeypatch):
    run = train_tiny(idx_dir.parent, tmp_path / "run", checkpoint_every=1)
    assert "finished" in (run / "report.html").read_text()
    gan_zoo.train(resume=str(run), steps=3, progress="quiet")
    events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    assert any(e["level"] == "info" and e["message"].startswith("resumed from") for e in events)
    # A loss that becomes NaN stops the training: the event and the report say so.
    monkeypatch.setattr(StepStats, "nonfinite", lambda self: ["loss/d"])
    with pytest.raises(TrainingDiverged):
        train_tiny(idx_dir.parent, tmp_path / "nan", log_every=1)
    page = (tmp_path / "nan" / "report.html").read_text()
    assert "NaN or Inf" in page and 'class="stopped"' in page


def test_ticks_are_round():
    assert svg.nice_ticks(0.0, 1.0) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert svg.nice_ticks(3.0, 3.0) == [3.0]
    assert svg.nice_ticks(-0.5, 10.0) == [0.0, 5.0, 10.0]
    assert gather.thin(list(range(10)), 3) == [0, 4, 9]
    assert gather.thin(list(range(10)), 1) == [9]


def test_a_run_that_is_training_says_so(trained, tmp_path):
    from gan_zoo.runlock import RunLock

    run = tmp_path / "busy"
    shutil.copytree(trained, run, symlinks=True)
    state = run / "checkpoints" / "step-0000002" / "training-state.json"
    doc = json.loads(state.read_text())
    doc["state"]["total_steps"] = 10  # still 8 steps to go
    state.write_text(json.dumps(doc))
    with RunLock(run):
        assert read_run(run).status.startswith("training now")
    assert read_run(run).status == "stopped at step 2 of 10"
