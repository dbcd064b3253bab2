"""DiffAugment: differentiable augmentation for data-efficient GAN training.

Zhao, Liu, Lin, Zhu and Han, "Differentiable Augmentation for Data-Efficient GAN Training",
NeurIPS 2020 (arXiv:2006.10738). The same random, differentiable transformations are applied to
real and to fake images before the discriminator sees them, in both the D and the G step, so D
cannot overfit a small dataset and G still gets gradients through the augmentation. The three
policies and their parameters follow the authors' reference ``DiffAugment_pytorch.py``:

* ``color``: random brightness (+-0.5), saturation (x0..2) and contrast (x0.5..1.5);
* ``translation``: shift by up to 1/8 of the image with zero padding;
* ``cutout``: zero a random square of half the image side.

Randomness comes from an explicit ``torch.Generator`` so that runs are reproducible and resume
exactly.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..errors import ConfigError, did_you_mean

Augment = Callable[[torch.Tensor, torch.Generator | None], torch.Tensor]


def _rand(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Uniform [0, 1) per sample, shape (B, 1, 1, 1)."""
    return torch.rand(x.shape[0], 1, 1, 1, generator=generator, device=x.device, dtype=x.dtype)


def brightness(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    return x + (_rand(x, generator) - 0.5)


def saturation(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    mean = x.mean(dim=1, keepdim=True)  # (B, 1, H, W)
    return (x - mean) * (_rand(x, generator) * 2) + mean


def contrast(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    mean = x.mean(dim=(1, 2, 3), keepdim=True)  # (B, 1, 1, 1)
    return (x - mean) * (_rand(x, generator) + 0.5) + mean


def translation(
    x: torch.Tensor, generator: torch.Generator | None = None, ratio: float = 0.125
) -> torch.Tensor:
    b, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ty = torch.randint(-sh, sh + 1, (b, 1, 1), generator=generator, device=x.device)
    tx = torch.randint(-sw, sw + 1, (b, 1, 1), generator=generator, device=x.device)
    gb, gy, gx = torch.meshgrid(
        torch.arange(b, device=x.device),
        torch.arange(h, device=x.device),
        torch.arange(w, device=x.device),
        indexing="ij",
    )  # (B, H, W) each
    gy = torch.clamp(gy + ty + 1, 0, h + 1)
    gx = torch.clamp(gx + tx + 1, 0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1]).permute(0, 2, 3, 1)  # (B, H+2, W+2, C)
    return padded[gb, gy, gx].permute(0, 3, 1, 2).contiguous()  # (B, C, H, W)


def cutout(
    x: torch.Tensor, generator: torch.Generator | None = None, ratio: float = 0.5
) -> torch.Tensor:
    b, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    oy = torch.randint(0, h + (1 - ch % 2), (b, 1, 1), generator=generator, device=x.device)
    ox = torch.randint(0, w + (1 - cw % 2), (b, 1, 1), generator=generator, device=x.device)
    gb, gy, gx = torch.meshgrid(
        torch.arange(b, device=x.device),
        torch.arange(ch, device=x.device),
        torch.arange(cw, device=x.device),
        indexing="ij",
    )  # (B, ch, cw) each
    gy = torch.clamp(gy + oy - ch // 2, 0, h - 1)
    gx = torch.clamp(gx + ox - cw // 2, 0, w - 1)
    mask = torch.ones(b, h, w, dtype=x.dtype, device=x.device)
    mask[gb, gy, gx] = 0
    return x * mask.unsqueeze(1)  # (B, C, H, W)


POLICIES: dict[str, tuple[Augment, ...]] = {
    "color": (brightness, saturation, contrast),
    "translation": (translation,),
    "cutout": (cutout,),
}


def parse_policy(policy: str) -> tuple[str, ...]:
    """``"translation,cutout"`` -> ``("translation", "cutout")``; unknown names are errors."""
    names = tuple(p.strip() for p in (policy or "").split(",") if p.strip())
    for name in names:
        if name not in POLICIES:
            raise ConfigError(
                f"unknown augment policy '{name}'{did_you_mean(name, POLICIES)} "
                f"(choose from: {', '.join(POLICIES)}; e.g. --augment translation,cutout,color)"
            )
    return names


class DiffAugment:
    """Apply a policy to a batch; an empty policy is the identity."""

    def __init__(self, policy: str, generator: torch.Generator | None = None):
        self.policy = parse_policy(policy)
        self.generator = generator

    def __bool__(self) -> bool:
        return bool(self.policy)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """The augmented batch (B, C, H, W), in the memory layout ``x`` came in: translation's
        gather builds an NCHW tensor, and a channels_last D would otherwise get its input
        converted back before every call."""
        if not self.policy:
            return x
        channels_last = x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last)
        for name in self.policy:
            for fn in POLICIES[name]:
                x = fn(x, self.generator)
        return x.contiguous(memory_format=torch.channels_last) if channels_last else x
