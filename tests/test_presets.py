"""Every registered preset builds from the registries and trains two steps without NaN.

The step is written here from the public contract (create G, D, loss and the configured
regularizer by name from the preset; n_critic D updates with the loss's regularizer and
``after_d_step``; one G update), in fp32 and under CPU bf16 autocast, on a tiny batch at the
preset's size (28x28x1 unless it declares one). Widths are shrunk to keep it fast.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from gan_zoo import get_preset, plugins
from gan_zoo.config import NetSpec, Preset, TrainConfig, apply_override, from_dict, to_dict

PRESETS = plugins.registry("models").names()
BATCH, CLASSES = 4, 3


def _networks(name: str, preset: Preset, image_size: int, channels: int):
    entry = plugins.registry("models").get(name)
    conditional = entry.supports.conditional
    nets = []
    for kind, spec in (("generators", preset.generator), ("discriminators", preset.discriminator)):
        net_entry = plugins.registry(kind).get(spec.name)
        assert net_entry.supports.matches(image_size, channels), (
            f"{kind} '{spec.name}' cannot do {image_size} px"
        )
        assert net_entry.supports.conditional == conditional
        options = {"image_size": image_size, "channels": channels, **spec.options}
        if kind == "generators":
            options["z_dim"] = preset.z_dim
        if conditional:
            options["num_classes"] = CLASSES
        if "width" in net_entry.options():
            options["width"] = 8
        if "hidden" in net_entry.options():
            options["hidden"] = [32, 16]
        nets.append(net_entry.create(**options))
    return nets


def _two_steps(name: str, precision: str) -> dict[str, float]:
    torch.manual_seed(0)
    preset = get_preset(name)
    size, channels = preset.image_size or 28, 1
    G, D = _networks(name, preset, size, channels)
    losses = plugins.registry("losses")
    loss = losses.create(preset.loss.name, **preset.loss.options)
    regularizer = (
        losses.create(preset.regularizer.name, **preset.regularizer.options)
        if preset.regularizer
        else None
    )
    g_opt = torch.optim.Adam(G.parameters(), lr=preset.g_optim.lr, betas=preset.g_optim.betas)
    d_opt = torch.optim.Adam(D.parameters(), lr=preset.d_optim.lr, betas=preset.d_optim.betas)
    conditional = G.num_classes > 0
    real = torch.rand(BATCH, channels, size, size) * 2 - 1  # (B, C, H, W)
    labels = torch.arange(BATCH) % CLASSES if conditional else None
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16")
    before = [p.detach().clone() for p in (*G.parameters(), *D.parameters())]
    stats = {}
    for _ in range(2):
        # Update D.
        for _ in range(preset.n_critic):
            z = torch.randn(BATCH, preset.z_dim)
            with torch.no_grad(), autocast:
                fake = G(z, labels)
            with autocast:
                d_loss = loss.d_loss(D(real, labels), D(fake, labels))
            for source in (loss, regularizer):
                penalty = source.regularizer(D, real, fake.float(), labels) if source else None
                if penalty is not None:
                    d_loss = d_loss + penalty
            d_opt.zero_grad(set_to_none=True)
            d_loss.backward()
            d_opt.step()
            loss.after_d_step(D)
        # Update G.
        D.requires_grad_(False)
        with autocast:
            g_loss = loss.g_loss(D(G(torch.randn(BATCH, preset.z_dim), labels), labels))
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        g_opt.step()
        D.requires_grad_(True)
        stats = {"d_loss": d_loss.item(), "g_loss": g_loss.item()}
    after = [p.detach() for p in (*G.parameters(), *D.parameters())]
    assert all(torch.isfinite(p).all() for p in after), "a weight became NaN or Inf"
    assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=True)), "nothing trained"
    return stats


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
    from test_models import DOCS, _sections

    sections = _sections(DOCS / "models.md")
    for entry in plugins.registry("models"):
        if entry.plugin.distribution == "gan-zoo":
            assert entry.name in sections, f"preset '{entry.name}' is missing from docs/models.md"
