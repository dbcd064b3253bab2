"""Losses: values on hand-computed logits, fp32 under autocast, and the gradient penalties.

The penalties are checked on a linear critic ``D(x) = <w, x>``, whose input gradient is ``w``
for every sample: WGAN-GP's penalty is ``lambda * (||w|| - 1)^2`` (0 for a unit-norm ``w``) and
R1's is ``gamma / 2 * ||w||^2``, exactly, also under bf16 autocast.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from helpers import check_documented
from torch import nn

from gan_zoo import create_discriminator, create_loss, plugins
from gan_zoo.errors import GanZooError
from gan_zoo.losses.base import GANLoss

REAL = torch.tensor([0.5, 2.0])
FAKE = torch.tensor([-0.5, 1.0])


def sp(x: float) -> float:
    """softplus, by hand."""
    return math.log1p(math.exp(x))


# (loss, D loss, G loss) for REAL and FAKE, computed by hand.
EXPECTED = {
    "bce": ((sp(-0.5) + sp(-2.0)) / 2 + (sp(-0.5) + sp(1.0)) / 2, (sp(0.5) + sp(-1.0)) / 2),
    "bce-minimax": (
        (sp(-0.5) + sp(-2.0)) / 2 + (sp(-0.5) + sp(1.0)) / 2,
        -(sp(-0.5) + sp(1.0)) / 2,
    ),
    # relu(1 - [0.5, 2]) = [0.5, 0]; relu(1 + [-0.5, 1]) = [0.5, 2].
    "hinge": (0.25 + 1.25, -0.25),
    "wgan": (0.25 - 1.25, -0.25),
    "wgan-gp": (0.25 - 1.25, -0.25),
    # (r - 1)^2 = [0.25, 1], f^2 = [0.25, 1], (f - 1)^2 = [2.25, 0].
    "lsgan": (0.5 * 0.625 + 0.5 * 0.625, 0.5 * 1.125),
    "r1": ((sp(-0.5) + sp(-2.0)) / 2 + (sp(-0.5) + sp(1.0)) / 2, (sp(0.5) + sp(-1.0)) / 2),
    # mean(real) = 1.25, mean(fake) = 0.25: Dr = [0.25, 1.75], Df = [-1.75, -0.25].
    "ragan": (
        (sp(-0.25) + sp(-1.75)) / 2 + (sp(-1.75) + sp(-0.25)) / 2,
        (sp(1.75) + sp(0.25)) / 2 + (sp(0.25) + sp(1.75)) / 2,
    ),
    # D: ((Dr - 1)^2 = [0.5625, 0.5625], (Df + 1)^2 = [0.5625, 0.5625]); G: (Df - 1)^2 = [7.5625,
    # 1.5625], (Dr + 1)^2 = [1.5625, 7.5625].
    "ralsgan": (0.5 * (0.5625 + 0.5625), 0.5 * (4.5625 + 4.5625)),
}
#: Losses whose generator loss compares with the real logits.
RELATIVISTIC = ("ragan", "ralsgan")

LOSSES = plugins.registry("losses").names()


def test_every_builtin_loss_has_hand_computed_values():
    builtin = [e.name for e in plugins.registry("losses") if e.plugin.distribution == "gan-zoo"]
    assert sorted(builtin) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_loss_values_on_hand_computed_logits(name):
    loss = create_loss(name)
    d_expected, g_expected = EXPECTED[name]
    assert loss.d_loss(REAL, FAKE).item() == pytest.approx(d_expected, abs=1e-6)
    real = REAL if loss.uses_real_logits_in_g else None
    g = loss.g_loss(FAKE, real) if real is not None else loss.g_loss(FAKE)
    assert g.item() == pytest.approx(g_expected, abs=1e-6)
    assert loss.uses_real_logits_in_g == (name in RELATIVISTIC)


def test_relativistic_losses_refuse_to_guess_the_real_logits():
    for name in RELATIVISTIC:
        with pytest.raises(ValueError, match="real_logits"):
            create_loss(name).g_loss(FAKE)


@pytest.mark.parametrize("name", LOSSES)
def test_losses_are_fp32_scalars_with_gradients(name):
    loss = create_loss(name)
    assert isinstance(loss, GANLoss)
    real = torch.randn(8, dtype=torch.bfloat16, requires_grad=True)
    fake = torch.randn(8, dtype=torch.bfloat16, requires_grad=True)
    d = loss.d_loss(real, fake)
    g = loss.g_loss(fake, real) if loss.uses_real_logits_in_g else loss.g_loss(fake)
    for value in (d, g):
        assert value.shape == () and value.dtype == torch.float32 and torch.isfinite(value)
    (d + g).backward()
    assert torch.isfinite(real.grad.float()).all() and torch.isfinite(fake.grad.float()).all()


def test_bce_is_binary_cross_entropy_with_logits():
    loss = create_loss("bce")
    real, fake = torch.randn(16) * 3, torch.randn(16) * 3
    expected = F.binary_cross_entropy_with_logits(
        real, torch.ones(16)
    ) + F.binary_cross_entropy_with_logits(fake, torch.zeros(16))
    assert loss.d_loss(real, fake).item() == pytest.approx(expected.item(), rel=1e-6)
    assert loss.g_loss(fake).item() == pytest.approx(
        F.binary_cross_entropy_with_logits(fake, torch.ones(16)).item(), rel=1e-6
    )


def test_bce_is_stable_for_huge_logits():
    loss = create_loss("bce")
    big = torch.tensor([1e4, -1e4])
    assert torch.isfinite(loss.d_loss(big, -big)) and torch.isfinite(loss.g_loss(big))


class LinearCritic(nn.Module):
    """D(x) = <w, x.flatten()>: its input gradient is w for every sample."""

    def __init__(self, norm: float, shape=(1, 4, 4)):
        super().__init__()
        n = math.prod(shape)
        # Entries that bf16 cannot represent, so a bf16 penalty would be visibly off.
        w = torch.linspace(0.1, 1.3, n) * torch.tensor([1.0, -1.0]).repeat(n // 2)
        self.w = nn.Parameter(w / w.norm() * norm)
        self.image_size, self.channels, self.num_classes = shape[-1], shape[0], 0

    def forward(self, x, labels=None):
        return F.linear(x.flatten(1), self.w[None])[:, 0]  # (B,)


def _batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(6, 1, 4, 4, generator=g) * 2 - 1, torch.rand(6, 1, 4, 4, generator=g) * 2 - 1


@pytest.mark.parametrize("autocast", [False, True], ids=["fp32", "bf16-autocast"])
def test_wgan_gp_penalty_is_zero_for_a_unit_gradient_critic(autocast):
    real, fake = _batch()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        penalty = create_loss("wgan-gp").regularizer(LinearCritic(1.0), real, fake)
    assert penalty.dtype == torch.float32
    assert penalty.item() == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("autocast", [False, True], ids=["fp32", "bf16-autocast"])
def test_wgan_gp_penalty_is_lambda_times_squared_excess_norm(autocast):
    real, fake = _batch()
    critic = LinearCritic(2.0)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        penalty = create_loss("wgan-gp", gp_weight=10.0).regularizer(critic, real, fake)
    assert penalty.item() == pytest.approx(10.0 * (2.0 - 1.0) ** 2, abs=1e-4)
    # Its gradient reaches the critic: d/dw 10 (||w|| - 1)^2 = 20 (||w|| - 1) w / ||w|| = 10 w.
    penalty.backward()
    assert torch.allclose(critic.w.grad, 10.0 * critic.w.detach(), atol=1e-4)


def test_the_linear_critic_can_tell_bf16_from_fp32():
    """The exactness above means something: differentiated in bf16, the penalty is off."""
    real, fake = _batch()
    critic = LinearCritic(2.0)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        x = (0.5 * real + 0.5 * fake).requires_grad_(True)
        (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
        naive = 10.0 * (grad.flatten(1).norm(dim=1) - 1).square().mean()
    assert abs(naive.item() - 10.0) > 1e-3


@pytest.mark.parametrize("autocast", [False, True], ids=["fp32", "bf16-autocast"])
def test_wgan_gp_gradient_reaches_a_real_critic(autocast):
    torch.manual_seed(0)
    D = create_discriminator("dcgan", image_size=28, channels=1, width=8, norm="none")
    real, fake = torch.rand(4, 1, 28, 28) * 2 - 1, torch.rand(4, 1, 28, 28) * 2 - 1
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        penalty = create_loss("wgan-gp").regularizer(D, real, fake)
    assert penalty.dtype == torch.float32 and penalty.item() > 0
    penalty.backward()
    for name, p in D.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_wgan_gp_passes_labels_to_a_conditional_critic():
    D = create_discriminator("projection", image_size=28, channels=1, num_classes=3, width=8)
    real, fake = torch.rand(4, 1, 28, 28), torch.rand(4, 1, 28, 28)
    penalty = create_loss("wgan-gp").regularizer(D, real, fake, torch.tensor([0, 1, 2, 0]))
    penalty.backward()
    assert D.embed.parametrizations.weight.original.grad.abs().sum() > 0


@pytest.mark.parametrize("autocast", [False, True], ids=["fp32", "bf16-autocast"])
def test_r1_penalty_is_half_gamma_squared_gradient_norm(autocast):
    real, fake = _batch()
    critic = LinearCritic(2.0)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        penalty = create_loss("r1", gamma=10.0).regularizer(critic, real, fake)
    assert penalty.item() == pytest.approx(10.0 / 2 * 2.0**2, abs=1e-4)
    penalty.backward()  # d/dw 5 ||w||^2 = 10 w
    assert torch.allclose(critic.w.grad, 10.0 * critic.w.detach(), atol=1e-4)


def test_r1_as_a_configured_regularizer_is_called_like_a_loss():
    """The trainer calls ``loss.regularizer`` and the configured one the same way."""
    torch.manual_seed(0)
    D = create_discriminator("dcgan", width=8, norm="none")
    real, fake = torch.rand(4, 1, 28, 28) * 2 - 1, torch.rand(4, 1, 28, 28) * 2 - 1
    loss = create_loss("hinge")
    regularizer = plugins.registry("losses").create("r1", gamma=1.0)
    d_total = loss.d_loss(D(real), D(fake))
    terms = [source.regularizer(D, real, fake, None) for source in (loss, regularizer)]
    assert terms[0] is None and terms[1].item() > 0
    (d_total + terms[1]).backward()
    assert all(p.grad is not None for p in D.parameters())


def test_wgan_clips_after_the_d_step_and_others_do_nothing():
    D = create_discriminator("dcgan", width=8, norm="none")
    with torch.no_grad():
        for p in D.parameters():
            p.mul_(100.0)
    before = [p.detach().clone() for p in D.parameters()]
    for name in LOSSES:
        if name != "wgan":
            create_loss(name).after_d_step(D)
    assert all(torch.equal(a, b) for a, b in zip(before, D.parameters(), strict=True))
    create_loss("wgan", clip=0.01).after_d_step(D)
    assert max(p.abs().max().item() for p in D.parameters()) <= 0.01
    create_loss("wgan", clip=None).after_d_step(D)  # off: no error, no change


def test_loss_options_are_checked():
    with pytest.raises(GanZooError, match="did you mean 'gp_weight'"):
        create_loss("wgan-gp", gp_weigth=5)
    with pytest.raises(GanZooError, match="must be >= 0"):
        create_loss("r1", gamma=-1.0)
    with pytest.raises(GanZooError, match="unknown loss 'hing'; did you mean 'hinge'"):
        create_loss("hing")


def test_every_loss_and_option_is_documented():
    check_documented("losses", "losses.md")
