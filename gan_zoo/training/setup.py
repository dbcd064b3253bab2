"""The loop's building blocks: what a run returns, stop signals, the learning-rate schedule,
the optimizers, and loading and checking the data and networks against each other.

Kept apart from :mod:`gan_zoo.training.loop` so that the loop itself stays a short recipe.
"""

from __future__ import annotations

import platform
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .. import plugins
from ..config import TrainConfig
from ..errors import ConfigError, GanZooError
from ..factory import open_training_split
from . import distributed as ddp


class TrainingDiverged(GanZooError):
    """A loss became NaN or Inf."""


@dataclass
class Run:
    """What :func:`gan_zoo.train` returns: where the run is and how it ended."""

    dir: Path
    config: TrainConfig
    step: int
    epoch: int
    images_seen: int
    last_losses: dict[str, float]
    checkpoint: Path | None
    interrupted: bool = False
    warnings: list[str] = field(default_factory=list)
    #: This process's rank under torchrun (only rank 0 writes files and prints).
    rank: int = 0
    #: The trained networks (the EMA generator when EMA is on), on the training device.
    generator: nn.Module | None = field(default=None, repr=False)
    discriminator: nn.Module | None = field(default=None, repr=False)


class StopRequest:
    """SIGINT / SIGTERM set a flag; the loop finishes its step, saves and returns.

    A second SIGINT restores Python's default handling, so it interrupts at once.
    """

    def __init__(self) -> None:
        self.signal: int | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.signal = signum
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def __exit__(self, *exc: Any) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)

    @property
    def requested(self) -> bool:
        return self.signal is not None


def lr_at(base: float, step: int, total: int, config: TrainConfig) -> float:
    """The learning rate for ``step`` (0-based): constant, linear to 0, or stepped."""
    if config.lr_decay == "linear":
        return base * (1.0 - step / total)
    if config.lr_decay == "step":
        return base * config.lr_decay_gamma ** (step // config.lr_decay_every)
    return base


def make_adam(params: Any, optim: Any, device: torch.device) -> torch.optim.Adam:
    """Adam from an :class:`~gan_zoo.config.OptimizerConfig`, fused where the device has it."""
    kwargs: dict[str, Any] = {
        "lr": optim.lr,
        "betas": tuple(optim.betas),
        "weight_decay": optim.weight_decay,
    }
    kwargs["fused" if device.type in ("cuda", "cpu") else "foreach"] = True
    return torch.optim.Adam(params, **kwargs)


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
