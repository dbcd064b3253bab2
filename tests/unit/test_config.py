"""gan_zoo/config.py: what a run records of ``--out`` (no machine path)."""

from __future__ import annotations

import pytest

from gan_zoo.config import portable_out


@pytest.mark.parametrize(
    ("out", "recorded"),
    [
        (None, None),
        ("", None),
        ("runs/small", "runs/small"),
        ("./runs/small/", "runs/small"),
        ("benchmarks/results/runs/cgan-s0", "benchmarks/results/runs/cgan-s0"),
        ("/work/exp/dcgan-long-s0", None),
        ("/home/alice/runs/x", None),
        ("~/runs/x", None),
        ("../elsewhere/x", None),
        ("runs/../../x", None),
        ("C:\\Users\\alice\\runs", None),
        ("C:/Users/alice/runs", None),
        ("\\\\server\\share\\run", None),
    ],
)
def test_out_is_recorded_relative_or_not_at_all(out, recorded):
    assert portable_out(out) == recorded
