"""Class-conditional GANs: a conditional-BatchNorm DCGAN generator and a projection discriminator.

* ``cdcgan`` generator: the DCGAN layout of ``dcgan.py`` with every BatchNorm replaced by a
  conditional BatchNorm whose scale and shift are looked up from the class label (de Vries et
  al. 2017, "Modulating early visual processing by language"; used by Miyato & Koyama 2018 and
  BigGAN).
* ``projection`` discriminator (Miyato and Koyama, 2018, "cGANs with Projection Discriminator",
  arXiv:1802.05637): a feature extractor phi, globally sum-pooled, then
  ``logit = psi(phi(x)) + <embed(y), phi(x)>``: the label enters as an inner product with the
  features instead of being concatenated to the input. Spectral normalization on every layer,
  as in the paper. The trunk is either the DCGAN convs (``trunk="dcgan"``, no BatchNorm) or
  the SNGAN residual blocks (``trunk="resnet"``, the paper's own choice).

Both take ``num_classes`` and need ``labels`` (B,) int64 in ``forward``.
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import ConfigError
from ..options import Range, ranges
from .dcgan import SIZES, discriminator_layers, generator_layers
from .layers import (
    MAX_WIDTH,
    ConditionalBatchNorm2d,
    apply_spectral_norm,
    check_channels,
    check_choice,
    dcgan_init,
    require_labels,
)
from .layers import activation as make_activation
from .resnet import ResNetDiscriminator


def _check_classes(who: str, num_classes: int) -> int:
    if num_classes < 1:
        raise ConfigError(
            f"{who} is class-conditional: num_classes must be at least 1, got {num_classes}"
        )
    return num_classes


@ranges(width=Range(1, MAX_WIDTH))
class CDCGANGenerator(nn.Module):
    """(z (B, z_dim), labels (B,)) -> image (B, C, S, S) in [-1, 1]; DCGAN with conditional
    BatchNorm."""

    def __init__(
        self,
        z_dim: int = 100,
        image_size: int = 28,
        channels: int = 1,
        num_classes: int = 10,
        width: int = 64,
        activation: str = "relu",
    ):
        super().__init__()
        check_channels("cdcgan generator", channels)
        self.z_dim, self.image_size, self.channels = z_dim, image_size, channels
        self.num_classes = _check_classes("cdcgan generator", num_classes)
        specs = generator_layers(z_dim, image_size, channels, width, "cdcgan generator")
        self.convs = nn.ModuleList(nn.ConvTranspose2d(*spec, bias=False) for spec in specs)
        self.norms = nn.ModuleList(
            ConditionalBatchNorm2d(spec[1], num_classes) for spec in specs[:-1]
        )
        self.act = make_activation(activation)
        for conv in self.convs:
            dcgan_init(conv)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        labels = require_labels("cdcgan generator", labels, z.shape[0])
        h = z.view(z.shape[0], self.z_dim, 1, 1)  # (B, z_dim, 1, 1)
        for conv, norm in zip(self.convs, self.norms, strict=False):
            h = self.act(norm(conv(h), labels))  # (B, C_i, S_i, S_i)
        return torch.tanh(self.convs[-1](h))  # (B, C, S, S)


@ranges(width=Range(1, MAX_WIDTH))
class ProjectionDiscriminator(nn.Module):
    """(image (B, C, S, S), labels (B,)) -> logit (B,) = psi(phi(x)) + <embed(y), phi(x)>."""

    def __init__(
        self,
        image_size: int = 28,
        channels: int = 1,
        num_classes: int = 10,
        width: int = 64,
        activation: str = "leaky-relu",
        trunk: str = "dcgan",
        spectral_norm: bool = True,
    ):
        super().__init__()
        check_channels("projection discriminator", channels)
        check_choice("trunk", trunk, ("dcgan", "resnet"))
        self.image_size, self.channels = image_size, channels
        self.num_classes = _check_classes("projection discriminator", num_classes)
        if trunk == "dcgan":
            who = "projection discriminator"
            specs = discriminator_layers(image_size, channels, width, who)[:-1]  # no logit conv
            layers: list[nn.Module] = []
            for spec in specs:
                layers += [nn.Conv2d(*spec), make_activation(activation)]
            self.trunk = nn.Sequential(*layers)
            features = specs[-1][1]
            dcgan_init(self.trunk)
        else:
            self.trunk = ResNetDiscriminator(
                image_size, channels, width, activation, spectral_norm=False
            )
            del self.trunk.head  # only its features are used
            features = width
        self.trunk_kind = trunk
        self.head = nn.Linear(features, 1)
        self.embed = nn.Embedding(num_classes, features)
        nn.init.xavier_uniform_(self.embed.weight)
        if spectral_norm:
            apply_spectral_norm(self)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        if self.trunk_kind == "resnet":
            return self.trunk.features(x)  # (B, F)
        return self.trunk(x).sum(dim=(2, 3))  # (B, F, s, s) -> (B, F)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        labels = require_labels("projection discriminator", labels, x.shape[0])
        h = self.features(x)  # (B, F)
        return self.head(h).view(-1) + (self.embed(labels) * h).sum(dim=1)  # (B,)


__all__ = ["SIZES", "CDCGANGenerator", "ProjectionDiscriminator"]
