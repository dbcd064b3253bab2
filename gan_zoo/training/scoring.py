"""Evaluation during training: score the generator at checkpoints and keep the best one.

With ``--eval-metric fid`` (any registered metric) every scheduled checkpoint is scored before
it is written; the score goes to ``metrics.jsonl`` as ``eval/<metric>``, into the checkpoint's
``training-state.json``, ``metrics.json`` and model card, and the best-scoring checkpoint is kept
as ``checkpoints/best`` (never pruned). The metric runs with torch's random state forked, so a
run with evaluation trains exactly as the same run without it.
"""

from __future__ import annotations

import time
from typing import Any

import torch

from ..config import TrainConfig
from ..contracts import METRIC
from ..errors import GanZooError
from ..factory import create_metric, open_training_split

#: What ``eval_metric="auto"`` picks on the CPU where it applies.
AUTO_METRIC = "classifier-fd"


def resolve_eval_metric(config: TrainConfig, device: torch.device) -> tuple[str | None, Any]:
    """The metric a run evaluates with, and the reference split when deciding opened it (else
    None; the Evaluator opens it at the first evaluation): the one named, None for "none", and
    for "auto"
    ``classifier-fd`` when training on the CPU with data the shipped classifier was trained for
    (its registry entry supports the run's size and channels, the metric accepts the reference
    split, and that split holds at least ``eval_samples`` images); otherwise None.

    The classifier scores 2,000 samples in a second or two, so a CPU run gets a quality curve
    and ``checkpoints/best`` for almost nothing; Inception FID stays opt-in (minutes per call).
    """
    name = config.eval_metric
    if name in (None, "none"):
        return None, None
    if name != "auto":
        return name, None
    if device.type != "cpu":
        return None, None
    from .. import plugins

    registry = plugins.registry("metrics")
    if AUTO_METRIC not in registry:
        return None, None
    assert config.image_size is not None and config.channels is not None
    if not registry.get(AUTO_METRIC).supports.matches(config.image_size, config.channels):
        return None, None
    try:
        reference = open_training_split(config, split=config.eval_split)
        metric = create_metric(AUTO_METRIC, num_samples=config.eval_samples, device="cpu")
        METRIC.get(metric, "check_dataset")(reference)
    except GanZooError:  # no such split, another dataset, ...: auto means off, not an error
        return None, None
    if len(reference) < config.eval_samples:
        return None, None
    return AUTO_METRIC, reference


class Evaluator:
    """One registered metric, its reference split (loaded at the first evaluation) and settings."""

    def __init__(
        self, config: TrainConfig, device: torch.device, batch_size: int = 50, reference: Any = None
    ):
        assert config.eval_metric is not None
        self.config = config
        self.name = config.eval_metric
        self.device = device
        self.metric = create_metric(
            self.name, num_samples=config.eval_samples, batch_size=batch_size, device=str(device)
        )
        self.higher_is_better = bool(self.metric.higher_is_better)
        self._reference: Any = reference  # the split "auto" already opened, if it did

    def reference(self) -> Any:
        if self._reference is None:
            self._reference = open_training_split(self.config, split=self.config.eval_split)
        return self._reference

    def __call__(
        self, generator: torch.nn.Module, step: int, epoch: int, reporter: Any
    ) -> tuple[str, float, bool]:
        """Score ``generator``; report it; return ``(name, value, higher_is_better)``."""
        was_training = generator.training
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        start = time.perf_counter()
        generator.eval()  # batch norm uses its running statistics and leaves them alone
        with torch.random.fork_rng(devices=devices):
            try:
                score = self.metric.compute(generator, self.reference(), seed=self.config.seed)
                value = float(score)
            finally:
                generator.train(was_training)
        seconds = time.perf_counter() - start
        reporter.report(step, epoch, {f"eval/{self.name}": value})
        reporter.info(
            f"eval: {self.name} {value:.4g} at step {step} ({self.config.eval_samples} samples, "
            f"'{self.config.eval_split}' split, {seconds:.0f} s)"
        )
        return self.name, value, self.higher_is_better
