"""The run directory of a training: claimed and locked, resumed from, checkpointed into.

:func:`open_run` claims the run directory (:func:`new_run_dir` names it, :func:`claim_run_dir`
creates and locks it on rank 0), then resumes it or starts it; :func:`load_checkpoint` restores
a run's networks, optimizers, scaler and random streams from its latest checkpoint,
and :func:`save` writes the training's state as the next checkpoint
(:class:`~gan_zoo.checkpoint.TrainingState` through :func:`~gan_zoo.checkpoint.save_checkpoint`).
"""

from __future__ import annotations

import datetime
import os
import time
from pathlib import Path
from typing import Any

import torch

from .. import checkpoint as ckpt_io
from ..config import TrainConfig
from ..errors import ConfigError
from ..runlock import RunLock
from . import distributed as ddp
from .build import Parts
from .ema import EMA
from .reporter import truncate_jsonl
from .step import TrainStep
from .streams import Streams


def open_run(
    config: TrainConfig,
    info: ddp.DistInfo,
    parts: Parts,
    ema: EMA | None,
    step_fn: TrainStep,
    streams: Streams,
    run_dir: Path | None,
    resume: Path | None,
) -> tuple[Path, RunLock | None, dict[str, Any], int, float]:
    """Claim the run directory, resume from its checkpoint (``resume``) or start it, and write
    config.json: ``(run_dir, lock, config record, step, seconds trained before)``."""
    run_dir, lock = claim_run_dir(config, info, parts.device, run_dir, resume)
    # The config is complete, so config.json's record is the same for every checkpoint.
    record = ckpt_io.config_record(config, parts.dataset.class_names)
    try:
        step, elapsed_before = 0, 0.0
        if resume is not None:
            step, elapsed_before = load_checkpoint(resume, parts, ema, step_fn, streams)
            if info.is_main:
                truncate_jsonl(run_dir / ckpt_io.METRICS_LOG, step)
        if info.is_main:
            (run_dir / ckpt_io.SAMPLES_DIR).mkdir(parents=True, exist_ok=True)
            ckpt_io.atomic_write_json(run_dir / ckpt_io.CONFIG_FILE, record)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    return run_dir, lock, record, step, elapsed_before


def claim_run_dir(
    config: TrainConfig,
    info: ddp.DistInfo,
    device: torch.device,
    run_dir: Path | None,
    resume: Path | None,
) -> tuple[Path, RunLock | None]:
    """The run directory (the resumed one, ``--out`` or a new name), created and exclusively
    locked by rank 0, so a second training into it is refused while this one runs."""
    if resume is not None:
        path = Path(resume).resolve()
        path = path.parent.parent if path.parent.name == ckpt_io.CHECKPOINTS_DIR else path
    elif run_dir is None:
        main_dir = str(new_run_dir(config)) if info.is_main else ""
        path = Path(ddp.broadcast_text(main_dir, info, device))
    else:
        path = Path(run_dir)
    if not info.is_main:
        return path, None
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create run directory {path}: {exc.strerror or exc}; pick another --out"
        ) from None
    lock = RunLock(path).acquire()
    if resume is None and holds_run(path):  # finished by another process since we looked
        lock.release()
        raise ConfigError(
            f"{path} already holds a run; continue it with --resume {path} or pick another --out"
        )
    return path, lock


def load_checkpoint(
    path: Path, parts: Parts, ema: EMA | None, step_fn: TrainStep, streams: Streams
) -> tuple[int, float]:
    """Restore networks, optimizers, scaler and random streams; ``(step, elapsed seconds)``."""
    restored = ckpt_io.restore_training_state(
        path,
        ckpt_io.TrainingState(
            parts.G,
            parts.D,
            step_fn.g_opt,
            step_fn.d_opt,
            ema_generator=ema.module if ema else None,
            scaler=step_fn.amp.scaler,
        ),
        map_location=parts.device,
    )
    state, rng = restored.progress, restored.rng
    step, plan = int(state["step"]), parts.plan
    if step >= plan.total_steps:
        raise ConfigError(
            f"{path} has already trained its {plan.total_steps} steps; pass a larger --steps "
            "or --epochs to train longer"
        )
    if int(state.get("steps_per_epoch", plan.steps_per_epoch)) != plan.steps_per_epoch:
        raise ConfigError(
            "the dataset or batch size changed since the checkpoint; cannot resume exactly"
        )
    parts.warnings.extend(filter(None, [streams.restore(rng, step)]))  # re-seeded streams
    step_fn.load_loss_states(state.get("loss_state", {}))  # lazy R1's count, say
    return step, float(state.get("elapsed_seconds", 0.0))


def save(
    t: Any, step: int, grid: torch.Tensor | None, metric: tuple[str, float, bool] | None
) -> Path:
    """Write checkpoint ``step`` of the training ``t`` (a :class:`~.loop.Training`): its
    progress, networks, optimizers, random streams, the sample ``grid`` and the tracked
    ``metric``."""
    config, plan, scaler = t.config, t.plan, t.train_step.amp.scaler
    within = step % plan.steps_per_epoch
    state = {
        "step": step,
        "epoch": step // plan.steps_per_epoch,
        "step_in_epoch": within,
        "steps_per_epoch": plan.steps_per_epoch,
        "total_steps": plan.total_steps,
        "images_seen": step * plan.images_per_step,
        "elapsed_seconds": round(t.elapsed_before + time.perf_counter() - t.started, 3),
        "hardware": t.hardware,
        "last_losses": dict(t.stats.last_losses),
        "class_names": list(t.dataset.class_names),
        "warnings": list(t.reporter.warnings),
        "loss_state": t.train_step.loss_states(),
        "world_size": t.info.world_size,
        "batch_per_process": plan.batch,
    }
    training_state = ckpt_io.TrainingState(
        t.G,
        t.D,
        t.train_step.g_opt,
        t.train_step.d_opt,
        ema_generator=t.sampler if t.ema else None,
        scaler=scaler if scaler.is_enabled() else None,
        progress=state,
        rng=t.streams.state(at_epoch_start=within == 0),
        samples=grid,
        metric=metric,
    )
    return ckpt_io.save_checkpoint(t.run_dir, training_state, t.record, keep=config.keep)


def holds_run(path: Path) -> bool:
    """True if a training has already written into ``path``."""
    from ..checkpoint.layout import CHECKPOINTS_DIR, METRICS_LOG

    return (path / CHECKPOINTS_DIR).exists() or (path / METRICS_LOG).exists()


def new_run_dir(config: TrainConfig, root: str | os.PathLike = "runs") -> Path:
    """``--out`` or ``runs/<model>-<dataset>-<YYYYmmdd-HHMMSS>`` (suffixed if it exists)."""
    if config.out:
        path = Path(config.out).expanduser()
        if holds_run(path):
            raise ConfigError(
                f"{path} already holds a run; continue it with --resume {path} "
                "or pick another --out"
            )
        return path
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(root) / f"{config.model}-{config.dataset}-{stamp}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path
