"""Quick contract checks of every loaded plugin: what ``gan-zoo plugins --check`` runs.

For authors and CI: every lazy target is imported, and every entry is exercised just enough to
catch a broken contract in a second or two per plugin:

* generators and discriminators are built at their smallest declared size and channel count
  (small widths where the factory has a ``width`` or ``hidden`` option) and checked by their
  kind's ``check(obj, "run")`` (:mod:`gan_zoo.contracts`): forward once on two samples;
* losses are built with their defaults and checked by ``check(loss, "run")`` (random bf16
  logits: scalar, fp32, finite);
* presets by ``check(preset, "run")``: registered networks and losses supporting its size;
* dataset and metric factories must take the contract's keyword options (no data is read);
  a metric is built and checked by ``check(metric, "signature")``.

Each problem is one :class:`Problem` naming the entry and its distribution. The conformance kit
(:mod:`gan_zoo.testing`) runs the same checks as one case per entry, next to its deeper ones.

Importing this module does not import torch; checking does.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from . import plugins
from .contracts import CONTRACTS, ContractError
from .registry import KINDS, SINGULAR, Entry

__all__ = ["Problem", "check_entry", "check_plugins", "small_options"]

#: The latent size, batch and number of classes of the quick checks.
Z_DIM, BATCH, CLASSES = 16, 2, 3
#: Sizes and channels tried for entries that declare "any".
ANY_SIZES, ANY_CHANNELS = (28, 32), (1, 3)
#: What a factory must accept, by kind (besides ``num_classes`` for conditional networks).
REQUIRED_OPTIONS = {kind: c.factory_options for kind, c in CONTRACTS.items() if c.factory_options}
#: Width options shrunk wherever a factory has them, to keep checks fast on a CPU.
SMALL = {"width": 8, "hidden": [32, 16]}


@dataclass(frozen=True)
class Problem:
    """One broken promise of one entry (or of a whole plugin when ``kind`` is ``"plugin"``):
    the entry's ``kind`` and ``name``, the ``distribution`` and ``version`` that registered it,
    and the ``message`` saying what is wrong."""

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
                    Problem(
                        "plugin", status.name, status.distribution, status.version, status.error
                    )
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
    except ContractError as exc:  # one problem per broken promise, each with the docs' link
        found += [problem(f"{m} (see docs/plugins.md#the-contract)") for m in exc.problems]
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
        return [
            f"its factory does not take {', '.join(missing)} (see docs/plugins.md#the-contract)"
        ]
    return []


def small_options(entry: Entry, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Shrunk widths for a factory that has ``width`` / ``hidden`` options, then ``extra``."""
    accepted = entry.options()
    options = {
        k: (list(v) if isinstance(v, list) else v) for k, v in SMALL.items() if k in accepted
    }
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
    size, channels = smallest(entry)
    net, labels = build_network(entry, size, channels)
    if entry.kind == "generators":
        CONTRACTS["generators"].check(net, "run", batch=BATCH, image_size=size, channels=channels)
    else:
        CONTRACTS["discriminators"].check(
            net, "run", labels=labels, image_size=size, channels=channels
        )
    return []


def _loss(entry: Entry, target: Any) -> list[str]:
    CONTRACTS["losses"].check(entry.create(), "run")
    return []


def _preset(entry: Entry, target: Any) -> list[str]:
    CONTRACTS["models"].check(
        target, "run", who="model", registry=plugins.registry, supports=entry.supports
    )
    return []


def _factory(entry: Entry, target: Any) -> list[str]:
    return _missing_options(entry, target)


def _metric(entry: Entry, target: Any) -> list[str]:
    missing = _missing_options(entry, target)
    if missing:
        return missing
    CONTRACTS["metrics"].check(entry.create(num_samples=8, batch_size=4, device="cpu"), "signature")
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
