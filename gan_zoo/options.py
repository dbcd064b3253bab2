"""Declared ranges of a factory's numeric options, checked before anything is built.

A factory (a generator, discriminator or loss class or function) declares the ranges of its
numeric keyword options with :func:`ranges`; the declaration is plain data on the factory, its
``option_ranges`` attribute, so any plugin can declare ranges the same way. gan-zoo checks the
values against it twice, both times before a network is built: when a run's config is validated
(:func:`gan_zoo.factory.check_options`, before data is read) and in
:meth:`gan_zoo.registry.Entry.create`. A value out of range is one :class:`ConfigError` line
naming the option, its range and the value, instead of an error deep inside PyTorch or oneDNN.
A list option (an MLP's ``hidden`` sizes) is checked element by element.

No torch here: the factories' modules import it, and so does the torch-free registry.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import ConfigError

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Range:
    """``low <= value <= high`` (``high`` None: no upper bound); ``high_open``: ``value < high``."""

    low: float
    high: float | None = None
    high_open: bool = False

    def __contains__(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            return False
        if value < self.low:
            return False
        if self.high is None:
            return True
        return value < self.high if self.high_open else value <= self.high

    def __str__(self) -> str:
        if self.high is None:
            return f">= {_num(self.low)}"
        close = ")" if self.high_open else "]"
        return f"in [{_num(self.low)}, {_num(self.high)}{close}"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def ranges(**declared: Range) -> Callable[[F], F]:
    """Declare the ranges of a factory's options: ``@ranges(width=Range(1, 4096))``."""

    def mark(factory: F) -> F:
        factory.option_ranges = dict(declared)  # type: ignore[attr-defined]
        return factory

    return mark


def declared(factory: Any) -> Mapping[str, Range]:
    """The ranges ``factory`` declares (none if it declares none or declares them badly)."""
    found = getattr(factory, "option_ranges", None)
    if not isinstance(found, Mapping):
        return {}
    return {k: v for k, v in found.items() if isinstance(k, str) and isinstance(v, Range)}


def check_ranges(what: str, factory: Any, options: Mapping[str, Any]) -> None:
    """A one-line :class:`ConfigError` for the first option of ``options`` outside the range
    ``factory`` declares for it; ``what`` names the entry (``generator 'dcgan'``)."""
    for name, allowed in declared(factory).items():
        if name not in options or options[name] is None:
            continue
        value = options[name]
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        if any(v not in allowed for v in values):  # an empty list: the factory's own check
            must = "must have every value" if isinstance(value, (list, tuple)) else "must be"
            raise ConfigError(f"{what} option '{name}' {must} {allowed}, got {value!r}")
