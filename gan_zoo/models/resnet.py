"""SNGAN residual networks (Miyato et al., 2018, arXiv:1802.05957; Gulrajani et al., 2017).

The CIFAR-10 architecture of "Spectral Normalization for Generative Adversarial Networks",
appendix B.4: the generator maps z through a dense layer to a 4x4 map, three up-sampling
residual blocks (BatchNorm, ReLU, nearest 2x, 3x3 convs, 1x1 shortcut), BatchNorm, ReLU and a
3x3 conv to a tanh image; the discriminator has an "optimized" first block and three more
residual blocks (the first two down-sample with 2x2 average pooling), ReLU, global sum pooling
and a dense logit, with spectral normalization on every layer. Widths follow the paper
(G 256, D 128). The same blocks give 28 px (a 7x7 start, two up-sampling blocks) and 64 px
(a fourth block).

Weights start Glorot-uniform with gain sqrt(2) on the residual branch and 1 elsewhere, as in the
authors' Chainer code.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..options import Range, ranges
from .layers import MAX_WIDTH, apply_spectral_norm, check_channels, check_image_size
from .layers import activation as make_activation

SIZES = (28, 32, 64)


def _init(conv: nn.Module, gain: float) -> nn.Module:
    nn.init.xavier_uniform_(conv.weight, gain)
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)
    return conv


class GBlock(nn.Module):
    """BN, act, up 2x, conv 3x3, BN, act, conv 3x3; shortcut up 2x, conv 1x1."""

    def __init__(self, cin: int, cout: int, activation: str):
        super().__init__()
        self.bn1, self.bn2 = nn.BatchNorm2d(cin), nn.BatchNorm2d(cout)
        self.act = make_activation(activation, inplace=False)
        self.conv1 = _init(nn.Conv2d(cin, cout, 3, 1, 1), math.sqrt(2))
        self.conv2 = _init(nn.Conv2d(cout, cout, 3, 1, 1), math.sqrt(2))
        self.shortcut = _init(nn.Conv2d(cin, cout, 1), 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.interpolate(
            self.act(self.bn1(x)), scale_factor=2.0, mode="nearest"
        )  # (B, cin, 2H, 2W)
        h = self.conv2(self.act(self.bn2(self.conv1(h))))  # (B, cout, 2H, 2W)
        return h + self.shortcut(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class DBlock(nn.Module):
    """act, conv 3x3, act, conv 3x3, [avg-pool]; shortcut conv 1x1, [avg-pool].

    The first block of D ("optimized") skips the leading activation and pools before its 1x1
    shortcut, so the raw image is never passed through a ReLU.
    """

    def __init__(self, cin: int, cout: int, activation: str, downsample: bool, first: bool = False):
        super().__init__()
        self.downsample, self.first = downsample, first
        self.act = make_activation(activation, inplace=False)
        self.conv1 = _init(nn.Conv2d(cin, cout, 3, 1, 1), math.sqrt(2))
        self.conv2 = _init(nn.Conv2d(cout, cout, 3, 1, 1), math.sqrt(2))
        learn = first or downsample or cin != cout
        self.shortcut = _init(nn.Conv2d(cin, cout, 1), 1.0) if learn else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x if self.first else self.act(x)
        h = self.conv2(self.act(self.conv1(h)))  # (B, cout, H, W)
        if self.downsample:
            h = F.avg_pool2d(h, 2)  # (B, cout, H/2, W/2)
        s = x
        if self.first:
            s = self.shortcut(F.avg_pool2d(s, 2))
        elif self.shortcut is not None:
            s = self.shortcut(s)
            if self.downsample:
                s = F.avg_pool2d(s, 2)
        return h + s


def _n_up(image_size: int) -> tuple[int, int]:
    """(start side, up-sampling blocks) of the generator."""
    return (7, 2) if image_size == 28 else (4, int(math.log2(image_size // 4)))


@ranges(width=Range(1, MAX_WIDTH))
class ResNetGenerator(nn.Module):
    """z (B, z_dim) -> dense 4x4 (7x7 at 28 px) -> residual up-blocks -> (B, C, S, S) in [-1, 1]."""

    def __init__(
        self,
        z_dim: int = 128,
        image_size: int = 32,
        channels: int = 3,
        width: int = 256,
        activation: str = "relu",
    ):
        super().__init__()
        check_image_size("resnet generator", image_size, SIZES)
        check_channels("resnet generator", channels)
        self.z_dim, self.image_size, self.channels = z_dim, image_size, channels
        self.num_classes = 0  # unconditional
        self.base, n_up = _n_up(image_size)
        self.width = width
        self.dense = _init(nn.Linear(z_dim, self.base * self.base * width), 1.0)
        self.blocks = nn.Sequential(*(GBlock(width, width, activation) for _ in range(n_up)))
        self.out = nn.Sequential(
            nn.BatchNorm2d(width),
            make_activation(activation),
            _init(nn.Conv2d(width, channels, 3, 1, 1), 1.0),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = self.dense(z).view(z.shape[0], self.width, self.base, self.base)  # (B, w, 4, 4)
        return self.out(self.blocks(h))  # (B, C, S, S)


@ranges(width=Range(1, MAX_WIDTH))
class ResNetDiscriminator(nn.Module):
    """image (B, C, S, S) -> residual down-blocks -> global sum pool -> logit (B,)."""

    def __init__(
        self,
        image_size: int = 32,
        channels: int = 3,
        width: int = 128,
        activation: str = "relu",
        spectral_norm: bool = True,
    ):
        super().__init__()
        check_image_size("resnet discriminator", image_size, SIZES)
        check_channels("resnet discriminator", channels)
        self.image_size, self.channels, self.num_classes = image_size, channels, 0
        n_down = 3 if image_size == 64 else 2
        blocks = [DBlock(channels, width, activation, downsample=True, first=True)]
        blocks += [DBlock(width, width, activation, downsample=True) for _ in range(n_down - 1)]
        blocks += [DBlock(width, width, activation, downsample=False) for _ in range(2)]
        self.blocks = nn.Sequential(*blocks)
        self.act = make_activation(activation)
        self.head = _init(nn.Linear(width, 1), 1.0)
        if spectral_norm:
            apply_spectral_norm(self)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Globally sum-pooled features (B, width), shared with the projection discriminator."""
        return self.act(self.blocks(x)).sum(dim=(2, 3))

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(x)).view(-1)  # (B,)
