"""Wasserstein losses: WGAN (Arjovsky et al., 2017) and WGAN-GP (Gulrajani et al., 2017).

The critic D estimates the Wasserstein-1 distance ``E[D(x)] - E[D(G(z))]`` and maximises it; G
minimises ``-E[D(G(z))]``. The estimate needs D to be 1-Lipschitz:

* ``wgan`` clips every weight of D to ``[-clip, clip]`` after each critic step (the paper's
  0.01; ``clip=None`` turns clipping off, e.g. with a spectrally normalized critic). Clipping is
  done by :meth:`WGANLoss.after_d_step`, which the trainer calls after every D update.
* ``wgan-gp`` instead penalises ``gp_weight * (||grad_x D(x_hat)||_2 - 1)^2`` on random
  interpolates ``x_hat`` of real and fake images (lambda = 10 in the paper). Use it with a
  critic without BatchNorm (the penalty is per sample); the paper's recipe is Adam 1e-4,
  betas (0.5, 0.9), 5 critic steps per generator step.

The penalty is computed by :func:`gan_zoo.losses.base.input_gradients`: in fp32 with autocast
off, with a graph so its gradient reaches D's weights.
"""

from __future__ import annotations

import torch

from ..errors import ConfigError
from .base import GANLoss, input_gradients


class WGANLoss(GANLoss):
    """D: mean(fake) - mean(real); G: -mean(fake); D's weights clipped to [-clip, clip] after
    each step."""

    def __init__(self, clip: float | None = 0.01):
        if clip is not None and clip <= 0:
            raise ConfigError(f"wgan clip must be positive or null (no clipping), got {clip}")
        self.clip = clip

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        return fake_logits.float().mean() - real_logits.float().mean()

    def g_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return -fake_logits.float().mean()

    @torch.no_grad()
    def after_d_step(self, discriminator: torch.nn.Module) -> None:
        if self.clip is None:
            return
        for p in discriminator.parameters():
            p.clamp_(-self.clip, self.clip)


class WGANGPLoss(WGANLoss):
    """The WGAN losses without clipping, plus the gradient penalty as :meth:`regularizer`."""

    def __init__(self, gp_weight: float = 10.0):
        if gp_weight < 0:
            raise ConfigError(f"wgan-gp gp_weight must be >= 0, got {gp_weight}")
        super().__init__(clip=None)
        self.gp_weight = gp_weight

    def regularizer(
        self,
        discriminator: torch.nn.Module,
        real: torch.Tensor,
        fake: torch.Tensor,
        labels: torch.Tensor | None = None,
    ) -> torch.Tensor | None:
        return self.gp_weight * gradient_penalty(discriminator, real, fake, labels)


def gradient_penalty(
    discriminator: torch.nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    labels: torch.Tensor | None = None,
    target: float = 1.0,
) -> torch.Tensor:
    """mean over the batch of (||grad_x D(x_hat)||_2 - target)^2, x_hat between real and fake."""
    real, fake = real.detach().float(), fake.detach().float()
    eps = torch.rand(real.shape[0], 1, 1, 1, device=real.device)  # (B, 1, 1, 1)
    x_hat = torch.lerp(fake, real, eps)  # eps * real + (1 - eps) * fake, (B, C, H, W)
    grad = input_gradients(discriminator, x_hat, labels)  # (B, C, H, W)
    norm = grad.flatten(1).norm(2, dim=1)  # (B,)
    return (norm - target).square().mean()
