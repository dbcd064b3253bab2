"""DCGAN: deep convolutional GAN (Radford, Metz and Chintala, 2015, arXiv:1511.06434).

The generator upsamples a latent vector with strided transposed convolutions, BatchNorm and
ReLU to a tanh image; the discriminator mirrors it with strided convolutions and LeakyReLU 0.2.
Weights start from N(0, 0.02) (BatchNorm scales from N(1, 0.02)), as in the paper and in the
PyTorch reference implementation.
"""

from __future__ import annotations

import torch
from torch import nn


def dcgan_init(module: nn.Module) -> None:
    """The paper's initialisation: conv weights N(0, 0.02), BatchNorm N(1, 0.02) and bias 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class DCGANGenerator(nn.Module):
    """z (B, z_dim) -> image (B, C, 28, 28) in [-1, 1]."""

    def __init__(self, z_dim: int = 100, image_size: int = 28, channels: int = 1, width: int = 64):
        super().__init__()
        if image_size != 28:
            raise ValueError(f"dcgan generator supports 28 px, not {image_size}")
        self.z_dim, self.image_size, self.channels, self.num_classes = z_dim, image_size, channels, 0
        w = width
        self.net = nn.Sequential(
            nn.ConvTranspose2d(z_dim, w * 4, 7, 1, 0, bias=False),  # (B, 4w, 7, 7)
            nn.BatchNorm2d(w * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(w * 4, w * 2, 4, 2, 1, bias=False),  # (B, 2w, 14, 14)
            nn.BatchNorm2d(w * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(w * 2, channels, 4, 2, 1, bias=False),  # (B, C, 28, 28)
            nn.Tanh(),
        )
        dcgan_init(self)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z.view(z.shape[0], self.z_dim, 1, 1))


class DCGANDiscriminator(nn.Module):
    """image (B, C, 28, 28) -> logit (B,)."""

    def __init__(self, image_size: int = 28, channels: int = 1, width: int = 64):
        super().__init__()
        if image_size != 28:
            raise ValueError(f"dcgan discriminator supports 28 px, not {image_size}")
        self.image_size, self.channels, self.num_classes = image_size, channels, 0
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(channels, w, 4, 2, 1, bias=False),  # (B, w, 14, 14)
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(w, w * 2, 4, 2, 1, bias=False),  # (B, 2w, 7, 7)
            nn.BatchNorm2d(w * 2),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(w * 2, 1, 7, 1, 0, bias=False),  # (B, 1, 1, 1)
        )
        dcgan_init(self)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(x).view(-1)
