"""A run's random streams and the data order, saved and restored for exact resume.

Three seeded streams, so that what one consumes never shifts another:

* ``data`` (CPU): each epoch's order. Its state at the start of the epoch is kept and saved
  with the position in the epoch, so a resumed run replays that epoch's order and skips the
  batches already used;
* ``noise`` (on the device): z, the fake labels and DiffAugment's randomness;
* the sample grid's fixed noise, drawn once.

Under DDP each rank seeds its own ``data`` and ``noise`` streams; a checkpoint holds rank 0's,
and the other ranks reseed from the step on resume.

Checkpoints move between devices. The ``data`` stream and the global CPU state are CPU
generators everywhere and carry over exactly. The ``noise`` stream lives on the training device:
a CPU generator (Mersenne Twister, 5,056 bytes of state) or a CUDA one (Philox, 16 bytes: seed
and offset), and the two draw different numbers from the same seed, so a state of one kind
cannot continue on the other. A run resumed on the other kind of device re-seeds its noise
stream (and the CUDA global stream) deterministically from the step, and says so in one
``Warning:`` line; on the same kind of device resume stays bit-exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from ..config import TrainConfig
from . import distributed as ddp
from .build import Plan


class Streams:
    """The data-order and noise generators of one process, and the fixed sample noise."""

    def __init__(self, config: TrainConfig, info: ddp.DistInfo, device: torch.device):
        self.seed, self.rank, self.is_main, self.device = (
            config.seed,
            info.rank,
            info.is_main,
            device,
        )
        self.data = torch.Generator().manual_seed(self._data_seed(0))
        self.noise = torch.Generator(device).manual_seed(self._noise_seed(0))
        #: The data stream's state at the start of the current epoch.
        self.epoch_start = self.data.get_state()
        # The sample grid: 8 images per row, one row per class for conditional models.
        sample_gen = torch.Generator().manual_seed(config.seed + 12_345)
        n_rows = config.num_classes if config.conditional else 8
        self.fixed_z = torch.randn(n_rows * 8, config.z_dim, generator=sample_gen).to(
            device
        )  # (N, z)
        self.fixed_c = (
            torch.arange(n_rows).repeat_interleave(8).to(device) if config.conditional else None
        )  # (N,)

    def _data_seed(self, step: int) -> int:
        return self.seed * 1_000_003 + self.rank + 1_000_000 * step

    def _noise_seed(self, step: int) -> int:
        return self.seed * 7_919 + 17 + self.rank + 1_000_000 * step

    def epoch(
        self, dataset: Any, plan: Plan, step: int
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The real batches from ``step`` to the end of its epoch (``n_critic`` per step)."""
        within = step % plan.steps_per_epoch
        if within == 0:
            self.epoch_start = self.data.get_state()
        else:  # re-enter the epoch: the same order, without the batches already used
            self.data.set_state(self.epoch_start)
        batches = dataset.batches(plan.batch, self.data)
        for _ in range(within * plan.n_critic):
            next(batches)
        return batches

    def state(self, at_epoch_start: bool) -> dict[str, torch.Tensor]:
        """The RNG states a checkpoint holds (``at_epoch_start``: the next step starts an epoch)."""
        rng = {
            "data": (self.data.get_state() if at_epoch_start else self.epoch_start).clone(),
            "noise": self.noise.get_state().cpu(),
            "torch": torch.get_rng_state(),
        }
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return rng

    def restore(self, rng: dict[str, torch.Tensor], step: int) -> str | None:
        """Continue from a checkpoint's ``rng`` (see :meth:`state`) written at ``step``; returns
        a warning when the noise stream was written on another kind of device and is re-seeded
        (None when every stream carried over)."""
        from ..checkpoint.training_state import rng_state_device

        warning = None
        if self.is_main and "data" in rng:
            self.data.set_state(rng["data"])
            torch.set_rng_state(rng["torch"])
            saved_on = rng_state_device(rng["noise"])
            if saved_on == self.device.type:
                self.noise.set_state(rng["noise"])
                if self.device.type == "cuda" and "cuda" in rng:
                    torch.cuda.set_rng_state(rng["cuda"], self.device)
            else:
                self.noise.manual_seed(self._noise_seed(step))
                if self.device.type == "cuda":
                    torch.cuda.manual_seed(self._noise_seed(step))
                warning = (
                    f"the checkpoint's noise stream was drawn on {saved_on.upper()} and a "
                    f"{self.device.type.upper()} generator cannot continue it: re-seeded from step "
                    f"{step}, so latents and augmentation differ from an uninterrupted run from "
                    "here on (weights, optimizers and the data order carry over exactly)"
                )
        else:  # the checkpoint holds rank 0's streams: other ranks reseed from the step
            self.data.manual_seed(self._data_seed(step))
            self.noise.manual_seed(self._noise_seed(step))
            if not self.is_main:  # and the global stream (WGAN-GP's interpolation weights)
                ddp.seed_rank(self.seed, self.rank, step)
        self.epoch_start = self.data.get_state()
        return warning
