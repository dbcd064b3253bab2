"""The loss contract shared by every loss plugin.

A loss turns discriminator logits into the two players' objectives (stylegan2-ada's
``training/loss.py`` keeps penalties with their loss in the same way):

* ``d_loss(real_logits, fake_logits)``: the discriminator's loss, a scalar;
* ``g_loss(fake_logits)``: the generator's loss, a scalar;
* ``regularizer(discriminator, real, fake, labels)``: an optional extra term for the
  discriminator step (a gradient penalty, say), or ``None``.

Logits arrive in whatever precision autocast produced; losses are computed in fp32.
"""

from __future__ import annotations

import torch


class GANLoss:
    """Base class: subclasses implement :meth:`d_loss` and :meth:`g_loss`."""

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError  # abstract: each loss defines its own

    def g_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError  # abstract: each loss defines its own

    def regularizer(
        self,
        discriminator: torch.nn.Module,
        real: torch.Tensor,
        fake: torch.Tensor,
        labels: torch.Tensor | None = None,
    ) -> torch.Tensor | None:
        return None

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({options})"
