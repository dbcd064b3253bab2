"""Hinge loss (Lim and Ye, 2017, "Geometric GAN", arXiv:1705.02894; Tran et al. 2017).

D minimises ``relu(1 - D(x)) + relu(1 + D(G(z)))``; G minimises ``-D(G(z))``. The loss of SNGAN,
the projection discriminator, SAGAN and BigGAN.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import GANLoss


class HingeLoss(GANLoss):
    """D: mean(relu(1 - real)) + mean(relu(1 + fake)); G: -mean(fake)."""

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        real_logits, fake_logits = real_logits.float(), fake_logits.float()
        return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()

    def g_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return -fake_logits.float().mean()
