"""The dataset contract: images resident in memory as uint8, batched on the training device.

Small datasets (Fashion-MNIST is 47 MB) are best kept whole on the training device: an
:class:`ImageDataset` holds ``images`` (N, C, H, W) uint8 and ``labels`` (N,) int64, is moved
to the device once with :meth:`ImageDataset.to`, and :meth:`ImageDataset.batches` yields
shuffled float batches scaled to [-1, 1] on that device (a fresh permutation per epoch), with
no worker processes and no host round trip per batch. This is the "GPU-resident dataset" of
fast CIFAR-10 training scripts (Keller Jordan's airbench, tysam-code's hlb-CIFAR10).

A folder too big for memory is a :class:`gan_zoo.datasets.streaming.StreamingImageDataset`:
same attributes and methods (the :class:`~gan_zoo.contracts.Dataset` protocol), images decoded by
DataLoader workers. Code that trains or evaluates uses only the protocol.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..contracts import Dataset as Dataset  # the protocol, re-exported where it used to live
from ..errors import DataError

#: The splits every built-in dataset knows.
SPLITS = ("train", "test")


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float32 [-1, 1], the range generators produce (0 and 255 exactly)."""
    return torch.sub(images, 127.5).div_(127.5)  # uint8 - float scalar -> float32: two kernels


def check_split(name: str, split: str, splits: tuple[str, ...] = SPLITS) -> None:
    if split not in splits:
        choices = " and ".join(f"'{s}'" for s in splits)
        raise DataError(f"{name} has splits {choices}, not '{split}'")


def check_batch_size(name: str, n: int, batch_size: int, drop_last: bool) -> None:
    if batch_size < 1:
        raise DataError(f"batch size must be at least 1, not {batch_size}")
    if n == 0 or (drop_last and n < batch_size):
        raise DataError(
            f"{name} has {n} images, fewer than one batch of {batch_size}; "
            "use a smaller batch size or more images"
        )


def resize_images(images: torch.Tensor, size: int, chunk: int = 2048) -> torch.Tensor:
    """Antialiased bilinear resize of square uint8 (N, C, H, W) images to (N, C, size, size)."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    out = torch.empty((*images.shape[:2], size, size), dtype=torch.uint8)
    for start in range(0, images.shape[0], chunk):
        x = images[start : start + chunk].float()  # (b, C, H, W)
        x = F.interpolate(
            x, size=(size, size), mode="bilinear", antialias=True, align_corners=False
        )
        out[start : start + chunk] = x.round_().clamp_(0, 255).to(torch.uint8)
    return out


@dataclass
class ImageDataset:
    """A whole split in memory: uint8 images and int64 labels, on one device."""

    name: str
    split: str
    images: torch.Tensor  # (N, C, H, W) uint8
    labels: torch.Tensor  # (N,) int64
    class_names: list[str]
    source: str  # where the files were found

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise DataError(
                f"{self.name}: images must be uint8 (N, C, H, W), not {self.images.dtype} "
                f"{tuple(self.images.shape)}"
            )
        if self.labels.shape != (self.images.shape[0],):
            raise DataError(
                f"{self.name}: {self.images.shape[0]} images but labels of shape "
                f"{tuple(self.labels.shape)}"
            )
        self.labels = self.labels.long()

    @property
    def image_size(self) -> int:
        return int(self.images.shape[-1])

    @property
    def channels(self) -> int:
        return int(self.images.shape[1])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def device(self) -> torch.device:
        return self.images.device

    @property
    def nbytes(self) -> int:
        """Memory held by the images and labels."""
        return self.images.nelement() + self.labels.nelement() * self.labels.element_size()

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __repr__(self) -> str:
        return (
            f"ImageDataset({self.name!r}, split={self.split!r}, n={len(self)}, "
            f"size={self.image_size}, channels={self.channels}, classes={self.num_classes}, "
            f"device={self.device})"
        )

    def to(self, device: torch.device | str) -> ImageDataset:
        """Move the uint8 images and labels to ``device`` once."""
        self.images = self.images.to(device)
        self.labels = self.labels.to(device)
        return self

    def batches(
        self, batch_size: int, generator: torch.Generator | None = None, drop_last: bool = True
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One epoch of ``(images in [-1, 1] float32 (B, C, H, W), labels (B,))``.

        ``generator`` (a CPU :class:`torch.Generator`) makes the order reproducible; each call
        draws a fresh permutation.
        """
        n = len(self)
        check_batch_size(self.name, n, batch_size, drop_last)
        order = torch.randperm(n, generator=generator).to(self.images.device)  # (N,)
        stop = n - n % batch_size if drop_last else n
        for start in range(0, stop, batch_size):
            idx = order[start : start + batch_size]  # (B,)
            yield to_unit_range(self.images.index_select(0, idx)), self.labels.index_select(0, idx)

    def sample(
        self, n: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` random distinct images in [-1, 1] (fewer if the split is smaller) and labels."""
        idx = torch.randperm(len(self), generator=generator)[:n].to(self.images.device)
        return to_unit_range(self.images.index_select(0, idx)), self.labels.index_select(0, idx)

    def class_counts(self) -> list[int]:
        """Images per class, in the order of ``class_names`` (empty for unlabelled images)."""
        if not self.class_names:
            return []
        counts = torch.bincount(self.labels.cpu(), minlength=self.num_classes)
        return [int(c) for c in counts]
