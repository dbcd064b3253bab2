"""The dataset contract: images with labels, batched on a device.

Importing this module does not import torch.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .common import Contract, ContractError, check_members, deeper, describe_entry

if TYPE_CHECKING:
    import torch


@runtime_checkable
class Dataset(Protocol):
    """What ``register_datasets`` factories return: images with labels, batched on a device.

    ``batches`` yields float32 images (B, C, H, W) in [-1, 1] and int64 labels (B,) on the
    dataset's device (all labels 0 when ``num_classes`` is 0), in a random order drawn from
    ``generator``; ``sample(n)`` gives ``min(n, len)`` of them; ``class_counts()`` one count per
    class (``[]`` without classes); ``to(device)`` moves it and returns it. ``source`` says where
    the files were found (for messages and the model card).
    ``gan_zoo.datasets.base.ImageDataset(name, split, images, labels, class_names, source)``
    implements it for data that fits in memory (``images`` uint8 (N, C, H, W), ``labels`` int64
    (N,)); ``gan_zoo.datasets.streaming.StreamingImageDataset`` for folders that do not.
    """

    name: str
    split: str
    class_names: list[str]
    source: str

    @property
    def image_size(self) -> int: ...
    @property
    def channels(self) -> int: ...
    @property
    def num_classes(self) -> int: ...
    def __len__(self) -> int: ...
    def to(self, device: torch.device | str) -> Dataset: ...
    def batches(
        self, batch_size: int, generator: torch.Generator | None = None, drop_last: bool = True
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]: ...
    def sample(
        self, n: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]: ...
    def class_counts(self) -> list[int]: ...


class DatasetFactory(Protocol):
    """What ``register_datasets`` registers: keyword options ``split`` (``"train"``, ``"test"``,
    ...), ``data_dir``, ``download``, and ``image_size`` / ``channels`` when it can convert."""

    def __call__(
        self,
        *,
        split: str = "train",
        data_dir: str | None = None,
        download: bool = False,
        **options: Any,
    ) -> Dataset: ...


def check(dataset: Any, depth: str = "run") -> None:
    """The dataset contract. ``"signature"``: the members, typed attributes, methods that take
    the documented arguments. ``"run"``: a batch, a sample, the class counts and ``to("cpu")``
    on the CPU (the dataset must not be empty)."""
    who = describe_entry(dataset, "dataset")
    check_members(
        dataset,
        CONTRACT,
        who,
        {"batches": (1,), "sample": (1,), "class_counts": (), "to": ("cpu",)},
    )
    for name, kind in (
        ("name", str),
        ("split", str),
        ("source", str),
        ("class_names", list),
        ("image_size", int),
        ("channels", int),
        ("num_classes", int),
    ):
        if not isinstance(getattr(dataset, name), kind):
            raise ContractError(who, f"its {name} must be a {kind.__name__}")
    if dataset.num_classes != len(dataset.class_names):
        raise ContractError(who, "its num_classes must equal len(class_names)")
    if deeper(depth, "run"):
        _run(dataset, who)


def _run(dataset: Any, who: str) -> None:
    import torch

    def fail(what: str) -> ContractError:
        return ContractError(who, what)

    n, size, channels, classes = (
        len(dataset),
        dataset.image_size,
        dataset.channels,
        dataset.num_classes,
    )
    if n <= 0:
        raise fail("it is empty on the data given")
    if dataset.to("cpu") is None:
        raise fail("its to() must return the dataset")
    batch = min(4, n)
    images, labels = next(iter(dataset.batches(batch, generator=torch.Generator().manual_seed(0))))
    if tuple(images.shape) != (batch, channels, size, size):
        raise fail(
            f"a batch has shape {tuple(images.shape)}; expected {(batch, channels, size, size)}"
        )
    if images.dtype != torch.float32 or images.device.type != "cpu":
        raise fail(
            "batches must be float32 on the dataset's device, "
            f"got {images.dtype} on {images.device}"
        )
    if not (-1.0 <= float(images.min()) and float(images.max()) <= 1.0):
        raise fail("batches must lie in [-1, 1]")
    if tuple(labels.shape) != (batch,) or labels.dtype != torch.int64:
        raise fail(f"labels must be int64 (B,), got {labels.dtype} {tuple(labels.shape)}")
    if classes and not (0 <= int(labels.min()) and int(labels.max()) < classes):
        raise fail("a label is out of range")
    sample, sample_labels = dataset.sample(3, generator=torch.Generator().manual_seed(0))
    k = min(3, n)
    if tuple(sample.shape) != (k, channels, size, size) or tuple(sample_labels.shape) != (k,):
        raise fail(f"sample(3) gave {tuple(sample.shape)} and {tuple(sample_labels.shape)}")
    counts = dataset.class_counts()
    if not all(isinstance(c, int) for c in counts):
        raise fail("class_counts() must be a list of int")
    if (len(counts), sum(counts)) != ((classes, n) if classes else (0, 0)):
        raise fail(f"class_counts() {counts[:10]} does not fit {classes} classes and {n} images")


CONTRACT = Contract(
    "dataset",
    "datasets",
    Dataset,
    check,
    factory=DatasetFactory,
    factory_options=("split", "data_dir", "download"),
)
