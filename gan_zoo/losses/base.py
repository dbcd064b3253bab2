"""The loss contract shared by every loss plugin.

A loss turns discriminator logits into the two players' objectives (stylegan2-ada's
``training/loss.py`` keeps penalties with their loss in the same way):

* ``d_loss(real_logits, fake_logits)``: the discriminator's loss, a scalar;
* ``g_loss(fake_logits, real_logits=None)``: the generator's loss, a scalar; ``real_logits``
  (D's logits of a real batch, computed in the generator step) are passed only to losses that
  set ``uses_real_logits_in_g`` (relativistic losses compare the two sides), so losses written
  as ``g_loss(fake_logits)`` keep working;
* ``regularizer(discriminator, real, fake, labels)``: an optional extra term for the
  discriminator step (a gradient penalty, say), or ``None``;
* ``after_d_step(discriminator)``: an optional hook run after each optimizer step of D (WGAN's
  weight clipping); a no-op by default;
* ``training_state()`` / ``load_training_state(state)``: optional, for a loss that keeps state
  between steps (lazy R1 counts D steps): a JSON object of numbers, strings and lists, saved in
  each checkpoint's ``training-state.json`` and handed back on ``--resume``, so a resumed run
  trains exactly as an uninterrupted one. Stateless losses keep the defaults (``{}``, no-op).

Logits arrive in whatever precision autocast produced; losses are computed in fp32. Penalties
that differentiate D with respect to its input use :func:`input_gradients`, which runs D in
fp32 with autocast disabled so the penalty is right under bf16 / fp16 mixed precision.
"""

from __future__ import annotations

import torch


class GANLoss:
    """Base class: subclasses implement :meth:`d_loss` and :meth:`g_loss`."""

    #: True when D's logit is the log-odds of "real" (BCE losses): the trainer then reports
    #: ``d/real`` and ``d/fake`` as probabilities (sigmoid of the logit), else as raw scores.
    logits_are_log_odds: bool = False
    #: True when :meth:`g_loss` needs D's logits of real images too (relativistic losses): the
    #: trainer then runs D on the real batch in the generator step and passes them.
    uses_real_logits_in_g: bool = False

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError  # abstract: each loss defines its own

    def g_loss(
        self, fake_logits: torch.Tensor, real_logits: torch.Tensor | None = None
    ) -> torch.Tensor:
        raise NotImplementedError  # abstract: each loss defines its own

    def regularizer(
        self,
        discriminator: torch.nn.Module,
        real: torch.Tensor,
        fake: torch.Tensor,
        labels: torch.Tensor | None = None,
    ) -> torch.Tensor | None:
        return None

    def after_d_step(self, discriminator: torch.nn.Module) -> None:
        """Called after every optimizer step of D (e.g. to clip its weights); no-op by default."""

    def training_state(self) -> dict:
        """State kept between steps, as a JSON object (saved with each checkpoint); none here."""
        return {}

    def load_training_state(self, state: dict) -> None:
        """Take back what :meth:`training_state` returned, on resume; nothing to do here."""

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({options})"


def input_gradients(
    discriminator: torch.nn.Module, x: torch.Tensor, labels: torch.Tensor | None = None
) -> torch.Tensor:
    """d(sum of D(x)) / dx in fp32, with a graph so that a penalty on it trains D.

    Autocast is disabled and ``x`` is cast to fp32, so the input gradient is neither
    under-flowed by fp16 nor rounded by bf16; the caller's GradScaler (if any) scales only the
    final loss, whose backward pass goes through this graph and reaches D's weights.
    """
    x = x.detach().float().requires_grad_(True)  # (B, C, H, W)
    with torch.autocast(device_type=x.device.type, enabled=False):
        logits = discriminator(x, labels).float()  # (B,)
        (grad,) = torch.autograd.grad(logits.sum(), x, create_graph=True)
    return grad  # (B, C, H, W) fp32
