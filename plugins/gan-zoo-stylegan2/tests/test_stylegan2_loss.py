"""The StyleGAN2 loss: logistic terms, lazy R1 on every k-th call with the right scale, fp32
under bf16 autocast, and its one-line option errors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from conftest import TINY_D
from gan_zoo_stylegan2.loss import StyleGAN2Loss
from gan_zoo_stylegan2.networks import StyleGAN2Discriminator

from gan_zoo.errors import ConfigError
from gan_zoo.losses.r1 import R1Penalty


@pytest.fixture
def D():
    torch.manual_seed(0)
    return StyleGAN2Discriminator(image_size=32, channels=1, **TINY_D)


def test_logistic_terms_are_binary_cross_entropy_with_logits():
    loss = StyleGAN2Loss()
    real, fake = torch.tensor([2.0, -1.0, 0.5]), torch.tensor([-3.0, 0.0, 4.0])
    bce = F.binary_cross_entropy_with_logits
    torch.testing.assert_close(
        loss.d_loss(real, fake), bce(real, torch.ones(3)) + bce(fake, torch.zeros(3))
    )
    torch.testing.assert_close(loss.g_loss(fake), bce(fake, torch.ones(3)))  # non-saturating
    assert loss.logits_are_log_odds


def test_lazy_r1_fires_on_every_kth_call_scaled_by_k(D):
    loss = StyleGAN2Loss(r1_gamma=2.0, r1_interval=4)
    real = torch.randn(6, 1, 32, 32)
    x = real.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x).sum(), x)
    expected = 2.0 / 2 * 4 * grad.square().flatten(1).sum(1).mean()  # gamma/2 * k * E||g||^2
    fired = []
    for call in range(9):
        penalty = loss.regularizer(D, real, torch.randn_like(real))
        if penalty is not None:
            fired.append(call)
            torch.testing.assert_close(penalty, expected, rtol=1e-5, atol=1e-8)
    assert fired == [0, 4, 8] and loss.calls == 9


def test_interval_one_is_gan_zoos_own_r1(D):
    real = torch.randn(4, 1, 32, 32)
    ours = StyleGAN2Loss(r1_gamma=10.0, r1_interval=1)
    core = R1Penalty(gamma=10.0)
    for _ in range(2):
        torch.testing.assert_close(ours.regularizer(D, real, real), core.regularizer(D, real, real))


def test_penalty_is_fp32_under_bf16_autocast_and_trains_d(D):
    real = torch.randn(4, 1, 32, 32)
    plain = StyleGAN2Loss(r1_gamma=1.0).regularizer(D, real, real)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert D(real).dtype == torch.bfloat16  # the network itself does run in bf16
        penalty = StyleGAN2Loss(r1_gamma=1.0).regularizer(D, real.bfloat16(), real)
    assert penalty.dtype == torch.float32
    # Only the input's rounding to bf16 differs; the gradient itself is computed in fp32.
    torch.testing.assert_close(penalty, plain, rtol=0.05, atol=1e-6)
    penalty.backward()
    assert D.conv.weight.grad is not None and D.conv.weight.grad.abs().sum() > 0


def test_gamma_zero_never_computes_a_penalty(D):
    loss = StyleGAN2Loss(r1_gamma=0.0, r1_interval=1)
    assert loss.regularizer(D, torch.randn(2, 1, 32, 32), None) is None


@pytest.mark.parametrize(
    "options, message",
    [
        ({"r1_gamma": -1.0}, "r1_gamma must be >= 0"),
        ({"r1_interval": 0}, "r1_interval must be at least 1"),
    ],
)
def test_bad_options_are_one_line_errors(options, message):
    with pytest.raises(ConfigError, match=message):
        StyleGAN2Loss(**options)
