"""Least-squares GAN (Mao et al., 2017, "Least Squares Generative Adversarial Networks",
arXiv:1611.04076).

D regresses real logits to 1 and fake ones to 0; G pulls fake logits to 1 (the paper's
``a = 0, b = c = 1`` coding): ``D: 1/2 (D(x) - 1)^2 + 1/2 D(G(z))^2``, ``G: 1/2 (D(G(z)) - 1)^2``.
Fake samples far on the right side of the boundary still get a gradient, unlike with BCE.
"""

from __future__ import annotations

import torch

from .base import GANLoss


class LSGANLoss(GANLoss):
    """D: 0.5 mean((real - 1)^2) + 0.5 mean(fake^2); G: 0.5 mean((fake - 1)^2)."""

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        real_logits, fake_logits = real_logits.float(), fake_logits.float()
        return 0.5 * (real_logits - 1.0).square().mean() + 0.5 * fake_logits.square().mean()

    def g_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return 0.5 * (fake_logits.float() - 1.0).square().mean()
