"""CIFAR-10 from the official *binary* version (no pickle).

CIFAR-10 (Krizhevsky, 2009, "Learning Multiple Layers of Features from Tiny Images"): 60,000
32x32 RGB images of 10 classes, 50,000 for training in ``data_batch_{1..5}.bin`` and 10,000 for
testing in ``test_batch.bin``. Each record is 1 label byte and 3,072 pixel bytes (1,024 red,
then green, then blue, row-major), so a file is a whole number of 3,073-byte records.
``batches.meta.txt`` lists the class names, one a line. The "python version" of the dataset is
pickled and is never read here.

The folder is searched like every dataset (:mod:`.search`), also inside the
``cifar-10-batches-bin`` folder the official archive unpacks to.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..errors import DataError
from .base import ImageDataset, check_split, resize_images

CIFAR10_CLASSES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]
RECORD = 1 + 3 * 32 * 32
SPLIT_FILES = {
    "train": [f"data_batch_{i}.bin" for i in range(1, 6)],
    "test": ["test_batch.bin"],
}
SUBDIRS = ("cifar-10-batches-bin",)


def read_class_names(folder: Path) -> list[str]:
    """The names in ``batches.meta.txt``, or the official ones when the file is absent."""
    meta = folder / "batches.meta.txt"
    if not meta.is_file():
        return list(CIFAR10_CLASSES)
    names = [line.strip() for line in meta.read_text(errors="replace").splitlines() if line.strip()]
    if len(names) != 10:
        raise DataError(f"{meta} lists {len(names)} class names, expected 10; re-download CIFAR-10")
    return names


def read_batches(paths: list[Path]) -> tuple[torch.Tensor, torch.Tensor]:
    """Records of CIFAR-10 binary files -> images (N, 3, 32, 32) uint8 and labels (N,) int64."""
    sizes = []
    for path in paths:
        size = path.stat().st_size
        if size == 0 or size % RECORD:
            raise DataError(
                f"{path} has {size} bytes, not a whole number of {RECORD}-byte CIFAR-10 records; "
                "the file is truncated or not the binary version, re-download it"
            )
        sizes.append(size // RECORD)
    images = torch.empty((sum(sizes), 3, 32, 32), dtype=torch.uint8)
    labels = torch.empty(sum(sizes), dtype=torch.int64)
    start = 0
    for path, n in zip(paths, sizes, strict=True):
        records = torch.frombuffer(bytearray(path.read_bytes()), dtype=torch.uint8).view(n, RECORD)
        labels[start : start + n] = records[:, 0]
        images[start : start + n] = records[:, 1:].view(n, 3, 32, 32)
        start += n
    if labels.numel() and int(labels.max()) > 9:
        raise DataError(
            f"{', '.join(p.name for p in paths)}: label {int(labels.max())} is not a CIFAR-10 "
            "class (0-9); the files are not the CIFAR-10 binary version"
        )
    return images, labels


def _has_split(split: str):
    def check(folder: Path) -> bool:
        return (folder / SPLIT_FILES[split][0]).is_file()

    return check


def cifar10(
    split: str = "train",
    data_dir: str | None = None,
    download: bool = False,
    image_size: int | None = None,
) -> ImageDataset:
    """CIFAR-10 (Krizhevsky 2009): 50,000 + 10,000 32x32 RGB images of 10 classes.

    ``image_size`` resizes once at load (antialiased bilinear); None keeps 32.
    """
    from . import download as downloader
    from . import search

    check_split("cifar10", split)
    folder = search.find_or_download(
        "cifar10",
        "CIFAR-10 (binary version)",
        _has_split(split),
        data_dir,
        downloader.download_cifar10 if download else None,
        SUBDIRS,
        extra=f"the official binary archive unpacked ({downloader.CIFAR10_BINARY_URL})",
    )
    paths = [folder / f for f in SPLIT_FILES[split]]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise DataError(f"{folder} lacks {', '.join(missing)} of the CIFAR-10 {split} split")
    images, labels = read_batches(paths)
    if image_size is not None:
        images = resize_images(images, image_size)
    return ImageDataset("cifar10", split, images, labels, read_class_names(folder), str(folder))
