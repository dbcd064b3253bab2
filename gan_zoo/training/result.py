"""What a training returns (:class:`Run`) or raises when it diverges (:class:`TrainingDiverged`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

from ..config import TrainConfig
from ..errors import GanZooError


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
