"""One generic registry, used for every kind of entry.

Names are the public interface (as in timm's ``list_models`` / ``create_model``): an entry is
registered under a lower-case, hyphenated name by a plugin, listed with wildcard filters, and
built by name. Unknown names get did-you-mean suggestions; a name registered twice is an error
that names both plugins.

An entry's ``target`` is what the name stands for: a factory (class or function), a preset
dataclass, or a lazy ``"module:attribute"`` reference in the syntax of Python entry points, so
that registering a name never imports torch. The reference is resolved on first use.
"""

from __future__ import annotations

import fnmatch
import importlib
import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .errors import DuplicateNameError, GanZooError, did_you_mean, unknown

#: The kinds of entries, in the order the CLI lists them.
KINDS = ("models", "generators", "discriminators", "losses", "datasets", "metrics")

#: "losses" -> "loss", for messages.
SINGULAR = {
    "models": "model",
    "generators": "generator",
    "discriminators": "discriminator",
    "losses": "loss",
    "datasets": "dataset",
    "metrics": "metric",
}

_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)?$")


@dataclass(frozen=True)
class PluginInfo:
    """Where an entry came from: the plugin's name and its distribution and version."""

    name: str
    distribution: str
    version: str

    def __str__(self) -> str:
        if self.name == self.distribution:
            return f"{self.distribution} {self.version}"
        return f"{self.distribution} {self.version} ({self.name})"


@dataclass(frozen=True)
class Supports:
    """What an entry works with. An empty tuple means "any"."""

    image_sizes: tuple[int, ...] = ()
    channels: tuple[int, ...] = ()
    conditional: bool = False

    def matches(
        self,
        image_size: int | None = None,
        channels: int | None = None,
        conditional: bool | None = None,
    ) -> bool:
        if image_size is not None and self.image_sizes and image_size not in self.image_sizes:
            return False
        if channels is not None and self.channels and channels not in self.channels:
            return False
        return conditional is None or conditional == self.conditional

    def __str__(self) -> str:
        parts = []
        if self.image_sizes:
            parts.append(", ".join(str(s) for s in self.image_sizes) + " px")
        if self.channels:
            parts.append("/".join(str(c) for c in self.channels) + " ch")
        if self.conditional:
            parts.append("conditional")
        return "; ".join(parts) or "any"


@dataclass(frozen=True)
class Entry:
    """One registered name."""

    kind: str
    name: str
    target: Any
    description: str
    plugin: PluginInfo
    supports: Supports = field(default_factory=Supports)

    def as_dict(self) -> dict[str, Any]:
        """The entry as JSON-able data (what ``gan-zoo list --json`` prints)."""
        return {
            "name": self.name,
            "plugin": self.plugin.name,
            "distribution": self.plugin.distribution,
            "version": self.plugin.version,
            "description": self.description,
            "image_sizes": list(self.supports.image_sizes),
            "channels": list(self.supports.channels),
            "conditional": self.supports.conditional,
        }

    def load(self) -> Any:
        """The object behind the name, importing it on first use."""
        target = self.target
        if isinstance(target, str):
            module_name, _, attr = target.partition(":")
            obj: Any = importlib.import_module(module_name)
            for part in attr.split("."):
                obj = getattr(obj, part)
            object.__setattr__(self, "target", obj)
            target = obj
        return target

    def options(self) -> dict[str, Any]:
        """Keyword options of the factory and their defaults (``inspect.Parameter.empty`` if required)."""
        target = self.load()
        if not callable(target):
            return {}
        params = inspect.signature(target).parameters.values()
        return {
            p.name: p.default
            for p in params
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and not p.name.startswith("_")
        }

    def create(self, **options: Any) -> Any:
        """Call the factory with ``options``; an unknown option is a one-line error."""
        factory = self.load()
        params = inspect.signature(factory).parameters.values()
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            known = self.options()
            for key in options:
                if key not in known:
                    raise GanZooError(
                        f"{SINGULAR[self.kind]} '{self.name}' has no option '{key}'"
                        f"{did_you_mean(key, known)} (options: {', '.join(known) or 'none'})"
                    )
        return factory(**options)


class Registry:
    """The entries of one kind, by name."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    def register(self, entry: Entry) -> None:
        if not _NAME.match(entry.name):
            raise GanZooError(
                f"{entry.plugin} registers {SINGULAR[self.kind]} name '{entry.name}': names are "
                "lower-case letters, digits and hyphens (an optional '.tag' suffix is allowed)"
            )
        old = self._entries.get(entry.name)
        if old is not None:
            raise DuplicateNameError(
                f"{SINGULAR[self.kind]} '{entry.name}' is registered by both {old.plugin} and "
                f"{entry.plugin}; uninstall one of them or load only one with GAN_ZOO_LOAD_PLUGINS"
            )
        self._entries[entry.name] = entry

    def unregister(self, name: str) -> None:
        self._entries.pop(name, None)

    def get(self, name: str) -> Entry:
        try:
            return self._entries[name]
        except KeyError:
            hint = f"(see 'gan-zoo list {self.kind}')"
            raise unknown(SINGULAR[self.kind], name, self._entries, hint=hint) from None

    def create(self, name: str, **options: Any) -> Any:
        return self.get(name).create(**options)

    def list(
        self,
        pattern: str | None = None,
        *,
        image_size: int | None = None,
        channels: int | None = None,
        conditional: bool | None = None,
    ) -> list[Entry]:
        """Entries sorted by name, filtered by a wildcard ``pattern`` and by what they support."""
        return [
            entry
            for name, entry in sorted(self._entries.items())
            if (pattern is None or fnmatch.fnmatchcase(name, pattern))
            and entry.supports.matches(image_size, channels, conditional)
        ]

    def names(self, pattern: str | None = None, **filters: Any) -> list[str]:
        return [entry.name for entry in self.list(pattern, **filters)]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.list())

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self)} entries)"
