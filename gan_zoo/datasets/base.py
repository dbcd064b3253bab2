"""The dataset contract: images resident in memory as uint8, batched on the training device.

An :class:`ImageDataset` holds ``images`` (N, C, H, W) uint8 and ``labels`` (N,) int64 on one
device. :meth:`ImageDataset.batches` yields shuffled float batches scaled to [-1, 1] on that
device, with no worker processes and no host round trip per batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch


@dataclass
class ImageDataset:
    name: str
    split: str
    images: torch.Tensor  # (N, C, H, W) uint8
    labels: torch.Tensor  # (N,) int64
    class_names: list[str]
    source: str  # where the files were found

    @property
    def image_size(self) -> int:
        return int(self.images.shape[-1])

    @property
    def channels(self) -> int:
        return int(self.images.shape[1])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def to(self, device: torch.device | str) -> ImageDataset:
        """Move the uint8 images and labels to ``device`` once."""
        self.images = self.images.to(device)
        self.labels = self.labels.to(device)
        return self

    def batches(
        self, batch_size: int, generator: torch.Generator | None = None, drop_last: bool = True
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One epoch of ``(images in [-1, 1] float32 (B, C, H, W), labels (B,))``."""
        n = len(self)
        order = torch.randperm(n, generator=generator, device="cpu").to(self.images.device)
        stop = n - n % batch_size if drop_last else n
        for start in range(0, stop, batch_size):
            idx = order[start : start + batch_size]
            x = self.images.index_select(0, idx).float().div_(127.5).sub_(1.0)
            yield x, self.labels.index_select(0, idx)
