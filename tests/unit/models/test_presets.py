"""Every registered preset builds from the registries and trains two steps without NaN.

The networks and losses are built by the trainer's own set-up code
(:func:`~gan_zoo.training.build.fit_to_data`, :func:`~gan_zoo.training.build.build_networks`)
and trained by its :class:`~gan_zoo.training.step.TrainStep` (n_critic D updates with the loss's
and the configured regularizer's penalties and ``after_d_step``, one G update), in fp32 and
under CPU bf16 autocast, on a tiny batch at the preset's size (28x28x1 unless it declares one).
Widths are shrunk to keep it fast.
"""

from __future__ import annotations

import dataclasses
import itertools

import pytest
import torch

from gan_zoo import get_preset, plugins
from gan_zoo.config import NetSpec, Preset, TrainConfig, apply_override, from_dict, to_dict
from gan_zoo.training.build import build_networks, fit_to_data
from gan_zoo.training.step import TrainStep

PRESETS = plugins.registry("models").names()
BATCH, CLASSES = 4, 3


def _shrunk_config(name: str, precision: str) -> TrainConfig:
    """The preset's resolved config for CPU training at its size, with small networks."""
    preset = get_preset(name)
    config = TrainConfig.from_preset(name, "fashion-mnist", preset)
    for kind, spec in (("generators", config.generator), ("discriminators", config.discriminator)):
        accepted = plugins.registry(kind).get(spec.name).options()
        if "width" in accepted:
            spec.options["width"] = 8
        if "hidden" in accepted:
            spec.options["hidden"] = [32, 16]
    config = dataclasses.replace(config, device="cpu", precision=precision, channels_last=False)
    return fit_to_data(config, preset.image_size or 28, 1, CLASSES)


def _two_steps(name: str, precision: str) -> dict[str, float]:
    config = _shrunk_config(name, precision)
    conditional = plugins.registry("models").get(name).supports.conditional
    assert config.conditional == conditional and config.num_classes == (
        CLASSES if conditional else 0
    )
    for kind, spec in (("generators", config.generator), ("discriminators", config.discriminator)):
        assert plugins.registry(kind).get(spec.name).supports.conditional == conditional, spec
    config, G, D, loss, regularizer = build_networks(config, torch.device("cpu"))
    step = TrainStep(config, G, D, loss, regularizer, noise=torch.Generator().manual_seed(0))
    size = config.image_size
    real = torch.rand(BATCH, 1, size, size, generator=torch.Generator().manual_seed(1)) * 2 - 1
    labels = torch.arange(BATCH) % CLASSES  # (B,)
    batches = itertools.repeat((real, labels))  # (B, C, H, W) in [-1, 1], (B,)
    before = {net: [p.detach().clone() for p in net.parameters()] for net in (G, D)}
    for _ in range(2):
        result = step(batches)
    for net, what in ((G, "G"), (D, "D")):
        after = [p.detach() for p in net.parameters()]
        assert all(torch.isfinite(p).all() for p in after), f"a weight of {what} became NaN or Inf"
        changed = (not torch.equal(a, b) for a, b in zip(before[net], after, strict=True))
        assert any(changed), f"{what} did not train"
    return {"d_loss": result.d_loss.item(), "g_loss": result.g_loss.item()}


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("name", PRESETS)
def test_preset_trains_two_steps_without_nan(name, precision):
    stats = _two_steps(name, precision)
    assert all(torch.isfinite(torch.tensor(v)) for v in stats.values()), stats


@pytest.mark.parametrize("name", PRESETS)
def test_preset_is_a_preset_that_round_trips_through_json(name):
    preset = get_preset(name)
    assert type(preset) is Preset
    config = TrainConfig.from_preset(name, "fashion-mnist", preset)
    assert from_dict(TrainConfig, to_dict(config)) == config


@pytest.mark.parametrize("name", PRESETS)
def test_preset_declares_what_its_networks_support(name):
    entry = plugins.registry("models").get(name)
    preset = entry.load()
    g = plugins.registry("generators").get(preset.generator.name).supports
    d = plugins.registry("discriminators").get(preset.discriminator.name).supports
    if preset.image_size is not None:
        assert entry.supports.image_sizes == (preset.image_size,)
    else:  # trains at the dataset's size: Fashion-MNIST's 28x28x1 at least
        assert g.matches(28, 1) and d.matches(28, 1) and entry.supports.matches(28, 1)
    for size in entry.supports.image_sizes:
        for channels in entry.supports.channels or (1, 3):
            assert g.matches(size, channels) and d.matches(size, channels), (size, channels)
    assert entry.supports.conditional == g.conditional
    assert entry.description


def test_get_preset_returns_a_copy():
    preset = get_preset("dcgan")
    preset.generator.options["width"] = 3
    assert "width" not in get_preset("dcgan").generator.options


def test_recipes_match_their_papers():
    wgan = get_preset("wgan-gp")
    assert wgan.n_critic == 5 and wgan.loss == NetSpec("wgan-gp", {"gp_weight": 10.0})
    assert wgan.discriminator.options["norm"] == "none"
    assert (wgan.d_optim.lr, wgan.d_optim.betas) == (1e-4, (0.5, 0.9))
    sngan = get_preset("sngan")
    assert (sngan.generator.name, sngan.loss.name, sngan.n_critic, sngan.image_size) == (
        "resnet",
        "hinge",
        5,
        32,
    )
    assert (sngan.g_optim.lr, sngan.g_optim.betas) == (2e-4, (0.0, 0.9))
    assert (
        get_preset("cgan").discriminator.name == "projection"
        and get_preset("cgan").loss.name == "hinge"
    )
    conv_mlp = get_preset("conv-mlp")
    assert (conv_mlp.batch_size, conv_mlp.epochs, conv_mlp.g_optim.lr) == (128, 50, 1e-4)
    big = get_preset("dcgan-128")
    assert (big.image_size, big.batch_size, big.z_dim) == (128, 32, 100) and big.lr_decay != "none"
    leaky = get_preset("dcgan-leaky")
    assert leaky.generator.options["activation"] == "leaky-relu"


def test_overrides_reach_the_network_options():
    config = TrainConfig.from_preset("dcgan", "fashion-mnist", get_preset("dcgan"))
    apply_override(config, "generator.width", "16")
    apply_override(config, "regularizer", "r1")
    apply_override(config, "regularizer.gamma", "0.5")
    G = plugins.registry("generators").create(config.generator.name, **config.generator.options)
    r1 = plugins.registry("losses").create(config.regularizer.name, **config.regularizer.options)
    assert G.net[0].out_channels == 4 * 16 and r1.gamma == 0.5
    assert dataclasses.asdict(config)["regularizer"] == {"name": "r1", "options": {"gamma": 0.5}}


def test_every_preset_is_documented():
    from helpers import DOCS, _sections

    sections = _sections(DOCS / "models.md")
    for entry in plugins.registry("models"):
        if entry.plugin.distribution == "gan-zoo":
            assert entry.name in sections, f"preset '{entry.name}' is missing from docs/models.md"
