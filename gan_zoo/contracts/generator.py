"""The generator contract: an ``nn.Module`` mapping latents (and labels) to images.

Importing this module does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .common import Contract, ContractError, check_members, deeper, describe_entry

if TYPE_CHECKING:
    import torch

#: ``torch.nn.Module``'s members, which core code may use on any network.
MODULE_MEMBERS = frozenset(
    {
        "eval",
        "train",
        "training",
        "parameters",
        "named_parameters",
        "buffers",
        "state_dict",
        "load_state_dict",
        "to",
        "forward",
        "requires_grad_",
        "modules",
        "float",
    }
)


@runtime_checkable
class Generator(Protocol):
    """An ``nn.Module`` mapping latents (and class labels) to images in [-1, 1].

    ``forward(z (B, Z), labels (B,) int64 | None) -> (B, C, H, W)`` floating, in [-1, 1] in
    eval mode (end with ``tanh``, or clamp in eval mode as StyleGAN2 does; the range is checked
    in eval mode, shapes in both); ``labels`` is None unless ``num_classes > 0``. Output size and
    channels must equal the attributes, which must equal the factory arguments. Optional: a
    ``truncation_psi`` keyword of ``forward`` (w-space truncation, what ``--psi`` passes).
    """

    z_dim: int
    image_size: int
    channels: int
    num_classes: int

    def __call__(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor: ...


class GeneratorFactory(Protocol):
    """What ``register_generators`` registers: a class or function building a :class:`Generator`.

    It must accept ``z_dim``, ``image_size`` and ``channels`` (and ``num_classes`` when the
    entry is registered ``conditional=True``) as keyword arguments; its other keyword options
    (with defaults) are what ``--set generator.OPTION=VALUE`` sets and what the checkpoint
    records to rebuild it.
    """

    def __call__(
        self, *, z_dim: int, image_size: int, channels: int, **options: Any
    ) -> Generator: ...


def takes_truncation_psi(generator: Any) -> bool:
    """True when a generator's ``forward`` takes ``truncation_psi`` (the optional w-space
    truncation of StyleGAN-like generators, what ``--psi`` passes)."""
    import inspect

    try:
        return "truncation_psi" in inspect.signature(generator.forward).parameters
    except (TypeError, ValueError):  # a forward without a signature (a C extension)
        return False


def check_generator_output(
    generator: Any, images: Any, batch: int, image_size: int, channels: int
) -> None:
    """Check that ``generator`` returned ``images`` of shape (``batch``, ``channels``,
    ``image_size``, ``image_size``), floating, in [-1, 1]; else a :class:`ContractError`."""
    who = describe_entry(generator, "generator")
    expected = (batch, channels, image_size, image_size)
    shape = tuple(getattr(images, "shape", ()))
    if shape != expected:
        raise ContractError(
            who,
            f"it returned images of shape {shape} for {batch} latents, but it "
            f"declares {image_size} px and {channels} channel(s): expected {expected}",
        )
    if not images.is_floating_point():
        raise ContractError(who, f"it returned {images.dtype} images; they must be floating point")
    low, high = float(images.detach().min()), float(images.detach().max())
    if not (-1.001 <= low and high <= 1.001):  # tanh in reduced precision stays within this
        raise ContractError(
            who,
            f"its images range over [{low:.3g}, {high:.3g}]; they must lie "
            "in [-1, 1] (end the generator with tanh)",
        )


def check(
    generator: Any,
    depth: str = "run",
    *,
    batch: int = 2,
    image_size: int | None = None,
    channels: int | None = None,
    device: Any = None,
) -> Any:
    """The generator contract; with ``depth="run"``, ``batch`` images from latents of a
    private seed (labels ``0, 1, ...`` when conditional) in eval mode, checked against
    ``image_size`` and ``channels`` (by default its own attributes) and returned. Run it under
    the autocast the caller trains in; no random state is consumed and no weight changes."""
    who = describe_entry(generator, "generator")
    check_members(generator, CONTRACT, who, {})
    if not deeper(depth, "run"):
        return None
    import torch

    size = generator.image_size if image_size is None else image_size
    chans = generator.channels if channels is None else channels
    z = torch.randn(batch, generator.z_dim, generator=torch.Generator().manual_seed(0))
    labels = torch.arange(batch) % generator.num_classes if generator.num_classes else None
    if device is not None:
        z, labels = z.to(device), (labels.to(device) if labels is not None else None)
    was_training = generator.training
    generator.eval()
    try:
        with torch.no_grad():
            images = generator(z, labels)  # (B, C, H, W)
    finally:
        generator.train(was_training)
    check_generator_output(generator, images, batch, size, chans)
    return images


CONTRACT = Contract(
    "generator",
    "generators",
    Generator,
    check,
    factory=GeneratorFactory,
    factory_options=("z_dim", "image_size", "channels"),
    extra_allowed=MODULE_MEMBERS,
)
