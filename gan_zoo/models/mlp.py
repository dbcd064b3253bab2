"""Fully connected GANs (Goodfellow et al., 2014, arXiv:1406.2661).

The original GAN: a generator and a discriminator that are plain multi-layer perceptrons on
flattened images. The paper's generator uses rectifiers and its discriminator maxout units with
dropout; like most PyTorch ports we use ReLU in G and LeakyReLU 0.2 with dropout 0.3 in D.

``mlp-relu`` is the discriminator the classic Keras Fashion-GAN write-ups pair with a conv
generator: flatten, dense 512 ReLU, dense 256 ReLU, one output (their sigmoid is in the BCE loss).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..errors import ConfigError
from ..options import Range, ranges
from .layers import MAX_HIDDEN, apply_spectral_norm, check_channels
from .layers import activation as make_activation


def _hidden(who: str, hidden: Sequence[int]) -> tuple[int, ...]:
    sizes = tuple(int(h) for h in hidden)
    if not sizes or min(sizes) < 1:
        raise ConfigError(
            f"{who} needs at least one hidden layer of positive size, got {list(hidden)}"
        )
    return sizes


@ranges(hidden=Range(1, MAX_HIDDEN))
class MLPGenerator(nn.Module):
    """z (B, z_dim) -> dense layers -> (B, C, S, S) in [-1, 1]; works at any size."""

    def __init__(
        self,
        z_dim: int = 100,
        image_size: int = 28,
        channels: int = 1,
        hidden: Sequence[int] = (256, 512, 1024),
        activation: str = "relu",
        batch_norm: bool = False,
    ):
        super().__init__()
        check_channels("mlp generator", channels)
        self.z_dim, self.image_size, self.channels = z_dim, image_size, channels
        self.num_classes = 0  # unconditional
        layers: list[nn.Module] = []
        sizes = (z_dim, *_hidden("mlp generator", hidden))
        for a, b in zip(sizes, sizes[1:], strict=False):
            layers.append(nn.Linear(a, b, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm1d(b))
            layers.append(make_activation(activation))
        layers += [nn.Linear(sizes[-1], channels * image_size * image_size), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        x = self.net(z)  # (B, C * S * S)
        return x.view(z.shape[0], self.channels, self.image_size, self.image_size)


@ranges(hidden=Range(1, MAX_HIDDEN), dropout=Range(0, 1, high_open=True))
class MLPDiscriminator(nn.Module):
    """image (B, C, S, S) -> flatten -> dense layers -> logit (B,); works at any size."""

    def __init__(
        self,
        image_size: int = 28,
        channels: int = 1,
        hidden: Sequence[int] = (1024, 512, 256),
        activation: str = "leaky-relu",
        dropout: float = 0.3,
        spectral_norm: bool = False,
    ):
        super().__init__()
        check_channels("mlp discriminator", channels)
        self.image_size, self.channels, self.num_classes = image_size, channels, 0
        layers: list[nn.Module] = [nn.Flatten()]
        sizes = (channels * image_size * image_size, *_hidden("mlp discriminator", hidden))
        for a, b in zip(sizes, sizes[1:], strict=False):
            layers += [nn.Linear(a, b), make_activation(activation)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(sizes[-1], 1))
        self.net = nn.Sequential(*layers)
        if spectral_norm:
            apply_spectral_norm(self)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(x).view(-1)  # (B,)


@ranges(hidden=Range(1, MAX_HIDDEN), dropout=Range(0, 1, high_open=True))
def mlp_relu_discriminator(
    image_size: int = 28,
    channels: int = 1,
    hidden: Sequence[int] = (512, 256),
    activation: str = "relu",
    dropout: float = 0.0,
    spectral_norm: bool = False,
) -> MLPDiscriminator:
    """The write-ups' discriminator: flatten, dense 512 ReLU, dense 256 ReLU, one logit."""
    return MLPDiscriminator(image_size, channels, hidden, activation, dropout, spectral_norm)
