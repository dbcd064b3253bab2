"""Building things by name: the one place that turns registry names into objects.

In the spirit of timm's ``_factory.py`` (``create_model`` parses the name, builds, loads
weights): the public API (:mod:`gan_zoo.api`) only re-exports these functions, and internal code
(the trainer, checkpoints, evaluation, the CLI) imports them from here, never from the API
module. The networks' keyword arguments are assembled in exactly one place,
:func:`network_kwargs`, from a resolved :class:`~gan_zoo.config.TrainConfig`, whether a run is
starting, being saved or being loaded back.

Importing this module does not import torch; building a network does.
"""

from __future__ import annotations

import copy
import inspect
from typing import TYPE_CHECKING, Any

from . import plugins
from .config import Preset, TrainConfig
from .errors import ConfigError, DataError, GanZooError, did_you_mean
from .options import check_ranges

if TYPE_CHECKING:
    from torch import nn

    from .contracts import Dataset
    from .losses.base import GANLoss

__all__ = [
    "RUN_DATASET_OPTIONS",
    "check_metric",
    "check_options",
    "create_dataset",
    "create_discriminator",
    "create_generator",
    "create_loss",
    "create_losses",
    "create_metric",
    "create_networks",
    "dataset_options",
    "get_preset",
    "list_datasets",
    "list_discriminators",
    "list_generators",
    "list_losses",
    "list_metrics",
    "list_models",
    "network_kwargs",
    "open_split",
    "open_training_split",
]


# Listing.
def list_models(pattern: str | None = None, **filters: Any) -> list[str]:
    """Names of the presets, optionally filtered by a wildcard ``pattern`` (``"*gan*"``) and
    by what they support (``image_size=28``, ``channels=1``, ``conditional=True``)."""
    return plugins.registry("models").names(pattern, **filters)


def list_generators(pattern: str | None = None, **filters: Any) -> list[str]:
    """Names of the registered generators matching the wildcard ``pattern`` (None: all),
    with filters as for :func:`list_models`."""
    return plugins.registry("generators").names(pattern, **filters)


def list_discriminators(pattern: str | None = None, **filters: Any) -> list[str]:
    """Names of the registered discriminators matching the wildcard ``pattern`` (None: all),
    with filters as for :func:`list_models`."""
    return plugins.registry("discriminators").names(pattern, **filters)


def list_losses(pattern: str | None = None, **filters: Any) -> list[str]:
    """Names of the registered losses and regularizers matching the wildcard ``pattern``
    (None: all),
    with filters as for :func:`list_models`."""
    return plugins.registry("losses").names(pattern, **filters)


def list_datasets(pattern: str | None = None, **filters: Any) -> list[str]:
    """Names of the registered datasets matching the wildcard ``pattern`` (None: all),
    with filters as for :func:`list_models`."""
    return plugins.registry("datasets").names(pattern, **filters)


def list_metrics(pattern: str | None = None, **filters: Any) -> list[str]:
    """Names of the registered metrics matching the wildcard ``pattern`` (None: all), with
    filters as for :func:`list_models` (``fid`` and ``kid`` come with ``gan-zoo-fid``)."""
    return plugins.registry("metrics").names(pattern, **filters)


# Presets.
def get_preset(name: str) -> Preset:
    """A copy of the preset registered as ``name`` (the ``models`` kind)."""
    preset = plugins.registry("models").get(name).load()
    if not isinstance(preset, Preset):
        raise GanZooError(
            f"model '{name}' is registered with a {type(preset).__name__}, not a Preset"
        )
    return copy.deepcopy(preset)


# Networks and losses.
def create_generator(name: str, **options: Any) -> nn.Module:
    """Build the generator registered as ``name`` (``z_dim``, ``image_size``, ``channels``, ...)."""
    return plugins.registry("generators").create(name, **options)


def create_discriminator(name: str, **options: Any) -> nn.Module:
    """Build the discriminator registered as ``name`` (``image_size``, ``channels``, ...)."""
    return plugins.registry("discriminators").create(name, **options)


def create_loss(name: str, **options: Any) -> GANLoss:
    """Build the loss (or regularizer) registered as ``name``."""
    return plugins.registry("losses").create(name, **options)


def network_kwargs(config: TrainConfig, part: str) -> dict[str, Any]:
    """The factory arguments of ``part`` (``"generator"`` or ``"discriminator"``) of a resolved
    config: sizes, ``z_dim`` (generator), ``num_classes`` (conditional networks), then the
    preset's and the user's options. The one place these are assembled: starting a run, writing
    a checkpoint and loading one back all call it.
    """
    if part not in ("generator", "discriminator"):
        raise ValueError(f"part must be 'generator' or 'discriminator', not {part!r}")
    spec = getattr(config, part)
    kind = "generators" if part == "generator" else "discriminators"
    entry = plugins.registry(kind).get(spec.name)
    kwargs: dict[str, Any] = {"z_dim": config.z_dim} if part == "generator" else {}
    kwargs.update(image_size=config.image_size, channels=config.channels)
    if entry.supports.conditional and config.num_classes:
        kwargs["num_classes"] = config.num_classes
    kwargs.update(spec.options)
    return kwargs


#: Factory arguments the run sets itself (from the data and the recipe), never as an option.
_RUN_ARGUMENTS = {
    "z_dim": "z_dim (--set z_dim=...)",
    "image_size": "--image-size",
    "channels": "--channels",
    "num_classes": "the dataset's classes",
}


def check_options(kind: str, spec: Any, what: str) -> None:
    """One-line errors for options of ``spec`` (a NetSpec) that its factory does not take, or
    whose value has another type than the option's default (``width=abc`` for an int)."""
    entry = plugins.registry(kind).get(spec.name)
    accepted = entry.options()
    for key, value in spec.options.items():
        if key in _RUN_ARGUMENTS and kind in ("generators", "discriminators"):
            raise ConfigError(f"{what} option '{key}' is set by the run; use {_RUN_ARGUMENTS[key]}")
        if key not in accepted:
            if any(p.kind is p.VAR_KEYWORD for p in _parameters(entry)):
                continue
            names = sorted(k for k in accepted if k not in _RUN_ARGUMENTS)
            raise ConfigError(
                f"{what} '{spec.name}' has no option '{key}'{did_you_mean(key, names)} "
                f"(options: {', '.join(names) or 'none'})"
            )
        if not _same_type(accepted[key], value):
            raise ConfigError(
                f"{what} option '{key}' must be {_kind_of(accepted[key])} like its default "
                f"{accepted[key]!r}, got {value!r}"
            )
    check_ranges(f"{what} '{spec.name}'", entry.load(), spec.options)


def _parameters(entry: Any) -> list[Any]:
    target = entry.load()
    return list(inspect.signature(target).parameters.values()) if callable(target) else []


def _same_type(default: Any, value: Any) -> bool:
    if default is None or value is None or default is inspect.Parameter.empty:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, str):
        return isinstance(value, str)
    if isinstance(default, (list, tuple)):
        return isinstance(value, (list, tuple))
    return True


def _kind_of(default: Any) -> str:
    for kind, text in (
        (bool, "true or false"),
        (int, "an integer"),
        (float, "a number"),
        (str, "a string"),
        ((list, tuple), "a list"),
    ):
        if isinstance(default, kind):
            return text
    return type(default).__name__


def create_networks(config: TrainConfig) -> tuple[nn.Module, nn.Module]:
    """``(generator, discriminator)`` of a resolved config, on the CPU, in training mode."""
    return (
        create_generator(config.generator.name, **network_kwargs(config, "generator")),
        create_discriminator(config.discriminator.name, **network_kwargs(config, "discriminator")),
    )


def create_losses(config: TrainConfig) -> tuple[GANLoss, GANLoss | None]:
    """``(loss, regularizer)`` of a config; the regularizer is None when the recipe has none."""
    loss = create_loss(config.loss.name, **config.loss.options)
    reg = config.regularizer
    return loss, (create_loss(reg.name, **reg.options) if reg is not None else None)


# Datasets.
def create_dataset(name: str, **options: Any) -> Dataset:
    """Load the dataset registered as ``name`` (``split``, ``data_dir``, ``download``, ...)."""
    return plugins.registry("datasets").create(name, **options)


def open_split(
    name: str,
    split: str,
    *,
    data_dir: str | None = None,
    download: bool = False,
    image_size: int | None = None,
    channels: int | None = None,
    options: dict[str, Any] | None = None,
) -> Dataset:
    """Split ``split`` of dataset ``name`` with a run's settings, each passed only if the
    dataset's factory takes it (``image_size`` and ``channels`` when it can convert).

    ``options`` are the run's other dataset options (e.g. image-folder's ``test_fraction`` and
    ``seed``, so that its test split is the one held out from training); ``split`` wins. The
    files are looked for under ``data_dir`` (default: where the dataset looks) and, with
    ``download``, fetched when missing, for datasets that can download.
    """
    entry = plugins.registry("datasets").get(name)
    accepted = entry.options()
    settings = {**(options or {}), "split": split, "data_dir": data_dir, "download": download}
    for key, value in (("image_size", image_size), ("channels", channels)):
        if value is not None:
            settings[key] = value
    return entry.create(**{k: v for k, v in settings.items() if k in accepted})


#: Dataset options that have a run setting of their own.
RUN_DATASET_OPTIONS = {
    "data_dir": "--data-dir",
    "download": "--download",
    "image_size": "--image-size",
    "channels": "--channels",
}


def dataset_options(config: TrainConfig) -> dict[str, Any]:
    """``config.dataset_options`` checked against what dataset ``config.dataset`` accepts."""
    accepted = plugins.registry("datasets").get(config.dataset).options()
    for key in config.dataset_options:
        if key in RUN_DATASET_OPTIONS:
            raise ConfigError(
                f"dataset option '{key}' is a run setting; use {RUN_DATASET_OPTIONS[key]} instead"
            )
        if key not in accepted:
            names = sorted(set(accepted) - set(RUN_DATASET_OPTIONS))
            raise ConfigError(
                f"dataset '{config.dataset}' has no option '{key}'{did_you_mean(key, names)} "
                f"(it takes: {', '.join(names) or 'none'})"
            )
    return dict(config.dataset_options)


def open_training_split(config: TrainConfig, split: str | None = None) -> Dataset:
    """The split a run trains on (``dataset_options.split``, else ``train``) or, with ``split``,
    another split built with the same options (evaluation's reference images), at the run's
    image size and channels when the dataset can convert."""
    options = dataset_options(config)
    chosen = options.pop("split", "train")
    dataset = open_split(
        config.dataset,
        split or chosen,
        data_dir=config.data_dir,
        download=config.download,
        image_size=config.image_size,
        channels=config.channels,
        options=options,
    )
    if len(dataset) == 0:
        raise DataError(f"dataset '{config.dataset}' is empty ({dataset.source})")
    return dataset


# Metrics.
def check_metric(name: str) -> None:
    """A one-line error unless metric ``name`` is registered (with the pip command for FID/KID)."""
    registry = plugins.registry("metrics")
    if name not in registry and name in ("fid", "kid"):
        raise GanZooError(
            f"metric '{name}' is not installed; install it with 'pip install gan-zoo-fid' "
            "(see 'gan-zoo list metrics')"
        )
    registry.get(name)  # unknown names: did-you-mean


def create_metric(name: str, **options: Any) -> Any:
    """The metric ``name`` built with ``options`` (``num_samples``, ``batch_size``, ``device``)."""
    check_metric(name)
    return plugins.registry("metrics").create(name, **options)
