"""The discriminator contract: an ``nn.Module`` scoring images, one raw logit per image.

Importing this module does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .common import Contract, ContractError, deeper, describe_entry
from .generator import MODULE_MEMBERS

if TYPE_CHECKING:
    import torch


@runtime_checkable
class Discriminator(Protocol):
    """An ``nn.Module`` scoring images: ``forward(x (B, C, H, W), labels (B,) | None) -> (B,)``
    raw logits (no sigmoid; the loss decides what they mean), one per image."""

    def __call__(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor: ...


class DiscriminatorFactory(Protocol):
    """What ``register_discriminators`` registers: keyword arguments ``image_size`` and
    ``channels`` (and ``num_classes`` when ``conditional=True``) plus its own options."""

    def __call__(self, *, image_size: int, channels: int, **options: Any) -> Discriminator: ...


def check_discriminator_output(discriminator: Any, logits: Any, batch: int) -> None:
    """Check that ``discriminator`` returned ``logits`` of shape (``batch``,), floating: one per
    image; else a :class:`ContractError` naming it."""
    who = describe_entry(discriminator, "discriminator")
    shape = tuple(getattr(logits, "shape", ()))
    if shape != (batch,):
        raise ContractError(
            who,
            f"it returned logits of shape {shape} for {batch} images; "
            f"expected ({batch},), one logit per image",
        )
    if not logits.is_floating_point():
        raise ContractError(who, f"it returned {logits.dtype} logits; they must be floating point")


def check(
    discriminator: Any,
    depth: str = "run",
    *,
    images: Any = None,
    labels: Any = None,
    image_size: int = 28,
    channels: int = 1,
) -> Any:
    """The discriminator contract; with ``depth="run"``, the logits of ``images`` (B, C, H, W)
    (by default two of ``image_size`` and ``channels`` from a private seed) with ``labels``, in
    eval mode, checked and returned."""
    who = describe_entry(discriminator, "discriminator")
    if not callable(discriminator):
        raise ContractError(who, "it is not callable (subclass torch.nn.Module)")
    if not deeper(depth, "run"):
        return None
    import torch

    if images is None:
        g = torch.Generator().manual_seed(0)
        images = torch.rand(2, channels, image_size, image_size, generator=g) * 2 - 1
    was_training = discriminator.training
    discriminator.eval()
    try:
        with torch.no_grad():
            logits = discriminator(images, labels)  # (B,)
    finally:
        discriminator.train(was_training)
    check_discriminator_output(discriminator, logits, images.shape[0])
    return logits


CONTRACT = Contract(
    "discriminator",
    "discriminators",
    Discriminator,
    check,
    factory=DiscriminatorFactory,
    factory_options=("image_size", "channels"),
    extra_allowed=MODULE_MEMBERS,
)
