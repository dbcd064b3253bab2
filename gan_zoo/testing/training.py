"""Conformance checks of losses and presets, through the trainer's own code.

Two real steps on the CPU, in fp32 and under bf16 autocast: the config is resolved by
:func:`gan_zoo.training.build.fit_to_data`, the networks and losses are built by
:func:`gan_zoo.training.build.build_networks` and trained by
:class:`gan_zoo.training.step.TrainStep` (its contract check first, then ``n_critic`` D updates
with the penalties and ``after_d_step``, one G update). Losses are paired with gan-zoo's small
MLP networks; presets train their own networks at small widths.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

from ..config import NetSpec, TrainConfig
from ..contracts import LOSS, PRESET
from ..registry import Entry

BATCH, CLASSES = 4, 3
#: The networks a loss is trained with: gan-zoo's own MLP GAN, small.
LOSS_PAIR_NAME, LOSS_PAIR_HIDDEN = "gan-zoo/mlp", [32]


def _small_spec(kind: str, spec: NetSpec, options: dict[str, Any]) -> NetSpec:
    from .. import plugins
    from ..plugin_check import small_options

    entry = plugins.registry(kind).get(spec.name)
    return NetSpec(spec.name, {**spec.options, **small_options(entry, options.get(spec.name))})


def preset_config(entry: Entry, options: dict[str, dict[str, Any]], precision: str) -> TrainConfig:
    """The preset's resolved CPU config at its size, with small networks."""
    from ..factory import get_preset
    from ..training.build import fit_to_data

    preset = get_preset(entry.qualified_name)
    config = TrainConfig.from_preset(entry.key, "fashion-mnist", preset)
    size = preset.image_size or (
        min(entry.supports.image_sizes) if entry.supports.image_sizes else 28
    )
    channels = preset.channels or min(entry.supports.channels or (1,))
    config = dataclasses.replace(
        config,
        device="cpu",
        precision=precision,
        channels_last=False,
        batch_size=BATCH,
        generator=_small_spec("generators", config.generator, options.get("generators", {})),
        discriminator=_small_spec(
            "discriminators", config.discriminator, options.get("discriminators", {})
        ),
    )
    return fit_to_data(config, size, channels, CLASSES)


def loss_config(entry: Entry, options: dict[str, dict[str, Any]], precision: str) -> TrainConfig:
    """gan-zoo's small MLP GAN at 28 px, 1 channel, trained with the loss ``entry``."""
    from ..training.build import fit_to_data

    loss = NetSpec(entry.qualified_name, dict(options.get("losses", {}).get(entry.name, {})))
    config = TrainConfig(
        model="conformance",
        dataset="fashion-mnist",
        loss=loss,
        z_dim=16,
        batch_size=BATCH,
        device="cpu",
        precision=precision,
        channels_last=False,
        generator=NetSpec(LOSS_PAIR_NAME, {"hidden": list(LOSS_PAIR_HIDDEN)}),
        discriminator=NetSpec(LOSS_PAIR_NAME, {"hidden": list(LOSS_PAIR_HIDDEN)}),
    )
    return fit_to_data(config, 28, 1, CLASSES)


def train_two_steps(config: TrainConfig, who: str) -> None:
    """Two real steps of ``config``: weights change and stay finite, losses stay finite."""
    import torch

    from ..training.build import build_networks
    from ..training.step import TrainStep

    config, G, D, loss, regularizer = build_networks(config, torch.device("cpu"))
    step = TrainStep(config, G, D, loss, regularizer, noise=torch.Generator().manual_seed(0))
    step.check_contract()
    size, channels = config.image_size, config.channels
    real = (
        torch.rand(BATCH, channels, size, size, generator=torch.Generator().manual_seed(1)) * 2 - 1
    )
    labels = torch.arange(BATCH) % CLASSES  # (B,)
    batches = itertools.repeat((real, labels))  # (B, C, H, W) in [-1, 1], (B,)
    before = {net: [p.detach().clone() for p in net.parameters()] for net in (G, D)}
    for i in range(2):
        result = step(batches)
        for name in ("d_loss", "g_loss"):
            value = float(getattr(result, name).detach())
            assert torch.isfinite(torch.tensor(value)), f"{who}: {name} is {value} at step {i + 1}"
    for net, what in ((G, "G"), (D, "D")):
        after = [p.detach() for p in net.parameters()]
        assert all(torch.isfinite(p).all() for p in after), (
            f"{who}: a weight of {what} became NaN or Inf"
        )
        changed = any(not torch.equal(a, b) for a, b in zip(before[net], after, strict=True))
        assert changed, f"{who}: two steps did not change {what}'s weights"


def check_preset_recipe(entry: Entry) -> None:
    """The preset contract at depth "deep" (:func:`gan_zoo.contracts.preset.check`): a
    :class:`Preset` whose networks support what the entry declares and whose config survives
    a JSON round trip (``config.json`` and the model card are written from it)."""
    from .. import plugins
    from ..factory import get_preset

    PRESET.check(
        get_preset(entry.qualified_name),
        "deep",
        who=f"model '{entry.key}'",
        registry=plugins.registry,
        supports=entry.supports,
    )


def check_loss_properties(entry: Entry, options: dict[str, Any]) -> None:
    """The loss contract at depth "deep" (:func:`gan_zoo.contracts.loss.check`) on a fresh
    loss: fp32 scalars with finite gradients from bf16 logits (relativistic losses get real
    logits in ``g_loss``); a regularizer that is None or an fp32 scalar training D;
    ``after_d_step`` runs; the training state round-trips through JSON."""
    LOSS.check(entry.create(**options), "deep")
