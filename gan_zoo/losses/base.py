"""The base class of gan-zoo's losses, and the input gradient their penalties use.

A loss turns discriminator logits into the two players' objectives. Its contract (required
``d_loss`` / ``g_loss``; optional flags, ``regularizer``, ``after_d_step`` and training state,
with their defaults) has one home, :mod:`gan_zoo.contracts.loss`, which ``docs/plugins.md``
is generated from; :class:`GANLoss` is a convenient base class.

Logits arrive in whatever precision autocast produced; losses are computed in fp32. Penalties
that differentiate D with respect to its input use :func:`input_gradients`, which runs D in
fp32 with autocast disabled so the penalty is right under bf16 / fp16 mixed precision.
"""

from __future__ import annotations

import torch

from ..contracts import LossDefaults


class GANLoss(LossDefaults):
    """Base class: subclasses implement :meth:`d_loss` and :meth:`g_loss`; the optional members
    of the contract (flags, ``regularizer``, ``after_d_step``, the training state) keep the
    defaults of :class:`gan_zoo.contracts.LossDefaults` unless overridden."""

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError  # abstract: each loss defines its own

    def g_loss(
        self, fake_logits: torch.Tensor, real_logits: torch.Tensor | None = None
    ) -> torch.Tensor:
        raise NotImplementedError  # abstract: each loss defines its own

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
