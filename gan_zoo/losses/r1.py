"""The R1 gradient penalty (Mescheder, Geiger and Nowozin, 2018, "Which Training Methods for
GANs do actually Converge?", arXiv:1801.04406).

R1 penalises D's gradient on real data only: ``gamma / 2 * E[||grad_x D(x)||^2]``. It makes
training converge locally for any of the usual losses, and it is the regularizer of
StyleGAN 2 and 3.

Two ways to use it:

* as the configured regularizer next to any loss: ``TrainConfig.regularizer =
  NetSpec("r1", {"gamma": 10.0})`` (``--set regularizer=r1 --set regularizer.gamma=1``). The
  trainer builds it from the ``losses`` registry like a loss and, in every D step, adds both
  ``loss.regularizer(D, real, fake, labels)`` and ``r1.regularizer(D, real, fake, labels)``;
* as the loss itself (``--loss r1``): then it is the non-saturating BCE with R1, StyleGAN 2's
  loss, so the name never stands for an incomplete loss.
"""

from __future__ import annotations

import torch

from ..errors import ConfigError
from .base import input_gradients
from .bce import BCELoss


class R1Penalty(BCELoss):
    """``regularizer``: gamma / 2 * mean ||grad_x D(real)||^2; as a loss, non-saturating
    BCE + R1."""

    def __init__(self, gamma: float = 10.0):
        if gamma < 0:
            raise ConfigError(f"r1 gamma must be >= 0, got {gamma}")
        self.gamma = gamma

    def regularizer(
        self,
        discriminator: torch.nn.Module,
        real: torch.Tensor,
        fake: torch.Tensor,
        labels: torch.Tensor | None = None,
    ) -> torch.Tensor | None:
        grad = input_gradients(discriminator, real, labels)  # (B, C, H, W) fp32
        return 0.5 * self.gamma * grad.square().flatten(1).sum(dim=1).mean()
