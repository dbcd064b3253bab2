"""The public Python API, re-exported by ``gan_zoo``; nothing is defined here.

Building by name lives in :mod:`gan_zoo.factory`, training in :mod:`gan_zoo.training.run`,
loading in :mod:`gan_zoo.sampling`, scoring in :mod:`gan_zoo.evaluation`, exporting in
:mod:`gan_zoo.exporting`. Internal modules import
those, never this one. Importing it does not import torch: :func:`load` (whose module needs
torch) is resolved on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .evaluation import evaluate
from .exporting import export
from .factory import (
    create_dataset,
    create_discriminator,
    create_generator,
    create_loss,
    create_metric,
    get_preset,
    list_datasets,
    list_discriminators,
    list_generators,
    list_losses,
    list_metrics,
    list_models,
    open_split,
)
from .training.run import train

if TYPE_CHECKING:
    from .sampling import load

__all__ = [
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


def __getattr__(name: str) -> Any:  # PEP 562: torch is imported only when load is used
    if name == "load":
        from .sampling import load

        return load
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
