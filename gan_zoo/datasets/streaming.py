"""A dataset too big for memory: files decoded by DataLoader workers, same interface.

:class:`StreamingImageDataset` follows the :class:`gan_zoo.datasets.base.Dataset` protocol of
the in-memory :class:`~gan_zoo.datasets.base.ImageDataset` (``batches``, ``sample``, ``to``,
``labels``, ``class_names``, ...), so the trainer never knows which one it has. Each epoch it
draws a fresh permutation from the caller's generator, and a persistent
:class:`torch.utils.data.DataLoader` decodes the files in that order in worker processes, the
way torchvision's ``ImageFolder`` pipelines do. A file that fails to decode is dropped from
its batch (that batch is smaller) and the epoch ends with one warning that counts them.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator, Sequence

import torch
from torch.utils.data import DataLoader, Sampler
from torch.utils.data import Dataset as TorchDataset

from ..errors import DataError
from .base import check_batch_size, to_unit_range

#: ``load(path) -> uint8 (C, H, W)``; must be picklable (a module-level function or a partial).
Loader = Callable[[str], torch.Tensor]


class FileImages(TorchDataset):
    """``files[i]`` decoded by ``load``: ``(image (C, H, W) uint8 or None, label, i)``."""

    def __init__(self, files: Sequence[str], labels: Sequence[int], load: Loader):
        self.files, self.labels, self.load = list(files), list(labels), load

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> tuple[torch.Tensor | None, int, int]:
        try:
            image = self.load(self.files[i])
        except Exception:  # corrupt or unreadable: counted by collate, reported by the caller
            image = None
        return image, self.labels[i], i


def collate(items: list[tuple[torch.Tensor | None, int, int]]):
    """-> images (B, C, H, W) uint8, labels (B,), indices (B,), failed indices (list)."""
    good = [item for item in items if item[0] is not None]
    failed = [i for image, _, i in items if image is None]
    if not good:
        return None, None, None, failed
    images = torch.stack([image for image, _, _ in good])  # (B, C, H, W)
    labels = torch.tensor([label for _, label, _ in good], dtype=torch.int64)
    indices = torch.tensor([i for _, _, i in good], dtype=torch.int64)
    return images, labels, indices, failed


class _EpochOrder(Sampler[int]):
    """The permutation of the current epoch, set by the main process before each epoch."""

    def __init__(self, n: int):
        self.order: list[int] = list(range(n))

    def __iter__(self) -> Iterator[int]:
        return iter(self.order)

    def __len__(self) -> int:
        return len(self.order)


def default_workers() -> int:
    return min(4, os.cpu_count() or 1)


class StreamingImageDataset:
    """Image files decoded on the fly by ``workers`` processes; see the module docstring."""

    def __init__(
        self,
        name: str,
        split: str,
        files: Sequence[str],
        labels: Sequence[int],
        class_names: list[str],
        source: str,
        load: Loader,
        image_size: int,
        channels: int,
        workers: int | None = None,
    ):
        if not files:
            raise DataError(f"{name} ({split}) has no images")
        self.name, self.split, self.source = name, split, source
        self.class_names = list(class_names)
        self.files = FileImages(files, labels, load)
        self.labels = torch.tensor(list(labels), dtype=torch.int64)  # (N,), kept on the CPU
        self._image_size, self._channels = image_size, channels
        self.workers = default_workers() if workers is None else workers
        self.device = torch.device("cpu")
        self._loader: DataLoader | None = None
        self._loader_key: tuple | None = None

    @property
    def image_size(self) -> int:
        return self._image_size

    @property
    def channels(self) -> int:
        return self._channels

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def __len__(self) -> int:
        return len(self.files)

    def __repr__(self) -> str:
        return (
            f"StreamingImageDataset({self.name!r}, split={self.split!r}, n={len(self)}, "
            f"size={self.image_size}, channels={self.channels}, classes={self.num_classes}, "
            f"workers={self.workers}, device={self.device})"
        )

    def to(self, device: torch.device | str) -> StreamingImageDataset:
        """Batches will be delivered on ``device`` (the files stay where they are)."""
        self.device = torch.device(device)
        return self

    def _get_loader(self, batch_size: int, drop_last: bool) -> DataLoader:
        key = (batch_size, drop_last)
        if self._loader is None or self._loader_key != key:
            self._loader = DataLoader(
                self.files,
                batch_size=batch_size,
                sampler=_EpochOrder(len(self)),
                num_workers=self.workers,
                collate_fn=collate,
                drop_last=drop_last,
                pin_memory=self.device.type == "cuda",
                persistent_workers=self.workers > 0,
            )
            self._loader_key = key
        return self._loader

    def batches(
        self, batch_size: int, generator: torch.Generator | None = None, drop_last: bool = True
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One epoch of ``(images in [-1, 1] float32 (B, C, H, W), labels (B,))`` on the device."""
        check_batch_size(self.name, len(self), batch_size, drop_last)
        loader = self._get_loader(batch_size, drop_last)
        loader.sampler.order = torch.randperm(len(self), generator=generator).tolist()
        failed: list[int] = []
        for images, labels, _, bad in loader:
            failed += bad
            if images is None:
                continue
            x = images.to(self.device, non_blocking=True)  # (B, C, H, W) uint8
            yield to_unit_range(x), labels.to(self.device, non_blocking=True)
        if failed:
            self._warn(failed)

    def sample(
        self, n: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Up to ``n`` random images in [-1, 1] and their labels, decoded in this process."""
        order = torch.randperm(len(self), generator=generator).tolist()
        picked, failed = [], []
        for i in order:
            if len(picked) == n:
                break
            item = self.files[i]
            (picked if item[0] is not None else failed).append(item if item[0] is not None else i)
        if failed:
            self._warn(failed)
        if not picked:
            raise DataError(f"{self.name}: none of the sampled images could be decoded")
        images, labels, _, _ = collate(picked)
        return to_unit_range(images.to(self.device)), labels.to(self.device)

    def class_counts(self) -> list[int]:
        """Images per class, in the order of ``class_names`` (files counted, not decoded)."""
        if not self.class_names:
            return []
        return [int(c) for c in torch.bincount(self.labels, minlength=self.num_classes)]

    def _warn(self, failed: list[int]) -> None:
        names = ", ".join(os.path.basename(self.files.files[i]) for i in failed[:3])
        more = ", ..." if len(failed) > 3 else ""
        warnings.warn(
            f"{self.name}: skipped {len(failed)} unreadable image file(s) ({names}{more})",
            stacklevel=3,
        )
