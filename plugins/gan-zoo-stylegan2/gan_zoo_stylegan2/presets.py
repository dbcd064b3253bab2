"""The StyleGAN2 recipes as gan-zoo presets (the ``models`` kind); no torch needed to list them.

The paper's own settings (Karras et al. 2020, config F; stylegan2-ada-pytorch's ``paper256`` /
``cifar`` configs) are Adam with lr 0.0025 and betas (0, 0.99) for both networks, the
non-saturating loss with lazy R1 every 16 D steps, style mixing 0.9, an 8-layer mapping network
with a 0.01 learning-rate multiplier, and a generator EMA with a half-life of 10k images. These
presets keep all of that and shrink what a CPU cannot afford:

* widths: ``channel_base=1024, channel_max=64`` (64 channels at 4-16 px, 32 at 32 px, 16 at
  64 px; the paper's CIFAR network has 512 everywhere), and w_dim / z_dim 128 instead of 512.
  On the shared 2-core AMD EPYC this plugin was written on, one thread trained 44-59 img/s
  at 32 px with these widths and 8-10 img/s with ``channel_base=4096, channel_max=128``. The
  paper's widths are an override away (``--set generator.channel_base=16384 --set
  generator.channel_max=512``, the same for the discriminator);
* batch 32 (the CIFAR config uses 64): twice the updates per image seen on a CPU;
* R1 gamma 0.1: ada's heuristic ``0.0002 * resolution**2 / batch`` gives 0.0064 at 32 px,
  the CIFAR config uses 0.01; 0.1 errs on the strong side for a small D on Fashion-MNIST's
  hard-edged images on a flat black background. Chosen, not tuned (one 600-step run was made);
* the lazy-regularization correction of Adam for D (``lr * 16/17``, ``beta2 ** (16/17)``),
  as the reference applies it;
* EMA decay 0.998 (0.5 ** (32 / 10000), the reference's 10k-image half-life at batch 32),
  ramped up over the first 10k images;
* 10 epochs of Fashion-MNIST (18,750 steps at batch 32, about 5 hours at that speed).
"""

from __future__ import annotations

import dataclasses

from gan_zoo.config import NetSpec, OptimizerConfig, Preset

#: Lazy R1 every 16 D steps; Adam's D settings are corrected for it as in the reference.
R1_INTERVAL = 16
_MB_RATIO = R1_INTERVAL / (R1_INTERVAL + 1)
_LR = 0.0025
_BETAS = (0.0, 0.99)

#: CPU-sized widths (see the module docstring).
_G = {"w_dim": 128, "channel_base": 1024, "channel_max": 64}
_D = {"channel_base": 1024, "channel_max": 64}

STYLEGAN2 = Preset(
    generator=NetSpec("stylegan2", dict(_G)),
    discriminator=NetSpec("stylegan2", dict(_D)),
    loss=NetSpec("stylegan2", {"r1_gamma": 0.1, "r1_interval": R1_INTERVAL}),
    z_dim=128,
    batch_size=32,
    epochs=10,
    g_optim=OptimizerConfig(lr=_LR, betas=_BETAS),
    d_optim=OptimizerConfig(lr=_LR * _MB_RATIO, betas=(0.0, _BETAS[1] ** _MB_RATIO)),
    ema=0.998,
    ema_warmup=10_000,
    image_size=32,
)

# 64 px: ada's heuristic gamma grows with resolution squared (x4 from 32 px).
STYLEGAN2_64 = dataclasses.replace(
    STYLEGAN2,
    generator=NetSpec("stylegan2", dict(_G)),
    discriminator=NetSpec("stylegan2", dict(_D)),
    loss=NetSpec("stylegan2", {"r1_gamma": 0.4, "r1_interval": R1_INTERVAL}),
    image_size=64,
)
