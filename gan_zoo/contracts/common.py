"""What every kind's contract shares: the error, the :class:`Contract` record, the depths.

A :class:`Contract` keeps one kind together: its Protocol (the required members), the base
class holding the defaults of the optional members, and its ``check(obj, depth)``. Core code
reads a required member directly and an optional one through :meth:`Contract.get`, which falls
back to the base class's default, so a plugin object that does not subclass the base works.

Importing this module does not import torch.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import GanZooError

Depth = Literal["signature", "run", "deep"]
"""How far a check goes: ``"signature"`` looks at the members and their signatures only;
``"run"`` also calls the required members on tiny inputs (what the trainer, ``load`` and
``gan-zoo plugins --check`` do); ``"deep"`` also the optional members, gradients and state
round trips, on a fresh object (the conformance kit)."""
DEPTHS = ("signature", "run", "deep")
DOCS = "docs/plugins.md#the-contract"


class ContractError(GanZooError):
    """A plugin's entry does not do what the contract says: ``who`` broke ``problems``."""

    def __init__(self, who: str, *problems: str):
        self.who, self.problems = who, tuple(problems)
        super().__init__(f"{who} breaks the plugin contract: {'; '.join(problems)} (see {DOCS})")


def describe_entry(obj: Any, kind: str, fallback: str = "") -> str:
    """``generator 'dcgan' (gan-zoo 0.1.0)`` for ``obj`` built by a registry entry of ``kind``;
    for any other object ``kind`` and ``fallback`` (default: the object's type name)."""
    from ..registry import built_by

    entry = built_by(obj)
    if entry is None:
        return f"{kind} {fallback or type(obj).__name__}".strip()
    return f"{kind} '{entry.key}' ({entry.plugin.distribution} {entry.plugin.version})"


def deeper(depth: str, than: str) -> bool:
    """Whether ``depth`` goes at least as far as ``than``."""
    if depth not in DEPTHS:
        raise ValueError(f"depth must be one of {', '.join(DEPTHS)}, not {depth!r}")
    return DEPTHS.index(depth) >= DEPTHS.index(than)


def members(protocol: type) -> tuple[str, ...]:
    """The members a Protocol declares, in source order (attributes, then methods)."""
    names = list(getattr(protocol, "__annotations__", {}))
    names += [n for n, v in vars(protocol).items() if callable(v) or isinstance(v, property)]
    skip = {"__init__", "__subclasshook__", "__class_getitem__", "__init_subclass__"}
    return tuple(dict.fromkeys(n for n in names if n not in skip and not n.startswith("_abc")))


_MISSING = object()


@dataclass(frozen=True)
class Contract:
    """One plugin kind: its Protocol, the defaults of its optional members and its check.

    ``kind`` names it (``"metric"``), ``registry`` is the registry its entries live in
    (``"metrics"``), ``protocol`` holds the required members, ``check(obj, depth="run",
    **inputs)`` checks an object, ``factory`` is what the register callback takes when that is
    not the object itself, ``base`` holds the defaults of the ``optional`` members,
    ``factory_options`` are the keyword options every factory of the kind takes and
    ``extra_allowed`` are members an object may have beyond the contract (``nn.Module``'s).
    """

    kind: str  # "metric"
    registry: str  # the registry it is registered in: "metrics"
    protocol: type  # the required members
    check: Callable[..., Any]  # check(obj, depth="run", **inputs)
    factory: type | None = None  # what the register callback takes (a Protocol), if not obj
    base: type | None = None  # defaults of the optional members
    optional: tuple[str, ...] = ()
    #: The keyword options every factory of this kind takes.
    factory_options: tuple[str, ...] = ()
    extra_allowed: frozenset[str] = field(default_factory=frozenset)  # e.g. nn.Module members

    @property
    def required(self) -> tuple[str, ...]:
        return members(self.protocol)

    def declares(self, name: str) -> bool:
        return name in self.required or name in self.optional or name in self.extra_allowed

    def get(self, obj: Any, name: str) -> Any:
        """``obj.name``, or for an optional member that ``obj`` lacks, the base's default
        (methods bound to ``obj``)."""
        if name in self.required or name in self.extra_allowed:
            return getattr(obj, name)
        if name not in self.optional:
            raise AttributeError(f"'{name}' is not a member of the {self.kind} contract")
        value = getattr(obj, name, _MISSING)
        if value is not _MISSING:
            return value
        default = inspect.getattr_static(self.base, name)
        return default.__get__(obj) if isinstance(default, types.FunctionType) else default


def takes(fn: Any, *args: Any, **kwargs: Any) -> bool:
    """Whether ``fn`` can be called with these arguments (by its signature; True when it has
    none that Python can read)."""
    try:
        inspect.signature(fn).bind(*args, **kwargs)
    except TypeError:
        return False
    except ValueError:
        return True
    return True


def check_members(obj: Any, contract: Contract, who: str, calls: dict[str, tuple]) -> None:
    """The required members exist; the methods among them and the optional methods ``obj``
    has take the arguments in ``calls`` (``{member: example positional arguments}``)."""
    missing = [n for n in contract.required if not hasattr(obj, n)]
    if missing:
        base = (
            f" (or subclass {contract.base.__module__}.{contract.base.__qualname__})"
            if contract.base
            else ""
        )
        raise ContractError(
            who, f"it lacks {', '.join(missing)} of the {contract.protocol.__name__} protocol{base}"
        )
    for name, args in calls.items():
        if name not in contract.required and not hasattr(obj, name):
            continue  # an optional member left to the default
        member = getattr(obj, name)
        if not callable(member):
            raise ContractError(who, f"its {name} is not a method")
        if not takes(member, *args):
            raise ContractError(who, f"its {name}() does not take {len(args)} argument(s)")


def check_flags(obj: Any, contract: Contract, who: str, names: tuple[str, ...]) -> None:
    for name in names:
        if not isinstance(contract.get(obj, name), bool):
            raise ContractError(who, f"its {name} must be True or False")
