"""Tiny datasets written as real files, in the formats gan-zoo's datasets read.

Each writer takes a folder (created if needed) and returns it, ready for ``data_dir=`` or
``--data-dir``. Standard library only (no torch, no Pillow), so a test can write data before
anything heavy is imported. The images are soft blobs on black rather than noise, so a network
trained two steps on them sees data with some structure.
"""

from __future__ import annotations

import gzip
import math
import random
import struct
import zlib
from pathlib import Path

__all__ = [
    "blob_pixels",
    "write_cifar10",
    "write_fashion_mnist",
    "write_idx",
    "write_image_folder",
    "write_png",
]


def write_idx(path: Path, data: bytes, dims: tuple[int, ...], compress: bool = True) -> Path:
    """An IDX file of unsigned bytes (magic 0x0000 08 ndim, big-endian dims, data); gzipped
    (``path`` + ``.gz``) if ``compress``. Returns the path written."""
    path = Path(path)
    raw = bytes([0, 0, 0x08, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + data
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(raw))
    else:
        path.write_bytes(raw)
    return path


def blob_pixels(rng: random.Random, size: int, channels: int = 1) -> bytes:
    """One image of ``channels`` planes (C, H, W), uint8: a soft blob of random place, radius
    and colour on black."""
    cy, cx = rng.uniform(0.3, 0.7) * size, rng.uniform(0.3, 0.7) * size
    radius = rng.uniform(0.1, 0.3) * size
    colour = [rng.uniform(0.5, 1.0) for _ in range(channels)]
    plane = [
        math.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * radius**2))
        for y in range(size)
        for x in range(size)
    ]
    return b"".join(bytes(int(255 * c * v) for v in plane) for c in colour)


def write_fashion_mnist(
    folder: Path, train: int = 64, test: int = 16, classes: int = 10, seed: int = 0
) -> Path:
    """A Fashion-MNIST-format folder (also MNIST's): ``{train,t10k}-{images-idx3,labels-idx1}
    -ubyte.gz`` with ``train`` and ``test`` 28x28 grayscale images, labels cycling through
    ``classes``; pixels are blobs drawn from ``seed``. Returns ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    for prefix, n in (("train", train), ("t10k", test)):
        pixels = b"".join(blob_pixels(rng, 28) for _ in range(n))
        write_idx(folder / f"{prefix}-images-idx3-ubyte", pixels, (n, 28, 28))
        write_idx(
            folder / f"{prefix}-labels-idx1-ubyte", bytes(i % classes for i in range(n)), (n,)
        )
    return folder


def write_cifar10(folder: Path, train: int = 8, test: int = 8, seed: int = 0) -> Path:
    """A CIFAR-10 binary-version folder: ``data_batch_{1..5}.bin`` with ``train`` records each,
    ``test_batch.bin`` with ``test`` records and ``batches.meta.txt``; 32x32 RGB blobs drawn
    from ``seed``, labels cycling through 10. Returns ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)

    def records(n: int) -> bytes:
        return b"".join(bytes([i % 10]) + blob_pixels(rng, 32, 3) for i in range(n))

    for i in range(1, 6):
        (folder / f"data_batch_{i}.bin").write_bytes(records(train))
    (folder / "test_batch.bin").write_bytes(records(test))
    names = [
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
    (folder / "batches.meta.txt").write_text("\n".join(names) + "\n")
    return folder


def write_png(path: Path, pixels: bytes, size: int, channels: int) -> Path:
    """Write ``pixels`` (C, H, W planes, uint8) as the PNG ``path``, ``size`` x ``size``:
    grayscale for ``channels`` 1, RGB for 3. Returns ``path``."""
    if channels not in (1, 3):
        raise ValueError(f"a PNG here has 1 or 3 channels, not {channels}")
    plane = size * size
    rows = []
    for y in range(size):
        row = bytearray([0])  # filter type 0 (none)
        for x in range(size):
            row += bytes(pixels[c * plane + y * size + x] for c in range(channels))
        rows.append(bytes(row))

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    colour_type = 0 if channels == 1 else 2
    header = struct.pack(">IIBBBBB", size, size, 8, colour_type, 0, 0, 0)
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )
    path = Path(path)
    path.write_bytes(png)
    return path


def write_image_folder(
    folder: Path,
    per_class: int = 8,
    classes: tuple[str, ...] = ("circle", "dot"),
    size: int = 32,
    channels: int = 3,
    seed: int = 0,
) -> Path:
    """A folder of PNG files in one sub-folder per class (what ``image-folder`` reads):
    ``per_class`` images of ``size`` px and ``channels`` channels for each name in ``classes``,
    blobs drawn from ``seed``. Returns ``folder``."""
    folder = Path(folder)
    rng = random.Random(seed)
    for name in classes:
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            write_png(
                folder / name / f"{i:03d}.png", blob_pixels(rng, size, channels), size, channels
            )
    return folder
