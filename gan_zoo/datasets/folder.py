"""``image-folder``: your own PNG / JPEG / WebP images, flat or in class sub-folders.

The layout is torchvision's ``ImageFolder``: each sub-folder of the root is a class (images
anywhere below it), or, when the root has no sub-folders, the root's images are one unlabelled
set (``class_names`` is empty, labels are 0). Hidden files and folders are ignored; other
non-image files and images that fail to decode are skipped and counted in one warning.

Each image is decoded with Pillow, turned upright from its EXIF orientation, composited on
white if it has transparency, converted to grayscale or RGB, and resized so its shorter side
is ``image_size`` with an antialiased bicubic filter, then center-cropped to a square
(``ImageOps.fit``; the StyleGAN2-ADA ``dataset_tool.py`` "center-crop" transform). JPEGs are
decoded at a reduced scale first when they are much larger (``Image.draft``).

The split is seeded and stratified: within each class, ``round(test_fraction * n)`` files
chosen by ``random.Random(seed)`` form the test split (``split="all"`` takes every image).

Preprocessing runs once. The result, all images as uint8 with their labels, is cached as a
safetensors file in ``<user cache>/gan-zoo/image-folder/`` under a hash of the file list
(paths, sizes, modification times) and the settings, so the next run starts at once and any
change to the folder is noticed. A folder whose preprocessed images would exceed
``max_memory_mb`` is not preprocessed: it streams through a DataLoader with workers instead
(:class:`gan_zoo.datasets.streaming.StreamingImageDataset`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import random
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..errors import DataError
from .base import ImageDataset
from .streaming import FileImages, StreamingImageDataset, collate, default_workers

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
CACHE_FORMAT = "1"
SPLITS = ("train", "test", "all")
log = logging.getLogger(__name__)


def load_image(path: str, image_size: int, channels: int) -> torch.Tensor:
    """One image file -> uint8 (channels, image_size, image_size). Raises on a bad file."""
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        im.draft(None, (image_size, image_size))  # JPEG: decode at 1/2, 1/4 or 1/8 scale if big
        im = ImageOps.exif_transpose(im)
        if im.mode in ("I", "I;16", "I;16B", "I;16L"):  # 16-bit grayscale: scale, don't clip
            im = im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
        if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
            im = im.convert("RGBA")
            im = Image.alpha_composite(Image.new("RGBA", im.size, (255, 255, 255, 255)), im)
        im = im.convert("L" if channels == 1 else "RGB")
        im = ImageOps.fit(im, (image_size, image_size), method=Image.Resampling.BICUBIC)
        data = im.tobytes()
    pixels = torch.frombuffer(bytearray(data), dtype=torch.uint8)
    return pixels.view(image_size, image_size, channels).permute(2, 0, 1).contiguous()  # (C, H, W)


@dataclass
class Scan:
    """What is in the folder: candidate image files (sorted) with labels, and what was skipped."""

    root: Path
    files: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    class_names: list[str] = field(default_factory=list)
    not_images: list[str] = field(default_factory=list)

    def fingerprint(self, *settings: object) -> str:
        """A hash of the file list (paths, sizes, mtimes) and the preprocessing settings."""
        h = hashlib.sha256(json.dumps([CACHE_FORMAT, str(self.root), settings]).encode())
        for path in self.files:
            st = os.stat(path)
            h.update(f"\0{path}\0{st.st_size}\0{st.st_mtime_ns}".encode())
        h.update(json.dumps(self.class_names).encode())
        return h.hexdigest()[:24]


def _walk(folder: Path) -> list[Path]:
    """Every non-hidden file below ``folder``, sorted (a symlinked class folder is followed,
    symlinks to folders inside it are not, so a link cycle cannot loop forever)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found += [Path(dirpath) / f for f in sorted(filenames) if not f.startswith(".")]
    return found


def scan(root: Path) -> Scan:
    """Find the images of a flat folder or of a folder of class sub-folders."""
    result = Scan(root)
    entries = sorted(p for p in root.iterdir() if not p.name.startswith("."))
    class_dirs = [p for p in entries if p.is_dir()]
    if class_dirs:
        result.not_images += [str(p) for p in entries if not p.is_dir()]  # outside class folders
        groups = [(d.name, _walk(d)) for d in class_dirs]
    else:
        groups = [("", entries)]
    for class_name, paths in groups:
        images = [str(p) for p in paths if p.suffix.lower() in IMAGE_SUFFIXES]
        result.not_images += [str(p) for p in paths if p.suffix.lower() not in IMAGE_SUFFIXES]
        if not images:
            continue
        label = len(result.class_names) if class_dirs else 0
        if class_dirs:
            result.class_names.append(class_name)
        result.files += images
        result.labels += [label] * len(images)
    return result


def split_indices(labels: list[int], split: str, test_fraction: float, seed: int) -> list[int]:
    """Indices of ``split``: stratified, ``round(test_fraction * n)`` test files per class."""
    if split == "all":
        return list(range(len(labels)))
    rng = random.Random(seed)
    by_class: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        by_class.setdefault(label, []).append(i)
    test: set[int] = set()
    for label in sorted(by_class):
        members = by_class[label]
        test.update(rng.sample(members, round(test_fraction * len(members))))
    return [i for i in range(len(labels)) if (i in test) == (split == "test")]


def _names(paths: list[str], root: Path, limit: int = 3) -> str:
    shown = [os.path.relpath(p, root) for p in paths[:limit]]
    return ", ".join(shown) + (", ..." if len(paths) > limit else "")


def _warn_skipped(root: Path, total: int, not_images: list[str], unreadable: list[str]) -> None:
    if not not_images and not unreadable:
        return
    parts = []
    if not_images:
        parts.append(f"{len(not_images)} not an image: {_names(not_images, root)}")
    if unreadable:
        parts.append(f"{len(unreadable)} unreadable: {_names(unreadable, root)}")
    skipped = len(not_images) + len(unreadable)
    warnings.warn(
        f"image-folder: skipped {skipped} of {total} files in {root} ({'; '.join(parts)})",
        stacklevel=3,
    )


def preprocess(
    files: list[str], labels: list[int], image_size: int, channels: int, workers: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[int]]:
    """Decode every file -> images (N, C, S, S) uint8, labels (N,), file indices (N,), failed."""
    from torch.utils.data import DataLoader

    load = functools.partial(load_image, image_size=image_size, channels=channels)
    loader = DataLoader(
        FileImages(files, labels, load), batch_size=64, num_workers=workers, collate_fn=collate
    )
    # Filled in place: no list of batches to concatenate, so the peak is one copy of the data.
    images = torch.empty((len(files), channels, image_size, image_size), dtype=torch.uint8)
    kept_labels = torch.empty(len(files), dtype=torch.int64)
    kept = torch.empty(len(files), dtype=torch.int64)
    n, failed = 0, []
    for x, y, idx, bad in loader:
        failed += bad
        if x is not None:
            images[n : n + len(x)], kept_labels[n : n + len(x)], kept[n : n + len(x)] = x, y, idx
            n += len(x)
    return images[:n], kept_labels[:n], kept[:n], failed


def _load_cache(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]] | None:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
            tensors = {key: f.get_tensor(key) for key in ("images", "labels", "file_index")}
    except Exception as exc:  # a damaged cache file is rebuilt, not fatal
        log.warning("image-folder: rebuilding unreadable cache %s (%s)", path, exc)
        return None
    if metadata.get("format") != CACHE_FORMAT:
        return None
    return tensors, metadata


def _save_cache(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    save_file(tensors, str(tmp), metadata=metadata)
    os.replace(tmp, path)  # atomic: a reader sees the old file or the whole new one


def _check_options(
    split: str,
    data_dir: str | None,
    download: bool,
    image_size: int,
    channels: int,
    test_fraction: float,
) -> Path:
    """The folder to read, after checking image_folder's options (one-line errors)."""
    if data_dir is None:
        raise DataError("image-folder needs --data-dir: a folder of images or of class sub-folders")
    if download:
        raise DataError("image-folder has nothing to download; point --data-dir at your images")
    if split not in SPLITS:
        raise DataError(f"image-folder has splits 'train', 'test' and 'all', not '{split}'")
    if channels not in (1, 3):
        raise DataError(f"image-folder channels must be 1 (grayscale) or 3 (RGB), not {channels}")
    if not isinstance(image_size, int) or image_size < 1:
        raise DataError(f"image-folder image_size must be a positive integer, not {image_size!r}")
    if not 0 <= test_fraction < 1:
        raise DataError(f"image-folder test_fraction must be in [0, 1), not {test_fraction}")
    root = Path(data_dir).expanduser().resolve()
    if not root.is_dir():
        raise DataError(f"image-folder: {root} is not a folder")
    return root


def _preprocessed(
    found: Scan, root: Path, image_size: int, channels: int, workers: int
) -> tuple[dict[str, torch.Tensor], list[str]]:
    """``(tensors, unreadable files)``: the folder decoded once and cached as safetensors."""
    from . import search

    cache = (
        search.cache_dir("image-folder") / f"{found.fingerprint(image_size, channels)}.safetensors"
    )
    cached = _load_cache(cache) if cache.is_file() else None
    if cached is not None:
        tensors, metadata = cached
        log.info(
            "image-folder: loaded %d preprocessed images from %s", len(tensors["images"]), cache
        )
        return tensors, json.loads(metadata.get("unreadable", "[]"))
    start = time.perf_counter()
    images, labels, file_index, failed = preprocess(
        found.files, found.labels, image_size, channels, workers
    )
    unreadable = [found.files[i] for i in failed]
    tensors = {"images": images, "labels": labels, "file_index": file_index}
    metadata = {"format": CACHE_FORMAT, "root": str(root), "unreadable": json.dumps(unreadable)}
    _save_cache(cache, tensors, metadata)
    seconds = time.perf_counter() - start
    log.info("image-folder: preprocessed %d images in %.1f s into %s", len(images), seconds, cache)
    return tensors, unreadable


def image_folder(
    split: str = "train",
    data_dir: str | None = None,
    download: bool = False,
    image_size: int = 64,
    channels: int = 3,
    test_fraction: float = 0.1,
    seed: int = 0,
    max_memory_mb: float = 2048,
    workers: int | None = None,
) -> ImageDataset | StreamingImageDataset:
    """A folder of PNG / JPEG / WebP images, flat or in class sub-folders (see module docs).

    ``image_size``: side of the square images (resize shorter side + center crop);
    ``channels``: 1 (grayscale) or 3 (RGB); ``split``: "train", "test" or "all", drawn with
    ``test_fraction`` and ``seed``; ``max_memory_mb``: above this the folder is streamed;
    ``workers``: decoding processes (default min(4, CPUs)).
    """
    root = _check_options(split, data_dir, download, image_size, channels, test_fraction)
    workers = default_workers() if workers is None else workers

    # Scan and split.
    found = scan(root)
    if not found.files:
        raise DataError(
            f"image-folder: no PNG, JPEG or WebP images in {root} or its class sub-folders"
            + (f" ({len(found.not_images)} other files)" if found.not_images else "")
        )
    chosen = split_indices(found.labels, split, test_fraction, seed)
    if not chosen:
        raise DataError(
            f"image-folder: the {split} split of {root} is empty "
            f"(test_fraction={test_fraction}); use split='all' or a larger test_fraction"
        )
    total = len(found.files) + len(found.not_images)

    # Too big for memory: stream.
    estimate_mb = len(found.files) * channels * image_size**2 / 2**20
    if estimate_mb > max_memory_mb:
        _warn_skipped(root, total, found.not_images, [])
        load = functools.partial(load_image, image_size=image_size, channels=channels)
        log.info(
            "image-folder: streaming %d images (%.0f MB > %s MB)",
            len(chosen),
            estimate_mb,
            max_memory_mb,
        )
        return StreamingImageDataset(
            "image-folder",
            split,
            [found.files[i] for i in chosen],
            [found.labels[i] for i in chosen],
            found.class_names,
            str(root),
            load,
            image_size,
            channels,
            workers,
        )

    # Preprocess once, or load the cache.
    tensors, unreadable = _preprocessed(found, root, image_size, channels, workers)
    _warn_skipped(root, total, found.not_images, unreadable)
    if len(tensors["images"]) == 0:
        raise DataError(
            f"image-folder: none of the {len(found.files)} images in {root} could be read"
        )

    # Select the split.
    wanted = torch.zeros(len(found.files), dtype=torch.bool)
    wanted[torch.tensor(chosen, dtype=torch.int64)] = True
    keep = wanted[tensors["file_index"]]  # (N,) bool
    if not bool(keep.any()):
        raise DataError(f"image-folder: no readable image in the {split} split of {root}")
    images, labels = tensors["images"], tensors["labels"]
    if not bool(keep.all()):
        images, labels = images[keep], labels[keep]
    return ImageDataset("image-folder", split, images, labels, list(found.class_names), str(root))
