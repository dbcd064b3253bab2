"""The results table can be reproduced from its records: every ranked record was written by
the runner from a clean tree at a named commit, its train command parses (through
``gan-zoo train``'s own parser and the config resolver) to its row's recipe in the precision it
trained in, the page is rendered from the records as they stand, and records that fail (in
benchmarks/results/unverified/) are in no ranking and no "best" figure."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest
from helpers import ROOT

BENCH = ROOT / "benchmarks"
sys.path.insert(0, str(BENCH))  # the script's helpers import each other as top-level modules

import results_provenance  # noqa: E402
import results_render  # noqa: E402
import results_runner  # noqa: E402
from results_rows import RESULTS_DIR, command, is_conditional, load_rows  # noqa: E402

RANKED = results_render.load_records(RESULTS_DIR)
UNVERIFIED = results_render.load_records(RESULTS_DIR / results_render.UNVERIFIED_DIR)
DOC = ROOT / "docs" / "results.md"


def _block() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text.split(results_render.START)[1].split(results_render.END)[0]


def _section(block: str, title: str) -> str:
    return block.split(title)[1].split("\n#### ")[0] if title in block else ""


def test_the_page_is_rendered_from_the_records_as_they_stand():
    rows_file = load_rows()
    block = results_render.render(rows_file, RANKED, RESULTS_DIR, is_conditional, UNVERIFIED)
    assert _block().strip("\n") == block.strip("\n"), (
        "docs/results.md is not what the records render to: "
        "run python benchmarks/results.py --render-only"
    )


@pytest.mark.parametrize("key", sorted(RANKED) or ["(none)"])
def test_every_ranked_record_passes_the_provenance_check(key):
    """Written by the runner (its fields, nothing else), no -dirty commit, every training
    segment's commit listed, its command parses to its row's recipe with the precision named."""
    if key == "(none)":  # no record is verified yet: the page must not claim a best figure
        assert "**Best verified FID: none yet**" in _block()
        return
    record = RANKED[key]
    assert results_provenance.problems(record, load_rows()) == []
    assert set(record) == results_provenance.RECORD_KEYS
    assert not record["software"]["git_commit"].endswith("-dirty")
    argv = shlex.split(record["commands"]["train"])
    assert "auto" not in argv[argv.index("--precision") + 1]


def runner_record(job: results_runner.Job, commit: str = "a" * 40) -> dict:
    """The record the runner writes for ``job`` (metrics and timings aside)."""
    train = command(job.train)
    return {
        "schema": results_runner.SCHEMA,
        "row": job.row.name,
        "seed": job.seed,
        "preset": job.row.preset,
        "dataset": job.row.dataset,
        "note": job.row.note,
        "commands": {"train": train, "evaluate": command(job.evaluate)},
        "num_samples": job.n,
        "steps_scale": None,
        "standard": True,
        "metrics": {},
        "training": {"img_s": 1.0, "steps": 1, "seconds": 1.0, "precision": job.precision},
        "evaluation": {"seconds": 1.0},
        "hardware": {},
        "software": {"git_commit": commit},
        "date": "2026-12-05T00:00:00+00:00",
        "provenance": {
            "writer": results_runner.WRITER,
            "commit": commit,
            "tree": "clean",
            "segments": [{"commit": commit, "from_step": 0, "command": train}],
            "adopted": None,
        },
    }


def test_the_check_accepts_what_the_runner_writes_for_every_row(tmp_path):
    """A record of each row's planned command (what the runner writes on this machine) passes
    the check, through the real parser and resolver."""
    rows_file = load_rows()
    jobs, _ = results_runner.plan(rows_file, rows_file.rows, results_runner.Settings(tmp_path))
    assert {job.row.name for job in jobs} >= {r.name for r in rows_file.rows if not r.plugin}
    for job in jobs:
        assert results_provenance.problems(runner_record(job), rows_file) == [], job.key


def test_the_check_refuses_another_recipe_no_precision_a_dirty_tree_and_adoption(tmp_path):
    rows_file = load_rows()
    jobs, _ = results_runner.plan(
        rows_file, rows_file.select(["dcgan"]), results_runner.Settings(tmp_path)
    )
    job = jobs[0]

    def problems(**train_and_changes) -> str:
        record = runner_record(job)
        record["commands"]["train"] = train_and_changes.pop("train", record["commands"]["train"])
        for section, changes in train_and_changes.items():
            record[section].update(changes)
        return " ".join(results_provenance.problems(record, rows_file))

    assert problems() == ""
    other = problems(train=command(job.train) + " --epochs 1")
    assert "trains another recipe than row 'dcgan' (epochs: 1 vs row 25)" in other
    i = job.train.index("--precision")
    unnamed = problems(train=command(job.train[:i] + job.train[i + 2 :]))
    assert f"does not name the precision it trained in ({job.precision})" in unnamed
    wrong = "fp32" if job.precision != "fp32" else "bf16"
    assert f"names --precision {job.precision}, but it trained in {wrong}" in problems(
        training={"precision": wrong}
    )
    dirty = problems(software={"git_commit": "a" * 40 + "-dirty"})
    assert "dirty tree" in dirty
    adopted = problems(training={"adopted_from": "/work/exp/x", "seconds_source": "log"})
    assert "adopted" in adopted and "edited by hand" in adopted
    assert "fields the runner does not write (adopted_from, seconds_source)" in adopted
    moved = problems(provenance={"commit": "b" * 40})
    assert "different commits" in moved


def test_unverified_records_are_in_no_ranking_and_no_best_figure():
    block = _block()
    ranked_tables = block.split(results_render.UNVERIFIED_TITLE)[0]
    unverified = _section(block, results_render.UNVERIFIED_TITLE)
    for key, record in UNVERIFIED.items():
        assert f"| `{key}` |" in unverified, key
        fid = (record["metrics"].get("fid") or {}).get("value")
        if isinstance(fid, (int, float)):
            assert f"| {fid:,.2f} " not in ranked_tables, f"{key}'s FID is in a ranked table"
    best = block.splitlines()[1]
    assert best.startswith("**Best verified FID")
    for key in UNVERIFIED:
        assert f"`{key.rsplit('-s', 1)[0]}`" not in best


def test_records_live_where_their_check_says():
    """A record that fails lies in unverified/ (never among the ranked ones)."""
    rows_file = load_rows()
    for key, record in RANKED.items():
        assert results_provenance.problems(record, rows_file) == [], key
    for key, record in UNVERIFIED.items():
        assert results_provenance.problems(record, rows_file), f"{key} passes: rank it"


def test_shortened_rows_are_set_apart_and_full_recipes_come_first():
    rows_file = load_rows()
    block = _block()
    full = _section(block, "#### Full recipes, ranked by FID")
    smoke = _section(block, f"#### {results_render.SMOKE_TITLE}")
    assert block.index("Full recipes, ranked by FID") < block.index(results_render.SMOKE_TITLE)
    import gan_zoo

    for row in rows_file.rows:
        name = f"| `{row.name}`"
        if results_provenance.shortened(row):
            assert name in smoke and name not in full, row.name
        else:
            assert name in full and name not in smoke, row.name
        if row.plugin is None and "--epochs" in row.args:
            epochs = int(row.args[row.args.index("--epochs") + 1])
            if epochs < gan_zoo.get_preset(row.preset).epochs:
                assert results_provenance.shortened(row), row.name
    assert "smoke" in smoke.lower() or results_render.SMOKE_TITLE in block


def test_the_rerun_commands_of_every_unverified_record_are_in_the_docs():
    text = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    section = text.split("### Re-runs pending")[1].split("\n## ")[0]
    for key in UNVERIFIED:
        row = key.rsplit("-s", 1)[0]
        assert f"--rows {row}" in section or f" {row} " in section, key


def test_no_record_anywhere_holds_a_machine_path():
    for path in sorted(Path(RESULTS_DIR).rglob("*-s[0-9]*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        if path.parent.name == results_render.UNVERIFIED_DIR:
            continue  # history as written; their adopted_from paths are one reason they failed
        assert "/work/" not in json.dumps(record) and "/home/" not in json.dumps(record), path


def test_a_rerun_beside_the_unverified_record_it_replaces_keeps_each_ones_figures():
    """Until the old record is removed from unverified/, both are shown: the re-run ranked with
    its figures, the old one set apart with its own (not the re-run's)."""
    import copy

    rows_file = load_rows()
    key = "dcgan-long-ema-s0"
    verified = RANKED[key]
    old = copy.deepcopy(verified)
    old["metrics"]["fid"]["value"] = 99.125
    old["provenance"]["tree"] = "dirty"  # fails the check, as an old runner's record does
    block = results_render.render(rows_file, RANKED, RESULTS_DIR, is_conditional, {key: old})
    ranked_tables = block.split(results_render.UNVERIFIED_TITLE)[0]
    apart = _section(block, results_render.UNVERIFIED_TITLE)
    line = next(x for x in apart.splitlines() if x.startswith(f"| `{key}` |"))
    assert "| 99.12 " in line or "| 99.13 " in line
    assert f"| {verified['metrics']['fid']['value']:,.2f} " not in line
    assert "99.1" not in ranked_tables and f"| `{key}` |" not in ranked_tables


def test_the_software_cell_names_every_commit_a_resumed_training_started_at():
    record = RANKED["conv-mlp-s0"]  # trained at 817d4e8, resumed at 5cb31ad after parking
    commits = [seg["commit"][:7] for seg in record["provenance"]["segments"]]
    assert len(set(commits)) == 2
    text = results_render.software_text(record)
    assert text.startswith(
        f"gan-zoo 0.1.0 (commit {commits[-1]}, training started at {commits[0]})"
    )
    one = RANKED["dcgan-s0"]  # one segment: only the commit
    assert results_render.software_text(one).startswith(
        f"gan-zoo 0.1.0 (commit {one['software']['git_commit'][:7]}), torch"
    )
