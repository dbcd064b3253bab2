"""The built-in presets (the ``models`` kind): recipes as data, no torch needed to list them."""

from __future__ import annotations

from ..config import NetSpec, OptimizerConfig, Preset

DCGAN = Preset(
    generator=NetSpec("dcgan"),
    discriminator=NetSpec("dcgan"),
    loss=NetSpec("bce"),
    z_dim=100,
    batch_size=128,
    epochs=25,
    g_optim=OptimizerConfig(lr=2e-4, betas=(0.5, 0.999)),
    d_optim=OptimizerConfig(lr=2e-4, betas=(0.5, 0.999)),
)
