"""Binary cross-entropy GAN losses (Goodfellow et al., 2014, arXiv:1406.2661).

``bce`` is the non-saturating form the paper recommends in practice: G maximises
log D(G(z)) rather than minimising log(1 - D(G(z))), which gives strong gradients early on.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import GANLoss


class BCELoss(GANLoss):
    """Non-saturating BCE: D minimises BCE(real, 1) + BCE(fake, 0); G minimises BCE(fake, 1)."""

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        real_logits, fake_logits = real_logits.float(), fake_logits.float()
        return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()

    def g_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return F.softplus(-fake_logits.float()).mean()
