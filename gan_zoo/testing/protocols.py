"""Conformance checks of datasets and metrics through their protocols (gan_zoo.contracts).

A dataset needs data: the author passes a writer (``data={"my-data": write_fashion_mnist}``,
see :mod:`gan_zoo.testing.data`) that fills a temporary folder given as ``data_dir``; a dataset
that needs no files is called with ``data_dir=None``. Metrics are checked for structure (the
factory's options, ``higher_is_better``, a JSON-able ``protocol``) and, only when asked, for a
finite number from ``compute`` on a tiny generator and dataset.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..contracts import Dataset, Metric
from ..registry import Entry

#: ``data`` values: a function writing a dataset's files into the folder it is given.
DataWriter = Callable[[Path], Any]


def open_dataset(entry: Entry, writer: DataWriter | None, folder: Path, options: dict[str, Any]) -> Any:
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
        pytest.skip(f"dataset '{entry.key}' found no data ({reason}...); give conformance() "
                    f"data={{'{entry.name}': writer}}, a function writing its files into a folder "
                    "(gan_zoo.testing.data has writers for IDX, CIFAR-10 and image folders)")  # fmt: skip


def check_dataset(entry: Entry, writer: DataWriter | None, folder: Path, options: dict[str, Any]) -> None:
    """len, batches on the CPU (float in [-1, 1], int64 labels), sample, class_counts, to."""
    import torch

    dataset = open_dataset(entry, writer, folder, options)
    who = f"dataset '{entry.key}' ({entry.plugin.distribution} {entry.plugin.version})"
    assert isinstance(dataset, Dataset), f"{who} returns a {type(dataset).__name__}, not a Dataset"
    for attribute in ("name", "split", "source"):
        assert isinstance(getattr(dataset, attribute), str), f"{who}: {attribute} must be a str"
    n, size, channels, classes = len(dataset), dataset.image_size, dataset.channels, dataset.num_classes
    assert n > 0, f"{who} is empty on the data given"
    assert entry.supports.matches(size, channels), (
        f"{who} gives {size} px, {channels} ch but is registered with {entry.supports}")
    assert classes == len(dataset.class_names), f"{who}: num_classes != len(class_names)"
    assert dataset.to("cpu") is not None, f"{who}: to() must return the dataset"
    batch = min(4, n)
    images, labels = next(iter(dataset.batches(batch, generator=torch.Generator().manual_seed(0))))
    assert images.shape == (batch, channels, size, size), f"{who}: a batch has shape {tuple(images.shape)}"
    assert images.dtype == torch.float32 and images.device.type == "cpu", (
        f"{who}: batches must be float32 on the dataset's device, got {images.dtype} on {images.device}")
    assert -1.0 <= float(images.min()) and float(images.max()) <= 1.0, f"{who}: batches must lie in [-1, 1]"
    assert labels.shape == (batch,) and labels.dtype == torch.int64, (
        f"{who}: labels must be int64 (B,), got {labels.dtype} {tuple(labels.shape)}")
    if classes:
        assert 0 <= int(labels.min()) and int(labels.max()) < classes, f"{who}: a label is out of range"
    sample, sample_labels = dataset.sample(3, generator=torch.Generator().manual_seed(0))
    k = min(3, n)
    assert sample.shape == (k, channels, size, size) and sample_labels.shape == (k,), (
        f"{who}: sample(3) gave {tuple(sample.shape)} and {tuple(sample_labels.shape)}")
    counts = dataset.class_counts()
    assert all(isinstance(c, int) for c in counts), f"{who}: class_counts() must be a list of int"
    assert (len(counts), sum(counts)) == ((classes, n) if classes else (0, 0)), (
        f"{who}: class_counts() {counts[:10]} does not fit {classes} classes and {n} images")


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
    return ImageDataset("fashion-mnist", "test", images, labels, list(FASHION_MNIST_CLASSES), "memory")


def check_metric(entry: Entry, options: dict[str, Any], compute: bool) -> None:
    """The Metric protocol: ``higher_is_better`` a bool, ``protocol(dataset)`` a JSON-able dict,
    and (with ``compute``) a finite float from a tiny generator."""
    metric = entry.create(**{"num_samples": 8, "batch_size": 4, "device": "cpu", **options})
    who = f"metric '{entry.key}' ({entry.plugin.distribution} {entry.plugin.version})"
    assert isinstance(metric, Metric), f"{who} builds a {type(metric).__name__}, not a Metric"
    assert isinstance(metric.higher_is_better, bool), f"{who}: higher_is_better must be a bool"
    dataset = tiny_dataset()
    protocol = metric.protocol(dataset)
    assert isinstance(protocol, dict), f"{who}: protocol() returned a {type(protocol).__name__}"
    try:
        json.dumps(protocol)
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"{who}: protocol() is not JSON-able ({exc})") from None
    if compute:
        value = _compute(metric, dataset, who)
        assert isinstance(value, float) and math.isfinite(value), f"{who}: compute gave {value!r}"


def _compute(metric: Any, dataset: Any, who: str) -> Any:
    """``metric.compute`` on a tiny unconditional generator, or, if the metric refuses it with
    a one-line error (class-based metrics need labels), on a tiny conditional one."""
    from .. import plugins
    from ..errors import GanZooError

    generators = plugins.registry("generators")
    refusals = []
    for name, options in (("gan-zoo/mlp", {"hidden": [32]}),
                          ("gan-zoo/cdcgan", {"width": 8, "num_classes": dataset.num_classes})):  # fmt: skip
        G = generators.create(name, z_dim=16, image_size=28, channels=1, **options).eval()
        try:
            return metric.compute(G, dataset, seed=0)
        except GanZooError as exc:
            refusals.append(f"{name}: {exc}")
    raise AssertionError(f"{who} refuses both tiny generators ({'; '.join(refusals)})")
