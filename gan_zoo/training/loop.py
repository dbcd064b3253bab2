"""The training loop: any registered generator, discriminator, loss and dataset.

It reads like a recipe, in the manner of NVlabs stylegan2-ada-pytorch's
``training/training_loop.py``: set up the device, data and networks; then, per step, update D
``n_critic`` times, update G, update the EMA, and now and then report statistics, write samples
and write a checkpoint. It never prints: statistics, images and warnings go to a
:class:`~gan_zoo.training.reporter.Reporter`.

Speed without special cases: the data sits on the device as uint8 and is batched there; losses
stay tensors and are summed on the device, so the host waits for the device only every
``log_every`` steps; gradients are set to None; D's parameters are frozen during the G step
(no wasted weight gradients); Adam is fused where the device supports it; convolutional networks
use the channels_last layout where it is faster (CPU, CUDA bf16/fp16); ``torch.compile`` is an
option, and its CUDA-graph modes can capture the step because nothing in it waits for the host.

Exact resume: the learning rate is a function of the step, the data order of each epoch comes
from a generator whose state at the start of the epoch is saved with the position in the
epoch, and the noise and augmentation generator's state is saved too. On the CPU an interrupted
and resumed run ends bit-identical to an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from .. import images as images_io
from .. import plugins
from ..config import TrainConfig
from ..errors import ConfigError
from . import distributed as ddp
from .augment import DiffAugment
from .ema import EMA
from .evaluate import Evaluator
from .precision import Precision, resolve_channels_last, resolve_device, resolve_precision
from .reporter import Progress, Sink, make_reporter, truncate_jsonl
from .setup import (
    Run,
    StopRequest,
    TrainingDiverged,
    check_supports,
    hardware_name,
    load_dataset,
    lr_at,
    make_adam,
)
from .stats import StepStats

__all__ = ["Run", "TrainingDiverged", "train"]


def train(
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
    """
    from .. import checkpoint as ckpt_io
    from . import plots
    from .resolve import new_run_dir

    info = ddp.init()
    try:
        # Set up the device and precision.
        device = resolve_device(config.device, info.local_rank)
        config.device = str(device) if not info.enabled else device.type
        config.precision = resolve_precision(config.precision, device)
        amp = Precision(config.precision, device)
        if (
            device.type == "cpu"
            and info.local_world_size > 1
            and "OMP_NUM_THREADS" not in os.environ
        ):
            torch.set_num_threads(max(1, (torch.get_num_threads()) // info.local_world_size))

        # Load the data onto the device.
        dataset = load_dataset(config, info)
        if config.image_size is not None and dataset.image_size != config.image_size:
            raise ConfigError(
                f"model '{config.model}' is written for {config.image_size} px but dataset "
                f"'{config.dataset}' gives {dataset.image_size} px and cannot resize; "
                f"pass --image-size {dataset.image_size} or choose another model"
            )
        if config.channels is not None and dataset.channels != config.channels:
            raise ConfigError(
                f"model '{config.model}' is written for {config.channels}-channel images but "
                f"dataset '{config.dataset}' gives {dataset.channels} and cannot convert; "
                f"pass --channels {dataset.channels} or choose another model"
            )
        config.image_size, config.channels = dataset.image_size, dataset.channels
        g_entry = check_supports(
            "generators", config.generator.name, config.image_size, config.channels, config.dataset
        )
        d_entry = check_supports(
            "discriminators",
            config.discriminator.name,
            config.image_size,
            config.channels,
            config.dataset,
        )
        config.conditional = g_entry.supports.conditional
        config.num_classes = (
            dataset.num_classes
            if (g_entry.supports.conditional or d_entry.supports.conditional)
            else 0
        )
        if config.conditional and config.num_classes == 0:
            raise ConfigError(
                f"generator '{config.generator.name}' is conditional but '{config.dataset}' has no labels"
            )
        batch = ddp.per_rank_batch(config.batch_size, info)
        if info.enabled:
            if not hasattr(dataset, "images"):
                raise ConfigError(
                    f"distributed training needs an in-memory dataset; '{config.dataset}' streams from disk"
                )
            keep = ddp.shard_indices(len(dataset), config.seed, info)
            dataset.images, dataset.labels = dataset.images[keep], dataset.labels[keep]
        dataset.to(device)
        batches_per_epoch = len(dataset) // batch
        steps_per_epoch = batches_per_epoch // config.n_critic
        if steps_per_epoch == 0:
            raise ConfigError(
                f"dataset '{config.dataset}' has {len(dataset)} images per process, fewer than one "
                f"step needs ({batch} x n_critic {config.n_critic}); lower --batch-size"
            )
        total_steps = config.steps or config.epochs * steps_per_epoch

        # Set up networks.
        torch.manual_seed(config.seed)
        nc = {"num_classes": config.num_classes}
        G: nn.Module = g_entry.create(
            z_dim=config.z_dim, image_size=config.image_size, channels=config.channels,
            **(nc if g_entry.supports.conditional else {}), **config.generator.options,
        )  # fmt: skip
        D: nn.Module = d_entry.create(
            image_size=config.image_size, channels=config.channels,
            **(nc if d_entry.supports.conditional else {}), **config.discriminator.options,
        )  # fmt: skip
        loss = plugins.registry("losses").create(config.loss.name, **config.loss.options)
        reg = config.regularizer
        regularizer = plugins.registry("losses").create(reg.name, **reg.options) if reg else None
        G = ddp.convert_sync_batchnorm(G, info, config.sync_batchnorm).to(device).train()
        D = ddp.convert_sync_batchnorm(D, info, config.sync_batchnorm).to(device).train()
        config.channels_last = resolve_channels_last(
            config.channels_last, device, config.precision, G, D
        )
        if config.channels_last:
            G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
        ema = EMA(G, config.ema, config.ema_warmup) if config.ema > 0 else None
        g_opt, d_opt = (
            make_adam(G.parameters(), config.g_optim, device),
            make_adam(D.parameters(), config.d_optim, device),
        )
        G_train, D_train = (
            ddp.wrap(G, device, info, config.sync_batchnorm),
            ddp.wrap(D, device, info, config.sync_batchnorm),
        )
        G_fwd, D_fwd, D_frozen = G_train, D_train, D  # the G step calls D itself: no DDP hooks
        if config.compile:
            G_fwd, D_fwd, D_frozen = (
                torch.compile(G_train, mode=config.compile_mode),
                torch.compile(D_train, mode=config.compile_mode),
                torch.compile(D, mode=config.compile_mode),
            )
        # CUDA graphs (torch.compile's reduce-overhead / max-autotune on CUDA) replay a step's
        # kernels; the step has no host sync, and each step is marked so that the graphs' output
        # memory is reused only once the previous step is done with it.
        cuda_graphs = (
            config.compile
            and device.type == "cuda"
            and config.compile_mode in ("reduce-overhead", "max-autotune")
        )
        after_d_step = getattr(loss, "after_d_step", None)

        # Random streams: data order (CPU), noise + augmentation (device), fixed sample noise.
        data_gen = torch.Generator().manual_seed(config.seed * 1_000_003 + info.rank)
        noise_gen = torch.Generator(device).manual_seed(config.seed * 7_919 + 17 + info.rank)
        augment = DiffAugment(config.augment, noise_gen)
        sample_gen = torch.Generator().manual_seed(config.seed + 12_345)
        n_rows = config.num_classes if config.conditional else 8
        fixed_z = torch.randn(n_rows * 8, config.z_dim, generator=sample_gen).to(device)
        fixed_c = (
            torch.arange(n_rows).repeat_interleave(8).to(device) if config.conditional else None
        )

        # Resume, or start a run directory.
        step, data_state, elapsed_before = 0, data_gen.get_state(), 0.0
        if resume is not None:
            state, rng = ckpt_io.load_training_state(
                resume, generator=G, discriminator=D, g_optimizer=g_opt, d_optimizer=d_opt,
                ema_generator=ema.module if ema else None, scaler=amp.scaler, map_location=device,
            )  # fmt: skip
            step = int(state["step"])
            if step >= total_steps:
                raise ConfigError(
                    f"{resume} has already trained its {total_steps} steps; pass a larger --steps "
                    "or --epochs to train longer"
                )
            elapsed_before = float(state.get("elapsed_seconds", 0.0))
            if int(state.get("steps_per_epoch", steps_per_epoch)) != steps_per_epoch:
                raise ConfigError(
                    "the dataset or batch size changed since the checkpoint; cannot resume exactly"
                )
            if info.is_main and "data" in rng:
                data_gen.set_state(rng["data"])
                noise_gen.set_state(rng["noise"])
                torch.set_rng_state(rng["torch"])
                if device.type == "cuda" and "cuda" in rng:
                    torch.cuda.set_rng_state(rng["cuda"], device)
            else:  # the checkpoint holds rank 0's streams: other ranks reseed from the step
                data_gen.manual_seed(config.seed * 1_000_003 + info.rank + 1_000_000 * step)
                noise_gen.manual_seed(config.seed * 7_919 + 17 + info.rank + 1_000_000 * step)
            data_state = data_gen.get_state()
            run_dir = Path(resume).resolve()
            run_dir = run_dir.parent.parent if run_dir.parent.name == "checkpoints" else run_dir
            if info.is_main:
                truncate_jsonl(run_dir / "metrics.jsonl", step)
        elif run_dir is None:
            run_dir = Path(
                ddp.broadcast_text(str(new_run_dir(config)) if info.is_main else "", info, device)
            )
        run_dir = Path(run_dir)
        if info.is_main:
            (run_dir / "samples").mkdir(parents=True, exist_ok=True)
            ckpt_io.atomic_write_json(
                run_dir / "config.json", ckpt_io.config_record(config, dataset.class_names)
            )
        reporter = make_reporter(
            progress, run_dir=run_dir, tensorboard=config.tensorboard, enabled=info.is_main
        )
        if info.is_main:
            reporter.sinks.extend(sinks)
        hardware = hardware_name(device, info)
        evaluator = Evaluator(config, device) if config.eval_metric and info.is_main else None

        # Helpers that read the loop's state.
        stats = StepStats(
            device,
            info,
            images_per_step=config.batch_size * config.n_critic,
            log_every=config.log_every,
            probabilities=bool(getattr(loss, "logits_are_log_odds", False)),
        )
        latest_grid: list[torch.Tensor | None] = [None]
        t_start = time.perf_counter()

        def sample_grid() -> torch.Tensor:
            sampler = ema.module if ema else G
            was_training = sampler.training
            sampler.eval()
            with torch.no_grad():
                images = sampler(fixed_z, fixed_c)  # (N, C, H, W)
            sampler.train(was_training)
            # A fresh generator's samples are all near 0: judge diversity after the first epoch.
            if step >= min(steps_per_epoch, 500) and (warning := stats.collapsed(images, step)):
                reporter.warn(warning)
            names = dataset.class_names if config.conditional else None
            return images_io.sample_grid(images, nrow=8, row_names=names)

        def check_finite() -> None:
            bad = stats.nonfinite()
            if bad:
                latest = ckpt_io.list_checkpoints(run_dir)
                kept = (
                    f"the last good checkpoint is {latest[-1]}"
                    if latest
                    else "no checkpoint was written"
                )
                raise TrainingDiverged(
                    f"{' and '.join(bad)} became NaN or Inf by step {step}; training stopped and "
                    f"{kept}; try --precision fp32, a lower --lr or another --seed"
                )

        def log_stats() -> None:
            check_finite()
            values = stats.flush()
            values["lr"], values["lr/d"] = g_opt.param_groups[0]["lr"], d_opt.param_groups[0]["lr"]
            reporter.report(step, max(1, math.ceil(step / steps_per_epoch)), values)
            if warning := stats.d_stuck(values):
                reporter.warn(warning)

        def save(grid: torch.Tensor | None, metric: tuple[str, float, bool] | None = None) -> Path:
            within = step % steps_per_epoch
            rng = {
                "data": (data_gen.get_state() if within == 0 else data_state).clone(),
                "noise": noise_gen.get_state().cpu(),
                "torch": torch.get_rng_state(),
            }
            if device.type == "cuda":
                rng["cuda"] = torch.cuda.get_rng_state(device)
            state = {
                "step": step, "epoch": step // steps_per_epoch, "step_in_epoch": within,
                "steps_per_epoch": steps_per_epoch, "total_steps": total_steps,
                "images_seen": step * config.batch_size * config.n_critic,
                "elapsed_seconds": round(elapsed_before + time.perf_counter() - t_start, 3),
                "hardware": hardware, "last_losses": dict(stats.last_losses),
                "class_names": list(dataset.class_names), "warnings": list(reporter.warnings),
            }  # fmt: skip
            return ckpt_io.save_checkpoint(
                run_dir, config=ckpt_io.config_record(config, dataset.class_names), generator=G,
                discriminator=D, g_optimizer=g_opt, d_optimizer=d_opt,
                ema_generator=ema.module if ema else None, scaler=amp.scaler if amp.scaler.is_enabled() else None,
                state=state, rng=rng, samples=grid, keep=config.keep, metric=metric,
            )  # fmt: skip

        def write_samples() -> torch.Tensor:
            grid = sample_grid()
            images_io.save_png(grid, run_dir / "samples" / f"step-{step:07d}.png")
            reporter.image("samples", grid, step)
            return grid

        title = (
            f"Training {config.model} on {config.dataset} ({len(dataset) * info.world_size:,} images, "
            f"{config.image_size} px): {total_steps:,} steps of batch {config.batch_size}, "
            f"{steps_per_epoch} per epoch, {device} {config.precision}; run dir {run_dir}"
        )
        reporter.start(Progress(total_steps, steps_per_epoch, step), title)
        checkpoint: Path | None = None
        stop = False
        stopper = StopRequest()
        with stopper, contextlib.closing(reporter):
            while step < total_steps:
                # Start (or re-enter) an epoch: data order from the epoch's generator state.
                within = step % steps_per_epoch
                if within == 0:
                    data_state = data_gen.get_state()
                else:
                    data_gen.set_state(data_state)
                epoch_batches = dataset.batches(batch, data_gen)
                for _ in range(within * config.n_critic):
                    next(epoch_batches)
                for _ in range(within, steps_per_epoch):
                    lr_g = lr_at(config.g_optim.lr, step, total_steps, config)
                    lr_d = lr_at(config.d_optim.lr, step, total_steps, config)
                    for group in g_opt.param_groups:
                        group["lr"] = lr_g
                    for group in d_opt.param_groups:
                        group["lr"] = lr_d

                    if cuda_graphs:
                        torch.compiler.cudagraph_mark_step_begin()

                    # Update D.
                    for critic_step in range(config.n_critic):
                        real, labels = next(epoch_batches)  # (B, C, H, W) in [-1, 1], (B,)
                        if config.channels_last:
                            real = real.contiguous(memory_format=torch.channels_last)
                        c = labels if config.conditional else None
                        z = torch.randn(batch, config.z_dim, device=device, generator=noise_gen)
                        fake_c = (
                            torch.randint(config.num_classes, (batch,), device=device, generator=noise_gen)
                            if config.conditional else None
                        )  # fmt: skip
                        # The last fake batch keeps its graph: the G step reuses it (as the DCGAN
                        # reference does), which saves one G forward pass per step.
                        last = critic_step == config.n_critic - 1
                        with torch.set_grad_enabled(last), amp.autocast():
                            fake = (G_fwd if last else G)(z, fake_c)  # (B, C, H, W)
                        with amp.autocast():
                            real_in, fake_in = augment(real), augment(fake.detach())
                            real_logits = D_fwd(real_in, c)  # (B,)
                            fake_logits = D_fwd(fake_in, fake_c)  # (B,)
                        d_loss = loss.d_loss(real_logits, fake_logits)
                        d_total = d_loss
                        for source in (loss, regularizer):
                            penalty = (
                                source.regularizer(D, real_in, fake_in.float(), c)
                                if source
                                else None
                            )
                            if penalty is not None:
                                d_total = d_total + penalty
                        d_opt.zero_grad(set_to_none=True)
                        amp.backward_and_step(d_total, d_opt)
                        if after_d_step is not None:
                            with torch.no_grad():
                                after_d_step(D)  # e.g. WGAN's weight clipping

                    # Update G.
                    D.requires_grad_(False)
                    with amp.autocast():
                        gen_logits = D_frozen(augment(fake), fake_c)  # (B,)
                    g_loss = loss.g_loss(gen_logits)
                    g_opt.zero_grad(set_to_none=True)
                    amp.backward_and_step(g_loss, g_opt)
                    D.requires_grad_(True)

                    # Update the EMA and the statistics (on the device: no host sync here).
                    step += 1
                    if ema is not None:
                        ema.update(G, step * config.batch_size * config.n_critic)
                    stats.add(d_loss, g_loss, real_logits, fake_logits)
                    reporter.step(step)
                    if step % config.log_every == 0 or step == total_steps:
                        log_stats()

                    # Write samples and checkpoints.
                    epoch_end = step % steps_per_epoch == 0
                    final = step == total_steps
                    if info.enabled and step % 10 == 0:
                        stop = ddp.any_rank(stopper.requested, device, info)
                    else:
                        stop = stopper.requested and not info.enabled
                    sample_due = (
                        (step % config.sample_every == 0) if config.sample_every else epoch_end
                    )
                    ckpt_due = (
                        (step % config.checkpoint_every == 0)
                        if config.checkpoint_every
                        else epoch_end
                    )
                    if info.is_main and (sample_due or final or ckpt_due or stop):
                        latest_grid[0] = (
                            write_samples()
                            if (sample_due or final or latest_grid[0] is None)
                            else latest_grid[0]
                        )
                    if ckpt_due or final or stop:
                        if stats.steps:
                            check_finite()
                        if info.is_main:
                            # Scheduled checkpoints are evaluated; a stop request is not kept
                            # waiting for one.
                            metric = (
                                evaluator(
                                    ema.module if ema else G, step,
                                    max(1, math.ceil(step / steps_per_epoch)), reporter,
                                )  # fmt: skip
                                if evaluator is not None and (ckpt_due or final)
                                else None
                            )
                            checkpoint = save(latest_grid[0], metric)
                        ddp.barrier(info)
                    if stop or final:
                        break
                if stop:
                    break

        # Write the plots and hand back the run.
        if info.is_main:
            plots.plot_curves(run_dir / "metrics.jsonl", run_dir)
        return Run(
            dir=run_dir, config=config, step=step, epoch=math.ceil(step / steps_per_epoch),
            images_seen=step * config.batch_size * config.n_critic, last_losses=dict(stats.last_losses),
            checkpoint=checkpoint, interrupted=stop and step < total_steps,
            warnings=list(reporter.warnings), rank=info.rank, generator=ema.module if ema else G, discriminator=D,
        )  # fmt: skip
    finally:
        ddp.shutdown(info)
