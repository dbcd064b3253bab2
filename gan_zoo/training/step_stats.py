"""Training statistics kept on the device between logs, and the health checks they feed.

Per step the trainer adds D's and G's losses and D's outputs to a running sum on the device (no
host sync); every ``log_every`` steps :meth:`StepStats.flush` reads the window's means once,
all-reduced over DDP ranks. The health checks look at what was read: D telling real from fake
perfectly for several windows in a row, and sample grids whose images are nearly identical.
"""

from __future__ import annotations

import math
import time

import torch

from . import distributed as ddp
from .plots import diversity

#: Statistics summed per step, in the order of the device tensor.
NAMES = ("loss/d", "loss/g", "d/real", "d/fake", "d/real_acc", "d/fake_acc")
#: Health checks: this many logged windows in a row with D perfect, or sample diversity below.
STUCK_WINDOWS = 3
MIN_DIVERSITY = 0.02


class StepStats:
    """A window of per-step statistics summed on the device, and the warnings already given."""

    def __init__(
        self,
        device: torch.device,
        info: ddp.DistInfo,
        images_per_step: int,
        log_every: int,
        probabilities: bool,
    ):
        self.info = info
        self.images_per_step = images_per_step
        self.log_every = log_every
        #: Report d/real and d/fake as sigmoid(logit) (losses whose logits are log-odds).
        self.probabilities = probabilities
        self.sum = torch.zeros(len(NAMES), device=device)  # (6,) in the order of NAMES
        self.steps = 0
        self.started = time.perf_counter()
        self.last_losses: dict[str, float] = {}
        self._stuck = 0
        self._warned: set[str] = set()

    @torch.no_grad()
    def add(
        self,
        d_loss: torch.Tensor,
        g_loss: torch.Tensor,
        real_logits: torch.Tensor,
        fake_logits: torch.Tensor,
    ) -> None:
        """Add one step (scalars and (B,) logits) to the window, on the device."""
        rl, fl = real_logits.detach().float(), fake_logits.detach().float()
        shown_r, shown_f = (rl.sigmoid(), fl.sigmoid()) if self.probabilities else (rl, fl)
        self.sum.add_(
            torch.stack(
                [
                    d_loss.detach(),
                    g_loss.detach(),
                    shown_r.mean(),
                    shown_f.mean(),
                    (rl > 0).float().mean(),
                    (fl < 0).float().mean(),
                ]
            )
        )
        self.steps += 1

    def nonfinite(self) -> list[str]:
        """The losses that became NaN or Inf in this window (on any rank)."""
        sums = ddp.all_reduce_sum(self.sum[:2].clone(), self.info).tolist()
        return [name for name, v in zip(NAMES[:2], sums, strict=True) if not math.isfinite(v)]

    def flush(self) -> dict[str, float]:
        """The window's means over steps and ranks, and its img/s; starts a new window."""
        totals = ddp.all_reduce_sum(self.sum.clone(), self.info)
        totals.div_(self.info.world_size * max(1, self.steps))
        values = dict(zip(NAMES, totals.tolist(), strict=True))
        now = time.perf_counter()
        values["img/s"] = self.steps * self.images_per_step / max(now - self.started, 1e-9)
        self.last_losses.update({k: values[k] for k in NAMES[:2]})
        self.sum.zero_()
        self.steps, self.started = 0, now
        return values

    def d_stuck(self, values: dict[str, float]) -> str | None:
        """A warning, once, when D has been perfect for STUCK_WINDOWS logged windows in a row."""
        perfect = values["d/real_acc"] >= 0.999 and values["d/fake_acc"] >= 0.999
        self._stuck = self._stuck + 1 if perfect else 0
        if self._stuck < STUCK_WINDOWS or "stuck" in self._warned:
            return None
        self._warned.add("stuck")
        return (
            f"health: D has told real from fake perfectly (accuracy 1.0) for the last "
            f"{STUCK_WINDOWS * self.log_every} steps; G is not learning, try "
            "--augment translation,cutout,color, a lower --lr-d or another loss"
        )

    def collapsed(self, images: torch.Tensor, step: int) -> str | None:
        """A warning, once, when the sample grid's images (N, C, H, W) are nearly identical."""
        spread = diversity(images)
        if spread >= MIN_DIVERSITY or "collapse" in self._warned:
            return None
        self._warned.add("collapse")
        return (
            f"health: at step {step} the samples are nearly identical (diversity "
            f"{spread:.3f}); the generator has collapsed, try a lower "
            "--lr, --augment translation,cutout,color or another loss"
        )
