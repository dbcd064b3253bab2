"""The public Python API, re-exported by ``gan_zoo``. Importing it does not import torch."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from . import plugins
from .config import Preset

if TYPE_CHECKING:
    from .training.loop import Run


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


def open_split(
    name: str,
    split: str,
    *,
    data_dir: str | None = None,
    download: bool = False,
    image_size: int | None = None,
    channels: int | None = None,
    options: dict[str, Any] | None = None,
) -> Any:
    """Split ``split`` of dataset ``name`` with a run's settings, each passed only if the
    dataset's factory takes it (``image_size`` and ``channels`` when it can convert).

    ``options`` are the run's other dataset options (e.g. image-folder's ``test_fraction`` and
    ``seed``, so that its test split is the one held out from training); ``split`` wins.
    """
    entry = plugins.registry("datasets").get(name)
    accepted = entry.options()
    settings = {**(options or {}), "split": split, "data_dir": data_dir, "download": download}
    for key, value in (("image_size", image_size), ("channels", channels)):
        if value is not None:
            settings[key] = value
    return entry.create(**{k: v for k, v in settings.items() if k in accepted})


def create_metric(name: str, **options: Any) -> Any:
    """Build the metric registered as ``name`` (e.g. ``fid`` from the gan-zoo-fid plugin)."""
    from .evaluation import create_metric as create

    return create(name, **options)


def load(path: str | Any, device: str | Any = "cpu") -> Any:
    """The generator of a run, checkpoint dir or ``generator.safetensors``, in eval mode.

    It samples with ``g.sample(n, labels=None, seed=None, truncation=None)`` (images in [-1, 1])
    and converts with ``g.to_pil(images)``. See :func:`gan_zoo.sampling.load`.
    """
    from .sampling import load as _load

    return _load(path, device=device)


def train(
    model: str | None = None,
    dataset: str | None = None,
    *,
    resume: str | None = None,
    overrides: Iterable[str] = (),
    progress: str = "auto",
    **options: Any,
) -> Run:
    """Train preset ``model`` on ``dataset`` and return the :class:`~gan_zoo.training.loop.Run`.

    ``options`` are :class:`~gan_zoo.config.TrainConfig` fields (``steps=500``,
    ``batch_size=64``, ``ema=0.999``, ``device="cpu"``, ...) plus the shorthands ``lr``,
    ``lr_g``, ``lr_d`` and ``betas``; ``overrides`` are ``"key=value"`` strings as for
    ``--set`` (``"generator.width=32"``). ``resume`` continues a run directory or checkpoint.
    ``progress`` is ``"auto"``, ``"rich"``, ``"plain"`` or ``"quiet"``.

    Example::

        run = gan_zoo.train("dcgan", "fashion-mnist", epochs=1, ema=0.999)
        print(run.dir, run.last_losses)
    """
    from .errors import GanZooError
    from .training import resolve
    from .training.loop import train as train_loop

    overrides = list(overrides)
    if resume is not None:
        config, _, checkpoint = resolve.resume_config(resume, options, overrides)
        for given, have, what in ((model, config.model, "model"), (dataset, config.dataset, "dataset")):
            if given is not None and given != have:
                raise GanZooError(f"{resume} trains {what} '{have}', not '{given}'; drop the {what} argument")
        return train_loop(config, resume=checkpoint, progress=progress)
    if model is None or dataset is None:
        raise GanZooError("name a model and a dataset (e.g. 'dcgan fashion-mnist'), or pass resume=RUN")
    config = resolve.build_config(model, dataset, options, overrides)
    return train_loop(config, progress=progress)


def evaluate(path: Any, metrics: Any = ("fid",), **options: Any) -> dict[str, dict[str, Any]]:
    """Score the generator at ``path`` with registered metrics; see :mod:`gan_zoo.evaluation`."""
    from .evaluation import evaluate as _evaluate

    return _evaluate(path, metrics, **options)
