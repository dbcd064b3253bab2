"""benchmarks/ema_batchnorm.py on a real tiny EMA checkpoint: both scores, and one-line errors."""

from __future__ import annotations

import importlib.util

from helpers import ROOT

import gan_zoo


def _script():
    spec = importlib.util.spec_from_file_location(
        "ema_batchnorm", ROOT / "benchmarks" / "ema_batchnorm.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(idx_dir, tmp_path, name, **options):
    return gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        data_dir=str(idx_dir),
        batch_size=16,
        steps=3,
        device="cpu",
        out=str(tmp_path / name),
        overrides=["generator.width=8", "discriminator.width=8"],
        progress="quiet",
        eval_metric="none",
        **options,
    )


def test_scores_the_average_with_both_statistics(idx_dir, tmp_path, capsys):
    run = _run(idx_dir, tmp_path, "ema", ema=0.9)
    assert _script().main([str(run.checkpoint), "--n", "32"]) == 0
    out = capsys.readouterr().out
    assert "2 BatchNorm layers, 32 samples" in out
    assert "re-estimated for the average (saved)" in out and "copied from the live generator" in out
    assert "difference: " in out


def test_a_run_without_ema_is_one_line_exit_2(idx_dir, tmp_path, capsys):
    run = _run(idx_dir, tmp_path, "plain")
    assert _script().main([str(run.checkpoint), "--n", "32"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a checkpoint of a run with --ema" in err
