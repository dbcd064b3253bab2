"""gan_zoo/measured.py and the ``measured.json`` it ships: equal to benchmarks/results/*.json,
and a record counts as a preset's quality figure only when it trained the preset's own recipe."""

from __future__ import annotations

import sys

import pytest
from helpers import ROOT

from gan_zoo import measured

sys.path.insert(0, str(ROOT / "benchmarks"))  # the script's helpers import each other

import results_measured  # noqa: E402


def test_the_shipped_file_is_the_records():
    shipped = (ROOT / "gan_zoo" / measured.MEASURED_FILE).read_text(encoding="utf-8")
    assert shipped == results_measured.text(results_measured.build()), (
        "run `python benchmarks/results_measured.py`"
    )
    results = ROOT / "benchmarks" / "results"
    verified = sorted(p.stem for p in results.glob("*-s*.json"))
    unverified = sorted(p.stem for p in (results / "unverified").glob("*-s*.json"))
    assert sorted(m.record for m in measured.measurements() if m.verified) == verified
    assert sorted(m.record for m in measured.measurements() if not m.verified) == unverified


def test_a_verified_record_wins_over_an_unverified_one(monkeypatch):
    import dataclasses

    dcgan = [m for m in measured.measurements() if m.preset == "dcgan" and m.is_quality]
    assert dcgan
    worse = dataclasses.replace(dcgan[0], record="dcgan-s9", verified=True)
    worse = dataclasses.replace(worse, metrics={**worse.metrics, "fid": 99.0})
    better = [dataclasses.replace(m, verified=False) for m in dcgan]
    monkeypatch.setattr(measured, "measurements", lambda: (worse, *better))
    best = measured.best("dcgan", "gan-zoo")
    assert best.record == "dcgan-s9" and measured.fid_text(best) == "99.00"
    monkeypatch.setattr(measured, "measurements", lambda: tuple(better))
    assert measured.fid_text(measured.best("dcgan", "gan-zoo")).endswith("*")


def test_shortened_rows_are_not_quality_figures():
    shortened = [m for m in measured.measurements() if m.note.startswith("shortened:")]
    assert shortened and not any(m.is_quality for m in shortened)
    assert all("--epochs" in m.why_not or "--steps" in m.why_not for m in shortened)
    assert any(m.is_quality for m in measured.measurements())


@pytest.mark.parametrize(
    "args, changed",
    [
        ([], []),
        (["--precision", "bf16"], []),
        (["--device", "cpu", "--precision=bf16"], []),
        (["--epochs", "2"], ["--epochs", "2"]),
        (["--precision", "bf16", "--set", "ema=0.9"], ["--set", "ema=0.9"]),
        (["--steps=10"], ["--steps=10"]),
    ],
)
def test_which_arguments_change_the_recipe(args, changed):
    assert measured.changed_recipe(args) == changed


def test_the_best_record_has_the_lowest_fid_of_the_quality_figures():
    best = measured.best("dcgan", "gan-zoo")
    quality = [m for m in measured.of_preset("dcgan", "gan-zoo") if m.is_quality]
    assert best is not None and best.metrics["fid"] == min(m.metrics["fid"] for m in quality)
    # A longer recipe with EMA scores better, but it is not the preset's recipe.
    assert (
        min(m.metrics["fid"] for m in measured.of_preset("dcgan", "gan-zoo")) < best.metrics["fid"]
    )
    assert measured.best("dcgan", "someone-else") is None
