"""Plugins that break the contract fail with one line naming the entry and its distribution.

A real distribution (tests/plugin_dist) is pip-installed; its ``testplugin-faulty`` entry point
registers entries that each break the contract in one way. The real console script runs them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PLUGIN_DIST = Path(__file__).parent / "plugin_dist"
WHO = "of plugin gan-zoo-testplugins 1.2.3"


@pytest.fixture
def gan_zoo(use_distribution, idx_dir, tmp_path):
    use_distribution(PLUGIN_DIST)
    env = {**os.environ, "GAN_ZOO_LOAD_PLUGINS": "testplugin-good,testplugin-faulty"}
    env.pop("GAN_ZOO_DEBUG", None)
    exe = Path(sys.executable).with_name("gan-zoo")

    def run(*args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(exe), *args], capture_output=True, text=True, env={**env, **(extra_env or {})},
            timeout=300,
        )  # fmt: skip

    run.data = str(idx_dir.parent)
    run.out = tmp_path / "run"
    return run


def train_args(gan_zoo, *options: str) -> list[str]:
    return ["train", "tiny-gan", "fashion-mnist", "--data-dir", gan_zoo.data, "--steps", "2",
            "--batch-size", "8", "--device", "cpu", "--quiet", "--out", str(gan_zoo.out), *options]  # fmt: skip


def test_an_exception_inside_a_plugin_is_one_line_naming_it(gan_zoo):
    out = gan_zoo(*train_args(gan_zoo, "--generator", "raising-gen"))
    assert out.returncode == 2, out.stderr
    assert out.stderr == (
        f"Error: generator 'raising-gen' {WHO} raised RuntimeError: exploded on purpose; this is "
        "a bug in that plugin: report it to its authors, or run with --debug (or GAN_ZOO_DEBUG=1) "
        "for the traceback\n"
    )


@pytest.mark.parametrize("how", ["flag", "env"])
def test_debug_shows_the_traceback(gan_zoo, how):
    args = train_args(gan_zoo, "--generator", "raising-gen")
    if how == "flag":
        out = gan_zoo(*args, "--debug")
    else:
        out = gan_zoo(*args, extra_env={"GAN_ZOO_DEBUG": "1"})
    assert out.returncode == 1
    assert "Traceback (most recent call last)" in out.stderr
    assert "faulty.py" in out.stderr and "RuntimeError: exploded on purpose" in out.stderr


def test_errors_of_gan_zoo_itself_keep_their_one_line_under_no_debug(gan_zoo):
    out = gan_zoo("list", "losss")
    assert out.returncode == 2 and out.stderr.startswith("Error: unknown kind 'losss'")
    out = gan_zoo("list", "losss", "--debug")
    assert out.returncode == 1 and "UnknownNameError" in out.stderr
