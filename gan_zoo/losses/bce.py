"""Binary cross-entropy GAN losses (Goodfellow et al., 2014, arXiv:1406.2661).

D is a logistic classifier of real against fake: it minimises BCE(D(x), 1) + BCE(D(G(z)), 0),
written with softplus on logits (``BCE(l, 1) = softplus(-l)``, ``BCE(l, 0) = softplus(l)``) so it
is stable for any logit and needs no sigmoid in D.

* ``bce``: the non-saturating form the paper recommends in practice: G maximises
  log D(G(z)), i.e. minimises ``softplus(-l)``, which gives strong gradients early on.
* ``bce-minimax``: the original minimax game: G minimises log(1 - D(G(z))) = ``-softplus(l)``.
  It saturates when D wins; it is here for comparison.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import GANLoss


class BCELoss(GANLoss):
    """Non-saturating BCE: D minimises BCE(real, 1) + BCE(fake, 0); G minimises BCE(fake, 1)."""

    logits_are_log_odds = True

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        real_logits, fake_logits = real_logits.float(), fake_logits.float()
        return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()

    def g_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return F.softplus(-fake_logits.float()).mean()


class BCEMinimaxLoss(BCELoss):
    """The original minimax BCE: same D loss; G minimises log(1 - sigmoid(fake)) =
    -softplus(fake)."""

    def g_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return -F.softplus(fake_logits.float()).mean()
