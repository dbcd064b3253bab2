"""The loss contract: discriminator logits in, the two players' objectives out.

A loss sees D, the real and the fake batch (stylegan2-ada's ``training/loss.py``), so a
gradient penalty lives with its loss, not in the trainer. Importing this module does not
import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .common import Contract, ContractError, check_flags, check_members, deeper, describe_entry
from .discriminator import Discriminator

if TYPE_CHECKING:
    import torch


@runtime_checkable
class Loss(Protocol):
    """What ``register_losses`` registers a factory for (built with its keyword options).

    Logits arrive in whatever precision autocast produced; return fp32 scalars (0-d tensors),
    finite, with gradients (compute in fp32: ``logits.float()``). ``g_loss`` receives
    ``real_logits`` (D's logits of the real batch, computed in the generator step) only when
    ``uses_real_logits_in_g`` is true, as relativistic losses (RaGAN, RaLSGAN) need; other losses
    are called with the fake logits alone, so ``g_loss(self, fake_logits)`` is enough.
    """

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor: ...

    def g_loss(
        self, fake_logits: torch.Tensor, real_logits: torch.Tensor | None = None
    ) -> torch.Tensor: ...


class LossDefaults:
    """The optional members of a loss and what gan-zoo assumes when a loss lacks them
    (``gan_zoo.losses.base.GANLoss`` subclasses this; a loss need not)."""

    #: D's logit is the log-odds of "real" (BCE-style losses): ``d/real``, ``d/fake`` are then
    #: reported as probabilities (sigmoid of the logit), else as raw scores.
    logits_are_log_odds: bool = False
    #: Call ``g_loss(fake_logits, real_logits)`` instead of ``g_loss(fake_logits)``.
    uses_real_logits_in_g: bool = False

    def regularizer(
        self,
        discriminator: Discriminator,
        real: torch.Tensor,
        fake: torch.Tensor,
        labels: torch.Tensor | None = None,
    ) -> torch.Tensor | None:
        """An extra term of D's loss (a gradient penalty: an fp32 scalar), or None."""
        return None

    def after_d_step(self, discriminator: Discriminator) -> None:
        """Called after every optimizer step of D, without grad (WGAN's weight clipping)."""

    def training_state(self) -> dict:
        """State kept between steps (lazy R1 counts D steps) as a JSON object of numbers,
        strings and lists, saved with each checkpoint; ``{}`` keeps nothing."""
        return {}

    def load_training_state(self, state: dict) -> None:
        """Take back what :meth:`training_state` returned, on ``--resume``, so a resumed run
        trains exactly as an uninterrupted one."""


OPTIONAL = (
    "logits_are_log_odds",
    "uses_real_logits_in_g",
    "regularizer",
    "after_d_step",
    "training_state",
    "load_training_state",
)


def check_loss_value(loss: Any, value: Any, which: str) -> None:
    """Check that ``value``, what ``loss``'s member ``which`` (``"d_loss"``, ``"g_loss"``)
    returned, is a 0-d floating tensor and finite; else a :class:`ContractError`."""
    who = describe_entry(loss, "loss")
    shape = tuple(getattr(value, "shape", (None,)))
    if shape != ():
        raise ContractError(
            who,
            f"its {which} returned shape {shape}; it must be a scalar (take "
            "the mean over the batch)",
        )
    if not value.is_floating_point():
        raise ContractError(who, f"its {which} returned {value.dtype}; it must be floating point")
    if not bool(value.detach().isfinite()):
        raise ContractError(
            who, f"its {which} is {float(value)} on the first batch; it must be finite"
        )


def check(loss: Any, depth: str = "run", *, logits: Any = None) -> None:
    """The loss contract. ``"run"``: ``d_loss`` and ``g_loss`` on ``logits`` (B,) (by default
    random bf16 logits, as autocast gives) are finite scalars, fp32 for reduced-precision
    logits. ``"deep"`` (a fresh loss: it may change its state): they give the fake logits
    finite gradients; the regularizer is None or an fp32 scalar training a tiny D;
    ``after_d_step`` runs; the training state survives JSON and ``load_training_state``."""
    who = describe_entry(loss, "loss")
    check_members(
        loss,
        CONTRACT,
        who,
        {
            "d_loss": (0, 0),
            "g_loss": (0,),
            "regularizer": (0, 0, 0),
            "after_d_step": (0,),
            "training_state": (),
            "load_training_state": ({},),
        },
    )
    check_flags(loss, CONTRACT, who, ("logits_are_log_odds", "uses_real_logits_in_g"))
    if CONTRACT.get(loss, "uses_real_logits_in_g") and not _takes_two(loss.g_loss):
        raise ContractError(
            who, "it sets uses_real_logits_in_g but its g_loss() takes one argument"
        )
    if not deeper(depth, "run"):
        return
    import torch

    deep = deeper(depth, "deep")
    if logits is None:
        g = torch.Generator().manual_seed(0)
        logits = torch.randn(4, generator=g).bfloat16()  # (B,) as autocast gives
        real, fake = logits.clone().requires_grad_(deep), torch.randn(4, generator=g).bfloat16()
        fake.requires_grad_(deep)
    else:
        real, fake = logits, logits
    extra = (real,) if CONTRACT.get(loss, "uses_real_logits_in_g") else ()
    for which, value in (
        ("d_loss", loss.d_loss(real, fake)),
        ("g_loss", loss.g_loss(fake, *extra)),
    ):
        check_loss_value(loss, value, which)
        if value.dtype != torch.float32 and logits.dtype in (torch.bfloat16, torch.float16):
            raise ContractError(
                who,
                f"its {which} returned {value.dtype} for {logits.dtype} "
                "logits; return fp32 (compute in fp32: logits.float())",
            )
        if deep:
            (grad,) = torch.autograd.grad(value, fake, allow_unused=True)
            if grad is None or not grad.isfinite().all():
                raise ContractError(who, f"its {which} gives no finite gradient to the fake logits")
    if deep:
        _check_optional(loss, who)


def _takes_two(g_loss: Any) -> bool:
    from .common import takes

    return takes(g_loss, 0, 0)


def _check_optional(loss: Any, who: str) -> None:
    """The regularizer on a tiny D, ``after_d_step``, and the training state's round trip."""
    import json

    import torch

    from ..checkpoint.schema import is_plain

    class TinyD(torch.nn.Module):  # (B, 1, 8, 8) -> (B,)
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(64, 1)

        def forward(self, x, labels=None):
            return self.fc(x.flatten(1)).squeeze(1)

    torch.manual_seed(0)
    D = TinyD()
    images = torch.rand(2, 4, 1, 8, 8, generator=torch.Generator().manual_seed(1)) * 2 - 1
    with torch.autocast("cpu", dtype=torch.bfloat16):
        penalty = CONTRACT.get(loss, "regularizer")(D, images[0].bfloat16(), images[1], None)
    if penalty is not None:
        check_loss_value(loss, penalty, "regularizer")
        if penalty.dtype != torch.float32:
            raise ContractError(who, f"its regularizer is {penalty.dtype}; return fp32")
        penalty.backward()
        grads = [p.grad for p in D.parameters() if p.grad is not None]
        if not grads or not all(g.isfinite().all() for g in grads):
            raise ContractError(who, "its regularizer gives D no finite gradient")
    with torch.no_grad():
        CONTRACT.get(loss, "after_d_step")(D)
    state = CONTRACT.get(loss, "training_state")()
    if not (isinstance(state, dict) and is_plain(state)):
        raise ContractError(
            who,
            "training_state() must return a JSON object (numbers, strings, "
            f"lists), not {type(state).__name__}",
        )
    CONTRACT.get(loss, "load_training_state")(json.loads(json.dumps(state)))
    if CONTRACT.get(loss, "training_state")() != state:
        raise ContractError(who, "load_training_state(training_state()) changed the state")


CONTRACT = Contract("loss", "losses", Loss, check, base=LossDefaults, optional=OPTIONAL)
