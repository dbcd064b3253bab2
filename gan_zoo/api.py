"""The public Python API, re-exported by ``gan_zoo``. Importing it does not import torch."""

from __future__ import annotations

from typing import Any

from . import plugins
from .config import Preset


def list_models(pattern: str | None = None, **filters: Any) -> list[str]:
    """Names of the presets, optionally filtered by a wildcard and by what they support."""
    return plugins.registry("models").names(pattern, **filters)


def list_generators(pattern: str | None = None, **filters: Any) -> list[str]:
    return plugins.registry("generators").names(pattern, **filters)


def list_discriminators(pattern: str | None = None, **filters: Any) -> list[str]:
    return plugins.registry("discriminators").names(pattern, **filters)


def list_losses(pattern: str | None = None, **filters: Any) -> list[str]:
    return plugins.registry("losses").names(pattern, **filters)


def list_datasets(pattern: str | None = None, **filters: Any) -> list[str]:
    return plugins.registry("datasets").names(pattern, **filters)


def list_metrics(pattern: str | None = None, **filters: Any) -> list[str]:
    return plugins.registry("metrics").names(pattern, **filters)


def get_preset(name: str) -> Preset:
    """A copy of the preset registered as ``name`` (the ``models`` kind)."""
    import copy

    return copy.deepcopy(plugins.registry("models").get(name).load())


def create_generator(name: str, **options: Any) -> Any:
    """Build the generator registered as ``name`` (``z_dim``, ``image_size``, ``channels``, ...)."""
    return plugins.registry("generators").create(name, **options)


def create_discriminator(name: str, **options: Any) -> Any:
    return plugins.registry("discriminators").create(name, **options)


def create_loss(name: str, **options: Any) -> Any:
    return plugins.registry("losses").create(name, **options)


def create_dataset(name: str, **options: Any) -> Any:
    """Load the dataset registered as ``name`` (``split``, ``data_dir``, ``download``, ...)."""
    return plugins.registry("datasets").create(name, **options)


def create_metric(name: str, **options: Any) -> Any:
    """Build the metric registered as ``name`` (e.g. ``fid`` from the gan-zoo-fid plugin)."""
    return plugins.registry("metrics").create(name, **options)
