"""gan-zoo: a plugin-based GAN zoo for PyTorch. See https://gan-zoo.readthedocs.io."""

from ._version import __version__
from .api import (
    create_dataset,
    create_discriminator,
    create_generator,
    create_loss,
    create_metric,
    evaluate,
    get_preset,
    list_datasets,
    list_discriminators,
    list_generators,
    list_losses,
    list_metrics,
    list_models,
    load,
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
    "get_preset",
    "list_datasets",
    "list_discriminators",
    "list_generators",
    "list_losses",
    "list_metrics",
    "list_models",
    "train",
    "load",
]
