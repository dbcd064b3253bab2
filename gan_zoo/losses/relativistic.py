"""Relativistic average losses (Jolicoeur-Martineau 2019, "The relativistic discriminator: a key
element missing from standard GAN", arXiv:1807.00734).

D estimates how much more realistic a real image is than the average fake one (and the other
way round), so both players see both sides: with ``C`` the raw logits, ``Dr = C(x_r) -
mean C(x_f)`` and ``Df = C(x_f) - mean C(x_r)``. RaGAN puts these through the BCE of the
standard GAN, RaLSGAN through least squares with targets +-1. G's loss is the mirror image of
D's, so it needs D's logits of real images in the generator step: these losses set
``uses_real_logits_in_g`` and the trainer passes them (real logits do not depend on G, so no
gradient flows through them to G; D is frozen during the G step).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import GANLoss


def _relative(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a - mean(b)`` in fp32: how much ``a`` exceeds the other side on average."""
    return a.float() - b.float().mean()


class RaGANLoss(GANLoss):
    """RaSGAN: D: BCE(Dr, 1) + BCE(Df, 0); G: BCE(Df, 1) + BCE(Dr, 0)."""

    uses_real_logits_in_g = True

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        dr, df = _relative(real_logits, fake_logits), _relative(fake_logits, real_logits)
        return F.softplus(-dr).mean() + F.softplus(df).mean()

    def g_loss(
        self, fake_logits: torch.Tensor, real_logits: torch.Tensor | None = None
    ) -> torch.Tensor:
        if real_logits is None:
            raise ValueError("the relativistic loss needs real_logits in the generator step")
        dr, df = _relative(real_logits, fake_logits), _relative(fake_logits, real_logits)
        return F.softplus(-df).mean() + F.softplus(dr).mean()


class RaLSGANLoss(GANLoss):
    """RaLSGAN: D: (Dr - 1)^2 + (Df + 1)^2; G: (Df - 1)^2 + (Dr + 1)^2 (means, halved)."""

    uses_real_logits_in_g = True

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        dr, df = _relative(real_logits, fake_logits), _relative(fake_logits, real_logits)
        return 0.5 * ((dr - 1).square().mean() + (df + 1).square().mean())

    def g_loss(
        self, fake_logits: torch.Tensor, real_logits: torch.Tensor | None = None
    ) -> torch.Tensor:
        if real_logits is None:
            raise ValueError("the relativistic loss needs real_logits in the generator step")
        dr, df = _relative(real_logits, fake_logits), _relative(fake_logits, real_logits)
        return 0.5 * ((df - 1).square().mean() + (dr + 1).square().mean())
