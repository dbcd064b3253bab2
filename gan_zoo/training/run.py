"""``gan_zoo.train``: resolve a config (a new run, or one to resume), then run the loop.

No torch at import time; the loop is imported when training starts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..errors import GanZooError
from . import resolve

if TYPE_CHECKING:
    from .result import Run


def train(
    model: str | None = None,
    dataset: str | None = None,
    *,
    resume: str | None = None,
    overrides: Iterable[str] = (),
    progress: str = "auto",
    **options: Any,
) -> Run:
    """Train preset ``model`` on ``dataset`` and return the :class:`~gan_zoo.training.result.Run`.

    ``options`` are :class:`~gan_zoo.config.TrainConfig` fields (``steps=500``,
    ``batch_size=64``, ``ema=0.999``, ``device="cpu"``, ...) plus the shorthands ``lr``,
    ``lr_g``, ``lr_d`` and ``betas``; ``overrides`` are ``"key=value"`` strings as for
    ``--set`` (``"generator.width=32"``). ``resume`` continues a run directory or checkpoint;
    ``init="dcgan.fashion-mnist"`` (a run, checkpoint, pretrained tag or ``hf-hub:owner/name``)
    starts a new run from those weights (fresh optimizers, step 0).
    ``progress`` is ``"auto"``, ``"rich"``, ``"plain"`` or ``"quiet"``.

    Example::

        run = gan_zoo.train("dcgan", "fashion-mnist", epochs=1, ema=0.999)
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
    if model is None or dataset is None:
        raise GanZooError(
            "name a model and a dataset (e.g. 'dcgan fashion-mnist'), or pass resume=RUN"
        )
    config = resolve.build_config(model, dataset, options, overrides)
    return run_training(config, progress=progress)
