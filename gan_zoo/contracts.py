"""The plugin contract: what gan-zoo expects of every entry a plugin registers.

One :class:`typing.Protocol` (PEP 544) per kind, the single source for ``docs/plugins.md``
(a test compares the page with these signatures, member by member). The built-ins satisfy the
same protocols. gan-zoo checks the parts that matter at run time once, where plugin code is
first called (the first training step, loading a checkpoint, ``gan-zoo plugins --check``), so a
plugin that breaks the contract fails with one line naming it.

Shapes: ``B`` batch, ``C`` channels (1 or 3), ``H = W`` image size, ``Z`` ``z_dim``.

Importing this module does not import torch.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .config import Preset
from .errors import GanZooError

if TYPE_CHECKING:
    import torch

__all__ = [
    "ContractError",
    "Dataset",
    "DatasetFactory",
    "Discriminator",
    "DiscriminatorFactory",
    "Generator",
    "GeneratorFactory",
    "Loss",
    "Metric",
    "MetricFactory",
    "Preset",
]


@runtime_checkable
class Generator(Protocol):
    """An ``nn.Module`` mapping latents (and class labels) to images in [-1, 1].

    ``forward(z (B, Z), labels (B,) int64 | None) -> (B, C, H, W)`` floating, in [-1, 1] in
    eval mode (end with ``tanh``, or clamp in eval mode as StyleGAN2 does; the range is checked
    in eval mode, shapes in both); ``labels`` is None unless ``num_classes > 0``. Output size and
    channels must equal the attributes, which must equal the factory arguments.
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


@runtime_checkable
class Discriminator(Protocol):
    """An ``nn.Module`` scoring images: ``forward(x (B, C, H, W), labels (B,) | None) -> (B,)``
    raw logits (no sigmoid; the loss decides what they mean), one per image."""

    def __call__(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor: ...


class DiscriminatorFactory(Protocol):
    """What ``register_discriminators`` registers: keyword arguments ``image_size`` and
    ``channels`` (and ``num_classes`` when ``conditional=True``) plus its own options."""

    def __call__(self, *, image_size: int, channels: int, **options: Any) -> Discriminator: ...


@runtime_checkable
class Loss(Protocol):
    """What ``register_losses`` registers a factory for (``gan_zoo.losses.base.GANLoss`` is a
    convenient base class that implements the optional members).

    Logits arrive in whatever precision autocast produced; return fp32 scalars (0-d tensors),
    finite, with gradients. ``g_loss`` receives ``real_logits`` (D's logits of the real batch,
    computed in the generator step) only when ``uses_real_logits_in_g`` is true, as relativistic
    losses (RaGAN, RaLSGAN) need; other losses are called with the fake logits alone.

    Optional: a loss that keeps state between steps (lazy R1 counts D steps) defines
    ``training_state() -> dict`` (JSON: numbers, strings, lists) and
    ``load_training_state(state)``; the trainer saves the state with every checkpoint and hands
    it back on ``--resume``, so a resumed run trains exactly as an uninterrupted one.
    """

    #: D's logit is the log-odds of "real" (BCE-style losses): ``d/real``, ``d/fake`` are then
    #: reported as probabilities.
    logits_are_log_odds: bool
    #: Call ``g_loss(fake_logits, real_logits)`` instead of ``g_loss(fake_logits)``.
    uses_real_logits_in_g: bool

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor: ...

    def g_loss(
        self, fake_logits: torch.Tensor, real_logits: torch.Tensor | None = None
    ) -> torch.Tensor: ...

    def regularizer(
        self,
        discriminator: Discriminator,
        real: torch.Tensor,
        fake: torch.Tensor,
        labels: torch.Tensor | None = None,
    ) -> torch.Tensor | None: ...

    def after_d_step(self, discriminator: Discriminator) -> None: ...


@runtime_checkable
class Dataset(Protocol):
    """What ``register_datasets`` factories return: images with labels, batched on a device.

    ``gan_zoo.datasets.base.ImageDataset(name, split, images, labels, class_names, source)``
    implements it for data that fits in memory (``images`` uint8 (N, C, H, W), ``labels`` int64
    (N,)); ``gan_zoo.datasets.streaming.StreamingImageDataset`` for folders that do not.
    ``source`` says where the files were found (for messages and the model card).
    """

    name: str
    split: str
    class_names: list[str]
    source: str

    @property
    def image_size(self) -> int: ...
    @property
    def channels(self) -> int: ...
    @property
    def num_classes(self) -> int: ...
    def __len__(self) -> int: ...
    def to(self, device: torch.device | str) -> Dataset: ...
    def batches(
        self, batch_size: int, generator: torch.Generator | None = None, drop_last: bool = True
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]: ...
    def sample(
        self, n: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]: ...
    def class_counts(self) -> list[int]: ...


class DatasetFactory(Protocol):
    """What ``register_datasets`` registers: keyword options ``split`` (``"train"``, ``"test"``,
    ...), ``data_dir``, ``download``, and ``image_size`` / ``channels`` when it can convert."""

    def __call__(
        self, *, split: str = "train", data_dir: str | None = None, download: bool = False,
        **options: Any,
    ) -> Dataset: ...  # fmt: skip


@runtime_checkable
class Metric(Protocol):
    """What ``register_metrics`` factories return: one number about a generator.

    ``compute`` samples ``generator`` (a :class:`Generator`, called in batches as
    ``generator(z, labels)``; in eval mode) and compares with ``dataset`` (the reference split);
    the same call is used by ``gan-zoo evaluate`` and by ``--eval-metric`` during training.
    ``protocol`` says how the number was measured (feature network, sample count, reference
    split), for ``metrics.json`` and the model card.
    """

    higher_is_better: bool

    def compute(self, generator: Generator, dataset: Dataset, seed: int = 0) -> float: ...

    def protocol(self, dataset: Dataset) -> dict[str, Any]: ...


class MetricFactory(Protocol):
    """What ``register_metrics`` registers: keyword options ``num_samples``, ``batch_size`` and
    ``device`` plus its own."""

    def __call__(
        self, *, num_samples: int, batch_size: int, device: str, **options: Any
    ) -> Metric: ...


# Checks at run time, once, where plugin code is first called (the first training step, loading
# a checkpoint, ``gan-zoo plugins --check``).
class ContractError(GanZooError):
    """A plugin's entry does not do what the contract says."""


def describe_entry(obj: Any, kind: str, fallback: str = "") -> str:
    """``generator 'dcgan' (gan-zoo 0.1.0)`` for an object built by a registry entry."""
    from .registry import built_by

    entry = built_by(obj)
    if entry is None:
        return f"{kind} {fallback or type(obj).__name__}".strip()
    return f"{kind} '{entry.key}' ({entry.plugin.distribution} {entry.plugin.version})"


def _broken(who: str, what: str) -> ContractError:
    return ContractError(f"{who} breaks the plugin contract: {what} (see docs/plugins.md#the-contract)")


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
    """Images (B, C, H, W) of the declared size and channels, floating, in [-1, 1]."""
    who = describe_entry(generator, "generator")
    expected = (batch, channels, image_size, image_size)
    shape = tuple(getattr(images, "shape", ()))
    if shape != expected:
        raise _broken(who, f"it returned images of shape {shape} for {batch} latents, but it "
                           f"declares {image_size} px and {channels} channel(s): expected {expected}")  # fmt: skip
    if not images.is_floating_point():
        raise _broken(who, f"it returned {images.dtype} images; they must be floating point")
    low, high = float(images.detach().min()), float(images.detach().max())
    if not (-1.001 <= low and high <= 1.001):  # tanh in reduced precision stays within this
        raise _broken(who, f"its images range over [{low:.3g}, {high:.3g}]; they must lie in "
                           "[-1, 1] (end the generator with tanh)")  # fmt: skip


def check_discriminator_output(discriminator: Any, logits: Any, batch: int) -> None:
    """Logits (B,), floating: one per image."""
    who = describe_entry(discriminator, "discriminator")
    shape = tuple(getattr(logits, "shape", ()))
    if shape != (batch,):
        raise _broken(who, f"it returned logits of shape {shape} for {batch} images; "
                           f"expected ({batch},), one logit per image")  # fmt: skip
    if not logits.is_floating_point():
        raise _broken(who, f"it returned {logits.dtype} logits; they must be floating point")


def check_loss_value(loss: Any, value: Any, which: str) -> None:
    """A loss value: a 0-d floating tensor, finite."""
    who = describe_entry(loss, "loss")
    shape = tuple(getattr(value, "shape", (None,)))
    if shape != ():
        raise _broken(who, f"its {which} returned shape {shape}; it must be a scalar (take the "
                           "mean over the batch)")  # fmt: skip
    if not value.is_floating_point():
        raise _broken(who, f"its {which} returned {value.dtype}; it must be floating point")
    if not bool(value.detach().isfinite()):
        raise _broken(who, f"its {which} is {float(value)} on the first batch; it must be finite")
