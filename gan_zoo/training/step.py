"""One training step: ``n_critic`` updates of D, then one update of G.

A :class:`TrainStep` holds what a step needs (the networks, the loss and its optional
regularizer, one Adam per network, the precision, DiffAugment and the noise generator) and is
called with an iterator of real batches. The loop composes nothing else per step, and the tests
call the same object, so a test of the step is a test of what trains.

What a step does, and why:

* **Update D** (:meth:`TrainStep.d_step`): a fresh fake batch from noise drawn on the device;
  DiffAugment on the real and the fake batch; ``loss.d_loss(D(real), D(fake))`` plus the
  penalties of the loss and of the configured regularizer (the loss contract of
  stylegan2-ada's ``training/loss.py``: a gradient penalty lives with its loss); one optimizer
  step; then the loss's ``after_d_step(D)`` hook (WGAN's weight clipping).
* **Update G** (:meth:`TrainStep.g_step`): the fake batch of the last D update keeps its graph
  and goes through D again (as the PyTorch DCGAN reference does: one G forward pass fewer per
  step), with D's parameters frozen so that no weight gradient is computed for D.
* Forward passes run under autocast and backward passes go through the GradScaler of
  :class:`~gan_zoo.training.precision.Precision`; the G step calls D itself rather than its DDP
  wrapper (D's parameters get no gradient there, so DDP has nothing to reduce).
* Nothing reads a value back to the host: losses and logits are returned as device tensors, so
  CUDA graphs (``torch.compile`` reduce-overhead) can capture the step.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import torch
from torch import nn

from ..config import OptimizerConfig, TrainConfig
from ..contracts import DISCRIMINATOR, GENERATOR, LOSS, ContractError, describe_entry
from ..errors import ConfigError
from . import distributed as ddp
from .augment import DiffAugment
from .precision import Precision


class DResult(NamedTuple):
    """What one D update leaves for the G update and the statistics (device tensors)."""

    loss: torch.Tensor  # () D's loss without penalties
    real_logits: torch.Tensor  # (B,)
    fake_logits: torch.Tensor  # (B,)
    fake: torch.Tensor  # (B, C, H, W) G's batch, with G's graph when built with keep_graph
    fake_labels: torch.Tensor | None  # (B,) the labels G was given (conditional models)


class StepResult(NamedTuple):
    """One step's statistics, on the device: the arguments of ``StepStats.add``."""

    d_loss: torch.Tensor  # () of the last D update
    g_loss: torch.Tensor  # ()
    real_logits: torch.Tensor  # (B,) of the last D update
    fake_logits: torch.Tensor  # (B,)


def make_adam(params: Any, optim: OptimizerConfig, device: torch.device) -> torch.optim.Adam:
    """Adam from an :class:`~gan_zoo.config.OptimizerConfig`, fused where the device has it."""
    kwargs: dict[str, Any] = {
        "lr": optim.lr,
        "betas": tuple(optim.betas),
        "weight_decay": optim.weight_decay,
    }
    kwargs["fused" if device.type in ("cuda", "cpu") else "foreach"] = True
    return torch.optim.Adam(params, **kwargs)


class TrainStep:
    """``step(batches)``: ``config.n_critic`` D updates on batches drawn from ``batches``, then
    one G update; returns a :class:`StepResult`.

    ``config`` must be resolved (:func:`gan_zoo.training.build.build`): its ``device``,
    ``precision`` and ``channels_last`` are decided and ``conditional`` / ``num_classes`` match
    the networks. ``G`` and ``D`` are on that device, in the layout the config names.
    ``noise`` draws z, the fake labels and DiffAugment's randomness. ``device`` is the exact
    device (``cuda:1`` where the config records ``cuda`` under DDP); ``info`` wraps G and D in
    DDP when distributed.
    """

    def __init__(
        self,
        config: TrainConfig,
        G: nn.Module,
        D: nn.Module,
        loss: Any,
        regularizer: Any = None,
        *,
        noise: torch.Generator,
        device: torch.device | None = None,
        info: ddp.DistInfo | None = None,
    ):
        unresolved = [k for k in ("device", "precision") if getattr(config, k) == "auto"]
        unresolved += ["channels_last"] if config.channels_last is None else []
        if unresolved:
            raise ConfigError(
                f"a training step needs a resolved config, but {', '.join(unresolved)} is still "
                "auto; resolve it with gan_zoo.training.build.build"
            )
        info = info or ddp.DistInfo()
        self.config = config
        self.device = device or torch.device(config.device)
        self.G, self.D, self.loss, self.regularizer = G, D, loss, regularizer
        self.noise = noise
        self.g_opt = make_adam(G.parameters(), config.g_optim, self.device)
        self.d_opt = make_adam(D.parameters(), config.d_optim, self.device)
        self.amp = Precision(config.precision, self.device)
        self.augment = DiffAugment(config.augment, noise)
        # The loss's optional members, or the contract's defaults where it lacks them.
        self.after_d_step = LOSS.get(loss, "after_d_step")
        self.uses_real_logits = bool(LOSS.get(loss, "uses_real_logits_in_g"))
        self.penalties = [LOSS.get(s, "regularizer") for s in (loss, regularizer) if s is not None]
        G_train = ddp.wrap(G, self.device, info, config.sync_batchnorm)
        D_train = ddp.wrap(D, self.device, info, config.sync_batchnorm)
        # The G step calls D itself, not its DDP wrapper: D's parameters get no gradient there.
        self.G_fwd, self.D_fwd, self.D_frozen = G_train, D_train, D
        if config.compile:
            self.G_fwd, self.D_fwd, self.D_frozen = (
                torch.compile(m, mode=config.compile_mode) for m in (G_train, D_train, D)
            )
        # CUDA graphs (torch.compile's reduce-overhead / max-autotune on CUDA) replay a step's
        # kernels; each step is marked so that the graphs' output memory is reused only once
        # the previous step is done with it.
        self.cuda_graphs = (
            config.compile
            and self.device.type == "cuda"
            and config.compile_mode in ("reduce-overhead", "max-autotune")
        )

    def __call__(self, batches: Iterator[tuple[torch.Tensor, torch.Tensor]]) -> StepResult:
        """``n_critic`` D updates on the next ``n_critic`` real batches, then one G update."""
        if self.cuda_graphs:
            torch.compiler.cudagraph_mark_step_begin()
        # Update D; the last fake batch keeps its graph for the G update.
        n = self.config.n_critic
        for i in range(n):
            real, labels = next(batches)  # (B, C, H, W) in [-1, 1], (B,)
            d = self.d_step(real, labels, keep_graph=i == n - 1)
        # Update G (relativistic losses also see D's logits of the last real batch).
        g_loss = self.g_step(d.fake, d.fake_labels, real=real, labels=labels)
        return StepResult(d.loss, g_loss, d.real_logits, d.fake_logits)

    def d_step(
        self, real: torch.Tensor, labels: torch.Tensor | None, *, keep_graph: bool = True
    ) -> DResult:
        """One D update on ``real`` (B, C, H, W) in [-1, 1] with its ``labels`` (B,) against a
        fresh fake batch; ``keep_graph`` builds that batch with G's graph for :meth:`g_step`."""
        config = self.config
        if config.channels_last:
            real = real.contiguous(memory_format=torch.channels_last)
        batch = real.shape[0]
        c = labels if config.conditional else None
        z = torch.randn(batch, config.z_dim, device=self.device, generator=self.noise)  # (B, z)
        fake_c = (
            torch.randint(config.num_classes, (batch,), device=self.device, generator=self.noise)
            if config.conditional
            else None
        )  # (B,)
        # Only the fake batch the G update reuses needs G's graph (and DDP's hooks).
        with torch.set_grad_enabled(keep_graph), self.amp.autocast():
            fake = (self.G_fwd if keep_graph else self.G)(z, fake_c)  # (B, C, H, W)
        with self.amp.autocast():
            real_in, fake_in = self.augment(real), self.augment(fake.detach())
            real_logits = self.D_fwd(real_in, c)  # (B,)
            fake_logits = self.D_fwd(fake_in, fake_c)  # (B,)
        d_loss = self.loss.d_loss(real_logits, fake_logits)
        d_total = d_loss
        for regularizer in self.penalties:
            # Penalties see the fp32 fake batch: they differentiate D in fp32 themselves.
            penalty = regularizer(self.D, real_in, fake_in.float(), c)
            if penalty is not None:
                d_total = d_total + penalty
        self.d_opt.zero_grad(set_to_none=True)
        self.amp.backward_and_step(d_total, self.d_opt)
        with torch.no_grad():
            self.after_d_step(self.D)  # e.g. WGAN's weight clipping
        return DResult(d_loss, real_logits, fake_logits, fake, fake_c)

    def g_step(
        self,
        fake: torch.Tensor,
        fake_labels: torch.Tensor | None,
        *,
        real: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """One G update through D on ``fake`` (B, C, H, W), the batch of the last
        :meth:`d_step` (built with ``keep_graph``), and its ``fake_labels`` (B,); returns the
        loss (a device scalar). ``real`` (B, C, H, W) and its ``labels`` are needed by losses
        that set ``uses_real_logits_in_g`` (relativistic ones)."""
        if not fake.requires_grad:
            raise ValueError("g_step needs the fake batch of a d_step with keep_graph=True")
        # Frozen: backward stops at D's input, so no weight gradient is computed for D.
        self.D.requires_grad_(False)
        try:
            with self.amp.autocast():
                gen_logits = self.D_frozen(self.augment(fake), fake_labels)  # (B,)
            g_loss = self.loss.g_loss(gen_logits, *self._real_logits(real, labels))
            self.g_opt.zero_grad(set_to_none=True)
            self.amp.backward_and_step(g_loss, self.g_opt)
        finally:
            self.D.requires_grad_(True)
        return g_loss

    def loss_states(self) -> dict[str, Any]:
        """``{"loss": ..., "regularizer": ...}``: what the loss and the regularizer return from
        ``training_state()`` (lazy R1's count of D steps, say), for ``training-state.json``;
        parts without state (none configured, or an empty state) are left out."""
        from ..checkpoint.schema import is_plain

        states = {}
        for key, source in self._loss_parts():
            state = LOSS.get(source, "training_state")() if source is not None else None
            if state is not None and not (isinstance(state, dict) and is_plain(state)):
                raise ContractError(
                    describe_entry(source, key),
                    "training_state() must return a JSON object of numbers, strings and lists, "
                    f"not {type(state).__name__}",
                )
            if state:
                states[key] = state
        return states

    def load_loss_states(self, states: dict[str, Any]) -> None:
        """Give the loss and the regularizer back the state a checkpoint saved for them."""
        for key, source in self._loss_parts():
            if key in states and source is not None:
                LOSS.get(source, "load_training_state")(dict(states[key]))

    def _loss_parts(self) -> tuple[tuple[str, Any], ...]:
        """The loss and the configured regularizer (None when there is none), by their key."""
        return (("loss", self.loss), ("regularizer", self.regularizer))

    @torch.no_grad()
    def check_contract(self, batch: int = 2) -> None:
        """Run G, D and the loss once on ``batch`` samples and check what they return against
        the plugin contract (each kind's ``check`` in :mod:`gan_zoo.contracts`, at depth
        ``"run"``); a breach is one line naming the entry.

        Called once before training starts. Networks run in eval mode and the latents come from
        a private generator, so nothing the step learns from (weights, batch-norm statistics,
        random streams) changes: a checked run trains exactly like an unchecked one.
        """
        config, G, D = self.config, self.G, self.D
        modes = G.training, D.training
        G.eval(), D.eval()
        try:
            c = torch.arange(batch) % config.num_classes if config.conditional else None
            c = c.to(self.device) if c is not None else None  # the labels the check gives G
            with self.amp.autocast():
                fake = GENERATOR.check(
                    G,
                    "run",
                    batch=batch,
                    image_size=config.image_size,
                    channels=config.channels,
                    device=self.device,
                )  # (b, C, H, W)
                if config.channels_last:
                    fake = fake.contiguous(memory_format=torch.channels_last)
                logits = DISCRIMINATOR.check(D, "run", images=fake, labels=c)  # (b,)
            LOSS.check(self.loss, "run", logits=logits)
        finally:
            G.train(modes[0]), D.train(modes[1])

    def _real_logits(
        self, real: torch.Tensor | None, labels: torch.Tensor | None
    ) -> tuple[torch.Tensor, ...]:
        """``(real_logits (B,),)`` for losses that compare with the real side, else ``()``.

        Real logits do not depend on G, so they need no graph; D sees the real batch as in the
        D update (same layout, fresh augmentation) and is already frozen here.
        """
        if not self.uses_real_logits:
            return ()
        if real is None:
            raise ValueError(
                f"{describe_entry(self.loss, 'loss')} compares with real images: "
                "pass real= to g_step"
            )
        if self.config.channels_last:
            real = real.contiguous(memory_format=torch.channels_last)
        c = labels if self.config.conditional else None
        with torch.no_grad(), self.amp.autocast():
            return (self.D_frozen(self.augment(real), c),)
