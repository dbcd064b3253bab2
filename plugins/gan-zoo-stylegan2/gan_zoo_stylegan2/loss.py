"""StyleGAN2's loss: the non-saturating logistic loss with lazy R1 regularization.

Karras et al. 2020 ("Analyzing and Improving the Image Quality of StyleGAN", arXiv:1912.04958,
section 3.1, "lazy regularization"): the R1 penalty of Mescheder et al. 2018
(arXiv:1801.04406), ``gamma / 2 * E[||grad_x D(x)||^2]`` on real images, needs a second
backward pass, but it changes slowly, so it is computed only once every ``r1_interval`` D steps
(16 in the paper) and multiplied by the interval so that its average strength is unchanged.
This follows ``StyleGAN2Loss`` in NVlabs stylegan2-ada-pytorch's ``training/loss.py``
(``loss_Dr1 = r1_penalty * (r1_gamma / 2)``, scaled by the phase interval).

How it fits gan-zoo's loss contract: the trainer calls :meth:`regularizer` once per D step, so
the loss object counts those calls and returns the penalty on calls 0, k, 2k, ... (the
reference's ``batch_idx % interval == 0``) and ``None`` otherwise. The count is the loss's
training state (``training_state()`` / ``load_training_state()``): gan-zoo saves it with every
checkpoint and hands it back on ``--resume``, so a resumed run applies R1 on the same D steps
as an uninterrupted one (gan-zoo releases without that hook restart the count at 0). One
difference from the reference, documented in the README: the penalty is added to that step's main
D loss (one optimizer step) instead of being a separate ``Dreg`` optimizer step as in the
reference; the Adam settings of the preset make the reference's lazy-regularization
correction (``lr * k / (k + 1)``, ``beta ** (k / (k + 1))``) for that reason only approximately.

The penalty runs in fp32 with autocast off through :func:`gan_zoo.losses.base.input_gradients`,
so it is right under bf16 and fp16 mixed precision. The path length regularizer of the
generator is not part of this loss: the contract gives a loss no hook into the G step.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gan_zoo.errors import ConfigError
from gan_zoo.losses.base import GANLoss, input_gradients


class StyleGAN2Loss(GANLoss):
    """Non-saturating logistic loss (softplus form) + lazy R1 on real images."""

    logits_are_log_odds = True  # D's logit is the log-odds of "real": d/real is a probability

    def __init__(self, r1_gamma: float = 10.0, r1_interval: int = 16):
        if r1_gamma < 0:
            raise ConfigError(f"stylegan2 loss r1_gamma must be >= 0, got {r1_gamma}")
        if r1_interval < 1:
            raise ConfigError(
                "stylegan2 loss r1_interval must be at least 1 (1 = R1 every D step), "
                f"got {r1_interval}"
            )
        self.r1_gamma = float(r1_gamma)
        self.r1_interval = int(r1_interval)
        #: How many times :meth:`regularizer` has been called (one call per D step).
        self.calls = 0

    def training_state(self) -> dict:
        """The count of D steps so far, saved with each checkpoint."""
        return {"calls": self.calls}

    def load_training_state(self, state: dict) -> None:
        """Continue counting from a checkpoint's ``{"calls": N}``."""
        calls = state.get("calls", 0)
        if type(calls) is not int or calls < 0:
            raise ConfigError(
                f"the checkpoint's stylegan2 loss state has calls={calls!r}, not a count of D "
                "steps; resume from another checkpoint"
            )
        self.calls = calls

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        # -log sigmoid(real) - log(1 - sigmoid(fake)), in the overflow-free softplus form.
        return F.softplus(-real_logits.float()).mean() + F.softplus(fake_logits.float()).mean()

    def g_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return F.softplus(-fake_logits.float()).mean()  # -log sigmoid(fake): non-saturating

    def regularizer(
        self,
        discriminator: torch.nn.Module,
        real: torch.Tensor,
        fake: torch.Tensor,
        labels: torch.Tensor | None = None,
    ) -> torch.Tensor | None:
        due = self.calls % self.r1_interval == 0
        self.calls += 1
        if not due or self.r1_gamma == 0:
            return None
        grad = input_gradients(discriminator, real, labels)  # (B, C, H, W) fp32
        penalty = grad.square().flatten(1).sum(dim=1).mean()  # E ||grad_x D(x)||^2
        return penalty * (0.5 * self.r1_gamma * self.r1_interval)
