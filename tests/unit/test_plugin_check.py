"""``gan-zoo plugins --check`` and :func:`gan_zoo.plugin_check.check_plugins`: one line per
problem naming the entry and its distribution, exit 2 if any.

The faults come from a real pip-installed distribution (tests/plugin_dist) whose plugins break
the contract on purpose, run through the real console script; registered plugin objects
cover the checks the distribution does not (a missing factory option, a bad preset, a metric).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from helpers import TESTS

from gan_zoo import plugins
from gan_zoo.cli import build_cli
from gan_zoo.config import NetSpec, Preset
from gan_zoo.hookspecs import hookimpl
from gan_zoo.plugin_check import check_plugins

PLUGIN_DIST = TESTS / "plugin_dist"
WHO = "(gan-zoo-testplugins 1.2.3)"


def gan_zoo(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GAN_ZOO_LOAD_PLUGINS": "gan-zoo-testplugins"}
    exe = Path(sys.executable).with_name("gan-zoo")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, timeout=300)


def test_the_builtins_have_no_problems():
    assert check_plugins() == []
    out = CliRunner().invoke(build_cli(), ["plugins", "--check"])
    assert out.exit_code == 0, out.output
    assert out.output.startswith("ok: 0 problems in ")


def test_every_fault_of_an_installed_distribution_is_one_line_and_exit_2(use_distribution):
    use_distribution(PLUGIN_DIST)
    out = gan_zoo("plugins", "--check")
    assert out.returncode == 2, out.stderr
    lines = out.stdout.splitlines()
    assert lines == [
        f"plugin 'testplugin-badname' {WHO}: GanZooError: gan-zoo-testplugins 1.2.3 "
        "(testplugin-badname) registers dataset name 'Bad_Name': names are lower-case letters, "
        "digits and hyphens (an optional '.tag' suffix is allowed)",
        f"plugin 'testplugin-broken' {WHO}: ImportError: this test plugin is broken on purpose",
        f"generator 'missing-target' {WHO}: its target 'gan_zoo_testplugins.nowhere:Generator' "
        "fails with ModuleNotFoundError: No module named 'gan_zoo_testplugins.nowhere'; "
        "reinstall or report it to the plugin's authors",
        f"generator 'raising-gen' {WHO}: raised RuntimeError: exploded on purpose",
        f"generator 'wrong-size' {WHO}: it returned images of shape (2, 1, 32, 32) for 2 latents, "
        "but it declares 28 px and 1 channel(s): expected (2, 1, 28, 28) "
        "(see docs/plugins.md#the-contract)",
        f"loss 'nan-loss' {WHO}: its description is missing or too short; "
        "say in one line what it is",
        f"loss 'nan-loss' {WHO}: its d_loss is nan on the first batch; it must be finite "
        "(see docs/plugins.md#the-contract)",
        f"loss 'vector-loss' {WHO}: its d_loss returned shape (4,); it must be a scalar (take the "
        "mean over the batch) (see docs/plugins.md#the-contract)",
    ]
    assert out.stderr.startswith("Error: 8 problems in ") and out.stderr.count("\n") == 1
    as_json = json.loads(gan_zoo("plugins", "--check", "--json").stdout)
    assert [p["line"] for p in as_json] == lines
    assert {p["distribution"] for p in as_json} == {"gan-zoo-testplugins"}


class _Faults:
    """Entries breaking what the distribution above does not: options, presets, metrics."""

    @hookimpl
    def register_generators(self, register):
        def no_z(image_size: int = 28, channels: int = 1):
            raise AssertionError("never built: its options are checked first")

        register("no-z", no_z, description="A generator factory without z_dim.", channels=(2,))

    @hookimpl
    def register_models(self, register):
        register("lost", Preset(generator=NetSpec("nowhere")), description="Names a missing G.")
        register("not-a-preset", {"generator": "dcgan"}, description="A dict, not a Preset.")
        register(
            "too-big", Preset(image_size=128), description="DCGAN at 128 px.", image_sizes=(128,)
        )

    @hookimpl
    def register_metrics(self, register):
        class Unsure:
            higher_is_better = "yes"

            def __init__(self, num_samples=8, batch_size=4, device="cpu"):
                pass

            def compute(self, generator, dataset, seed=0):
                return 0.0

            def protocol(self, dataset):
                return {}

        register("unsure", Unsure, description="higher_is_better is not a bool.")
        register("rigid", lambda: None, description="A metric factory without options.")


def test_registered_faults():
    plugins.host().register(_Faults(), "faults", "gan-zoo-faults", "0.3")
    try:
        problems = [str(p) for p in check_plugins("gan-zoo-faults")]
    finally:
        plugins.host().unregister("faults")
    assert problems == [
        "model 'lost' (gan-zoo-faults 0.3): its generator 'nowhere' is not registered "
        "(see docs/plugins.md#the-contract)",
        "model 'not-a-preset' (gan-zoo-faults 0.3): it registers a dict, not a "
        "gan_zoo.config.Preset (see docs/plugins.md#the-contract)",
        "model 'too-big' (gan-zoo-faults 0.3): it declares 128 px but its generator 'dcgan' "
        "supports 28, 32, 64 px; 1/3 ch (see docs/plugins.md#the-contract)",
        "model 'too-big' (gan-zoo-faults 0.3): it declares 128 px but its discriminator 'dcgan' "
        "supports 28, 32, 64 px; 1/3 ch (see docs/plugins.md#the-contract)",
        "generator 'no-z' (gan-zoo-faults 0.3): it declares channels [2]; "
        "images have 1 or 3 channels",
        "generator 'no-z' (gan-zoo-faults 0.3): its factory does not take z_dim "
        "(see docs/plugins.md#the-contract)",
        "metric 'rigid' (gan-zoo-faults 0.3): its factory does not take num_samples, batch_size, "
        "device (see docs/plugins.md#the-contract)",
        "metric 'unsure' (gan-zoo-faults 0.3): its higher_is_better must be True or False "
        "(see docs/plugins.md#the-contract)",
    ]
    assert check_plugins("gan-zoo") == []
