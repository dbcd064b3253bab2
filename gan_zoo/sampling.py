"""Sampling from a trained generator: ``gan_zoo.load``, latents, truncation, slerp, images.

:func:`load` rebuilds a generator from a run, a checkpoint directory, or a lone
``generator.safetensors`` (:func:`gan_zoo.checkpoint.load_generator`: the registry entry and
its options from the config record, every tensor name and shape checked) and returns it in eval
mode wrapped in a :class:`LoadedGenerator` with ``sample``, ``interpolate`` and ``to_pil``.
Writing samples to files (grids, ``.npz``, GIFs) is :mod:`gan_zoo.sample_files`.

Design origin: the truncation trick resamples latent values beyond a threshold (Brock,
Donahue and Simonyan 2018, "Large Scale GAN Training", BigGAN); generators with an intermediate
latent space truncate there instead, ``w = w_avg + psi * (w - w_avg)`` (Karras et al. 2019,
StyleGAN), which ``psi`` asks of any generator whose ``forward`` takes ``truncation_psi``;
latent walks use spherical
interpolation, which keeps Gaussian latents at a typical norm (White 2016, "Sampling
Generative Networks", arXiv:1609.04468). Latents are drawn on the CPU from a seeded generator,
so a seed gives the same images on every device.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .checkpoint import load_generator
from .contracts import GENERATOR, takes_truncation_psi
from .errors import ConfigError, unknown
from .images import pil_image, to_uint8
from .sample_files import BATCH_SIZE, SampleRequest

LabelsLike = int | str | Sequence[int | str] | torch.Tensor | None


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``"auto"`` (or None) -> CUDA, else MPS, else CPU; one checker shared with the trainer."""
    from .training.precision import resolve_device as check

    return check("auto" if device is None else str(device))


# Latents.
#: Redraws of the truncation trick before the values still outside are clamped.
MAX_ROUNDS = 100
#: Latents are drawn this many at a time (the same numbers in any batch size; memory stays flat).
LATENT_CHUNK = 65_536


def truncated_normal(
    shape: tuple[int, ...], threshold: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """N(0, 1) samples with every value beyond ``±threshold`` drawn again (the truncation trick).

    After :data:`MAX_ROUNDS` redraws (a tiny threshold would redraw forever) the values still
    outside are clamped to ``±threshold``, with a one-line warning.
    """
    if not threshold > 0:
        raise ConfigError(f"truncation must be a positive number (e.g. 0.7), got {threshold}")
    z = torch.randn(shape, generator=generator)
    outside = z.abs() > threshold
    for _ in range(MAX_ROUNDS):  # at threshold 0.5 about 62% of values are redrawn per round
        if not outside.any():
            return z
        z[outside] = torch.randn(int(outside.sum()), generator=generator)
        outside = z.abs() > threshold
    left = int(outside.sum())
    if left:
        warnings.warn(
            f"truncation {threshold:g} is so small that {left} of {z.numel()} latent values were "
            f"still beyond it after {MAX_ROUNDS} redraws and were clamped; use a larger "
            "--truncation (e.g. 0.5)",
            stacklevel=2,
        )
    return z.clamp_(-threshold, threshold)


def slerp(a: torch.Tensor, b: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between latents ``a`` and ``b`` (..., D) at ``t`` in [0, 1]."""
    t = torch.as_tensor(t, dtype=a.dtype, device=a.device)
    a_n = a / a.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    b_n = b / b.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    omega = torch.acos((a_n * b_n).sum(-1, keepdim=True).clamp(-1.0, 1.0))  # (..., 1)
    so = torch.sin(omega)
    linear = (1.0 - t) * a + t * b  # nearly parallel latents: slerp is lerp
    spherical = (torch.sin((1.0 - t) * omega) * a + torch.sin(t * omega) * b) / so.clamp_min(1e-12)
    return torch.where(so.abs() < 1e-6, linear, spherical)


#: The paths a latent walk can take: spherical (slerp, the default) or straight (lerp).
PATHS = ("slerp", "lerp")


def walk_point(a: torch.Tensor, b: torch.Tensor, t: float, path: str = "slerp") -> torch.Tensor:
    """The point at ``t`` in [0, 1] on the ``path`` (``slerp`` or ``lerp``) from ``a`` to ``b``."""
    if path == "slerp":
        return slerp(a, b, t)
    if path == "lerp":
        return torch.lerp(a, b, float(t))
    raise ConfigError(f"unknown walk path '{path}'; use {' or '.join(PATHS)}")


class LoadedGenerator(nn.Module):
    """A generator rebuilt from a checkpoint, in eval mode, with sampling helpers.

    Calling it is calling the generator: ``g(z (B, z_dim), labels (B,) | None) -> (B, C, H, W)``.
    """

    def __init__(
        self, net: nn.Module, record: dict[str, Any], class_names: list[str], source: Path
    ):
        super().__init__()
        self.net = net
        self.z_dim, self.image_size = int(net.z_dim), int(net.image_size)
        self.channels, self.num_classes = (
            int(net.channels),
            int(getattr(net, "num_classes", 0) or 0),
        )
        self.config = record
        self.class_names = list(class_names)
        self.source = source

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z, labels)

    @property
    def supports_psi(self) -> bool:
        """True when the generator truncates in its own latent space: its ``forward`` takes
        ``truncation_psi`` (StyleGAN's ``w = w_avg + psi * (w - w_avg)``)."""
        return takes_truncation_psi(self.net)

    def check_psi(self, psi: float | None) -> float | None:
        """``psi`` as a float, or a one-line error for a non-finite value or a generator
        without an intermediate latent space."""
        if psi is None:
            return None
        if isinstance(psi, bool) or not isinstance(psi, (int, float)) or not math.isfinite(psi):
            raise ConfigError(
                f"psi must be a finite number (e.g. 0.7; 1 = no truncation), got {psi!r}"
            )
        if not self.supports_psi:
            spec = self.config.get("generator")
            name = spec.get("name") if isinstance(spec, dict) else spec
            name = name or type(self.net).__name__
            raise ConfigError(
                f"generator '{name}' has no intermediate latent space to truncate "
                "(its forward takes "
                "no truncation_psi); use --truncation for the truncation trick on z"
            )
        return float(psi)

    def _run(self, z: torch.Tensor, y: torch.Tensor | None, psi: float | None) -> torch.Tensor:
        if psi is None:
            return self.net(z, y)
        return self.net(z, y, truncation_psi=psi)

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    def class_index(self, value: int | str) -> int:
        """A class number or name (case and punctuation ignored, e.g. 'ankle-boot') -> its index."""
        if not self.num_classes:
            raise ConfigError(
                "this generator is unconditional; it takes no class (drop --class / labels)"
            )
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, int):
            if not 0 <= value < self.num_classes:
                raise ConfigError(
                    f"class {value} is out of range; "
                    f"this generator has classes 0..{self.num_classes - 1}"
                )
            return value
        key = _norm(value)
        for i, name in enumerate(self.class_names):
            if _norm(name) == key:
                return i
        if not self.class_names:
            raise ConfigError(
                "this checkpoint records no class names; "
                f"use a class number 0..{self.num_classes - 1}"
            )
        raise unknown("class", str(value), [n.lower() for n in self.class_names])

    def labels_for(self, n: int, labels: LabelsLike = None) -> torch.Tensor | None:
        """(n,) int64 labels on the device: one class for all, a list, or 0..K-1 cycling if None."""
        if labels is None:
            return (
                torch.arange(n, device=self.device) % self.num_classes if self.num_classes else None
            )
        if isinstance(labels, torch.Tensor):
            labels = labels.tolist() if labels.ndim else int(labels)
        items = [labels] if isinstance(labels, (int, str)) else list(labels)
        index = torch.tensor([self.class_index(v) for v in items], dtype=torch.long)
        if len(index) not in (1, n):
            raise ConfigError(
                f"got {len(index)} labels for {n} samples; give one label or one per sample"
            )
        return index.expand(n).to(self.device) if len(index) == 1 else index.to(self.device)

    def latents(
        self, n: int, seed: int | None = None, truncation: float | None = None
    ) -> torch.Tensor:
        """(n, z_dim) latents drawn on the CPU (seeded: the same on every device), then moved."""
        gen = torch.Generator().manual_seed(int(seed)) if seed is not None else None
        return self._draw(n, gen, truncation)

    def _draw(self, n: int, gen: torch.Generator | None, truncation: float | None) -> torch.Tensor:
        if truncation is None:
            z = torch.randn(n, self.z_dim, generator=gen)
        else:
            z = truncated_normal((n, self.z_dim), float(truncation), gen)
        return z.to(self.device)

    def iter_samples(
        self,
        n: int,
        labels: LabelsLike = None,
        seed: int | None = None,
        truncation: float | None = None,
        batch_size: int = BATCH_SIZE,
        psi: float | None = None,
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        """Batches of ``(images (b, C, H, W) in [-1, 1], labels (b,) | None)``, ``n`` in all."""
        return self.iter_requested(SampleRequest(n, labels, seed, truncation, batch_size, psi))

    @torch.no_grad()
    def iter_requested(
        self, request: SampleRequest
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        """:meth:`iter_samples` for a :class:`~gan_zoo.sample_files.SampleRequest`."""
        n, batch_size, truncation = request.n, request.batch_size, request.truncation
        if n < 1:
            raise ConfigError(f"the number of samples must be at least 1, got {n}")
        psi = self.check_psi(request.psi)
        labels = request.labels
        y = self.labels_for(n, labels) if labels is not None else None  # (n,), a view for one class
        gen = torch.Generator().manual_seed(int(request.seed)) if request.seed is not None else None
        for first in range(0, n, LATENT_CHUNK):  # latents a chunk at a time: memory stays flat
            z = self._draw(min(LATENT_CHUNK, n - first), gen, truncation)  # (chunk, z_dim)
            for offset in range(0, len(z), batch_size):
                start, stop = first + offset, first + min(offset + batch_size, len(z))
                if y is not None:
                    yb = y[start:stop]
                elif self.num_classes:  # 0..K-1 cycling, as labels_for does
                    yb = torch.arange(start, stop, device=self.device) % self.num_classes
                else:
                    yb = None
                yield self._run(z[offset : offset + (stop - start)], yb, psi).clamp_(-1, 1), yb

    def sample(
        self,
        n: int,
        labels: LabelsLike = None,
        seed: int | None = None,
        truncation: float | None = None,
        batch_size: int = BATCH_SIZE,
        psi: float | None = None,
    ) -> torch.Tensor:
        """``n`` images (n, C, H, W) in [-1, 1]; ``labels`` are class numbers or names.

        ``truncation`` redraws latent values beyond ``±truncation`` (any generator); ``psi``
        pulls the intermediate latent toward its mean (generators with :attr:`supports_psi`)."""
        batches = self.iter_requested(SampleRequest(n, labels, seed, truncation, batch_size, psi))
        return torch.cat([x for x, _ in batches])

    @torch.no_grad()
    def interpolate(
        self,
        steps: int,
        walks: int = 1,
        labels: LabelsLike = None,
        seed: int | None = None,
        truncation: float | None = None,
        psi: float | None = None,
        path: str = "slerp",
        to_labels: LabelsLike = None,
    ) -> torch.Tensor:
        """(steps, walks, C, H, W): ``walks`` walks between two random latents each, along
        ``path`` (``slerp`` or ``lerp``).

        ``to_labels`` (conditional generators) walks from the classes ``labels`` to these: the
        generator takes whole class labels, so each frame blends the images of both classes at
        its latent, weighted by how far along the walk it is."""
        if steps < 2:
            raise ConfigError(f"an interpolation needs at least 2 steps, got {steps}")
        if path not in PATHS:
            raise ConfigError(f"unknown walk path '{path}'; use {' or '.join(PATHS)}")
        if to_labels is not None and not self.num_classes:
            raise ConfigError("a walk between classes needs a conditional generator")
        psi = self.check_psi(psi)
        ends = self.latents(2 * walks, seed, truncation)  # (2 * walks, z_dim)
        y = self.labels_for(walks, labels)
        y_to = self.labels_for(walks, to_labels) if to_labels is not None else None
        frames = []
        for i in range(steps):
            t = i / (steps - 1)
            z = walk_point(ends[:walks], ends[walks:], t, path)  # (walks, z_dim)
            images = self._run(z, y, psi)  # (walks, C, H, W)
            if y_to is not None:
                images = torch.lerp(images, self._run(z, y_to, psi), t)
            frames.append(images.clamp_(-1, 1))
        return torch.stack(frames)

    def to_pil(self, images: torch.Tensor, scale: int = 1) -> list:
        """(B, C, H, W) images in [-1, 1] -> a list of PIL images (``scale``: nearest upscaling)."""
        return [pil_image(img, scale) for img in to_uint8(images)]


def _norm(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def load(path: str | Path, device: str | torch.device | None = "cpu") -> LoadedGenerator:
    """The generator at ``path`` (a run, a checkpoint dir, a ``generator.safetensors``, a
    pretrained tag from ``gan-zoo list pretrained`` or ``hf-hub:owner/name[@revision]``) on
    ``device`` (``cpu``, ``auto``, ``cuda``, ...), in eval mode, ready to sample.

    Example::

        g = gan_zoo.load("runs/dcgan-fashion-mnist-20250101-120000", device="cpu")
        g = gan_zoo.load("dcgan.fashion-mnist")  # pip install gan-zoo-pretrained
        images = g.sample(16, seed=0)  # (16, 1, 28, 28) in [-1, 1]
    """
    stored = load_generator(path)
    loaded = LoadedGenerator(stored.net, stored.record, stored.class_names, stored.source)
    loaded = loaded.to(resolve_device(device)).eval()
    # The plugin contract, once, on two samples from a private seed.
    GENERATOR.check(
        stored.net,
        "run",
        image_size=loaded.image_size,
        channels=loaded.channels,
        device=loaded.device,
    )
    return loaded
