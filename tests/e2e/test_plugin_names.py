"""Whose code raised, and whose entry a name means, with real installed distributions.

``tests/clash_dist`` (gan-zoo-clashtest) registers a loss ``ragan`` that gan-zoo also has, a
preset naming it, and a network, loss, dataset and metric that raise in their own code;
``plugins/gan-zoo-stylegan2`` registers presets that are :class:`gan_zoo.config.Preset`
instances (defined in gan-zoo), which once made every gan-zoo frame "the plugin's".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import TESTS

from gan_zoo import plugins
from gan_zoo.blame import blame

HERE = TESTS
CLASH_DIST = HERE / "clash_dist"
STYLEGAN2 = HERE.parent / "plugins" / "gan-zoo-stylegan2"
WHO = "of plugin gan-zoo-clashtest 0.3.0"


@pytest.fixture
def installed(use_distribution, monkeypatch):
    use_distribution(STYLEGAN2)
    use_distribution(CLASH_DIST)
    monkeypatch.setenv("GAN_ZOO_LOAD_PLUGINS", "gan-zoo-stylegan2,gan-zoo-clashtest")
    plugins.reset()
    assert {s.distribution for s in plugins.statuses() if s.ok} >= {
        "gan-zoo-stylegan2",
        "gan-zoo-clashtest",
    }


def _raised(call) -> BaseException:
    try:
        call()
    except Exception as exc:  # noqa: BLE001
        return exc
    raise AssertionError("did not raise")


def test_an_error_in_gan_zoo_itself_names_no_plugin(installed, idx_dir, tmp_path, monkeypatch):
    import gan_zoo.models.dcgan as dcgan
    from gan_zoo.models import layers

    exc = _raised(lambda: dcgan.DCGANGenerator(channels=None))  # TypeError in gan_zoo/models
    assert blame(exc) is None
    # The CLI keeps the traceback: an exception inside gan-zoo's training code is re-raised.
    from click.testing import CliRunner

    from gan_zoo.cli import build_cli

    monkeypatch.setattr(
        dcgan.DCGANGenerator,
        "forward",
        lambda self, z, labels=None: layers.check_channels("g", None),
    )
    args = [
        "train",
        "dcgan",
        "fashion-mnist",
        "--data-dir",
        str(idx_dir.parent),
        "--steps",
        "1",
        "--batch-size",
        "8",
        "--device",
        "cpu",
        "--quiet",
        "--out",
        str(tmp_path / "r"),
    ]
    out = CliRunner().invoke(build_cli(), args)
    assert isinstance(out.exception, TypeError), out.output
    assert "bug in that plugin" not in out.output and blame(out.exception) is None


@pytest.mark.parametrize("kind", ["network", "loss", "dataset", "metric"])
def test_an_error_in_a_plugins_entry_names_that_entry(installed, kind):
    import torch

    from gan_zoo import factory

    calls = {
        "network": lambda: factory.create_discriminator("raising-net")(torch.zeros(2, 1, 28, 28)),
        "loss": lambda: factory.create_loss("raising-loss").d_loss(torch.zeros(2), torch.zeros(2)),
        "dataset": lambda: factory.open_split("raising-data", "train"),
        "metric": lambda: factory.create_metric(
            "raising-metric", num_samples=2, batch_size=2, device="cpu"
        ).compute(None, None),
    }
    names = {
        "network": "discriminator 'raising-net'",
        "loss": "loss 'raising-loss'",
        "dataset": "dataset 'raising-data'",
        "metric": "metric 'raising-metric'",
    }
    line = blame(_raised(calls[kind]))
    assert line is not None and line.startswith(f"{names[kind]} {WHO} raised RuntimeError: ")
    assert f"{kind} exploded; this is a bug in that plugin" in line


def test_the_reported_reproduction_is_no_longer_blamed_on_stylegan2(installed, tmp_path):
    from click.testing import CliRunner

    from gan_zoo.cli import build_cli

    args = ["train", "dcgan", "fashion-mnist", "--set", "generator.width=0", "--out", str(tmp_path)]
    out = CliRunner().invoke(build_cli(), args)
    assert out.exit_code == 2 and "stylegan2" not in out.output
    assert "generator 'dcgan' option 'width' must be in [1, 4096], got 0" in out.output


def test_a_plugins_preset_trains_with_its_own_entry_of_a_clashing_name(
    installed, idx_dir, tmp_path
):
    from gan_zoo.factory import create_losses
    from gan_zoo.training.resolve import build_config, resume_config

    losses = plugins.registry("losses")
    assert losses.get("ragan").plugin.distribution == "gan-zoo"  # the built-in has the plain name
    config = build_config("clash-gan", "fashion-mnist")
    assert config.loss.name == "gan-zoo-clashtest/ragan"
    assert type(create_losses(config)[0]).__name__ == "ClashRaGAN"
    assert config.generator.name == "dcgan"  # names the plugin does not register: gan-zoo's
    plain = build_config("dcgan", "fashion-mnist", {"loss": "ragan"})
    assert (
        plain.loss.name == "ragan" and losses.get(plain.loss.name).plugin.distribution == "gan-zoo"
    )

    import gan_zoo

    run = gan_zoo.train(
        "clash-gan",
        "fashion-mnist",
        data_dir=str(idx_dir.parent),
        steps=1,
        device="cpu",
        out=str(tmp_path / "run"),
        eval_metric="none",
    )
    record = json.loads((Path(run.dir) / "config.json").read_text())
    assert record["loss"]["name"] == "gan-zoo-clashtest/ragan"
    assert record["plugins"]["loss"] == "gan-zoo-clashtest 0.3.0"
    resumed, _, _ = resume_config(run.dir, {"steps": 2})
    assert resumed.loss.name == "gan-zoo-clashtest/ragan"
    assert gan_zoo.load(run.dir) is not None


def test_an_old_run_with_plain_names_keeps_its_meaning(installed, idx_dir_256, tmp_path):
    """A run written with plain names and its parts' distributions (every config.json has them):
    installing a plugin that registers the same name later does not change what it resumes with."""
    import gan_zoo
    from gan_zoo.checkpoint import missing_part, part_entry
    from gan_zoo.training.resolve import resume_config

    run = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        data_dir=str(idx_dir_256.parent),
        steps=1,
        loss="ragan",
        device="cpu",
        out=str(tmp_path / "run"),
        eval_metric="none",
    )
    record = json.loads((Path(run.dir) / "config.json").read_text())
    assert record["loss"]["name"] == "ragan" and record["plugins"]["loss"].startswith("gan-zoo ")
    # Written as if by the plugin's preset before this fix: plain name, the plugin's distribution.
    for path in Path(run.dir).rglob("config.json"):
        old = json.loads(path.read_text())
        old["plugins"]["loss"] = "gan-zoo-clashtest 0.3.0"
        path.write_text(json.dumps(old))
    old = json.loads((Path(run.dir) / "config.json").read_text())
    assert part_entry(old, "loss").plugin.distribution == "gan-zoo-clashtest"
    assert resume_config(run.dir)[0].loss.name == "gan-zoo-clashtest/ragan"
    assert missing_part(old) is None
    old["plugins"]["loss"] = "gan-zoo-gone 1.0"  # its plugin is not installed: say so, do not
    assert "pip install 'gan-zoo-gone==1.0'" in str(missing_part(old))  # fall back to gan-zoo's
    assert gan_zoo.load(run.dir) is not None


def test_plugins_and_the_warning_name_each_clash_once(installed):
    status = {s.name: s for s in plugins.statuses()}["clashtest"]
    assert status.clashes == [
        "loss 'ragan' is also registered by gan-zoo 0.1.0 (gan_zoo.losses), which was first: "
        "plain 'ragan' means gan-zoo's, this plugin's is 'gan-zoo-clashtest/ragan' (its own "
        "presets and runs keep using it)"
    ]
    line = (
        "loss 'ragan' of gan-zoo-clashtest is shadowed: plain 'ragan' is gan-zoo's; "
        "use 'gan-zoo-clashtest/ragan'"
    )
    assert line in plugins.problems(once=True)
    assert plugins.problems(once=True) is None  # once per process
    assert line in plugins.problems()
