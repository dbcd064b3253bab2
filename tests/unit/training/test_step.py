"""Unit tests of the training step (gan_zoo.training.step.TrainStep), the object the loop calls.

Configs, networks and losses come from the trainer's own set-up code (``resolve.build_config``,
``build.fit_to_data``, ``build.build_networks``) on random 28x28 batches; no dataset is read.
"""

from __future__ import annotations

import itertools

import pytest
import torch
from helpers import ROOT, TINY

from gan_zoo.errors import ConfigError
from gan_zoo.losses.base import GANLoss
from gan_zoo.losses.bce import BCELoss
from gan_zoo.training import resolve
from gan_zoo.training.build import build_networks, fit_to_data
from gan_zoo.training.step import TrainStep

BATCH = 8


def built(model="dcgan", overrides=TINY, channels=1, **options):
    """``(config, G, D, loss, regularizer)`` of a resolved CPU config for 28 px, 10 classes."""
    options = {"device": "cpu", "precision": "fp32", "channels_last": False, **options}
    config = resolve.build_config(model, "fashion-mnist", options, overrides)
    return build_networks(fit_to_data(config, 28, channels, 10), torch.device("cpu"))


def make_step(model="dcgan", loss=None, regularizer=None, overrides=TINY, channels=1, **options):
    config, G, D, built_loss, built_regularizer = built(model, overrides, channels, **options)
    return TrainStep(
        config,
        G,
        D,
        loss or built_loss,
        regularizer or built_regularizer,
        noise=torch.Generator().manual_seed(0),
    )


def real_batches(n=None, seed=1, channels=1):
    """``n`` (or endless) batches of (B, C, 28, 28) images in [-1, 1] and (B,) labels."""
    gen = torch.Generator().manual_seed(seed)

    def batch():
        images = torch.rand(BATCH, channels, 28, 28, generator=gen) * 2 - 1
        return images, torch.randint(10, (BATCH,), generator=gen)

    return (batch() for _ in (range(n) if n is not None else itertools.count()))


class CountingBCE(BCELoss):
    """BCE that counts its calls and notes D's first weight when its hook runs."""

    def __init__(self):
        self.calls = {"d_loss": 0, "g_loss": 0, "after_d_step": 0}
        self.seen_by_hook: list[torch.Tensor] = []

    def d_loss(self, real_logits, fake_logits):
        self.calls["d_loss"] += 1
        return super().d_loss(real_logits, fake_logits)

    def g_loss(self, fake_logits):
        self.calls["g_loss"] += 1
        return super().g_loss(fake_logits)

    def after_d_step(self, discriminator):
        self.calls["after_d_step"] += 1
        self.seen_by_hook.append(next(discriminator.parameters()).detach().clone())


class WeightPenalty(GANLoss):
    """A regularizer of known gradient: 0.5 * weight * |theta_D|^2 has gradient weight * theta_D."""

    def __init__(self, weight=0.25):
        self.weight = weight

    def regularizer(self, discriminator, real, fake, labels=None):
        return 0.5 * self.weight * sum((p**2).sum() for p in discriminator.parameters())


class PenalizedBCE(BCELoss, WeightPenalty):
    """BCE that brings its own penalty (as wgan-gp does)."""

    regularizer = WeightPenalty.regularizer


@pytest.mark.parametrize("n_critic", [1, 3])
def test_a_step_updates_d_n_critic_times_then_g_once(n_critic):
    loss = CountingBCE()
    step = make_step(loss=loss, n_critic=n_critic)
    batches = real_batches(n_critic + 1)
    result = step(batches)
    assert loss.calls == {"d_loss": n_critic, "g_loss": 1, "after_d_step": n_critic}
    assert len(list(batches)) == 1  # one real batch per D update, no more
    assert result.d_loss.shape == () and result.g_loss.shape == ()
    assert result.real_logits.shape == result.fake_logits.shape == (BATCH,)


def test_after_d_step_runs_after_each_optimizer_step_of_d():
    loss = CountingBCE()
    step = make_step(loss=loss)
    real, labels = next(real_batches(1))
    before = next(step.D.parameters()).detach().clone()
    step.d_step(real, labels)
    after = next(step.D.parameters()).detach()
    assert len(loss.seen_by_hook) == 1
    assert torch.equal(loss.seen_by_hook[0], after) and not torch.equal(before, after)


def test_wgan_weight_clipping_holds_after_every_d_update():
    step = make_step(loss=None, overrides=[*TINY, "loss=wgan", "loss.clip=0.005"])
    for _ in range(2):
        step(real_batches(1))
        assert all(p.abs().max() <= 0.005 for p in step.D.parameters())


@pytest.mark.parametrize("source", ["regularizer", "loss"])
def test_penalties_of_the_regularizer_and_of_the_loss_reach_d(source):
    """D's gradient with a penalty is D's gradient without it plus the penalty's gradient."""
    plain = make_step()
    penalized = (
        make_step(regularizer=WeightPenalty(0.25))
        if source == "regularizer"
        else make_step(loss=PenalizedBCE())
    )
    theta = [p.detach().clone() for p in penalized.D.parameters()]
    real, labels = next(real_batches(1))
    plain.d_step(real, labels)
    penalized.d_step(real, labels)
    for p_plain, p_pen, t in zip(
        plain.D.parameters(), penalized.D.parameters(), theta, strict=True
    ):
        torch.testing.assert_close(p_pen.grad - p_plain.grad, 0.25 * t)


def test_the_g_step_reuses_the_last_fake_batch_and_gives_d_no_gradient():
    step = make_step(n_critic=2)
    forwards = []  # grad mode of each G forward pass
    step.G.register_forward_hook(lambda module, args, out: forwards.append(torch.is_grad_enabled()))
    batches = real_batches(2)
    first = step.d_step(*next(batches), keep_graph=False)
    last = step.d_step(*next(batches), keep_graph=True)
    assert not first.fake.requires_grad and last.fake.requires_grad
    d_grads = [p.grad.clone() for p in step.D.parameters()]
    d_weights = [p.detach().clone() for p in step.D.parameters()]
    step.g_step(last.fake, last.fake_labels)
    assert forwards == [False, True]  # no third G forward: the G step reused the last batch
    for p, grad, weight in zip(step.D.parameters(), d_grads, d_weights, strict=True):
        assert torch.equal(p.grad, grad) and torch.equal(p, weight) and p.requires_grad
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in step.G.parameters())


def test_the_g_step_refuses_a_fake_batch_without_its_graph():
    step = make_step()
    d = step.d_step(*next(real_batches(1)), keep_graph=False)
    with pytest.raises(ValueError, match="keep_graph=True"):
        step.g_step(d.fake, d.fake_labels)


def test_a_conditional_step_gives_real_labels_with_real_images_and_drawn_ones_with_fakes():
    step = make_step("cgan")
    assert step.config.conditional and step.config.num_classes == 10
    seen = {"G": [], "D": []}
    step.G.register_forward_pre_hook(lambda module, args: seen["G"].append(args[1]))
    step.D.register_forward_pre_hook(lambda module, args: seen["D"].append(args[1]))
    real, labels = next(real_batches(1))
    step(iter([(real, labels)]))
    (fake_labels,) = seen["G"]
    assert fake_labels.shape == (BATCH,) and 0 <= fake_labels.min() and fake_labels.max() < 10
    real_seen, fake_seen, g_step_seen = seen["D"]
    assert torch.equal(real_seen, labels)
    assert torch.equal(fake_seen, fake_labels) and torch.equal(g_step_seen, fake_labels)


@pytest.mark.parametrize("channels_last", [False, True])
def test_real_batches_reach_d_in_the_configured_layout(channels_last):
    # RGB: with one channel the two layouts are the same memory.
    step = make_step(channels_last=channels_last, channels=3)
    layouts = []
    step.D.register_forward_pre_hook(
        lambda module, args: layouts.append(
            args[0].is_contiguous(memory_format=torch.channels_last)
        )
    )
    step.d_step(*next(real_batches(1, channels=3)))  # the real batch arrives (B, 3, 28, 28) NCHW
    assert layouts[0] is channels_last


@pytest.mark.parametrize(
    ("model", "options"),
    [
        ("dcgan", {}),
        ("dcgan", {"precision": "fp16", "augment": "translation,cutout,color"}),
        ("wgan-gp", {"n_critic": 2}),
    ],
    ids=["fp32", "fp16-augment", "wgan-gp"],
)
def test_a_step_never_reads_a_value_back_to_the_host(model, options):
    from torch.utils._python_dispatch import TorchDispatchMode

    syncs = []

    class Probe(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func.__name__.split(".")[0] in ("_local_scalar_dense", "is_nonzero", "nonzero"):
                syncs.append(func.__name__)
            return func(*args, **(kwargs or {}))

    step = make_step(model, overrides=TINY if model == "dcgan" else [], **options)
    batches = real_batches()
    step(batches)  # the first step sets up optimizer and scaler state
    with Probe():
        result = step(batches)
    assert syncs == []
    assert all(isinstance(t, torch.Tensor) for t in result)  # statistics stay on the device


def test_a_step_needs_a_resolved_config():
    config, G, D, loss, regularizer = built()
    for field, value in (("device", "auto"), ("precision", "auto"), ("channels_last", None)):
        with pytest.raises(ConfigError, match=f"but {field} is still auto") as info:
            TrainStep(
                config.__class__(**{**vars(config), field: value}),
                G,
                D,
                loss,
                noise=torch.Generator(),
            )
        assert "\n" not in str(info.value)


def test_the_step_example_in_the_docs_runs():

    text = (ROOT / "docs" / "training.md").read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    (example,) = [b for b in blocks if "TrainStep(" in b]
    namespace: dict = {}
    exec(compile(example, "docs/training.md", "exec"), namespace)
    result = namespace["result"]
    assert torch.isfinite(result.d_loss) and torch.isfinite(result.g_loss)
