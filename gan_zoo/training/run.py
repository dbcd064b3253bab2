"""``gan_zoo.train``: resolve a config (a new run, or one to resume), then run the loop.

No torch at import time; the loop is imported when training starts.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..errors import GanZooError
from ..recipe import read_recipe
from . import resolve

if TYPE_CHECKING:
    from ..config import TrainConfig
    from .result import Run


def train(
    model: str | None = None,
    dataset: str | None = None,
    *,
    recipe: str | os.PathLike | None = None,
    resume: str | None = None,
    overrides: Iterable[str] = (),
    progress: str = "auto",
    **options: Any,
) -> Run:
    """Train preset ``model`` on ``dataset`` and return the :class:`~gan_zoo.training.result.Run`.

    ``recipe`` is a recipe file (``.toml``, ``.yaml`` or ``.json``, such as a run's
    ``config.json``) applied on top of the preset; it may name the model and the dataset.
    ``options`` are :class:`~gan_zoo.config.TrainConfig` fields (``steps=500``,
    ``batch_size=64``, ``ema=0.999``, ``device="cpu"``, ``log=["wandb"]``, ...) plus the
    shorthands ``lr``, ``lr_g``, ``lr_d`` and ``betas``; ``overrides`` are ``"key=value"``
    strings as for ``--set`` (``"generator.width=32"``); each wins over the one before.
    ``resume`` continues a run directory or checkpoint; ``init="dcgan.fashion-mnist"`` (a run,
    checkpoint, pretrained tag or ``hf-hub:owner/name``) starts a new run from those weights
    (fresh optimizers, step 0). ``progress`` is ``"auto"``, ``"rich"``, ``"plain"`` or ``"quiet"``.

    Example::

        run = gan_zoo.train("dcgan", "fashion-mnist", epochs=1, ema=0.999)
        run = gan_zoo.train(recipe="recipes/small.toml", steps=100)
        print(run.dir, run.last_losses)
    """
    from .loop import run_training

    overrides = list(overrides)
    if resume is not None and options.get("init") is not None:
        raise GanZooError(
            "--init starts a new run from weights and --resume continues a run with its own; "
            "give one of them"
        )
    if resume is not None:
        check_resume(recipe)
        config, _, checkpoint = resolve.resume_config(resume, options, overrides)
        for given, have, what in (
            (model, config.model, "model"),
            (dataset, config.dataset, "dataset"),
        ):
            if given is not None and given != have:
                raise GanZooError(
                    f"{resume} trains {what} '{have}', not '{given}'; drop the {what} argument"
                )
        return run_training(config, resume=checkpoint, progress=progress)
    config = resolve_config(model, dataset, recipe=recipe, overrides=overrides, **options)
    return run_training(config, progress=progress)


def resolve_config(
    model: str | None = None,
    dataset: str | None = None,
    *,
    recipe: str | os.PathLike | None = None,
    resume: str | None = None,
    overrides: Iterable[str] = (),
    **options: Any,
) -> TrainConfig:
    """The validated config :func:`train` with these arguments trains (what ``--dump-config``
    writes): the preset, the recipe, the options, the overrides; or the run ``resume`` with
    the options it may change."""
    if resume is not None:
        check_resume(recipe)
        return resolve.resume_config(resume, options, list(overrides))[0]
    read = read_recipe(recipe) if recipe is not None else None
    model = model or (read.name("model") if read else None)
    dataset = dataset or (read.name("dataset") if read else None)
    if model is None or dataset is None:
        where = f" or as model and dataset in {read.where}" if read else ""
        raise GanZooError(
            f"name a model and a dataset (e.g. 'dcgan fashion-mnist'{where}), or pass resume=RUN"
        )
    return resolve.build_config(model, dataset, options, list(overrides), recipe=read)


def check_resume(recipe: str | os.PathLike | None) -> None:
    """A resumed run has its own recipe, its config.json."""
    if recipe is not None:
        raise GanZooError(
            "--config describes a new run and --resume continues one with its own "
            "config.json; give one of them"
        )
