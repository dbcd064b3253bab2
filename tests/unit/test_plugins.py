"""The plugin manager: built-ins through the hooks, isolation of broken plugins, entry points."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import TESTS

from gan_zoo import plugins
from gan_zoo.errors import UnknownNameError
from gan_zoo.hookspecs import hookimpl

PLUGIN_DIST = TESTS / "plugin_dist"


def test_builtins_register_through_the_hooks():
    statuses = {s.name: s for s in plugins.statuses()}
    for name in plugins.DEFAULT_PLUGINS:
        assert statuses[name].ok and statuses[name].source == "built-in"
        module = sys.modules[name]
        hooks = [f"register_{kind}" for kind in plugins.KINDS] + ["register_commands"]
        assert any(callable(getattr(module, hook, None)) for hook in hooks)
    entry = plugins.registry("models").get("dcgan")
    assert entry.plugin.distribution == "gan-zoo"
    assert "dcgan" in plugins.registry("generators")


def test_builtin_commands_arrive_through_the_hook_like_plugin_commands():
    from gan_zoo.cli import build_cli
    from gan_zoo.cli.commands import COMMAND_MODULES

    cli = build_cli()
    status = {s.name: s for s in plugins.statuses()}["gan_zoo.cli.commands"]
    assert status.ok and status.source == "built-in"
    assert {"train", "generate", "list", "plugins", "doctor"} <= set(status.commands)
    assert sorted(cli.commands) == status.commands  # no command added any other way
    assert len(COMMAND_MODULES) == len(set(COMMAND_MODULES))

    class Extra:
        @hookimpl
        def register_commands(self, cli):

            @cli.command("hello")
            def hello():
                """Say hello."""

    plugins.host().register(Extra(), "extra")
    cli = build_cli()
    assert {s.name: s for s in plugins.statuses()}["extra"].commands == ["hello"]
    assert "hello" in cli.commands and "train" in cli.commands


def test_unknown_kind():
    with pytest.raises(UnknownNameError, match="did you mean 'losses'"):
        plugins.registry("losss")


class GoodPlugin:
    @hookimpl
    def register_losses(self, register):
        register("test-loss", "gan_zoo.losses.bce:BCELoss", description="x")


class ClashingPlugin:
    @hookimpl
    def register_losses(self, register):
        register("another-loss", "gan_zoo.losses.bce:BCELoss", description="x")
        register("bce", "gan_zoo.losses.bce:BCELoss", description="clash")


class RaisingPlugin:
    @hookimpl
    def register_generators(self, register):
        register("half-registered", dict, description="x")
        raise RuntimeError("boom\nsecond line")


class UnknownHookPlugin:
    @hookimpl
    def register_optimizers(self, register):
        pass


def test_register_and_unregister_fixture(register_plugin):
    register_plugin(GoodPlugin(), "good")
    assert "test-loss" in plugins.registry("losses")
    plugins.host().unregister("good")
    assert "test-loss" not in plugins.registry("losses")


def test_a_clash_shadows_one_entry_and_keeps_the_rest_of_the_plugin(register_plugin):
    register_plugin(ClashingPlugin(), "clash")
    status = {s.name: s for s in plugins.statuses()}["clash"]
    assert status.ok and status.clashes == [
        "loss 'bce' is also registered by gan-zoo 0.1.0 (gan_zoo.losses), which was first: plain "
        "'bce' means gan-zoo's, this plugin's is 'test/bce' "
        "(its own presets and runs keep using it)"
    ]
    losses = plugins.registry("losses")
    assert losses.get("bce").plugin.distribution == "gan-zoo"  # first come, first served
    assert losses.get("gan-zoo/bce") is losses.get("bce")
    shadowed = losses.get("test/bce")
    assert shadowed.shadowed and shadowed.plugin.name == "clash" and shadowed.key == "test/bce"
    assert "another-loss" in losses  # the plugin's other entries are untouched
    assert "test/bce" in losses.names() and losses.names().count("bce") == 1
    assert (
        "loss 'bce' of test is shadowed: plain 'bce' is gan-zoo's; use 'test/bce'"
        in plugins.problems()
    )


def test_a_name_twice_in_one_plugin_breaks_it(register_plugin):
    class Twice:
        @hookimpl
        def register_losses(self, register):
            register("twice", "gan_zoo.losses.bce:BCELoss", description="x")
            register("twice", "gan_zoo.losses.bce:BCELoss", description="x")

    register_plugin(Twice(), "twice")
    status = {s.name: s for s in plugins.statuses()}["twice"]
    assert "registered twice by test" in status.error
    assert "twice" not in plugins.registry("losses")
    assert "1 broken plugin (twice)" in plugins.problems()


def test_raising_plugin_is_isolated(register_plugin):
    register_plugin(RaisingPlugin(), "raiser")
    status = {s.name: s for s in plugins.statuses()}["raiser"]
    assert status.error == "RuntimeError: boom"
    assert "half-registered" not in plugins.registry("generators")
    assert "dcgan" in plugins.registry("generators")


def test_unknown_hook_is_reported(register_plugin):
    register_plugin(UnknownHookPlugin(), "unknown-hook")
    status = {s.name: s for s in plugins.statuses()}["unknown-hook"]
    assert "unknown hook 'register_optimizers'" in status.error


def test_listing_does_not_import_torch():
    code = (
        "import sys, gan_zoo; from gan_zoo import plugins;"
        "[plugins.registry(k).list() for k in plugins.KINDS];"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# The real entry-point path: a distribution installed with pip into a folder on sys.path.
@pytest.fixture
def with_test_plugins(use_distribution):
    return use_distribution(PLUGIN_DIST)


def test_entry_points_load_only_when_named(with_test_plugins, monkeypatch):
    assert "tiny-gan" not in plugins.registry("models")  # tests never pick up installed plugins
    monkeypatch.setenv("GAN_ZOO_LOAD_PLUGINS", "testplugin-good")
    plugins.reset()
    entry = plugins.registry("models").get("tiny-gan")
    assert (entry.plugin.distribution, entry.plugin.version) == ("gan-zoo-testplugins", "1.2.3")
    generator = plugins.registry("generators").create("tiny-linear", z_dim=8)
    assert generator.z_dim == 8


def test_all_test_plugins_by_distribution(with_test_plugins, monkeypatch):
    monkeypatch.setenv("GAN_ZOO_LOAD_PLUGINS", "gan-zoo-testplugins")
    plugins.reset()
    status = {s.name: s for s in plugins.statuses()}
    assert status["testplugin-good"].ok
    assert status["testplugin-broken"].error == "ImportError: this test plugin is broken on purpose"
    assert status["testplugin-dupe"].ok
    assert status["testplugin-dupe"].clashes == [
        "loss 'bce' is also registered by gan-zoo 0.1.0 (gan_zoo.losses), which was first: plain "
        "'bce' means gan-zoo's, this plugin's is 'gan-zoo-testplugins/bce' (its own presets and "
        "runs keep using it)"
    ]
    assert "Bad_Name" in status["testplugin-badname"].error
    assert "my-other-loss" in plugins.registry("losses")
    assert plugins.registry("losses").get("gan-zoo-testplugins/bce").shadowed
    assert "tiny-gan" in plugins.registry("models")


def test_installed_cli_subprocess(with_test_plugins):
    """The real console script, with every installed plugin loaded (no test guard)."""
    exe = Path(sys.executable).with_name("gan-zoo")
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("GAN_ZOO_LOAD_PLUGINS", None)
    out = subprocess.run([exe, "plugins"], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert "broken on purpose" in out.stdout and "gan-zoo-testplugins" in out.stdout
    out = subprocess.run([exe, "hello-plugin"], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "hello from gan-zoo-testplugins"
    out = subprocess.run([exe, "list", "models"], capture_output=True, text=True, env=env)
    assert out.returncode == 0 and "tiny-gan" in out.stdout and "dcgan" in out.stdout
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("Warning: 2 broken plugins")
    assert "loss 'bce' of gan-zoo-testplugins is shadowed: plain 'bce' is gan-zoo's" in out.stderr
    out = subprocess.run([exe, "list", "losss"], capture_output=True, text=True, env=env)
    assert out.returncode == 2 and out.stdout == ""
    assert (
        out.stderr
        == "Error: unknown kind 'losss'; did you mean 'losses'? (see 'gan-zoo list --help')\n"
    )
