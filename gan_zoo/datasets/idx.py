"""Fashion-MNIST and MNIST from the original IDX files (LeCun's format), gzipped or raw.

IDX: a 4-byte magic (two zero bytes, a type code, 0x08 for unsigned bytes, and the number of
dimensions), then one big-endian uint32 per dimension, then the data. The reader checks the
magic and that the payload has exactly the size the header declares, so a truncated or foreign
file is a clear error before training starts. It reads in 1 MiB chunks into one growing buffer
that becomes the tensor, so loading the 47 MB Fashion-MNIST training images never holds a second
copy.

Fashion-MNIST: Xiao, Rasul and Vollgraf, 2017, arXiv:1708.07747. MNIST: LeCun, Bottou, Bengio
and Haffner, 1998.
"""

from __future__ import annotations

import functools
import gzip
import struct
import zlib
from pathlib import Path

import torch

from ..errors import DataError
from .base import ImageDataset, check_split, resize_images

FASHION_MNIST_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
MNIST_CLASSES = [str(d) for d in range(10)]

SPLIT_PREFIX = {"train": "train", "test": "t10k"}
_CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"

#: torchvision's layout under its ``root``: ``<root>/FashionMNIST/raw/*.gz``.
_TORCHVISION_SUBDIRS = {"fashion-mnist": ("FashionMNIST/raw",), "mnist": ("MNIST/raw",)}


def _open(path: Path):
    with open(path, "rb") as f:
        gzipped = f.read(2) == _GZIP_MAGIC
    return gzip.open(path, "rb") if gzipped else open(path, "rb")


def read_idx(path: Path, expected_ndim: int) -> torch.Tensor:
    """Read one IDX file of unsigned bytes (gzipped or raw) into a uint8 tensor."""
    path = Path(path)
    try:
        with _open(path) as f:
            magic = f.read(4)
            if len(magic) < 4 or magic[:3] != b"\x00\x00\x08" or magic[3] != expected_ndim:
                raise DataError(
                    f"{path} is not an IDX file of {expected_ndim}-d unsigned bytes "
                    f"(magic {magic.hex() or 'missing'}, expected 000008{expected_ndim:02x}); "
                    "re-download or reinstall the dataset"
                )
            header = f.read(4 * expected_ndim)
            if len(header) < 4 * expected_ndim:
                raise DataError(f"{path} is truncated (header incomplete); re-download the dataset")
            dims = struct.unpack(f">{expected_ndim}I", header)
            size = 1
            for d in dims:
                size *= d
            # Grown chunk by chunk (realloc, no second copy): a foreign file whose header
            # declares gigabytes allocates only what it really holds.
            buffer = bytearray()
            while len(buffer) <= size:
                chunk = f.read(min(_CHUNK, size + 1 - len(buffer)))
                if not chunk:
                    break
                buffer += chunk
    except DataError:
        raise
    except EOFError:
        raise DataError(
            f"{path} is truncated (gzip stream ends early); re-download the dataset"
        ) from None
    except (OSError, zlib.error) as exc:
        raise DataError(f"cannot read {path}: {exc}; re-download the dataset") from None
    if len(buffer) != size:
        held = f"{len(buffer)} bytes" if len(buffer) < size else "more bytes"
        raise DataError(
            f"{path} holds {held} of data but its header declares {size} {tuple(dims)}; "
            "the file is truncated or corrupt, re-download the dataset"
        )
    if size == 0:
        return torch.empty(dims, dtype=torch.uint8)
    return torch.frombuffer(buffer, dtype=torch.uint8).view(*dims)


def find_idx_file(folder: Path, stem: str) -> Path | None:
    for name in (f"{stem}.gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def load_idx_split(folder: Path, split: str, name: str, class_names: list[str]) -> ImageDataset:
    """One split of an MNIST-format folder:
    ``{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]``."""
    prefix = SPLIT_PREFIX[split]
    img_path = find_idx_file(folder, f"{prefix}-images-idx3-ubyte")
    lbl_path = find_idx_file(folder, f"{prefix}-labels-idx1-ubyte")
    if img_path is None or lbl_path is None:
        missing = (
            f"{prefix}-images-idx3-ubyte" if img_path is None else f"{prefix}-labels-idx1-ubyte"
        )
        raise DataError(f"{folder} has no {missing}[.gz] for the {split} split of {name}")
    images = read_idx(img_path, 3)  # (N, H, W)
    labels = read_idx(lbl_path, 1).long()  # (N,)
    if images.shape[0] != labels.shape[0]:
        raise DataError(
            f"{img_path} has {images.shape[0]} images but {lbl_path} has {labels.shape[0]} labels"
        )
    if labels.numel() and int(labels.max()) >= len(class_names):
        raise DataError(
            f"{lbl_path} has label {int(labels.max())} but {name} has {len(class_names)} classes"
        )
    return ImageDataset(name, split, images.unsqueeze(1), labels, list(class_names), str(folder))


def _has_idx(split: str):
    prefix = SPLIT_PREFIX[split]

    def check(folder: Path) -> bool:
        return find_idx_file(folder, f"{prefix}-images-idx3-ubyte") is not None

    return check


def load_idx_dataset(
    name: str,
    title: str,
    class_names: list[str],
    split: str,
    data_dir: str | None,
    download: bool,
    image_size: int | None,
    apt_hint: str = "",
) -> ImageDataset:
    """Search for an MNIST-format dataset (see :mod:`.search`), download if asked, load a split."""
    from . import download as downloader
    from . import search

    check_split(name, split)
    folder = search.find_or_download(
        name,
        title,
        _has_idx(split),
        data_dir,
        functools.partial(downloader.download_idx, name) if download else None,
        _TORCHVISION_SUBDIRS.get(name, ()),
        apt_hint,
    )
    dataset = load_idx_split(folder, split, name, class_names)
    if image_size is not None:
        dataset.images = resize_images(dataset.images, image_size)
    return dataset


def fashion_mnist(
    split: str = "train",
    data_dir: str | None = None,
    download: bool = False,
    image_size: int | None = None,
) -> ImageDataset:
    """Fashion-MNIST (Xiao et al. 2017): 70,000 28x28 grayscale images of 10 clothing classes.

    ``image_size`` resizes once at load (antialiased bilinear); None keeps 28.
    """
    return load_idx_dataset(
        "fashion-mnist",
        "Fashion-MNIST",
        FASHION_MNIST_CLASSES,
        split,
        data_dir,
        download,
        image_size,
        apt_hint="'apt-get install dataset-fashion-mnist'",
    )


def mnist(
    split: str = "train",
    data_dir: str | None = None,
    download: bool = False,
    image_size: int | None = None,
) -> ImageDataset:
    """MNIST (LeCun et al. 1998): 70,000 28x28 grayscale handwritten digits, classes "0".."9".

    ``image_size`` resizes once at load (antialiased bilinear); None keeps 28.
    """
    return load_idx_dataset("mnist", "MNIST", MNIST_CLASSES, split, data_dir, download, image_size)
