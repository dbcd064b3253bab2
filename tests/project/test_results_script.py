"""benchmarks/results.py: the rows file, the renderer, the skip logic and one real tiny run."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import ROOT, auto_cpu_precision

BENCH = ROOT / "benchmarks"
sys.path.insert(0, str(BENCH))  # the script's helpers import each other as top-level modules

import results_render  # noqa: E402
import results_rows  # noqa: E402
import results_runner  # noqa: E402
from results_rows import Row, RowsError, load_rows  # noqa: E402

import gan_zoo  # noqa: E402
from gan_zoo import plugins  # noqa: E402


def _script():
    spec = importlib.util.spec_from_file_location("results_script", BENCH / "results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_rows(path: Path, rows: list, **top) -> Path:
    data = {"dataset": "fashion-mnist", "metrics": ["classifier-fd"], "rows": rows, **top}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


COMMIT = "0d20d98" + "0" * 33


def record(
    row: str,
    seed: int,
    fid: float,
    *,
    n: int = 10000,
    kid_std: float = 0.001,
    precision: str = "bf16",
    **extra,
):
    """A record as the runner writes it (schema 2, provenance from a clean tree)."""
    standard = n == 10000
    train = f"gan-zoo train {row} fashion-mnist --precision {precision} --seed {seed} --out x"
    protocol = {
        "name": "gan-zoo/inception-10k-test"
        if standard
        else f"non-standard (inception, {n} generated)",
        "standard": standard,
        "num_samples": n,
    }
    return {
        "schema": 2,
        "row": row,
        "seed": seed,
        "preset": row,
        "dataset": "fashion-mnist",
        "note": "",
        "num_samples": n,
        "standard": standard,
        "steps_scale": None,
        "commands": {"train": train, "evaluate": "e"},
        "metrics": {
            "fid": {"value": fid, "protocol": protocol},
            "kid": {"value": 0.01, "kid_std": kid_std, "protocol": protocol},
        },
        "training": {"img_s": 500.0, "seconds": 3000.0, "steps": 11700, "precision": precision},
        "evaluation": {"seconds": 1500.0},
        "hardware": {"cpu": "AMD EPYC", "flags": ["avx2"], "cpus": 2},
        "software": {"gan_zoo": "0.1.0", "torch": "2.14.1", "git_commit": COMMIT},
        "date": "2026-12-05T00:00:00+00:00",
        "provenance": {
            "writer": results_runner.WRITER,
            "commit": COMMIT,
            "tree": "clean",
            "segments": [{"commit": COMMIT, "from_step": 0, "command": train}],
            "adopted": None,
        },
        **extra,
    }


# The rows file.
def test_every_registered_preset_has_a_row_or_a_reason():
    rows_file = load_rows()
    presets = {row.preset for row in rows_file.rows}
    missing = set(gan_zoo.list_models()) - presets - set(rows_file.excluded)
    assert not missing, f"presets without a row in benchmarks/results/rows.json: {sorted(missing)}"
    assert {"stylegan2", "stylegan2-64"} <= presets  # the plugin's presets, skipped when absent
    dcgan = rows_file.select(["dcgan"])[0]
    assert dcgan.seeds == (0, 1, 2) and dcgan.args == ()


def test_every_row_command_is_accepted_by_gan_zoo_train(tmp_path):
    """Each row's train command goes through the real parser and resolver (nothing trains)."""
    rows_file = load_rows()
    settings = results_runner.Settings(results_dir=tmp_path)
    jobs, notes = results_runner.plan(rows_file, rows_file.rows, settings)
    planned = {job.row.name for job in jobs}
    for row in rows_file.rows:
        assert row.name in planned or (row.plugin and any(row.name in n for n in notes))
    # A row that changes the preset's schedule says so; other arguments (precision) need not.
    rescheduled = [row for row in rows_file.rows if {"--steps", "--epochs"} & set(row.args)]
    assert rescheduled and all(
        row.note.startswith(("shortened:", "longer:")) for row in rescheduled
    )
    cgan = next(job for job in jobs if job.row.name == "cgan")
    assert "class-accuracy" in cgan.metrics and "class-accuracy" not in jobs[0].metrics


@pytest.mark.slow
def test_the_stylegan2_rows_resolve_when_the_plugin_is_installed(
    use_distribution, monkeypatch, tmp_path
):
    use_distribution(ROOT / "plugins" / "gan-zoo-stylegan2")
    monkeypatch.setenv("GAN_ZOO_LOAD_PLUGINS", "gan-zoo-stylegan2")
    rows_file = load_rows()
    assert {"stylegan2", "stylegan2-64"} <= set(gan_zoo.list_models())
    assert (
        set(gan_zoo.list_models())
        - {row.preset for row in rows_file.rows}
        - set(rows_file.excluded)
        == set()
    )
    rows = rows_file.select(["stylegan2", "stylegan2-64"])
    jobs, notes = results_runner.plan(rows_file, rows, results_runner.Settings(tmp_path))
    assert notes == [] and [job.key for job in jobs] == ["stylegan2-s0", "stylegan2-64-s0"]


@pytest.mark.slow
def test_the_page_renders_the_same_with_or_without_the_stylegan2_plugin(
    use_distribution, monkeypatch, tmp_path
):
    # docs/results.md is rendered on one machine and checked on another: the plan of a plugin
    # row must not depend on whether the plugin is installed there (it used to drop the 28 px
    # classifier metrics from the stylegan2 rows' evaluate command only where it was).
    rows_file = load_rows()
    without = results_render.render(rows_file, {}, tmp_path, lambda row: False)
    use_distribution(ROOT / "plugins" / "gan-zoo-stylegan2")
    monkeypatch.setenv("GAN_ZOO_LOAD_PLUGINS", "gan-zoo-stylegan2")
    plugins.reset()  # the first render loaded the registry without the plugin
    assert "stylegan2" in gan_zoo.list_models()
    assert results_render.render(rows_file, {}, tmp_path, lambda row: False) == without
    assert "a gan-zoo-stylegan2 preset: the runner asks only for its image size's metrics" in (
        without
    )


@pytest.mark.parametrize(
    "row, message",
    [
        (
            {"name": "a", "preset": "dcgan", "seed": [0]},
            "unknown key 'seed'; did you mean 'seeds'?",
        ),
        ({"name": "a", "preset": "dcgan", "args": ["--out", "x"]}, "the runner sets --out itself"),
        ({"name": "a", "preset": "dcgan", "args": ["--seed=3"]}, "the runner sets --seed itself"),
        ({"name": "a", "preset": "dcgan", "seeds": [0, 0]}, "distinct integers"),
        ({"name": "A b", "preset": "dcgan"}, "'name' must be"),
        ({"name": "a"}, "'preset' must name a preset"),
    ],
)
def test_a_bad_row_is_a_one_line_error(tmp_path, row, message):
    path = write_rows(tmp_path / "rows.json", [row])
    with pytest.raises(RowsError, match=None) as info:
        load_rows(path)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_duplicate_rows_and_bad_overrides_are_caught(tmp_path):
    rows = [{"name": "a", "preset": "dcgan"}, {"name": "a", "preset": "gan"}]
    with pytest.raises(RowsError, match="row 'a' is listed twice"):
        load_rows(write_rows(tmp_path / "rows.json", rows))
    rows_file = load_rows(write_rows(tmp_path / "rows.json", [{"name": "b", "preset": "dcgn"}]))
    with pytest.raises(RowsError, match="^row 'b': unknown model 'dcgn'; did you mean 'dcgan'"):
        results_runner.plan(rows_file, rows_file.rows, results_runner.Settings(tmp_path))
    rows = [{"name": "best", "preset": "dcgan", "args": ["--set", "generator.widht=32"]}]
    rows_file = load_rows(write_rows(tmp_path / "rows.json", rows))
    with pytest.raises(RowsError, match="^row 'best': ") as info:
        results_runner.plan(rows_file, rows_file.rows, results_runner.Settings(tmp_path))
    assert "\n" not in str(info.value)


def test_an_unknown_row_is_one_line_with_did_you_mean(capsys):
    assert _script().main(["--rows", "dcgn", "--list"]) == 2
    err = capsys.readouterr().err
    assert err == "Error: unknown row 'dcgn'; did you mean 'dcgan', 'cgan' or 'dcgan-128'?\n"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--n", "1"], "--n must be at least 2, not 1"),
        (["--steps-scale", "2"], "must be in (0, 1]"),
        (["--rowz", "dcgan"], "unrecognized arguments: --rowz"),
    ],
)
def test_bad_options_are_one_line(capsys, argv, message):
    with pytest.raises(SystemExit) as info:
        _script().main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and message in err and err.count("\n") == 1


def test_rows_are_scored_only_with_metrics_declared_for_their_image_size(tmp_path, capsys):
    """The classifier metrics are 28 px only: a 32 px row is planned without them (a StyleGAN2
    row once failed on them after 20 minutes of FID), in the commands and in the table."""
    rows_file = results_rows.RowsFile(
        rows=(
            Row("d32", "dcgan", "fashion-mnist", args=("--image-size", "32")),
            Row("d28", "dcgan", "fashion-mnist"),
        ),
        metrics=("fid", "classifier-fd", "class-coverage"),
        conditional_metrics=(),
        excluded={},
    )
    jobs, _ = results_runner.plan(
        rows_file, rows_file.rows, results_runner.Settings(results_dir=tmp_path)
    )
    assert {job.row.name: job.metrics for job in jobs} == {
        "d32": ("fid",),
        "d28": ("fid", "classifier-fd", "class-coverage"),
    }
    block = results_render.render(rows_file, {}, tmp_path, lambda row: False)
    d32 = block.split("**d32**")[1].split("**d28**")[0]
    assert "--metric fid --n 10000" in d32 and "classifier-fd" not in d32


def test_dry_run_prints_every_command_and_runs_nothing(tmp_path, capsys):
    code = _script().main(["--rows", "dcgan", "--dry-run", "--results-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0 and not (tmp_path / "runs").exists()
    precision = auto_cpu_precision()  # never auto: what it resolves to on this machine
    for seed in (0, 1, 2):
        assert (
            f"gan-zoo train dcgan fashion-mnist --precision {precision} --seed {seed} --out " in out
        )
    assert "--precision auto" not in out
    assert out.count("--metric fid --metric kid") == 3 and "--n 10000 --json" in out


# Provenance.
def tiny_job(tmp_path: Path, args=("--steps", "2")) -> results_runner.Job:
    rows = write_rows(
        tmp_path / "rows.json", [{"name": "a", "preset": "dcgan", "args": list(args)}]
    )
    rows_file = load_rows(rows)
    return results_runner.plan(rows_file, rows_file.rows, results_runner.Settings(tmp_path))[0][0]


def test_the_train_command_names_the_resolved_precision_never_auto(tmp_path):
    job = tiny_job(tmp_path)
    assert job.precision == auto_cpu_precision() != "auto"
    assert f"--precision {job.precision} --seed 0" in results_rows.command(job.train)
    fixed = tiny_job(tmp_path, ("--precision", "fp32"))  # a row that names one keeps it
    assert fixed.precision == "fp32" and fixed.train.count("--precision") == 1
    path = write_rows(
        tmp_path / "auto.json", [{"name": "a", "preset": "dcgan", "args": ["--precision", "auto"]}]
    )
    with pytest.raises(
        RowsError, match="the runner names the precision --precision auto resolves to"
    ):
        load_rows(path)


def _two_seed_row(tmp_path: Path, recorded: str):
    """A two-seed row whose seed 0 is recorded in ``recorded`` and seed 1 is not run yet."""
    rows = write_rows(
        tmp_path / "rows.json",
        [{"name": "a", "preset": "dcgan", "args": ["--steps", "2"], "seeds": [0, 1]}],
    )
    rows_file = load_rows(rows)
    train = results_rows.command(
        results_rows.train_argv(
            rows_file.rows[0], 0, tmp_path / "runs" / "a-s0", ["--precision", recorded]
        )
    )
    rec = record("a", 0, 20.0, precision=recorded, preset="dcgan")
    rec["commands"]["train"] = rec["provenance"]["segments"][0]["command"] = train
    rec["commands"]["evaluate"] = results_rows.command(
        results_rows.evaluate_argv(tmp_path / "runs" / "a-s0", ["classifier-fd"], 10000)
    )
    results_runner.write_json(tmp_path / "a-s0.json", rec)
    return rows_file


def test_a_later_seed_trains_in_the_precision_of_its_rows_recorded_seeds(tmp_path, monkeypatch):
    """One row is one recipe: seed 1 follows seed 0's fp32 on a machine where auto is bf16, and
    the page shows that command for the seed not run yet."""
    from gan_zoo.training import precision

    monkeypatch.setattr(precision, "native_cpu_support", lambda name: True)  # auto: bf16
    rows_file = _two_seed_row(tmp_path, "fp32")
    jobs, notes = results_runner.plan(rows_file, rows_file.rows, results_runner.Settings(tmp_path))
    assert notes == [] and [(j.seed, j.precision) for j in jobs] == [(0, "fp32"), (1, "fp32")]
    assert "--precision fp32 --seed 1" in results_rows.command(jobs[1].train)
    records = {"a-s0": json.loads((tmp_path / "a-s0.json").read_text(encoding="utf-8"))}
    block = results_render.render(rows_file, records, tmp_path, lambda row: False)
    assert "| 20.00 |" in _line(block, "a")  # seed 0 is verified and ranked
    assert (
        "# seed 1: not run yet\ngan-zoo train dcgan fashion-mnist --steps 2 --precision fp32"
        in (block)
    )
    # a row without records trains in what auto resolves to here
    (tmp_path / "a-s0.json").unlink()
    jobs, _ = results_runner.plan(rows_file, rows_file.rows, results_runner.Settings(tmp_path))
    assert {j.precision for j in jobs} == {"bf16"}


def test_a_seed_whose_row_trained_in_a_precision_this_cpu_emulates_is_skipped(
    tmp_path, monkeypatch
):
    """Seed 0 trained in bf16; on a CPU without native bf16 seed 1 is skipped with a note (it
    would run many times slower, and in fp32 it would split the row into two recipes)."""
    from gan_zoo.training import precision

    monkeypatch.setattr(precision, "native_cpu_support", lambda name: False)  # auto: fp32
    rows_file = _two_seed_row(tmp_path, "bf16")
    jobs, notes = results_runner.plan(rows_file, rows_file.rows, results_runner.Settings(tmp_path))
    assert [(j.seed, j.precision) for j in jobs] == [(0, "bf16")]  # recorded: listed as done
    assert results_runner.status(jobs[0], force=False)[0] == "done"
    (note,) = notes
    assert note.startswith("skip a-s1: the row's recorded seeds trained in bf16, and here ")
    assert "emulated" in note and "or name --precision in the row" in note


def test_a_dirty_tree_is_refused_before_anything_trains(tmp_path, clean_repo, monkeypatch):
    job = tiny_job(tmp_path)
    (results_runner.GIT_REPO / "tracked.txt").write_text("changed\n", encoding="utf-8")
    (results_runner.GIT_REPO / "untracked.txt").write_text("new\n", encoding="utf-8")
    monkeypatch.setattr(results_runner, "run_training_process", _refuse(AssertionError("trained")))
    with pytest.raises(results_runner.RunnerError) as info:
        results_runner.train(job, tmp_path / "runs")
    message = str(info.value)
    assert "tracked files differ from HEAD (tracked.txt)" in message and "\n" not in message
    assert not job.run_dir.exists()
    # The runner's own outputs (the records, docs/results.md) do not make the tree dirty.
    clean_repo("checkout", "tracked.txt")
    (results_runner.GIT_REPO / "benchmarks" / "results" / "a-s0.json").write_text("[]\n")
    assert results_runner.clean_commit("now") == clean_repo("rev-parse", "HEAD")


def _refuse(error: BaseException):
    """A stand-in for the runner's training process that fails the test if it is started."""

    def start(argv):
        raise error

    return start


def _fake_training(job, commit: str):
    def train(*args, **kwargs):
        return {
            "command": results_rows.command(job.train),
            "seconds": 1.0,
            "img_s": 10.0,
            "steps": 2,
            "precision": job.precision,
            "segments": [{"commit": commit, "from_step": 0, "command": "c"}],
        }

    return train


@pytest.mark.parametrize("change", ["commit", "edit"])
def test_no_record_when_head_moved_or_the_tree_changed_during_the_run(
    tmp_path, clean_repo, monkeypatch, change
):
    job = tiny_job(tmp_path)
    start = clean_repo("rev-parse", "HEAD")
    monkeypatch.setattr(results_runner, "train", _fake_training(job, start))
    monkeypatch.setattr(results_runner, "evaluate", lambda job: ({}, 1.0))
    (results_runner.GIT_REPO / "tracked.txt").write_text("b\n", encoding="utf-8")
    if change == "commit":
        clean_repo("commit", "-qam", "two")
    with pytest.raises(results_runner.RunnerError) as info:
        results_runner.run_job(job, results_runner.Settings(tmp_path))
    expected = f"HEAD moved from {start[:12]}" if change == "commit" else "tracked files changed"
    assert expected in str(info.value) and "record is not written" in str(info.value)
    assert not job.record_path.exists()


def test_a_record_lists_its_commit_and_segments(tmp_path, clean_repo, monkeypatch):
    job = tiny_job(tmp_path)
    head = clean_repo("rev-parse", "HEAD")
    monkeypatch.setattr(results_runner, "train", _fake_training(job, head))
    monkeypatch.setattr(results_runner, "evaluate", lambda job: ({}, 1.0))
    rec = results_runner.run_job(job, results_runner.Settings(tmp_path))
    assert rec["schema"] == results_runner.SCHEMA and rec["software"]["git_commit"] == head
    assert rec["provenance"] == {
        "writer": "benchmarks/results.py",
        "commit": head,
        "tree": "clean",
        "segments": [{"commit": head, "from_step": 0, "command": "c"}],
        "adopted": None,
    }
    from results_provenance import written_by_runner

    assert written_by_runner(rec) == []


def _config_of(job, **changes) -> dict:
    config = dataclasses.asdict(results_runner.resolve_config(job.row, job.train))
    return json.loads(json.dumps({**config, **changes}))


def test_adopting_needs_the_rows_exact_command_precision_included(tmp_path, clean_repo):
    """The row leaves the precision to auto; a run in the other precision is refused (the
    check once skipped the precision whenever the row said auto), as is any other option
    the command does not give (--eval-samples 10000 once slipped in)."""
    job = tiny_job(tmp_path)
    head = clean_repo("rev-parse", "HEAD")
    other = "fp32" if job.precision == "bf16" else "bf16"
    cases = {
        "precision": {"precision": other},
        "eval_samples": {"eval_samples": 10000},
    }
    for field, change in cases.items():
        run = tmp_path / f"run-{field}"
        run.mkdir()
        (run / "config.json").write_text(json.dumps(_config_of(job, **change)), encoding="utf-8")
        with pytest.raises(results_runner.RunnerError, match=f"{field}: run") as info:
            results_runner.adopt(job, run, head)
        assert "was not trained with row 'a''s command" in str(info.value)
        assert run.is_dir() and not job.run_dir.exists()  # nothing moved
    with pytest.raises(results_runner.RunnerError, match="HEAD is"):
        (tmp_path / "t.txt").write_text("x")
        clean_repo("commit", "-q", "--allow-empty", "-m", "two")
        results_runner.adopt(job, tmp_path / "run-precision", head)


@pytest.mark.slow
def test_logging_sampling_and_checkpoint_cadence_leave_the_weights_byte_identical(
    tmp_path, idx_dir, monkeypatch
):
    """What the adoption check lets differ (ADOPTABLE_FIELDS) cannot change the weights: two
    tiny runs that differ only in it end with the same generator tensors, byte for byte."""
    from gan_zoo.checkpoint import resolve_checkpoint

    monkeypatch.setenv("GAN_ZOO_DATA", str(idx_dir.parent))
    common = dict(steps=6, batch_size=4, device="cpu", ema=0.9, progress="quiet")
    cadences = [
        dict(log_every=50, sample_every=0, checkpoint_every=0, keep=3),
        dict(log_every=1, sample_every=1, checkpoint_every=2, keep=1),
    ]
    assert set(cadences[0]) | {"out"} == set(results_runner.ADOPTABLE_FIELDS)
    data = []
    for i, cadence in enumerate(cadences):
        run = gan_zoo.train(
            "dcgan",
            "fashion-mnist",
            overrides=["generator.width=4", "discriminator.width=4"],
            out=str(tmp_path / f"run{i}"),
            **common,
            **cadence,
        ).dir
        blob = (resolve_checkpoint(run) / "generator.safetensors").read_bytes()
        size = int.from_bytes(blob[:8], "little")
        header = json.loads(blob[8 : 8 + size])
        header.pop("__metadata__")  # the config in it names the cadence
        data.append((header, blob[8 + size :]))
    assert data[0][0] == data[1][0] and data[0][1] == data[1][1]


# The renderer.
ROWS = results_rows.RowsFile(
    rows=(
        Row("dcgan", "dcgan", "fashion-mnist", seeds=(0, 1, 2), note="the default recipe"),
        Row("gan", "gan", "fashion-mnist", note="50 epochs"),
        Row("wgan-gp", "wgan-gp", "fashion-mnist"),
    ),
    metrics=("fid", "kid"),
    conditional_metrics=(),
    excluded={},
)


def _line(block: str, name: str) -> str:
    return next(line for line in block.splitlines() if line.startswith(f"| `{name}`"))


def test_the_table_shows_seed_spread_not_run_rows_and_non_standard_n(tmp_path):
    records = {
        f"dcgan-s{s}": record("dcgan", s, fid) for s, fid in ((0, 10.0), (1, 12.0), (2, 14.0))
    }
    records["gan-s0"] = record("gan", 0, 50.0, n=2000, kid_std=0.0012)
    block = results_render.render(ROWS, records, tmp_path, lambda row: False)
    dcgan, gan, wgan = _line(block, "dcgan"), _line(block, "gan"), _line(block, "wgan-gp")
    assert "| 12.00 ± 2.00 [10.00, 14.00] |" in dcgan
    assert "standard: 10,000 generated vs 10,000 test" in dcgan and "50 min" in dcgan
    assert "seeds 0, 1, 2: mean ± std [min, max]" in dcgan
    assert "| 50.00 | 0.0100 ± 0.0012 |" in gan and "**non-standard**: N = 2,000" in gan
    assert "| not run yet |" in wgan
    assert (
        "# seed 0: not run yet" in block and "gan-zoo train wgan-gp fashion-mnist --seed 0" in block
    )


def test_seeds_on_different_hardware_show_their_own_speed_not_a_mean(tmp_path):
    records = {f"dcgan-s{s}": record("dcgan", s, 20.0 + s) for s in (0, 1, 2)}
    records["dcgan-s0"]["training"].update(img_s=288.0, seconds=5227.0)
    records["dcgan-s0"]["hardware"] = {"cpu": "Intel Xeon", "flags": ["avx2"], "cpus": 2}
    for s in (1, 2):
        records[f"dcgan-s{s}"]["training"].update(img_s=595.0, seconds=2583.0)
    line = _line(results_render.render(ROWS, records, tmp_path, lambda row: False), "dcgan")
    assert "| 21.00 ± 1.00 [20.00, 22.00] |" in line  # the quality metrics still pool the seeds
    assert "| s0: 288; s1: 595; s2: 595 |" in line and "493" not in line  # not their mean
    assert "| s0: 1 h 27 min; s1: 43 min; s2: 43 min |" in line
    assert "s0: Intel Xeon, 2 CPUs (avx2), trained in bf16; s1: AMD EPYC" in line
    # one machine: one mean, one hardware text
    records["dcgan-s0"]["hardware"] = records["dcgan-s1"]["hardware"]
    line = _line(results_render.render(ROWS, records, tmp_path, lambda row: False), "dcgan")
    assert "| 493 | 58 min | 25 min | AMD EPYC, 2 CPUs (avx2), trained in bf16 |" in line


def test_a_seed_trained_partly_on_another_machine_says_so(tmp_path):
    """A run parked on one machine and finished on another: each segment names its CPU, and the
    table names every machine, not only the one that wrote the record."""
    from results_provenance import written_by_runner

    records = {f"dcgan-s{s}": record("dcgan", s, 20.0 + s) for s in (0, 1, 2)}
    amd = dict(records["dcgan-s1"]["hardware"])
    intel = {"cpu": "Intel Xeon", "flags": ["avx2", "avx512f"], "cpus": 2}
    first = dict(records["dcgan-s1"]["provenance"]["segments"][0], hardware=intel)
    resumed = {"commit": COMMIT, "from_step": 500, "command": "gan-zoo train --resume x"}
    records["dcgan-s1"]["provenance"]["segments"] = [first, dict(resumed, hardware=amd)]
    for key in records:  # same machine, said in its segment: nothing added
        if key != "dcgan-s1":
            records[key]["provenance"]["segments"][0]["hardware"] = amd
    assert all(written_by_runner(r) == [] for r in records.values())
    line = _line(results_render.render(ROWS, records, tmp_path, lambda row: False), "dcgan")
    assert (
        "s1: AMD EPYC, 2 CPUs (avx2), trained in bf16; part of its training on Intel Xeon, "
        "2 CPUs (avx2, avx512f); s2: AMD EPYC, 2 CPUs (avx2), trained in bf16 |"
    ) in line
    assert "| s0: 500; s1: 500; s2: 500 |" in line  # one seed's img/s spans two machines
    # Records written before segments named their hardware still pass and render as before.
    for r in records.values():
        for segment in r["provenance"]["segments"]:
            segment.pop("hardware")
    assert all(written_by_runner(r) == [] for r in records.values())
    line = _line(results_render.render(ROWS, records, tmp_path, lambda row: False), "dcgan")
    assert "| 500 | 50 min | 25 min | AMD EPYC, 2 CPUs (avx2), trained in bf16 |" in line
    records["dcgan-s1"]["provenance"]["segments"][0]["hardware"] = "Intel"
    assert written_by_runner(records["dcgan-s1"]) == [
        "training segment 1 names its hardware in no CPU"
    ]


def test_a_row_whose_seeds_trained_in_different_precisions_is_not_ranked(tmp_path):
    """One seed in fp32 and two in bf16 (the dcgan row once) are two recipes, not one row."""
    records = {f"dcgan-s{s}": record("dcgan", s, 20.0 + s) for s in (1, 2)}
    records["dcgan-s0"] = record("dcgan", 0, 19.0, precision="fp32")
    block = results_render.render(ROWS, records, tmp_path, lambda row: False)
    assert "| not run yet |" in _line(block, "dcgan")
    unranked = block.split(results_render.UNVERIFIED_TITLE)[1]
    for s in (0, 1, 2):
        assert "trained in different precisions (bf16, fp32)" in _line(unranked, f"dcgan-s{s}")
    assert "Best verified FID: none yet" in block


def _reprovenance(rec: dict, commit: str) -> None:
    rec["software"]["git_commit"] = rec["provenance"]["commit"] = commit
    rec["provenance"]["segments"][0]["commit"] = commit


def test_the_table_names_the_software_of_each_record(tmp_path):
    records = {f"dcgan-s{s}": record("dcgan", s, 20.0 + s) for s in (0, 1, 2)}
    line = _line(results_render.render(ROWS, records, tmp_path, lambda row: False), "dcgan")
    assert "| gan-zoo 0.1.0 (commit 0d20d98), torch 2.14.1 |" in line  # one text when all agree
    records["dcgan-s2"]["software"]["gan_zoo"] = "0.2.0"
    _reprovenance(records["dcgan-s2"], "abcdef0123" + "0" * 30)
    line = _line(results_render.render(ROWS, records, tmp_path, lambda row: False), "dcgan")
    assert (
        "s1: gan-zoo 0.1.0 (commit 0d20d98), torch 2.14.1; "
        "s2: gan-zoo 0.2.0 (commit abcdef0), torch 2.14.1 |"
    ) in line
    del records["dcgan-s0"]["software"]  # a record without the section still renders
    assert "gan-zoo ? (commit unknown), torch ?" in results_render.render(
        ROWS, {"dcgan-s0": records["dcgan-s0"]}, tmp_path, lambda row: False
    )


def test_partial_seeds_and_stale_records_are_said(tmp_path):
    records = {f"dcgan-s{s}": record("dcgan", s, 10.0 + s) for s in (0, 1)}
    block = results_render.render(ROWS, records, tmp_path, lambda row: False)
    line = _line(block, "dcgan")
    assert "only 2 of 3 seeds run" in line
    assert "recorded with other commands" in line  # the hand-written commands are not the row's


def test_rendering_between_the_markers_is_idempotent(tmp_path):
    doc = tmp_path / "results.md"
    prose = (
        "# Results\n\nintro\n\n<!-- results:start -->\nold table\n<!-- results:end -->\n\n"
        "## Older runs\n\nkept\n"
    )
    doc.write_text(prose, encoding="utf-8")
    (tmp_path / "gan-s0.json").write_text(json.dumps(record("gan", 0, 50.0)), encoding="utf-8")
    assert results_render.render_doc(ROWS, tmp_path, doc, lambda row: False) is True
    first = doc.read_text(encoding="utf-8")
    assert results_render.render_doc(ROWS, tmp_path, doc, lambda row: False) is False
    assert doc.read_text(encoding="utf-8") == first
    assert first.startswith("# Results\n\nintro\n\n<!-- results:start -->\n**Best verified FID")
    assert (
        first.endswith("<!-- results:end -->\n\n## Older runs\n\nkept\n")
        and "old table" not in first
    )


def test_a_page_without_markers_or_a_bad_record_is_one_line(tmp_path):
    doc = tmp_path / "results.md"
    doc.write_text("# Results\n", encoding="utf-8")
    with pytest.raises(results_render.RenderError, match="needs one '<!-- results:start -->' line"):
        results_render.render_doc(ROWS, tmp_path, doc, lambda row: False)
    (tmp_path / "gan-s0.json").write_text(json.dumps(record("dcgan", 0, 1.0)), encoding="utf-8")
    with pytest.raises(results_render.RenderError, match="is not a record of row 'gan' seed 0"):
        results_render.load_records(tmp_path)


# Skip when done.
def test_a_seed_with_the_same_commands_is_skipped(tmp_path):
    rows_file = load_rows(write_rows(tmp_path / "rows.json", [{"name": "a", "preset": "gan"}]))
    (job,) = results_runner.plan(rows_file, rows_file.rows, results_runner.Settings(tmp_path))[0]
    assert results_runner.status(job, force=False) == ("run", "no record yet")
    results_runner.write_json(job.record_path, {"commands": job.commands(), "standard": True})
    assert results_runner.status(job, force=False)[0] == "done"
    assert results_runner.status(job, force=True) == ("run", "--force")
    (quick,) = results_runner.plan(
        rows_file, rows_file.rows, results_runner.Settings(tmp_path, n=500)
    )[0]
    action, why = results_runner.status(quick, force=False)
    assert action == "keep" and "--force" in why  # a quick run never replaces a full one unasked
    results_runner.write_json(job.record_path, {"commands": {"train": "old"}, "standard": True})
    assert results_runner.status(job, force=False) == (
        "run",
        "the commands changed since the record",
    )
    assert json.loads(job.record_path.read_text())["commands"] == {"train": "old"}
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_finished_training_is_reused_unless_forced(tmp_path, monkeypatch, clean_repo):
    rows_file = load_rows(write_rows(tmp_path / "rows.json", [{"name": "a", "preset": "gan"}]))
    (job,) = results_runner.plan(rows_file, rows_file.rows, results_runner.Settings(tmp_path))[0]
    job.run_dir.mkdir(parents=True)
    done = {"command": results_rows.command(job.train), "seconds": 60.0, "img_s": 900.0, "steps": 3}
    done["segments"] = [{"commit": clean_repo("rev-parse", "HEAD"), "from_step": 0, "command": "c"}]
    results_runner.write_json(job.run_dir.with_name("a-s0.train.json"), done)
    monkeypatch.setattr(
        results_runner, "run_training_process", _refuse(AssertionError("trained again"))
    )
    assert results_runner.train(job, tmp_path / "runs") == done
    with pytest.raises(AssertionError, match="trained again"):
        results_runner.train(job, tmp_path / "runs", reuse=False)
    assert not job.run_dir.exists()  # the earlier run is removed before training again


# One real run.
@pytest.mark.slow
def test_the_runner_trains_evaluates_records_and_renders(
    tmp_path, idx_dir_256, monkeypatch, capsys, clean_repo
):
    monkeypatch.setenv("GAN_ZOO_DATA", str(idx_dir_256.parent))
    rows = write_rows(
        tmp_path / "rows.json",
        [
            {"name": "broken", "preset": "dcgan", "args": ["--steps", "2", "--batch-size", "4096"]},
            {
                "name": "tiny",
                "preset": "dcgan",
                "args": ["--steps", "2"],
                "note": "2 steps on random pixels",
            },
        ],
    )
    doc = tmp_path / "results.md"
    doc.write_text("# R\n\n<!-- results:start -->\n<!-- results:end -->\n", encoding="utf-8")
    out_dir = tmp_path / "results"
    argv = ["--rows-file", str(rows), "--results-dir", str(out_dir), "--doc", str(doc), "--n", "32"]
    assert _script().main(argv) == 1  # broken fails (its data is too small), tiny still runs
    err = capsys.readouterr().err
    assert (
        "1 failed (rerun to retry them):\n  broken-s0: training broken-s0 failed with exit code 2"
        in err
    )
    assert not (out_dir / "broken-s0.json").exists()

    rec = json.loads((out_dir / "tiny-s0.json").read_text(encoding="utf-8"))
    run_dir = out_dir / "runs" / "tiny-s0"
    precision = auto_cpu_precision()
    assert (
        rec["commands"]["train"] == "gan-zoo train dcgan fashion-mnist --steps 2 "
        f"--precision {precision} --seed 0 --out {run_dir}"
    )
    head = clean_repo("rev-parse", "HEAD")
    assert rec["provenance"]["commit"] == head == rec["software"]["git_commit"]
    hw = {k: rec["hardware"][k] for k in ("cpu", "flags", "cpus")}  # trained where it was written
    assert rec["provenance"]["segments"] == [
        {"commit": head, "from_step": 0, "command": rec["commands"]["train"], "hardware": hw}
    ]
    assert (
        rec["commands"]["evaluate"]
        == f"gan-zoo evaluate {run_dir} --metric classifier-fd --n 32 --json"
    )
    fd = rec["metrics"]["classifier-fd"]
    assert fd["value"] > 0 and fd["protocol"]["num_samples"] == 32 and rec["standard"] is False
    assert rec["training"]["steps"] == 2 and rec["training"]["img_s"] > 0
    assert rec["training"]["precision"] == precision
    assert rec["training"]["seconds"] > 0 and rec["evaluation"]["seconds"] > 0
    assert rec["hardware"]["cpu"] and rec["software"]["torch"] and rec["software"]["git_commit"]
    assert rec["software"]["gan_zoo"] == gan_zoo.__version__ and rec["date"].endswith("+00:00")
    line = _line(doc.read_text(encoding="utf-8"), "tiny")
    assert "2 steps on random pixels" in line and "**non-standard**: N = 32" in line
    assert f"| {fd['value']:,.2f} |" in line
    assert "| not run yet |" in _line(doc.read_text(encoding="utf-8"), "broken")

    before = (out_dir / "tiny-s0.json").read_text(encoding="utf-8")
    assert _script().main([*argv, "--rows", "tiny"]) == 0  # done: skipped, the record stays
    assert "tiny-s0: skip (recorded with the same commands)" in capsys.readouterr().out
    assert (out_dir / "tiny-s0.json").read_text(encoding="utf-8") == before


@pytest.mark.slow
def test_a_run_trained_elsewhere_with_the_rows_recipe_is_adopted(
    tmp_path, idx_dir_256, monkeypatch, capsys, clean_repo
):
    monkeypatch.setenv("GAN_ZOO_DATA", str(idx_dir_256.parent))
    rows = write_rows(
        tmp_path / "rows.json",
        [
            {"name": "tiny", "preset": "dcgan", "args": ["--steps", "2", "--loss", "hinge"]},
        ],
    )
    doc = tmp_path / "results.md"
    doc.write_text("# R\n\n<!-- results:start -->\n<!-- results:end -->\n", encoding="utf-8")
    out_dir = tmp_path / "results"
    argv = [
        "--rows-file",
        str(rows),
        "--results-dir",
        str(out_dir),
        "--doc",
        str(doc),
        "--n",
        "32",
        "--rows",
        "tiny",
    ]
    head = clean_repo("rev-parse", "HEAD")
    # Another recipe (the default loss) is refused, naming the field, and nothing moves.
    other = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        steps=2,
        out=str(tmp_path / "other"),
        progress="quiet",
        log_every=1,
    )
    assert _script().main([*argv, "--adopt", str(other.dir), "--trained-at", head]) == 2
    assert "loss: run {'name': 'bce'" in capsys.readouterr().err
    assert other.dir.is_dir() and not (out_dir / "runs").exists()
    # The row's recipe with another --out and logging cadence is adopted, then evaluated.
    mine = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        steps=2,
        loss="hinge",
        out=str(tmp_path / "mine"),
        progress="quiet",
        log_every=1,
        checkpoint_every=1,
    )
    assert _script().main([*argv, "--adopt", str(mine.dir), "--trained-at", head]) == 0
    assert "tiny-s0: adopted" in capsys.readouterr().out and not mine.dir.exists()
    done = json.loads((out_dir / "runs" / "tiny-s0.train.json").read_text(encoding="utf-8"))
    assert done["adopted"]["from"] == "mine" and done["adopted"]["cadence"]["checkpoint_every"] == 1
    assert done["steps"] == 2 and done["seconds"] > 0
    rec = json.loads((out_dir / "tiny-s0.json").read_text(encoding="utf-8"))
    assert rec["metrics"]["classifier-fd"]["value"] > 0
    assert rec["provenance"]["adopted"]["from"] == "mine"  # the folder's name, no machine path
    assert rec["provenance"]["segments"][0]["commit"] == head


@pytest.mark.slow
def test_an_interrupted_row_training_continues_from_its_checkpoint(
    tmp_path, idx_dir, monkeypatch, capsys, clean_repo
):
    monkeypatch.setenv("GAN_ZOO_DATA", str(idx_dir.parent))
    args = [
        "--steps",
        "400",
        "--batch-size",
        "8",
        "--set",
        "generator.width=4",
        "--set",
        "discriminator.width=4",
        "--log-every",
        "1",
        "--eval-metric",
        "none",
    ]
    rows_file = load_rows(
        write_rows(tmp_path / "rows.json", [{"name": "t", "preset": "dcgan", "args": args}])
    )
    (job,) = results_runner.plan(rows_file, rows_file.rows, results_runner.Settings(tmp_path))[0]
    # The row's own command, stopped by SIGTERM part-way (the loop saves a checkpoint and exits),
    # its segment listed as the runner lists it before training.
    head = clean_repo("rev-parse", "HEAD")
    first = {"commit": head, "from_step": 0, "command": results_rows.command(job.train)}
    results_runner.write_json(results_runner.segments_file(job), [first])
    script = Path(sys.executable).parent / "gan-zoo"
    proc = subprocess.Popen(
        [str(script), *job.train[1:], "--quiet"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    log = job.run_dir / "metrics.jsonl"
    deadline = time.monotonic() + 120
    while not (log.exists() and log.read_text(encoding="utf-8").count("\n") >= 3):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1]
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 130, proc.communicate()[1]  # interrupted, saved
    stopped = results_runner.resumable_step(job)
    assert stopped is not None and 3 <= stopped < 400

    done = results_runner.train(job, tmp_path / "runs")
    assert f"t-s0: continuing the interrupted run at step {stopped}" in capsys.readouterr().out
    assert done["steps"] == 400 and done["segments"][0] == first
    assert done["segments"][1]["from_step"] == stopped and done["segments"][1]["commit"] == head
    assert done["segments"][1]["command"].startswith("gan-zoo train --resume ")
    from common import hardware

    assert done["segments"][1]["hardware"] == hardware()  # the CPU this segment trained on
    assert done["command"] == results_rows.command(job.train) and done["seconds"] > 0
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [r["step"] for r in records] == list(range(1, 401))  # one run, no step twice
    # Finished but its .train.json lost (a crash after training, a copied run folder): reused.
    (tmp_path / "runs" / "t-s0.train.json").unlink()
    again = results_runner.train(job, tmp_path / "runs")
    assert "t-s0: reusing the finished training" in capsys.readouterr().out
    assert again["steps"] == 400 and again["command"] == done["command"] and again["seconds"] > 0
    assert log.read_text(encoding="utf-8").count("\n") == 400  # nothing trained again
    # A run of another recipe in the row's folder is not continued: it is removed, trained again.
    config = json.loads((job.run_dir / "config.json").read_text(encoding="utf-8"))
    (job.run_dir / "config.json").write_text(json.dumps({**config, "z_dim": 64}), encoding="utf-8")
    assert results_runner.resumable_step(job) is None


def test_seeds_picks_the_seeds_of_the_chosen_rows_so_runners_can_share_a_machine(tmp_path, capsys):
    argv = ["--rows", "dcgan", "--dry-run", "--results-dir", str(tmp_path)]
    assert _script().main([*argv, "--seeds", "2", "0"]) == 0
    out = capsys.readouterr().out
    assert "# dcgan-s0:" in out and "# dcgan-s2:" in out and "dcgan-s1" not in out
    assert _script().main([*argv, "--seeds", "7"]) == 2
    assert capsys.readouterr().err == "Error: no chosen row has seed 7 (seeds: 0, 1, 2)\n"


def test_what_a_runner_renders_for_gan_zoo_list_leaves_the_tree_clean(tmp_path, clean_repo):
    """A runner that finishes first re-renders gan_zoo/measured.json; another runner training
    beside it at the same commit must still find its tree clean when it writes its record."""
    package = results_runner.GIT_REPO / "gan_zoo"
    package.mkdir()
    (package / "measured.json").write_text("{}\n", encoding="utf-8")
    clean_repo("add", ".")
    clean_repo("commit", "-qm", "measured")
    head = clean_repo("rev-parse", "HEAD")
    (package / "measured.json").write_text('{"rows": []}\n', encoding="utf-8")
    assert results_runner.clean_commit("now") == head
    results_runner.check_unchanged(head, "a-s0")  # no error: the record may be written


# A stand-in training: on SIGTERM it "saves" (writes a file) and exits 130, as gan-zoo train does.
STOPPABLE_TRAINING = """
import pathlib, signal, sys, time

def stop(signum, frame):
    pathlib.Path(sys.argv[1], "saved").write_text(str(signum))
    sys.exit(130)

signal.signal(signal.SIGTERM, stop)
pathlib.Path(sys.argv[1], "ready").write_text("")
time.sleep(120)
"""


def test_a_sigterm_to_the_runner_stops_its_training_cleanly(tmp_path):
    # It used to leave the training running alone after the runner had gone.
    script = tmp_path / "train.py"
    script.write_text(STOPPABLE_TRAINING)

    def terminate_the_runner_once_training() -> None:
        deadline = time.monotonic() + 60
        while not (tmp_path / "ready").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(os.getpid(), signal.SIGTERM)  # the runner's handler is installed by now

    previous = signal.getsignal(signal.SIGTERM)
    sender = threading.Thread(target=terminate_the_runner_once_training)
    sender.start()
    rc = results_runner.run_training_process([sys.executable, str(script), str(tmp_path)])
    sender.join()
    assert rc == 130  # the runner turns this into "Interrupted; run the same command again"
    assert (tmp_path / "saved").read_text() == str(int(signal.SIGTERM))
    assert signal.getsignal(signal.SIGTERM) is previous
