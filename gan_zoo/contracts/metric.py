"""The metric contract: one number about a generator, and how it was measured.

Importing this module does not import torch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

from .common import Contract, ContractError, check_flags, check_members, deeper, describe_entry
from .dataset import Dataset
from .generator import Generator


@runtime_checkable
class Metric(Protocol):
    """What ``register_metrics`` factories return: one number about a generator.

    ``compute`` samples ``generator`` (a :class:`Generator`, called in batches as
    ``generator(z, labels)``; in eval mode) and compares with ``dataset`` (the reference split);
    the same call is used by ``gan-zoo evaluate`` and by ``--eval-metric`` during training.
    ``protocol`` says how the number was measured (feature network, sample count, reference
    split) as a JSON object, for ``metrics.json`` and the model card.
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


class MetricDefaults:
    """The optional members of a metric and what gan-zoo assumes when a metric lacks them
    (``gan_zoo.metrics.base.FeatureMetric`` subclasses this; a metric need not)."""

    #: Side results of the last ``compute`` (KID's ``kid_std``), recorded beside the value.
    extra: Mapping[str, float] = MappingProxyType({})
    #: ``write_reference_stats(dataset, path) -> Path``: the reference's ``mu`` and ``sigma`` as
    #: an ``.npz`` (what ``gan-zoo ref-stats`` calls); None: the metric has none.
    write_reference_stats: Callable[[Dataset, str | os.PathLike], Path] | None = None

    def check_dataset(self, dataset: Dataset) -> None:
        """Raise a ``GanZooError`` (one line) if the metric cannot measure this reference split;
        called before any metric computes. Accepts every dataset."""

    def check_generator(self, generator: Generator) -> None:
        """Raise a ``GanZooError`` (one line) if the metric cannot measure this generator (a
        class-based metric and an unconditional one, say). Accepts every generator."""


OPTIONAL = ("extra", "write_reference_stats", "check_dataset", "check_generator")


def check(
    metric: Any,
    depth: str = "run",
    *,
    dataset: Any = None,
    generators: Sequence[Any] = (),
) -> float | None:
    """The metric contract. ``"signature"``: the members and their signatures.
    ``"run"``: ``protocol(dataset)`` is a JSON object and ``check_dataset(dataset)`` runs (a
    ``GanZooError`` is a refusal, not a breach). ``"deep"``: ``compute`` gives a finite float
    for the first of ``generators`` the metric accepts, and ``extra`` holds numbers; that value
    is returned. ``dataset`` (and for "deep" ``generators``) are the tiny inputs the caller
    provides (the conformance kit has them)."""
    who = describe_entry(metric, "metric")
    check_members(
        metric,
        CONTRACT,
        who,
        {"compute": (0, 0), "protocol": (0,), "check_dataset": (0,), "check_generator": (0,)},
    )
    check_flags(metric, CONTRACT, who, ("higher_is_better",))
    writer = CONTRACT.get(metric, "write_reference_stats")
    if writer is not None and not callable(writer):
        raise ContractError(who, "its write_reference_stats must be a method or None")
    if not deeper(depth, "run"):
        return None
    _protocol(metric, dataset, who)
    if not deeper(depth, "deep"):
        return None
    return _compute(metric, dataset, generators, who)


def _protocol(metric: Any, dataset: Any, who: str) -> None:
    import json

    from ..errors import GanZooError

    protocol = metric.protocol(dataset)
    if not isinstance(protocol, dict):
        raise ContractError(who, f"its protocol() returned a {type(protocol).__name__}, not a dict")
    try:
        json.dumps(protocol)
    except (TypeError, ValueError) as exc:
        raise ContractError(who, f"its protocol() is not JSON-able ({exc})") from None
    try:
        CONTRACT.get(metric, "check_dataset")(dataset)
    except GanZooError:
        pass  # a refusal of this dataset, in one line: what the member is for


def _compute(metric: Any, dataset: Any, generators: Sequence[Any], who: str) -> float:
    import math

    from ..errors import GanZooError

    refusals = []
    for generator in generators:
        try:
            CONTRACT.get(metric, "check_generator")(generator)
            value = metric.compute(generator, dataset, seed=0)
        except GanZooError as exc:
            refusals.append(str(exc))
            continue
        if not (isinstance(value, (float, int)) and math.isfinite(value)):
            raise ContractError(who, f"its compute() gave {value!r}; it must be a finite float")
        extra = CONTRACT.get(metric, "extra")
        if not isinstance(extra, Mapping) or not all(
            isinstance(k, str) and isinstance(v, (float, int)) for k, v in extra.items()
        ):
            raise ContractError(who, "its extra must map names to numbers")
        return float(value)
    raise ContractError(
        who, f"it refuses every tiny generator ({'; '.join(refusals) or 'none given'})"
    )


CONTRACT = Contract(
    "metric",
    "metrics",
    Metric,
    check,
    factory=MetricFactory,
    base=MetricDefaults,
    optional=OPTIONAL,
    factory_options=("num_samples", "batch_size", "device"),
)
