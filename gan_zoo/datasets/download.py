"""Explicit downloads into the user cache (``--download``; never implicit).

The file lists, mirrors and MD5 checksums of Fashion-MNIST and MNIST come from torchvision's
dataset classes, and the files are fetched with torchvision's ``download_url`` (which checks
the MD5), so gan-zoo follows torchvision when a mirror moves. CIFAR-10 is the official
*binary* archive (``cifar-10-binary.tar.gz``; torchvision only knows the pickled Python one).

Files are fetched into a temporary folder beside the target and moved in only when complete,
so an interrupted download never leaves a truncated file where the search looks. Any network
or checksum failure is one :class:`~gan_zoo.errors.DataError` line.
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
from pathlib import Path

from ..errors import DataError
from . import search

CIFAR10_BINARY_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
CIFAR10_BINARY_MD5 = "c32a1d4ab5d03f1284b67883e8d87530"

#: Dataset name -> the torchvision class whose ``mirrors`` and ``resources`` list its files.
_TORCHVISION_IDX = {"fashion-mnist": "FashionMNIST", "mnist": "MNIST"}


def _fetch(urls: list[str], folder: Path, filename: str, md5: str | None) -> Path:
    """Download ``filename`` from the first of ``urls`` that works; MD5-checked."""
    from torchvision.datasets.utils import download_url

    errors = []
    for url in urls:
        try:
            download_url(url, str(folder), filename=filename, md5=md5)
            return folder / filename
        except Exception as exc:  # URLError, HTTPError, checksum RuntimeError, socket errors
            reason = getattr(exc, "reason", None) or exc
            errors.append(" ".join(str(reason).split()) or type(exc).__name__)
    tried = ", ".join(sorted({url.split("/")[2] for url in urls}))
    raise DataError(f"downloading {filename} from {tried} failed ({errors[-1]})")


def download_idx(name: str) -> Path:
    """Fetch the four gzipped IDX files of ``fashion-mnist`` or ``mnist`` into the cache."""
    import torchvision.datasets

    cls = getattr(torchvision.datasets, _TORCHVISION_IDX[name])
    target = search.cache_dir(name)
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target, prefix=".download-") as tmp:
        for filename, md5 in cls.resources:
            if (target / filename).is_file():
                continue
            path = _fetch([m + filename for m in cls.mirrors], Path(tmp), filename, md5)
            path.replace(target / filename)
    return target


def download_cifar10() -> Path:
    """Fetch and unpack the official binary CIFAR-10 into
    ``<cache>/cifar10/cifar-10-batches-bin``."""
    target = search.cache_dir("cifar10")
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target, prefix=".download-") as tmp:
        archive = _fetch(
            [CIFAR10_BINARY_URL], Path(tmp), "cifar-10-binary.tar.gz", CIFAR10_BINARY_MD5
        )
        try:
            with tarfile.open(archive) as tar:
                tar.extractall(tmp, filter="data")  # no absolute paths, links or devices
        except (tarfile.TarError, OSError) as exc:
            raise DataError(f"cannot unpack {archive.name}: {exc}; download it again") from None
        unpacked = Path(tmp) / "cifar-10-batches-bin"
        if not unpacked.is_dir():
            raise DataError(f"{archive.name} has no cifar-10-batches-bin folder; download it again")
        shutil.rmtree(target / "cifar-10-batches-bin", ignore_errors=True)
        unpacked.replace(target / "cifar-10-batches-bin")
    return target / "cifar-10-batches-bin"
