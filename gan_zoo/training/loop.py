"""The training loop: any registered generator, discriminator, loss and dataset.

It reads like a recipe, in the manner of NVlabs stylegan2-ada-pytorch's
``training/training_loop.py``: :func:`set_up` resolves the config and builds the data, the
networks, the step and the run directory; :func:`run_training` then, per step, calls the
:class:`~gan_zoo.training.step.TrainStep` (``n_critic`` D updates, one G update), updates the
EMA and the statistics, and now and then reports, writes samples and writes a checkpoint. It
never prints: statistics, images and warnings go to a
:class:`~gan_zoo.training.reporter.Reporter`. The config is complete before the loop starts
and the loop only reads it.

Speed without special cases: the data sits on the device as uint8 and is batched there; losses
stay tensors and are summed on the device, so the host waits for the device only every
``log_every`` steps (and at checkpoints); see :mod:`gan_zoo.training.step` for the step itself.

Exact resume: the learning rate is a function of the step, and the random streams
(:mod:`gan_zoo.training.streams`) are saved with each checkpoint. On the CPU an interrupted and
resumed run ends bit-identical to an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .. import checkpoint as ckpt_io
from .. import images as images_io
from ..config import TrainConfig
from ..contracts import describe_entry
from ..errors import GanZooError
from ..report import write_report
from ..runlock import RunLock, describe_stale
from . import distributed as ddp
from . import plots
from .build import Plan, build, hardware_name
from .ema import EMA
from .init import start_from
from .precision import precision_warning
from .reporter import Progress, Reporter, Sink, make_reporter
from .result import Run, TrainingDiverged
from .rundir import open_run, save
from .schedule import lr_at
from .scoring import Evaluator
from .signals import StopRequest
from .step import TrainStep
from .step_stats import StepStats
from .streams import Streams
from .trackers import open_trackers

__all__ = ["Run", "TrainingDiverged", "Training", "run_training", "set_up"]


@dataclass(frozen=True)
class Training:
    """What one training process holds, set up once by :func:`set_up` and read by the loop."""

    config: TrainConfig  # resolved
    info: ddp.DistInfo
    device: torch.device
    dataset: Any  # on the device
    plan: Plan
    G: nn.Module
    D: nn.Module
    ema: EMA | None
    train_step: TrainStep
    streams: Streams
    run_dir: Path
    reporter: Reporter
    stats: StepStats
    evaluator: Evaluator | None
    hardware: str
    elapsed_before: float  # seconds trained before a resume
    started: float  # time.perf_counter() when this process started training
    record: dict[str, Any]  # config.json: the resolved config, versions, class names
    lock: RunLock | None = None  # rank 0 holds the run directory while it trains

    @property
    def sampler(self) -> nn.Module:
        """The generator that samples, is evaluated and saved: EMA's (``EMA.averaged``) if on."""
        return self.ema.averaged() if self.ema is not None else self.G

    def epoch(self, step: int) -> int:
        """The 1-based epoch that ``step`` (a finished step) belongs to."""
        return max(1, math.ceil(step / self.plan.steps_per_epoch))


def set_up(
    config: TrainConfig,
    info: ddp.DistInfo,
    *,
    run_dir: Path | None = None,
    resume: Path | None = None,
    progress: str = "auto",
    sinks: Sequence[Sink] = (),
) -> tuple[Training, int]:
    """Everything the loop reads, and the step it starts from (0, or the checkpoint's)."""
    # Set up the data and networks; from here on the config is complete and only read.
    config, parts = build(config, info)
    ema = EMA.for_run(parts.G, config, parts.plan.batch) if config.ema > 0 else None
    if config.init is not None and resume is None:  # --init: weights in, before step 0
        init = start_from(config, parts.G, parts.D, ema.module if ema else None)
        config = dataclasses.replace(config, init=init)

    # Set up the step (optimizers, precision, DiffAugment, DDP, torch.compile) and its noise.
    streams = Streams(config, info, parts.device)
    step_fn = TrainStep(
        config,
        parts.G,
        parts.D,
        parts.loss,
        parts.regularizer,
        noise=streams.noise,
        device=parts.device,
        info=info,
    )
    step_fn.check_contract()  # plugin entries that break the contract fail here, in one line

    # Claim the run directory (locked while this process trains), then resume or start it.
    run_dir, lock, record, step, elapsed_before = open_run(
        config, info, parts, ema, step_fn, streams, run_dir, resume
    )

    # Set up the reporter, the statistics and the evaluation.
    reporter = make_reporter(progress, run_dir=run_dir, enabled=info.is_main)
    if info.is_main:
        reporter.sinks.extend(sinks)
        reporter.sinks.extend(open_trackers(config.log, run_dir, record, reporter.warn))
    stale = [describe_stale(lock.stale)] if lock is not None and lock.stale else []
    for warning in stale + parts.warnings if info.is_main else ():
        reporter.warn(warning)
    slow_precision = precision_warning(config.precision, parts.device)
    if slow_precision and info.is_main:
        reporter.warn(slow_precision)
    stats = StepStats(
        parts.device,
        info,
        images_per_step=parts.plan.images_per_step,
        log_every=config.log_every,
        probabilities=bool(getattr(parts.loss, "logits_are_log_odds", False)),
    )
    evaluator = None
    if config.eval_metric and info.is_main:
        evaluator = Evaluator(config, parts.device, reference=parts.eval_reference)
    training = Training(
        config,
        info,
        parts.device,
        parts.dataset,
        parts.plan,
        parts.G,
        parts.D,
        ema,
        step_fn,
        streams,
        run_dir,
        reporter,
        stats,
        evaluator,
        hardware_name(parts.device, info),
        elapsed_before,
        started=time.perf_counter(),
        record=record,
        lock=lock,
    )
    return training, step


def run_training(
    config: TrainConfig,
    *,
    run_dir: Path | None = None,
    resume: Path | None = None,
    progress: str = "auto",
    sinks: Sequence[Sink] = (),
) -> Run:
    """Train ``config``; write the run into ``run_dir`` (or continue the checkpoint ``resume``).

    ``progress`` picks the console sink (``auto``, ``rich``, ``plain``, ``quiet``); ``sinks``
    are extra :class:`~gan_zoo.training.reporter.Sink` objects that see every report.
    ``config`` itself is left as it is: the returned run's ``config`` is the resolved one.
    """
    info = ddp.init(config.device)  # the backend follows the device: gloo on cpu, NCCL on cuda
    t: Training | None = None
    try:
        # Set up the data, networks, step and run directory.
        t, step = set_up(
            config, info, run_dir=run_dir, resume=resume, progress=progress, sinks=sinks
        )
        plan = t.plan
        t.reporter.start(Progress(plan.total_steps, plan.steps_per_epoch, step), title(t))
        if info.enabled:  # one line (from rank 0): processes, batch per process, global batch
            t.reporter.info(ddp.describe_batch(plan.batch, info, t.config))
        if resume is not None:  # a note in events.jsonl and the report
            t.reporter.info(f"resumed from {resume} at step {step}")
        grid: torch.Tensor | None = None  # the latest sample grid, (C, H, W) uint8
        checkpoint: Path | None = None
        stop = False
        with StopRequest() as stopper, contextlib.closing(t.reporter):
            while step < plan.total_steps and not stop:
                batches = t.streams.epoch(t.dataset, plan, step)
                for _ in range(step % plan.steps_per_epoch, plan.steps_per_epoch):
                    # Update D n_critic times, then G (gan_zoo.training.step).
                    set_learning_rates(t, step)
                    result = t.train_step(batches)
                    step += 1

                    # Update the EMA and the statistics (on the device: no host sync here).
                    if t.ema is not None:
                        t.ema.update(t.G, step * plan.images_per_step)
                    t.stats.add(*result)
                    t.reporter.step(step)
                    final = step == plan.total_steps
                    if step % t.config.log_every == 0 or final:
                        log_stats(t, step)

                    # Write samples and checkpoints.
                    stop = stop_requested(stopper, t, step)
                    epoch_end = step % plan.steps_per_epoch == 0
                    sample_due = due(step, t.config.sample_every, epoch_end)
                    ckpt_due = due(step, t.config.checkpoint_every, epoch_end)
                    # A checkpoint carries the latest grid: draw one if there is none yet.
                    if t.info.is_main and (
                        sample_due or final or ((ckpt_due or stop) and grid is None)
                    ):
                        grid = write_samples(t, step)
                    if ckpt_due or final or stop:
                        # Scheduled checkpoints are evaluated; a stop request is not kept waiting.
                        checkpoint = write_checkpoint(t, step, grid, evaluate=ckpt_due or final)
                    if stop or final:
                        break

        # Write the plots and the report, and hand back the run.
        if info.is_main:
            plots.plot_curves(t.run_dir / ckpt_io.METRICS_LOG, t.run_dir)
            refresh_report(t)
        return finished_run(t, step, checkpoint, interrupted=stop and step < plan.total_steps)
    finally:
        if t is not None and t.lock is not None:
            t.lock.release()
        t = None  # its DDP wrappers hold the process group: shutdown frees them first
        ddp.shutdown(info)


def finished_run(t: Training, step: int, checkpoint: Path | None, interrupted: bool) -> Run:
    """What :func:`run_training` hands back once the loop ends at ``step``."""
    return Run(
        dir=t.run_dir,
        config=t.config,
        step=step,
        epoch=math.ceil(step / t.plan.steps_per_epoch),
        images_seen=step * t.plan.images_per_step,
        last_losses=dict(t.stats.last_losses),
        checkpoint=checkpoint,
        interrupted=interrupted,
        warnings=list(t.reporter.warnings),
        rank=t.info.rank,
        generator=t.sampler,
        discriminator=t.D,
    )


# Helpers of set_up.
def title(t: Training) -> str:
    c, plan = t.config, t.plan
    return (
        f"Training {c.model} on {c.dataset} ({len(t.dataset) * t.info.world_size:,} images, "
        f"{c.image_size} px): {plan.total_steps:,} steps of batch {c.batch_size}, "
        f"{plan.steps_per_epoch} per epoch, {t.device} {c.precision}; run dir {t.run_dir}"
    )


# Helpers of the loop.
def set_learning_rates(t: Training, step: int) -> None:
    """The schedule's rates for ``step`` (0-based): a function of the step, so resume is exact."""
    config, total = t.config, t.plan.total_steps
    for optimizer, base in (
        (t.train_step.g_opt, config.g_optim.lr),
        (t.train_step.d_opt, config.d_optim.lr),
    ):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(base, step, total, config)


def due(step: int, every: int, epoch_end: bool) -> bool:
    """Every ``every`` steps, or at each epoch's end when ``every`` is 0."""
    return step % every == 0 if every else epoch_end


def stop_requested(stopper: StopRequest, t: Training, step: int) -> bool:
    """Whether to stop after this step: a signal here, or on any rank under DDP (checked every
    10 steps there, because asking the other ranks syncs)."""
    if t.info.enabled:
        return step % 10 == 0 and ddp.any_rank(stopper.requested, t.device, t.info)
    return stopper.requested


def log_stats(t: Training, step: int) -> None:
    """Read the window's statistics (the host waits for the device here) and report them."""
    check_finite(t, step)
    values = t.stats.flush()
    values["lr"], values["lr/d"] = (
        t.train_step.g_opt.param_groups[0]["lr"],
        t.train_step.d_opt.param_groups[0]["lr"],
    )
    t.reporter.report(step, t.epoch(step), values)
    if warning := t.stats.d_stuck(values):
        t.reporter.warn(warning)


def check_finite(t: Training, step: int) -> None:
    """Stop with one line when a loss became NaN or Inf in the current window."""
    if bad := t.stats.nonfinite():
        latest = ckpt_io.list_checkpoints(t.run_dir)
        kept = (
            f"the last good checkpoint is {latest[-1]}" if latest else "no checkpoint was written"
        )
        loss = describe_entry(t.train_step.loss, "loss", t.config.loss.name)
        message = (
            f"{' and '.join(bad)} of {loss} became NaN or Inf by step {step}; training stopped "
            f"and {kept}; try --precision fp32, a lower --lr or another --seed"
        )
        if t.info.is_main:
            t.reporter.stopped(message)
            refresh_report(t)
        raise TrainingDiverged(message)


def write_samples(t: Training, step: int) -> torch.Tensor:
    """Sample the fixed noise, check the samples' diversity, write and report the grid."""
    sampler = t.sampler
    was_training = sampler.training
    sampler.eval()
    with torch.no_grad():
        images = sampler(t.streams.fixed_z, t.streams.fixed_c)  # (N, C, H, W)
    sampler.train(was_training)
    # A fresh generator's samples are all near 0: judge diversity after the first epoch.
    if step >= min(t.plan.steps_per_epoch, 500) and (warning := t.stats.collapsed(images, step)):
        t.reporter.warn(warning)
    names = t.dataset.class_names if t.config.conditional else None
    grid = images_io.sample_grid(images, nrow=8, row_names=names)  # (C, H, W) uint8
    images_io.save_png(grid, t.run_dir / ckpt_io.SAMPLES_DIR / f"{ckpt_io.step_name(step)}.png")
    t.reporter.image("samples", grid, step)
    return grid


def write_checkpoint(
    t: Training, step: int, grid: torch.Tensor | None, evaluate: bool
) -> Path | None:
    """Check the losses, score the sampler (``evaluate``), write a checkpoint (rank 0; the
    others wait) and return its path (None on other ranks)."""
    if t.stats.steps:
        check_finite(t, step)
    checkpoint = None
    if t.info.is_main:
        scored = t.evaluator is not None and evaluate
        metric = t.evaluator(t.sampler, step, t.epoch(step), t.reporter) if scored else None
        checkpoint = save(t, step, grid, metric)
        refresh_report(t)
    ddp.barrier(t.info)
    return checkpoint


def refresh_report(t: Training) -> None:
    """Rewrite ``RUN/report.html`` (rank 0); a report that cannot be written is a warning, never
    the end of the training."""
    try:
        write_report([t.run_dir], t.run_dir / ckpt_io.REPORT_FILE, run=True)
    except (GanZooError, OSError, ValueError) as exc:
        t.reporter.warn(f"{ckpt_io.REPORT_FILE} was not written: {exc}")
