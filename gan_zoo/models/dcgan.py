"""DCGAN: deep convolutional GAN (Radford, Metz and Chintala, 2015, arXiv:1511.06434).

The generator treats the latent vector as a 1x1 map and upsamples it with strided transposed
convolutions, BatchNorm and ReLU to a tanh image; the discriminator mirrors it with strided
convolutions and LeakyReLU 0.2 down to one logit. Weights start from N(0, 0.02) (BatchNorm scales
from N(1, 0.02)), as in the paper.

Layouts, for width ``w`` (the paper's ngf / ndf):

* 64x64: layer for layer the PyTorch reference DCGAN (``pytorch/examples/dcgan``): G is
  ``z -> 8w@4 -> 4w@8 -> 2w@16 -> w@32 -> C@64``, D the mirror ending in a 4x4 conv to one
  channel. The reference's final ``Sigmoid`` is left to the loss, which takes logits.
* 32x32: the same pattern one stage shorter (``z -> 4w@4 -> 2w@8 -> w@16 -> C@32``).
* 28x28 (Fashion-MNIST, the default): ``z -> 4w@7 -> 2w@14 -> C@28`` with a 7x7 first layer.

Options beyond the paper: ``activation`` (``relu`` / ``leaky-relu``) in either network, and in
D ``norm`` (``batch``, ``layer`` for WGAN-GP critics, or ``none``) and ``spectral_norm``.
"""

from __future__ import annotations

import torch
from torch import nn

from ..options import Range, ranges
from .layers import (
    MAX_WIDTH,
    apply_spectral_norm,
    check_channels,
    check_image_size,
    dcgan_init,
    norm2d,
)
from .layers import activation as make_activation

SIZES = (28, 32, 64)

__all__ = [
    "SIZES",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "dcgan_init",
    "discriminator_layers",
    "generator_layers",
]


def generator_layers(
    z_dim: int, image_size: int, channels: int, width: int, who: str = "dcgan generator"
) -> list[tuple[int, int, int, int, int]]:
    """The transposed convs of the generator as ``(in, out, kernel, stride, padding)``."""
    check_image_size(who, image_size, SIZES)
    w = width
    if image_size == 28:
        return [(z_dim, 4 * w, 7, 1, 0), (4 * w, 2 * w, 4, 2, 1), (2 * w, channels, 4, 2, 1)]
    mults = [8, 4, 2, 1] if image_size == 64 else [4, 2, 1]
    layers = [(z_dim, mults[0] * w, 4, 1, 0)]
    for a, b in zip(mults, mults[1:], strict=False):
        layers.append((a * w, b * w, 4, 2, 1))
    layers.append((w, channels, 4, 2, 1))
    return layers


def discriminator_layers(
    image_size: int, channels: int, width: int, who: str = "dcgan discriminator"
) -> list[tuple[int, int, int, int, int]]:
    """The convs of the discriminator as ``(in, out, kernel, stride, padding)``; the last gives
    the logit."""
    check_image_size(who, image_size, SIZES)
    w = width
    if image_size == 28:
        return [(channels, w, 4, 2, 1), (w, 2 * w, 4, 2, 1), (2 * w, 1, 7, 1, 0)]
    mults = [1, 2, 4, 8] if image_size == 64 else [1, 2, 4]
    layers = [(channels, w, 4, 2, 1)]
    for a, b in zip(mults, mults[1:], strict=False):
        layers.append((a * w, b * w, 4, 2, 1))
    layers.append((mults[-1] * w, 1, 4, 1, 0))
    return layers


@ranges(width=Range(1, MAX_WIDTH))
class DCGANGenerator(nn.Module):
    """z (B, z_dim) -> image (B, C, S, S) in [-1, 1], S in 28, 32, 64."""

    def __init__(
        self,
        z_dim: int = 100,
        image_size: int = 28,
        channels: int = 1,
        width: int = 64,
        activation: str = "relu",
    ):
        super().__init__()
        check_channels("dcgan generator", channels)
        self.z_dim, self.image_size, self.channels = z_dim, image_size, channels
        self.num_classes = 0  # unconditional
        specs = generator_layers(z_dim, image_size, channels, width)
        layers: list[nn.Module] = []
        for i, (cin, cout, k, s, p) in enumerate(specs):
            layers.append(nn.ConvTranspose2d(cin, cout, k, s, p, bias=False))
            if i < len(specs) - 1:
                layers += [nn.BatchNorm2d(cout), make_activation(activation)]
        layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z.view(z.shape[0], self.z_dim, 1, 1))  # (B, C, S, S)


@ranges(width=Range(1, MAX_WIDTH))
class DCGANDiscriminator(nn.Module):
    """image (B, C, S, S) -> logit (B,), S in 28, 32, 64."""

    def __init__(
        self,
        image_size: int = 28,
        channels: int = 1,
        width: int = 64,
        activation: str = "leaky-relu",
        norm: str = "batch",
        spectral_norm: bool = False,
    ):
        super().__init__()
        check_channels("dcgan discriminator", channels)
        self.image_size, self.channels, self.num_classes = image_size, channels, 0
        specs = discriminator_layers(image_size, channels, width)
        layers: list[nn.Module] = []
        for i, (cin, cout, k, s, p) in enumerate(specs):
            layers.append(nn.Conv2d(cin, cout, k, s, p, bias=False))
            if i == len(specs) - 1:
                break
            # As in the paper and the reference, the first layer has no normalization.
            layer_norm = norm2d(norm, cout) if i > 0 else None
            if layer_norm is not None:
                layers.append(layer_norm)
            layers.append(make_activation(activation))
        self.net = nn.Sequential(*layers)
        norm2d(norm, 1)  # validate the option even for layouts that never normalize
        dcgan_init(self)
        if spectral_norm:
            apply_spectral_norm(self)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(x).view(-1)  # (B, 1, 1, 1) -> (B,)
