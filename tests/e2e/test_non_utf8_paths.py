"""A run in a folder whose name is not UTF-8 (copied from another system): the files are fine,
and every command that reads them works there (safetensors itself takes UTF-8 paths only)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from helpers import TINY_4


@pytest.fixture
def odd_run(idx_dir, tmp_path):
    import gan_zoo

    run = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        steps=1,
        batch_size=8,
        data_dir=str(idx_dir),
        device="cpu",
        progress="quiet",
        out=str(tmp_path / "run"),
        overrides=TINY_4,
    )
    odd = os.fsencode(tmp_path) + b"/\xff\xfe-run"
    os.rename(run.dir, odd)
    return odd


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "gan_zoo", *args], capture_output=True, timeout=300
    )


def test_generate_reads_a_run_in_a_folder_whose_name_is_not_utf8(odd_run):
    result = _cli("generate", odd_run, "--n", "4", "--out", odd_run + b"/grid.png")
    assert result.returncode == 0, result.stderr
    assert (
        b"Wrote a grid of 4 images" in result.stdout and b"\xff\xfe-run/grid.png" in result.stdout
    )
    with open(odd_run + b"/grid.png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_load_info_evaluate_and_resume_there_too(odd_run, idx_dir):
    import gan_zoo

    assert gan_zoo.load(os.fsdecode(odd_run), device="cpu").net is not None
    assert _cli("info", odd_run).returncode == 0
    scores = gan_zoo.evaluate(
        os.fsdecode(odd_run),
        metrics=["classifier-fd"],
        num_samples=16,
        device="cpu",
        data_dir=str(idx_dir),
        record=False,
    )
    assert scores["classifier-fd"]["value"] > 0
    resumed = _cli(
        "train", "--resume", odd_run, "--steps", "2", "--data-dir", str(idx_dir), "--quiet"
    )
    assert resumed.returncode == 0, resumed.stderr
    assert os.path.isdir(odd_run + b"/checkpoints/step-0000002")
