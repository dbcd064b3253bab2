"""Exponential moving average of the generator's weights (Karras et al. 2018, "Progressive
Growing of GANs", arXiv:1710.10196; Yazıcı et al. 2019, arXiv:1806.04498).

Samples from the averaged generator are markedly smoother than from the raw one, so when EMA is
on it is the generator written to ``generator.safetensors`` and used for samples and
evaluation. A warm-up ramps the decay from 0 (a plain copy) to its target over the first
``warmup`` images, so the average does not drag the random initial weights along (the same
idea as stylegan2-ada's ``ema_rampup``).
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """Holds ``module``, a frozen copy of a generator, and updates it in place."""

    def __init__(self, generator: nn.Module, decay: float, warmup: int = 0):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.warmup = warmup
        self.module = copy.deepcopy(generator).eval().requires_grad_(False)

    def beta(self, images_seen: int) -> float:
        """The decay used after ``images_seen`` training images."""
        if self.warmup <= 0:
            return self.decay
        return self.decay * min(1.0, images_seen / self.warmup)

    @torch.no_grad()
    def update(self, generator: nn.Module, images_seen: int) -> None:
        """``ema = beta * ema + (1 - beta) * current``; buffers (BatchNorm statistics) are copied."""
        beta = self.beta(images_seen)
        ema_params = list(self.module.parameters())
        params = [p.detach() for p in generator.parameters()]
        if ema_params:
            torch._foreach_lerp_(ema_params, params, 1.0 - beta)
        for ema_buf, buf in zip(self.module.buffers(), generator.buffers(), strict=True):
            ema_buf.copy_(buf)
