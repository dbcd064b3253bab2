"""The learning-rate schedule: a function of the step, so that a resumed run continues exactly."""

from __future__ import annotations

from ..config import TrainConfig


def lr_at(base: float, step: int, total: int, config: TrainConfig) -> float:
    """The learning rate for ``step`` (0-based): constant, linear to 0, or stepped."""
    if config.lr_decay == "linear":
        return base * (1.0 - step / total)
    if config.lr_decay == "step":
        return base * config.lr_decay_gamma ** (step // config.lr_decay_every)
    return base
