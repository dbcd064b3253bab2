"""Exponential moving average of the generator's weights (Karras et al. 2018, "Progressive
Growing of GANs", arXiv:1710.10196; Yazıcı et al. 2019, arXiv:1806.04498).

Samples from the averaged generator are markedly smoother than from the raw one, so when EMA is
on it is the generator written to ``generator.safetensors`` and used for samples and
evaluation. A warm-up ramps the decay from 0 (a plain copy) to its target over the first
``warmup`` images, so the average does not drag the random initial weights along (the same
idea as stylegan2-ada's ``ema_rampup``).

BatchNorm: the averaged weights are not the weights whose activations the live generator's
running statistics describe, and early in training the mismatch is large (DCGAN on
Fashion-MNIST, EMA 0.999, epoch 3: classifier-FD 145.0 with the live statistics, 109.0
re-estimated; ``benchmarks/ema_batchnorm.py``). So before the average samples, is evaluated
or is saved, :meth:`EMA.averaged` re-estimates its BatchNorm statistics for its own weights
("standing statistics", Brock et al. 2019, BigGAN, arXiv:1809.11096): ``calibration_batches``
batches of fresh latents (private random stream, seeded by the seed and the images seen)
through the average in train mode, fp32, without gradients. The next :meth:`EMA.update` copies
the live statistics over them again, so training and exact resume are untouched; generators
without BatchNorm skip it.

Under DDP with ``--sync-batchnorm`` the average holds plain, local BatchNorm layers
(:func:`~gan_zoo.training.syncbn.revert_sync_batchnorm`; same ``state_dict`` keys): it runs on
rank 0 alone, where a synchronised layer would wait for the other ranks forever.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from .syncbn import revert_sync_batchnorm


class EMA:
    """Holds ``module``, a frozen copy of a generator, and updates it in place."""

    def __init__(
        self,
        generator: nn.Module,
        decay: float,
        warmup: int = 0,
        *,
        calibration_batches: int = 32,
        batch_size: int = 128,
        seed: int = 0,
    ):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.warmup = warmup
        # A local copy: the average runs on rank 0 alone (samples, calibration, evaluation), so
        # a synchronised BatchNorm layer would wait forever for the other ranks.
        self.module = revert_sync_batchnorm(copy.deepcopy(generator)).eval().requires_grad_(False)
        self.calibration_batches, self.batch_size, self.seed = calibration_batches, batch_size, seed
        self.images_seen = 0
        #: False after an update until :meth:`averaged` re-estimates the BatchNorm statistics.
        self.calibrated = True

    @classmethod
    def for_run(cls, generator: nn.Module, config: Any, batch_size: int) -> EMA:
        """The EMA of a training run: ``config``'s decay, warm-up and seed; calibration
        batches of the run's per-process ``batch_size``."""
        return cls(
            generator, config.ema, config.ema_warmup, batch_size=batch_size, seed=config.seed
        )

    def beta(self, images_seen: int) -> float:
        """The decay used after ``images_seen`` training images."""
        if self.warmup <= 0:
            return self.decay
        return self.decay * min(1.0, images_seen / self.warmup)

    @torch.no_grad()
    def update(self, generator: nn.Module, images_seen: int) -> None:
        """``ema = beta * ema + (1 - beta) * current``; buffers (BatchNorm statistics) are
        copied."""
        beta = self.beta(images_seen)
        ema_params = list(self.module.parameters())
        params = [p.detach() for p in generator.parameters()]
        if ema_params:
            torch._foreach_lerp_(ema_params, params, 1.0 - beta)
        for ema_buf, buf in zip(self.module.buffers(), generator.buffers(), strict=True):
            ema_buf.copy_(buf)
        self.images_seen, self.calibrated = images_seen, False

    def averaged(self) -> nn.Module:
        """The averaged generator, its BatchNorm statistics estimated for its own weights."""
        if not self.calibrated:
            calibrate_batchnorm(
                self.module,
                self.calibration_batches,
                self.batch_size,
                seed=self.seed * 1_000_003 + self.images_seen,
            )
            self.calibrated = True
        return self.module


def tracking_norms(module: nn.Module) -> dict[str, nn.modules.batchnorm._BatchNorm]:
    """``module``'s BatchNorm layers that keep running statistics, by module name."""
    return {
        name: m
        for name, m in module.named_modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats
    }


@torch.no_grad()
def calibrate_batchnorm(module: nn.Module, batches: int, batch_size: int, seed: int) -> None:
    """Re-estimate the running statistics of ``module``'s BatchNorm layers from ``batches``
    batches of standard-normal latents (and uniform labels for a conditional generator) as the
    exact average over those batches; nothing runs without such layers.

    Runs in fp32 without autocast, like sampling; the global random state is left as it was
    (a plugin's dropout would draw from it), so a checked run trains bit-identically."""
    norms = list(tracking_norms(module).values())
    if not norms or batches <= 0:
        return
    param = next(module.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    z_dim, classes = int(module.z_dim), int(getattr(module, "num_classes", 0) or 0)
    gen = torch.Generator(device=device).manual_seed(seed)
    momenta = [m.momentum for m in norms]
    was_training = module.training
    forked = [device] if device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=forked), torch.autocast(device.type, enabled=False):
            for m in norms:
                m.reset_running_stats()
                m.momentum = None  # a cumulative average over the calibration batches
            module.train()
            for _ in range(batches):
                z = torch.randn(batch_size, z_dim, generator=gen, device=device)  # (B, z)
                labels = (
                    torch.randint(0, classes, (batch_size,), generator=gen, device=device)
                    if classes
                    else None
                )
                module(z, labels)
    finally:
        for m, momentum in zip(norms, momenta, strict=True):
            m.momentum = momentum
        module.train(was_training)
