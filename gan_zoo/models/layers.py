"""Building blocks shared by the architecture families.

* :func:`activation`: the ReLU / LeakyReLU choice every family offers as an option;
* :func:`norm2d`: BatchNorm, layer norm (``GroupNorm(1, C)``, as in the WGAN-GP critics) or none;
* :func:`apply_spectral_norm`: spectral normalization (Miyato et al. 2018, arXiv:1802.05957)
  of every conv, linear and embedding layer of a network, applied after initialisation;
* :class:`ConditionalBatchNorm2d`: BatchNorm whose scale and shift come from the class label
  (de Vries et al. 2017; Miyato & Koyama 2018);
* :func:`check_choice` / :func:`check_image_size`: option errors as one-line messages.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from ..errors import ConfigError, did_you_mean

ACTIVATIONS = ("relu", "leaky-relu")
NORMS = ("batch", "layer", "none")

#: Upper bounds of the width and hidden-size options: far above any recipe, low enough that a
#: typo (an extra zero or two) fails at once instead of allocating gigabytes.
MAX_WIDTH, MAX_HIDDEN = 4096, 65_536

#: The LeakyReLU slope used throughout (DCGAN, the Keras tutorials, SNGAN's CNN).
LEAKY_SLOPE = 0.2


def check_choice(what: str, value: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise a one-line :class:`ConfigError`."""
    choices = tuple(choices)
    if value not in choices:
        raise ConfigError(
            f"unknown {what} '{value}'{did_you_mean(str(value), choices)} "
            f"(choose from: {', '.join(choices)})"
        )
    return value


def check_image_size(who: str, image_size: int, sizes: Iterable[int]) -> int:
    """Raise a one-line :class:`ConfigError` unless ``image_size`` is one of ``sizes``."""
    sizes = tuple(sizes)
    if image_size not in sizes:
        shown = ", ".join(str(s) for s in sizes)
        kind = "discriminators" if "discriminator" in who else "generators"
        raise ConfigError(
            f"{who} supports image sizes {shown}, not {image_size}; pick one that supports "
            f"{image_size} px (gan-zoo list {kind} --image-size {image_size}) or resize the data"
        )
    return image_size


def check_channels(who: str, channels: int) -> int:
    if channels < 1:
        raise ConfigError(f"{who} needs at least 1 image channel, got {channels}")
    return channels


def activation(name: str, inplace: bool = True) -> nn.Module:
    """``"relu"`` or ``"leaky-relu"`` (slope 0.2); in place unless a residual branch needs the
    input."""
    check_choice("activation", name, ACTIVATIONS)
    if name == "relu":
        return nn.ReLU(inplace=inplace)
    return nn.LeakyReLU(LEAKY_SLOPE, inplace=inplace)


def norm2d(name: str, channels: int) -> nn.Module | None:
    """A 2-d normalization layer, or ``None`` for ``"none"``."""
    check_choice("norm", name, NORMS)
    if name == "batch":
        return nn.BatchNorm2d(channels)
    if name == "layer":  # normalizes over (C, H, W) per sample: no batch statistics in a critic
        return nn.GroupNorm(1, channels)
    return None


def apply_spectral_norm(module: nn.Module) -> nn.Module:
    """Spectrally normalize the weight of every conv, linear and embedding layer in place."""
    from torch.nn.utils.parametrizations import spectral_norm

    layers = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)
    for m in list(module.modules()):
        if isinstance(m, layers):
            spectral_norm(m)
    return module


def dcgan_init(module: nn.Module) -> None:
    """The DCGAN paper's initialisation: weights N(0, 0.02), BatchNorm scale N(1, 0.02), bias 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)) and m.affine:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm without its own affine part; the scale and shift are looked up by label."""

    def __init__(self, num_features: int, num_classes: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(num_features, affine=False)
        self.embed = nn.Embedding(num_classes, 2 * num_features)
        # Start as plain BatchNorm with the DCGAN scale init: scale N(1, 0.02), shift 0.
        nn.init.normal_(self.embed.weight[:, :num_features], 1.0, 0.02)
        nn.init.zeros_(self.embed.weight[:, num_features:])

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.embed(labels).chunk(2, dim=1)  # (B, C) each
        return self.bn(x) * gamma[:, :, None, None] + beta[:, :, None, None]


def require_labels(who: str, labels: torch.Tensor | None, batch: int) -> torch.Tensor:
    """The labels of a conditional network's batch, checked; a one-line error if missing."""
    if labels is None:
        raise ConfigError(
            f"{who} is class-conditional and needs labels; train it on a labelled dataset "
            "(gan-zoo list datasets --conditional)"
        )
    if labels.shape != (batch,):
        raise ConfigError(
            f"{who} needs one label per image: got {tuple(labels.shape)} for {batch} images"
        )
    return labels
