"""Conformance checks of datasets and metrics through their protocols (gan_zoo.contracts).

A dataset needs data: the author passes a writer (``data={"my-data": write_fashion_mnist}``,
see :mod:`gan_zoo.testing.data`) that fills a temporary folder given as ``data_dir``; a dataset
that needs no files is called with ``data_dir=None``. Metrics are checked for structure (the
factory's options, ``higher_is_better``, a JSON-able ``protocol``) and, only when asked, for a
finite number from ``compute`` on a tiny generator and dataset.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..contracts import DATASET, METRIC
from ..registry import Entry

#: ``data`` values: a function writing a dataset's files into the folder it is given.
DataWriter = Callable[[Path], Any]


def open_dataset(
    entry: Entry, writer: DataWriter | None, folder: Path, options: dict[str, Any]
) -> Any:
    """Split ``train`` of ``entry``, from the files ``writer`` put in ``folder`` (if any)."""
    import pytest

    from ..errors import DataError

    data_dir = None
    if writer is not None:
        written = writer(folder)
        data_dir = str(written if isinstance(written, (str, Path)) else folder)
    try:
        return entry.create(split="train", data_dir=data_dir, download=False, **options)
    except DataError as exc:
        if writer is not None:
            raise
        reason = " ".join(str(exc).split())[:120]
        pytest.skip(
            f"dataset '{entry.key}' found no data ({reason}...); give conformance() "
            f"data={{'{entry.name}': writer}}, a function writing its files into a folder "
            "(gan_zoo.testing.data has writers for IDX, CIFAR-10 and image folders)"
        )


def check_dataset(
    entry: Entry, writer: DataWriter | None, folder: Path, options: dict[str, Any]
) -> None:
    """The dataset contract at depth "run" (:func:`gan_zoo.contracts.dataset.check`: len,
    batches on the CPU in [-1, 1] with int64 labels, sample, class_counts, to) on the data
    ``writer`` gives, and the size and channels the entry is registered with."""
    dataset = open_dataset(entry, writer, folder, options)
    DATASET.check(dataset, "run")
    who = f"dataset '{entry.key}' ({entry.plugin.distribution} {entry.plugin.version})"
    size, channels = dataset.image_size, dataset.channels
    assert entry.supports.matches(size, channels), (
        f"{who} gives {size} px, {channels} ch but is registered with {entry.supports}"
    )


def tiny_dataset(n: int = 20) -> Any:
    """A reference split for metrics: an in-memory :class:`~gan_zoo.datasets.base.ImageDataset`
    in Fashion-MNIST's shape (``fashion-mnist/test``, 28x28 grayscale, its 10 classes), since
    metrics may support only the datasets they have feature networks for."""
    import torch

    from ..datasets.base import ImageDataset
    from ..datasets.idx import FASHION_MNIST_CLASSES

    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8, generator=g)
    labels = torch.arange(n) % 10  # (N,)
    return ImageDataset(
        "fashion-mnist", "test", images, labels, list(FASHION_MNIST_CLASSES), "memory"
    )


def check_metric(entry: Entry, options: dict[str, Any], compute: bool) -> None:
    """The metric contract (:func:`gan_zoo.contracts.metric.check`) on a tiny dataset: at
    depth "run" (``protocol(dataset)`` JSON-able, ``check_dataset`` runs), or with ``compute``
    at depth "deep" (a finite float from a tiny unconditional or conditional generator)."""
    metric = entry.create(**{"num_samples": 8, "batch_size": 4, "device": "cpu", **options})
    dataset = tiny_dataset()
    generators = tiny_generators(dataset.num_classes) if compute else ()
    METRIC.check(metric, "deep" if compute else "run", dataset=dataset, generators=generators)


def tiny_generators(num_classes: int) -> list[Any]:
    """gan-zoo's small MLP generator and a small conditional DCGAN, at 28 px, 1 channel."""
    from .. import plugins

    generators = plugins.registry("generators")
    return [
        generators.create(name, z_dim=16, image_size=28, channels=1, **options).eval()
        for name, options in (
            ("gan-zoo/mlp", {"hidden": [32]}),
            ("gan-zoo/cdcgan", {"width": 8, "num_classes": num_classes}),
        )
    ]
