"""DCGAN with a dense stem: the Keras / TensorFlow layout of the classic Fashion-GAN write-ups.

Most Keras GAN scripts (the TensorFlow DCGAN tutorial and the Fashion-MNIST write-ups that follow
it) build the generator as ``Dense -> Reshape -> Conv2DTranspose...`` and the discriminator as
``Conv2D... -> Flatten -> Dense``, with 5x5 kernels and "same" padding, rather than the all-conv
layout of Radford et al. (see ``dcgan.py``). This file is that layout in PyTorch:

* generator: a dense layer to a ``base x base x top`` map (7x7 for 28 px, 4x4 for 32, 8x8 for 64
  and 128), BatchNorm and activation, one stride-1 transposed conv, then stride-2 transposed convs
  halving the channels up to the image, tanh. For width 64 at 28 px this is exactly the tutorial
  (``7x7x256 -> 128 -> 64 -> 1``); at 128 px with width 32 it is the 128x128 grayscale
  image-folder GAN (``8x8x512 -> 256 -> 128 -> 64 -> 32 -> 1``), registered as ``dcgan-128``.
  ``final_conv=True`` keeps the last transposed conv at ``width`` channels and adds a 5x5 conv to
  the image with tanh ("three transposed convs with ReLU, then a tanh conv").
* discriminator: stride-2 5x5 convs (width, 2x, 4x, ...) with LeakyReLU and dropout 0.3 down to
  7x7 or 8x8, flatten, one dense logit (the sigmoid lives in the BCE loss).

Weights start from Glorot-uniform with zero biases, the Keras default.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..options import Range, ranges
from .layers import MAX_WIDTH, apply_spectral_norm, check_channels, check_image_size, norm2d
from .layers import activation as make_activation

SIZES = (28, 32, 64, 128)
#: Side of the first feature map (generator) and of the last one (discriminator).
BASE = {28: 7, 32: 4, 64: 8, 128: 8}


def keras_init(module: nn.Module) -> None:
    """Keras defaults: Glorot-uniform kernels, zero biases (BatchNorm keeps 1 and 0)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def _stages(image_size: int) -> int:
    return int(math.log2(image_size // BASE[image_size]))


@ranges(width=Range(1, MAX_WIDTH))
class DenseDCGANGenerator(nn.Module):
    """z (B, z_dim) -> dense -> (B, top, base, base) -> transposed convs -> (B, C, S, S) in
    [-1, 1]."""

    def __init__(
        self,
        z_dim: int = 100,
        image_size: int = 28,
        channels: int = 1,
        width: int = 64,
        activation: str = "leaky-relu",
        final_conv: bool = False,
    ):
        super().__init__()
        check_image_size("dcgan-dense generator", image_size, SIZES)
        check_channels("dcgan-dense generator", channels)
        self.z_dim, self.image_size, self.channels = z_dim, image_size, channels
        self.num_classes = 0  # unconditional
        self.base = BASE[image_size]
        n_up = _stages(image_size)
        # One stride-1 layer, then n_up stride-2 layers; channels halve at every layer.
        feats = [width * 2 ** (n_up - i) for i in range(n_up + 1)]
        feats.append(width if final_conv else channels)
        self.top = feats[0]
        self.stem = nn.Sequential(
            nn.Linear(z_dim, self.base * self.base * self.top, bias=False),
            nn.BatchNorm1d(self.base * self.base * self.top),
            make_activation(activation),
        )
        layers: list[nn.Module] = []
        for i in range(n_up + 1):
            last = i == n_up
            if i == 0:
                conv = nn.ConvTranspose2d(feats[0], feats[1], 5, 1, 2, bias=False)
            else:  # 5x5, stride 2, "same": exactly doubles the side
                conv = nn.ConvTranspose2d(
                    feats[i], feats[i + 1], 5, 2, 2, output_padding=1, bias=last and not final_conv
                )
            layers.append(conv)
            if not last or final_conv:
                layers += [nn.BatchNorm2d(feats[i + 1]), make_activation(activation)]
        if final_conv:
            layers.append(nn.Conv2d(width, channels, 5, 1, 2))
        layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)
        keras_init(self)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = self.stem(z).view(z.shape[0], self.top, self.base, self.base)  # (B, top, base, base)
        return self.net(h)  # (B, C, S, S)


@ranges(width=Range(1, MAX_WIDTH), dropout=Range(0, 1, high_open=True))
class DenseDCGANDiscriminator(nn.Module):
    """image (B, C, S, S) -> stride-2 convs -> flatten -> dense -> logit (B,)."""

    def __init__(
        self,
        image_size: int = 28,
        channels: int = 1,
        width: int = 64,
        activation: str = "leaky-relu",
        dropout: float = 0.3,
        norm: str = "none",
        spectral_norm: bool = False,
    ):
        super().__init__()
        check_image_size("dcgan-dense discriminator", image_size, SIZES)
        check_channels("dcgan-dense discriminator", channels)
        self.image_size, self.channels, self.num_classes = image_size, channels, 0
        n_down = _stages(image_size)
        feats = [channels] + [width * 2**i for i in range(n_down)]
        layers: list[nn.Module] = []
        for i in range(n_down):
            layers.append(nn.Conv2d(feats[i], feats[i + 1], 5, 2, 2))
            layer_norm = norm2d(norm, feats[i + 1]) if i > 0 else None
            if layer_norm is not None:
                layers.append(layer_norm)
            layers.append(make_activation(activation))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        norm2d(norm, 1)  # validate the option even with a single conv
        base = BASE[image_size]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(feats[-1] * base * base, 1)
        keras_init(self)
        if spectral_norm:
            apply_spectral_norm(self)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = self.features(x)  # (B, F, base, base)
        return self.head(h.flatten(1)).view(-1)  # (B,)


@ranges(width=Range(1, MAX_WIDTH))
def dcgan_128_generator(
    z_dim: int = 100,
    image_size: int = 128,
    channels: int = 1,
    width: int = 32,
    activation: str = "relu",
    final_conv: bool = False,
) -> DenseDCGANGenerator:
    """The 128x128 grayscale generator: noise 100 -> dense 8x8x512 -> transposed convs ->
    128x128."""
    check_image_size("dcgan-128 generator", image_size, (128,))
    return DenseDCGANGenerator(z_dim, image_size, channels, width, activation, final_conv)


@ranges(width=Range(1, MAX_WIDTH), dropout=Range(0, 1, high_open=True))
def dcgan_128_discriminator(
    image_size: int = 128,
    channels: int = 1,
    width: int = 64,
    activation: str = "leaky-relu",
    dropout: float = 0.3,
    norm: str = "none",
    spectral_norm: bool = False,
) -> DenseDCGANDiscriminator:
    """The 128x128 discriminator: four stride-2 convs to 8x8x512, flatten, dense logit."""
    check_image_size("dcgan-128 discriminator", image_size, (128,))
    return DenseDCGANDiscriminator(
        image_size, channels, width, activation, dropout, norm, spectral_norm
    )
