"""Fashion-MNIST and MNIST from the original IDX files (LeCun's format), gzipped or raw.

IDX: a 4-byte magic (two zero bytes, a type code, 0x08 for unsigned bytes, and the number of
dimensions), then one big-endian uint32 per dimension, then the data. The reader checks the
magic and that the payload has exactly the size the header declares, so a truncated or foreign
file is a clear error before training starts.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import torch

from ..errors import DataError
from .base import ImageDataset

FASHION_MNIST_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip

SPLIT_PREFIX = {"train": "train", "test": "t10k"}


def read_idx(path: Path, expected_ndim: int) -> torch.Tensor:
    """Read one IDX file of unsigned bytes into a uint8 tensor."""
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    if len(raw) < 4 or raw[0:2] != b"\x00\x00" or raw[2] != 0x08 or raw[3] != expected_ndim:
        raise DataError(
            f"{path} is not an IDX file of {expected_ndim}-d unsigned bytes "
            f"(magic {raw[:4].hex() or 'missing'}); re-download or reinstall the dataset"
        )
    header = 4 + 4 * expected_ndim
    if len(raw) < header:
        raise DataError(f"{path} is truncated (header incomplete); re-download the dataset")
    dims = struct.unpack(f">{expected_ndim}I", raw[4:header])
    size = 1
    for d in dims:
        size *= d
    if len(raw) - header != size:
        raise DataError(
            f"{path} holds {len(raw) - header} bytes of data but its header declares {size} "
            f"{tuple(dims)}; the file is truncated or corrupt, re-download the dataset"
        )
    data = torch.frombuffer(bytearray(raw[header:]), dtype=torch.uint8)
    return data.view(*dims)


def find_idx_file(folder: Path, stem: str) -> Path | None:
    for name in (f"{stem}.gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def load_idx_split(folder: Path, split: str, name: str, class_names: list[str]) -> ImageDataset:
    prefix = SPLIT_PREFIX[split]
    img_path = find_idx_file(folder, f"{prefix}-images-idx3-ubyte")
    lbl_path = find_idx_file(folder, f"{prefix}-labels-idx1-ubyte")
    if img_path is None or lbl_path is None:
        raise DataError(f"{folder} has no {split} split of {name}")
    images = read_idx(img_path, 3)
    labels = read_idx(lbl_path, 1).long()
    if images.shape[0] != labels.shape[0]:
        raise DataError(
            f"{img_path} has {images.shape[0]} images but {lbl_path} has {labels.shape[0]} labels"
        )
    return ImageDataset(name, split, images.unsqueeze(1), labels, list(class_names), str(folder))


def _has_idx(split: str):
    prefix = SPLIT_PREFIX[split]

    def check(folder: Path) -> bool:
        return find_idx_file(folder, f"{prefix}-images-idx3-ubyte") is not None

    return check


def fashion_mnist(
    split: str = "train", data_dir: str | None = None, download: bool = False
) -> ImageDataset:
    """Fashion-MNIST (Xiao et al. 2017): 70,000 28x28 grayscale images of 10 clothing classes."""
    from . import search

    if split not in SPLIT_PREFIX:
        raise DataError(f"fashion-mnist has splits 'train' and 'test', not '{split}'")
    folder = search.find("fashion-mnist", _has_idx(split), data_dir)
    if folder is None:
        raise DataError(
            "Fashion-MNIST files not found (looked in "
            + ", ".join(str(p) for p in search.candidates("fashion-mnist", data_dir))
            + "); install them with 'apt-get install dataset-fashion-mnist', pass --data-dir, "
            "or pass --download to fetch them"
        )
    return load_idx_split(folder, split, "fashion-mnist", FASHION_MNIST_CLASSES)
