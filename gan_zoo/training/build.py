"""Building a run: the config resolved against the device, the data and the networks.

:func:`build` is the one place where a config is completed: it picks the device and precision,
opens the data and checks it against the recipe and the networks, builds the networks and the
losses through :mod:`gan_zoo.factory`, decides the memory layout, and returns a *new* config
(``dataclasses.replace``) with everything decided, beside the objects it built. The loop only
reads that config; ``config.json`` records it.
"""

from __future__ import annotations

import dataclasses
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .. import plugins
from ..config import TrainConfig
from ..contracts import LOSS, LossDefaults
from ..errors import ConfigError
from ..factory import create_losses, create_networks, open_training_split
from ..torch_floor import check_torch
from . import distributed as ddp
from .precision import (
    resolve_channels_last,
    resolve_device,
    resolve_precision,
    set_cuda_backends,
)
from .scoring import resolve_eval_metric
from .syncbn import has_batchnorm


@dataclass(frozen=True)
class Plan:
    """How a run's data is cut into steps, for this process."""

    #: Images per D update on this process (``batch_size``, or under ``ddp_batch="global"`` the
    #: batch split over the DDP ranks).
    batch: int
    n_critic: int
    steps_per_epoch: int
    total_steps: int
    #: Real images one step consumes over all processes (batch x n_critic x processes).
    images_per_step: int


@dataclass
class Parts:
    """What :func:`build` built for its resolved config."""

    device: torch.device  # exact (``cuda:1`` where the config says ``cuda`` under DDP)
    dataset: Any  # on ``device``, this rank's shard under DDP
    plan: Plan
    G: nn.Module
    D: nn.Module
    loss: Any
    regularizer: Any  # None when the recipe has none
    eval_reference: Any = None  # the evaluation split, when resolving eval_metric opened it
    #: One-line warnings of the set-up, shown once the reporter exists (e.g. re-seeded streams).
    warnings: list[str] = field(default_factory=list)


def build(config: TrainConfig, info: ddp.DistInfo) -> tuple[TrainConfig, Parts]:
    """Resolve ``config`` (left unchanged) into a complete new config and build its parts.

    Decided here: ``device``, ``precision``, ``image_size``, ``channels``, ``conditional``,
    ``num_classes``, ``eval_metric`` ("auto") and ``channels_last``. Bad combinations stop with
    one line.
    """
    # Set up the device and precision.
    check_torch()
    device = resolve_device(config.device, info.local_rank, distributed=info.enabled)
    config = dataclasses.replace(
        config,
        device=str(device) if not info.enabled else device.type,
        precision=resolve_precision(config.precision, device),
    )
    if device.type == "cuda":
        set_cuda_backends(config.tf32, config.cudnn_benchmark, config.deterministic)
    if device.type == "cpu" and info.local_world_size > 1 and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(max(1, torch.get_num_threads() // info.local_world_size))

    # Load the data onto the device; fit the recipe to it.
    dataset = load_dataset(config, info)
    config = fit_to_data(config, dataset.image_size, dataset.channels, dataset.num_classes)
    eval_metric, eval_reference = resolve_eval_metric(config, device)
    config = dataclasses.replace(config, eval_metric=eval_metric)
    if info.enabled:
        shard(dataset, config, info)
    dataset.to(device)
    plan = plan_steps(config, dataset, info)

    # Set up networks.
    config, G, D, loss, regularizer = build_networks(config, device, info)
    return config, Parts(device, dataset, plan, G, D, loss, regularizer, eval_reference)


def fit_to_data(
    config: TrainConfig, image_size: int, channels: int, num_classes: int
) -> TrainConfig:
    """A new config at the data's size and channels, with ``conditional`` and ``num_classes``
    set from the networks' registry entries; one-line errors when they do not fit."""
    what = f"model '{config.model}' is written for"
    if config.image_size is not None and image_size != config.image_size:
        raise ConfigError(
            f"{what} {config.image_size} px but dataset '{config.dataset}' gives {image_size} px "
            f"and cannot resize; pass --image-size {image_size} or choose another model"
        )
    if config.channels is not None and channels != config.channels:
        raise ConfigError(
            f"{what} {config.channels}-channel images but dataset '{config.dataset}' gives "
            f"{channels} and cannot convert; pass --channels {channels} or choose another model"
        )
    g = check_supports("generators", config.generator.name, image_size, channels, config.dataset)
    d = check_supports(
        "discriminators", config.discriminator.name, image_size, channels, config.dataset
    )
    conditional = g.supports.conditional
    if conditional and num_classes == 0:
        raise ConfigError(
            f"generator '{config.generator.name}' is conditional "
            f"but '{config.dataset}' has no labels"
        )
    return dataclasses.replace(
        config,
        image_size=image_size,
        channels=channels,
        conditional=conditional,
        num_classes=num_classes if conditional or d.supports.conditional else 0,
    )


def plan_steps(config: TrainConfig, dataset: Any, info: ddp.DistInfo) -> Plan:
    """Batch per process, steps per epoch (``n_critic`` batches a step) and the run's length.

    Under DDP each process reads its own shard, so an epoch is still one pass over the data."""
    batch = ddp.per_rank_batch(config.batch_size, info, config.ddp_batch)
    steps_per_epoch = len(dataset) // batch // config.n_critic
    if steps_per_epoch == 0:
        raise ConfigError(
            f"dataset '{config.dataset}' has {len(dataset)} images per process, fewer than one "
            f"step needs ({batch} x n_critic {config.n_critic}); lower --batch-size"
        )
    return Plan(
        batch,
        config.n_critic,
        steps_per_epoch,
        total_steps=config.steps or config.epochs * steps_per_epoch,
        images_per_step=batch * config.n_critic * info.world_size,
    )


def shard(dataset: Any, config: TrainConfig, info: ddp.DistInfo) -> None:
    """Keep this rank's share of an in-memory dataset (seeded, the same on every rank)."""
    if not hasattr(dataset, "images"):
        raise ConfigError(
            f"distributed training needs an in-memory dataset; '{config.dataset}' streams from disk"
        )
    keep = ddp.shard_indices(len(dataset), config.seed, info)  # (N / world_size,)
    dataset.images, dataset.labels = dataset.images[keep], dataset.labels[keep]


def build_networks(
    config: TrainConfig, device: torch.device, info: ddp.DistInfo | None = None
) -> tuple[TrainConfig, nn.Module, nn.Module, Any, Any]:
    """``(config, G, D, loss, regularizer)``: G and D seeded by ``config.seed``, on ``device`` in
    training mode and in the layout of the returned config, whose ``channels_last`` is decided
    (auto: on for convolutional networks where that layout is faster)."""
    info = info or ddp.DistInfo()
    torch.manual_seed(config.seed)  # the same initial weights on every rank
    G, D = create_networks(config)
    loss, regularizer = create_losses(config)
    check_sync_batchnorm(config, D, loss)
    sync = config.sync_batchnorm
    G = ddp.convert_sync_batchnorm(G, info, sync, device).to(device).train()
    D = ddp.convert_sync_batchnorm(D, info, sync, device).to(device).train()
    ddp.seed_rank(config.seed, info.rank)  # but each rank its own global stream from here on
    channels_last = resolve_channels_last(config.channels_last, device, config.precision, G, D)
    if channels_last:
        G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
    return dataclasses.replace(config, channels_last=channels_last), G, D, loss, regularizer


def check_sync_batchnorm(config: TrainConfig, D: nn.Module, loss: Any) -> None:
    """Refuse ``sync_batchnorm`` with a gradient penalty on a D that has BatchNorm layers: the
    penalty differentiates D twice, and PyTorch's SyncBatchNorm has no double backward."""
    if not config.sync_batchnorm or not has_batchnorm(D):
        return
    # A configured regularizer is a penalty by definition; a loss may carry one of its own.
    penalty = config.regularizer or (config.loss if has_penalty(loss) else None)
    if penalty is not None:
        raise ConfigError(
            f"--sync-batchnorm cannot synchronise D's BatchNorm under the gradient penalty of "
            f"'{penalty.name}' (no double backward); pass --set discriminator.norm=none or drop "
            "--sync-batchnorm"
        )


def has_penalty(loss: Any) -> bool:
    """Whether ``loss`` has a ``regularizer`` of its own (a gradient penalty, say), not the
    contract's default (None)."""
    method = LOSS.get(loss, "regularizer")
    return getattr(method, "__func__", method) is not LossDefaults.regularizer


def load_dataset(config: TrainConfig, info: ddp.DistInfo) -> Any:
    """The train split (or ``dataset_options``' split), at ``config.image_size`` and
    ``config.channels`` when the dataset can convert; rank 0 downloads first under DDP."""
    if info.enabled and not info.is_main:
        ddp.barrier(info)
    dataset = open_training_split(config)
    if info.enabled and info.is_main:
        ddp.barrier(info)
    return dataset


def check_supports(kind: str, name: str, size: int, channels: int, dataset: str) -> Any:
    """The registry entry of a network, if it supports the data's size and channels."""
    entry = plugins.registry(kind).get(name)
    if not entry.supports.matches(size, channels):
        what = kind[:-1]
        raise ConfigError(
            f"{what} '{name}' supports {entry.supports} but dataset '{dataset}' gives {size} px, "
            f"{channels}-channel images; pick one from 'gan-zoo list {kind} --image-size {size} "
            f"--channels {channels}' or pass --image-size"
        )
    return entry


def hardware_name(device: torch.device, info: ddp.DistInfo) -> str:
    """E.g. "AMD EPYC 7B13 (2 threads)" or "NVIDIA A100-SXM4-40GB x8", for the model card."""
    n = f" x{info.world_size}" if info.enabled else ""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)}{n}"
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{name} ({torch.get_num_threads()} threads){n}" if device.type == "cpu" else f"{device}{n}"
    )
