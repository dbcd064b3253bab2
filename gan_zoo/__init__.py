"""gan-zoo: a plugin-based GAN zoo for PyTorch. See https://gan-zoo.readthedocs.io."""

from typing import Any

from ._version import __version__
from .api import (
    create_dataset,
    create_discriminator,
    create_generator,
    create_loss,
    create_metric,
    evaluate,
    export,
    get_preset,
    list_datasets,
    list_discriminators,
    list_generators,
    list_losses,
    list_metrics,
    list_models,
    open_split,
    train,
)
from .errors import GanZooError

__all__ = [
    "GanZooError",
    "__version__",
    "create_dataset",
    "create_discriminator",
    "create_generator",
    "create_loss",
    "create_metric",
    "evaluate",
    "export",
    "get_preset",
    "list_datasets",
    "list_discriminators",
    "list_generators",
    "list_losses",
    "list_metrics",
    "list_models",
    "load",
    "open_split",
    "train",
]


def __getattr__(name: str) -> Any:  # PEP 562: ``load`` (torch) is resolved by the API module
    if name == "load":
        from .api import load

        return load
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
