"""Quick contract checks of every loaded plugin: what ``gan-zoo plugins --check`` runs.

For authors and CI: every lazy target is imported, and every entry is exercised just enough to
catch a broken contract in a second or two per plugin:

* generators and discriminators are built at their smallest declared size and channel count
  (small widths where the factory has a ``width`` or ``hidden`` option), run forward once on
  two samples and checked with :mod:`gan_zoo.contracts`;
* losses are built with their defaults and called on random bf16 logits (scalar, fp32, finite);
* presets must name registered networks and losses that support the preset's size;
* dataset and metric factories must take the contract's keyword options (no data is read).

Each problem is one :class:`Problem` naming the entry and its distribution. The conformance kit
(:mod:`gan_zoo.testing`) runs the same checks as one case per entry, next to its deeper ones.

Importing this module does not import torch; checking does.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from . import plugins
from .config import Preset
from .contracts import check_discriminator_output, check_generator_output, check_loss_value
from .registry import KINDS, SINGULAR, Entry

__all__ = ["Problem", "check_entry", "check_plugins", "small_options"]

#: The latent size, batch and number of classes of the quick checks.
Z_DIM, BATCH, CLASSES = 16, 2, 3
#: Sizes and channels tried for entries that declare "any".
ANY_SIZES, ANY_CHANNELS = (28, 32), (1, 3)
#: What a factory must accept, by kind (besides ``num_classes`` for conditional networks).
REQUIRED_OPTIONS = {
    "generators": ("z_dim", "image_size", "channels"),
    "discriminators": ("image_size", "channels"),
    "datasets": ("split", "data_dir", "download"),
    "metrics": ("num_samples", "batch_size", "device"),
}
#: Width options shrunk wherever a factory has them, to keep checks fast on a CPU.
SMALL = {"width": 8, "hidden": [32, 16]}


@dataclass(frozen=True)
class Problem:
    """One broken promise of one entry (or of a whole plugin when ``kind`` is ``"plugin"``)."""

    kind: str
    name: str
    distribution: str
    version: str
    message: str

    def __str__(self) -> str:
        what = "plugin" if self.kind == "plugin" else SINGULAR[self.kind]
        return f"{what} '{self.name}' ({self.distribution} {self.version}): {self.message}"


def check_plugins(distribution: str | None = None) -> list[Problem]:
    """Problems of every loaded plugin (or only those of ``distribution``), broken plugins first."""
    problems = []
    for status in plugins.statuses():
        if distribution is None or status.distribution == distribution:
            if status.error:
                problems.append(
                    Problem("plugin", status.name, status.distribution, status.version, status.error)
                )
    for kind in KINDS:
        for entry in plugins.registry(kind):
            if distribution is None or entry.plugin.distribution == distribution:
                problems += check_entry(entry)
    return problems


def check_entry(entry: Entry) -> list[Problem]:
    """The quick checks of one entry: its metadata, its target, and one call of it."""

    def problem(message: str) -> Problem:
        info = entry.plugin
        return Problem(entry.kind, entry.key, info.distribution, info.version, message)

    found = [problem(m) for m in _metadata(entry)]
    try:
        target = entry.load()
    except Exception as exc:  # Entry.load's one line names the entry; keep its reason only
        return found + [problem(str(exc).split("cannot be loaded: ", 1)[-1])]
    try:
        found += [problem(m) for m in _CHECKS[entry.kind](entry, target)]
    except Exception as exc:  # the plugin's code raised: its one line, not our traceback
        found.append(problem(f"raised {one_line(exc)}"))
    return found


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


def _metadata(entry: Entry) -> list[str]:
    found = []
    if len(entry.description) < 10 or entry.description.lower() == entry.name:
        found.append("its description is missing or too short; say in one line what it is")
    sizes, channels = entry.supports.image_sizes, entry.supports.channels
    if any(not isinstance(s, int) or isinstance(s, bool) or s < 4 for s in sizes):
        found.append(f"it declares image sizes {list(sizes)}; they must be integers >= 4")
    if any(c not in (1, 3) for c in channels):
        found.append(f"it declares channels {list(channels)}; images have 1 or 3 channels")
    return found


def _missing_options(entry: Entry, target: Any) -> list[str]:
    required = list(REQUIRED_OPTIONS.get(entry.kind, ()))
    if entry.kind in ("generators", "discriminators") and entry.supports.conditional:
        required.append("num_classes")
    try:
        params = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return [f"its target {target!r} is not a factory with a signature"]
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return []
    accepted = entry.options()
    missing = [name for name in required if name not in accepted]
    if missing:
        return [f"its factory does not take {', '.join(missing)} (see docs/plugins.md#the-contract)"]
    return []


def small_options(entry: Entry, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Shrunk widths for a factory that has ``width`` / ``hidden`` options, then ``extra``."""
    accepted = entry.options()
    options = {k: (list(v) if isinstance(v, list) else v) for k, v in SMALL.items() if k in accepted}
    options.update(extra or {})
    return options


def smallest(entry: Entry) -> tuple[int, int]:
    """The smallest declared image size and channel count (28 and 1 for "any")."""
    sizes = entry.supports.image_sizes or ANY_SIZES
    return min(sizes), min(entry.supports.channels or ANY_CHANNELS)


def build_network(
    entry: Entry, size: int, channels: int, extra: dict[str, Any] | None = None
) -> tuple[Any, Any]:
    """``(network, labels or None)``: ``entry`` built at ``size`` / ``channels``, small."""
    import torch

    kwargs: dict[str, Any] = {"image_size": size, "channels": channels}
    if entry.kind == "generators":
        kwargs["z_dim"] = Z_DIM
    labels = None
    if entry.supports.conditional:
        kwargs["num_classes"] = CLASSES
        labels = torch.arange(BATCH) % CLASSES  # (B,)
    kwargs.update(small_options(entry, extra))
    return entry.create(**kwargs), labels


def _network(entry: Entry, target: Any) -> list[str]:
    missing = _missing_options(entry, target)
    if missing:
        return missing
    import torch

    from .contracts import ContractError

    size, channels = smallest(entry)
    net, labels = build_network(entry, size, channels)
    net.eval()
    try:
        with torch.no_grad():
            if entry.kind == "generators":
                z = torch.randn(BATCH, Z_DIM, generator=torch.Generator().manual_seed(0))
                check_generator_output(net, net(z, labels), BATCH, size, channels)
            else:
                x = torch.rand(BATCH, channels, size, size) * 2 - 1  # (B, C, H, W)
                check_discriminator_output(net, net(x, labels), BATCH)
    except ContractError as exc:
        return [str(exc).split(" breaks the plugin contract: ", 1)[-1]]
    return []


def _loss(entry: Entry, target: Any) -> list[str]:
    import torch

    from .contracts import ContractError

    loss = entry.create()
    for member in ("d_loss", "g_loss", "regularizer"):
        if not callable(getattr(loss, member, None)):
            return [f"it has no method {member}() (subclass gan_zoo.losses.base.GANLoss)"]
    g = torch.Generator().manual_seed(0)
    real, fake = (torch.randn(4, generator=g).bfloat16() for _ in range(2))  # (B,) as autocast
    extra = (real,) if getattr(loss, "uses_real_logits_in_g", False) else ()
    try:
        for which, value in (("d_loss", loss.d_loss(real, fake)),
                             ("g_loss", loss.g_loss(fake, *extra))):  # fmt: skip
            check_loss_value(loss, value, which)
            if value.dtype != torch.float32:
                return [f"its {which} returned {value.dtype} for bf16 logits; return fp32 "
                        "(compute in fp32: logits.float())"]  # fmt: skip
    except ContractError as exc:
        return [str(exc).split(" breaks the plugin contract: ", 1)[-1]]
    return []


def _preset(entry: Entry, target: Any) -> list[str]:
    if not isinstance(target, Preset):
        return [f"it registers a {type(target).__name__}, not a gan_zoo.config.Preset"]
    found = []
    parts = [("generators", target.generator), ("discriminators", target.discriminator),
             ("losses", target.loss)] + ([("losses", target.regularizer)] if target.regularizer else [])  # fmt: skip
    for kind, spec in parts:
        registry = plugins.registry(kind)
        if spec.name not in registry:
            found.append(f"its {SINGULAR[kind]} '{spec.name}' is not registered")
            continue
        supports = registry.get(spec.name).supports
        for size in entry.supports.image_sizes or ((target.image_size,) if target.image_size else ()):
            if kind != "losses" and not supports.matches(image_size=size):
                found.append(f"it declares {size} px but its {SINGULAR[kind]} '{spec.name}' "
                             f"supports {supports}")  # fmt: skip
    return found


def _factory(entry: Entry, target: Any) -> list[str]:
    return _missing_options(entry, target)


def _metric(entry: Entry, target: Any) -> list[str]:
    missing = _missing_options(entry, target)
    if missing:
        return missing
    metric = entry.create(num_samples=8, batch_size=4, device="cpu")
    for member in ("compute", "protocol"):
        if not callable(getattr(metric, member, None)):
            return [f"it builds a {type(metric).__name__} without a {member}() method"]
    if not isinstance(getattr(metric, "higher_is_better", None), bool):
        return ["its higher_is_better must be True or False"]
    return []


def _pretrained(entry: Entry, folder: Any) -> list[str]:
    """A tag's folder holds a generator that loads (weights checked against its config), and
    no optimizer state: a pretrained package ships sampling weights only."""
    from .checkpoint import STATE_TENSORS_FILE, load_generator
    from .errors import GanZooError

    try:
        load_generator(folder)
    except GanZooError as exc:
        return [f"its folder does not load: {exc}"]
    if (folder / STATE_TENSORS_FILE).exists():
        return [f"its folder holds {STATE_TENSORS_FILE}; ship the generator weights only"]
    return []


_CHECKS = {
    "pretrained": _pretrained,
    "generators": _network,
    "discriminators": _network,
    "losses": _loss,
    "models": _preset,
    "datasets": _factory,
    "metrics": _metric,
}
