"""Conformance checks of losses and presets, through the trainer's own code.

Two real steps on the CPU, in fp32 and under bf16 autocast: the config is resolved by
:func:`gan_zoo.training.setup.fit_to_data`, the networks and losses are built by
:func:`gan_zoo.training.setup.build_networks` and trained by
:class:`gan_zoo.training.step.TrainStep` (its contract check first, then ``n_critic`` D updates
with the penalties and ``after_d_step``, one G update). Losses are paired with gan-zoo's small
MLP networks; presets train their own networks at small widths.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

from ..config import NetSpec, Preset, TrainConfig, from_dict, to_dict
from ..contracts import Loss, check_loss_value, describe_entry
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
    from ..training.setup import fit_to_data

    preset = get_preset(entry.qualified_name)
    config = TrainConfig.from_preset(entry.key, "fashion-mnist", preset)
    size = preset.image_size or (min(entry.supports.image_sizes) if entry.supports.image_sizes else 28)
    channels = preset.channels or min(entry.supports.channels or (1,))
    config = dataclasses.replace(
        config, device="cpu", precision=precision, channels_last=False, batch_size=BATCH,
        generator=_small_spec("generators", config.generator, options.get("generators", {})),
        discriminator=_small_spec("discriminators", config.discriminator,
                                  options.get("discriminators", {})),
    )  # fmt: skip
    return fit_to_data(config, size, channels, CLASSES)


def loss_config(entry: Entry, options: dict[str, dict[str, Any]], precision: str) -> TrainConfig:
    """gan-zoo's small MLP GAN at 28 px, 1 channel, trained with the loss ``entry``."""
    from ..training.setup import fit_to_data

    loss = NetSpec(entry.qualified_name, dict(options.get("losses", {}).get(entry.name, {})))
    config = TrainConfig(model="conformance", dataset="fashion-mnist", loss=loss, z_dim=16,
                         batch_size=BATCH, device="cpu", precision=precision,
                         channels_last=False,
                         generator=NetSpec(LOSS_PAIR_NAME, {"hidden": list(LOSS_PAIR_HIDDEN)}),
                         discriminator=NetSpec(LOSS_PAIR_NAME, {"hidden": list(LOSS_PAIR_HIDDEN)}))  # fmt: skip
    return fit_to_data(config, 28, 1, CLASSES)


def train_two_steps(config: TrainConfig, who: str) -> None:
    """Two real steps of ``config``: weights change and stay finite, losses stay finite."""
    import torch

    from ..training.setup import build_networks
    from ..training.step import TrainStep

    config, G, D, loss, regularizer = build_networks(config, torch.device("cpu"))
    step = TrainStep(config, G, D, loss, regularizer, noise=torch.Generator().manual_seed(0))
    step.check_contract()
    size, channels = config.image_size, config.channels
    real = torch.rand(BATCH, channels, size, size, generator=torch.Generator().manual_seed(1)) * 2 - 1
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
        assert all(torch.isfinite(p).all() for p in after), f"{who}: a weight of {what} became NaN or Inf"
        changed = any(not torch.equal(a, b) for a, b in zip(before[net], after, strict=True))
        assert changed, f"{who}: two steps did not change {what}'s weights"


def check_preset_recipe(entry: Entry) -> None:
    """A :class:`Preset` whose networks support what the preset declares; its config survives
    a JSON round trip (``config.json`` and the model card are written from it)."""
    from .. import plugins
    from ..factory import get_preset

    preset = get_preset(entry.qualified_name)
    assert type(preset) is Preset, f"model '{entry.key}' registers a {type(preset).__name__}"
    g = plugins.registry("generators").get(preset.generator.name).supports
    d = plugins.registry("discriminators").get(preset.discriminator.name).supports
    sizes = entry.supports.image_sizes or ((preset.image_size,) if preset.image_size else (28,))
    if preset.image_size is not None:
        assert sizes == (preset.image_size,), (
            f"model '{entry.key}' trains at {preset.image_size} px but is registered with "
            f"image_sizes={sizes}; register image_sizes=({preset.image_size},)")  # fmt: skip
    for size in sizes:
        for channels in entry.supports.channels or (1, 3):
            assert g.matches(size, channels) and d.matches(size, channels), (
                f"model '{entry.key}' declares {size} px, {channels} ch but its generator "
                f"supports {g} and its discriminator {d}")  # fmt: skip
    assert entry.supports.conditional == g.conditional, (
        f"model '{entry.key}' is registered conditional={entry.supports.conditional} but its "
        f"generator is conditional={g.conditional}")  # fmt: skip
    config = TrainConfig.from_preset(entry.key, "fashion-mnist", preset)
    assert from_dict(TrainConfig, to_dict(config)) == config, (
        f"model '{entry.key}': its config does not survive config.json (JSON-able options only)")


def check_loss_properties(entry: Entry, options: dict[str, Any]) -> None:
    """The Loss protocol; fp32 scalars with finite gradients from bf16 logits (relativistic
    losses get real logits in ``g_loss``); a regularizer that is None or an fp32 scalar
    training D; ``after_d_step`` runs; an optional training state round-trips through JSON."""
    import torch

    from .. import plugins

    loss = entry.create(**options)
    who = describe_entry(loss, "loss")
    assert isinstance(loss, Loss), (
        f"{who} lacks members of the Loss protocol (subclass gan_zoo.losses.base.GANLoss)")
    for flag in ("logits_are_log_odds", "uses_real_logits_in_g"):
        assert isinstance(getattr(loss, flag), bool), f"{who}: {flag} must be True or False"
    g = torch.Generator().manual_seed(0)
    real, fake = (torch.randn(8, generator=g).bfloat16().requires_grad_() for _ in range(2))
    extra = (real,) if loss.uses_real_logits_in_g else ()
    for which, value in (("d_loss", loss.d_loss(real, fake)), ("g_loss", loss.g_loss(fake, *extra))):
        check_loss_value(loss, value, which)
        assert value.dtype == torch.float32, f"{who}: {which} is {value.dtype}; return fp32"
        (grad,) = torch.autograd.grad(value, fake, allow_unused=True)
        assert grad is not None and grad.isfinite().all(), (
            f"{who}: {which} gives no finite gradient to the fake logits")
    D = plugins.registry("discriminators").create("gan-zoo/mlp", image_size=8, channels=1, hidden=[16])
    images = torch.rand(2, 4, 1, 8, 8, generator=g) * 2 - 1  # real and fake (B, C, H, W)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        penalty = loss.regularizer(D, images[0].bfloat16(), images[1], None)
    if penalty is not None:
        check_loss_value(loss, penalty, "regularizer")
        assert penalty.dtype == torch.float32, f"{who}: its regularizer is {penalty.dtype}; return fp32"
        penalty.backward()
        grads = [p.grad for p in D.parameters() if p.grad is not None]
        assert grads and all(g.isfinite().all() for g in grads), (
            f"{who}: its regularizer gives D no finite gradient")
    with torch.no_grad():
        loss.after_d_step(D)
    check_loss_state(loss, who)


def check_loss_state(loss: Any, who: str) -> None:
    """An optional ``training_state()`` is a JSON object that survives a JSON round trip and
    ``load_training_state`` leaves it unchanged (what resume relies on)."""
    import json

    from ..checkpoint.schema import is_plain

    get, put = getattr(loss, "training_state", None), getattr(loss, "load_training_state", None)
    if get is None:
        return
    assert callable(get) and callable(put), (
        f"{who}: training_state() needs load_training_state(state) beside it, to resume")
    state = get()
    assert isinstance(state, dict) and is_plain(state), (
        f"{who}: training_state() must return a JSON object (numbers, strings, lists), not {state!r}")
    put(json.loads(json.dumps(state)))
    assert get() == state, f"{who}: load_training_state(training_state()) changed the state"
