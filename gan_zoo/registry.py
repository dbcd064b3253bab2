"""One generic registry, used for every kind of entry.

Names are the public interface (as in timm's ``list_models`` / ``create_model``): an entry is
registered under a lower-case, hyphenated name by a plugin, listed with wildcard filters, and
built by name. Unknown names get did-you-mean suggestions.

Every entry is also reachable by its **qualified name** ``distribution/name`` (``gan-zoo/bce``,
``gan-zoo-extras/ragan``). A plain name belongs to the entry registered first: the built-ins,
then third-party plugins in entry-point order. A later plugin that registers a taken name is not
dropped: that entry is *shadowed*, listed and usable under its qualified name only, and the clash
is reported (``gan-zoo plugins``, and a warning from ``gan-zoo list`` and ``train`` that names
the entry and the distribution that wins, once per process). Names never change meaning behind
a plugin's back: a preset's names resolve inside the preset's own distribution first
(:meth:`Registry.resolve`), and a run reads its parts back through the distributions its
``config.json`` recorded. One distribution registering a name twice is an error.

An entry's ``target`` is what the name stands for: a factory (class or function), a preset
dataclass, or a lazy ``"module:attribute"`` reference in the syntax of Python entry points, so
that registering a name never imports torch. The reference is resolved on first use.
"""

from __future__ import annotations

import fnmatch
import importlib
import importlib.resources
import inspect
import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import DuplicateNameError, GanZooError, did_you_mean, unknown
from .options import check_ranges

#: The kinds of entries, in the order the CLI lists them.
KINDS = ("models", "generators", "discriminators", "losses", "datasets", "metrics", "pretrained")

#: "losses" -> "loss", for messages.
SINGULAR = {
    "models": "model",
    "generators": "generator",
    "discriminators": "discriminator",
    "losses": "loss",
    "datasets": "dataset",
    "metrics": "metric",
    "pretrained": "pretrained tag",
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
    #: Another distribution had the plain name first: only :attr:`qualified_name` reaches it.
    shadowed: bool = False

    @property
    def qualified_name(self) -> str:
        """``distribution/name``, unique across plugins."""
        return f"{self.plugin.distribution}/{self.name}"

    @property
    def key(self) -> str:
        """The name that reaches this entry: the plain one, or the qualified one if shadowed."""
        return self.qualified_name if self.shadowed else self.name

    def as_dict(self) -> dict[str, Any]:
        """The entry as JSON-able data (what ``gan-zoo list --json`` prints)."""
        return {
            "name": self.key,
            "qualified_name": self.qualified_name,
            "shadowed": self.shadowed,
            "plugin": self.plugin.name,
            "distribution": self.plugin.distribution,
            "version": self.plugin.version,
            "description": self.description,
            "image_sizes": list(self.supports.image_sizes),
            "channels": list(self.supports.channels),
            "conditional": self.supports.conditional,
        }

    def load(self) -> Any:
        """The object behind the name, importing it on first use (for ``pretrained``: the
        checkpoint folder, a :class:`~pathlib.Path`)."""
        target = self.target
        if self.kind == "pretrained" and not isinstance(target, Path):
            target = self._folder()
            object.__setattr__(self, "target", target)
        if isinstance(target, str):
            module_name, _, attr = target.partition(":")
            try:
                obj: Any = importlib.import_module(module_name)
                for part in attr.split("."):
                    obj = getattr(obj, part)
            except Exception as exc:  # the plugin's bug: name it in one line
                line = " ".join(str(exc).split())[:200]
                raise GanZooError(
                    f"{SINGULAR[self.kind]} '{self.key}' of plugin {self.plugin.distribution} "
                    f"{self.plugin.version} cannot be loaded: its target '{target}' fails with "
                    f"{type(exc).__name__}: {line}; reinstall or report it to the plugin's authors"
                ) from None
            object.__setattr__(self, "target", obj)
            target = obj
        return target

    def _folder(self) -> Path:
        """A pretrained entry's folder: ``"package:relative/path"`` is package data found with
        :mod:`importlib.resources`; a callable returns the path itself."""
        target = self.target
        try:
            if isinstance(target, str):
                package, _, relative = target.partition(":")
                found = importlib.resources.files(package).joinpath(*relative.split("/"))
                folder = Path(str(found))
            elif callable(target):
                folder = Path(target())
            else:
                raise TypeError(
                    f"target {type(target).__name__} is not 'package:folder' or a callable"
                )
        except Exception as exc:
            line = " ".join(str(exc).split())[:200]
            raise GanZooError(
                f"pretrained tag '{self.key}' of plugin {self.plugin.distribution} "
                f"{self.plugin.version} cannot be found ({type(exc).__name__}: {line}); "
                "reinstall it"
            ) from None
        if not folder.is_dir():
            raise GanZooError(
                f"pretrained tag '{self.key}' of plugin {self.plugin.distribution} "
                f"{self.plugin.version} points to {folder}, which is not a folder; reinstall it"
            )
        return folder

    def options(self) -> dict[str, Any]:
        """Keyword options of the factory and their defaults (``inspect.Parameter.empty`` if
        required)."""
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
        check_ranges(f"{SINGULAR[self.kind]} '{self.key}'", factory, options)
        built = factory(**options)
        try:
            _BUILT[built] = self  # so that an exception inside it can name this entry
        except TypeError:  # not weak-referenceable (e.g. a preset dict): nothing to remember
            pass
        return built


#: Objects built by :meth:`Entry.create`, mapped to their entry (see :func:`built_by`).
_BUILT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def built_by(obj: Any) -> Entry | None:
    """The registry entry whose factory built ``obj`` (None if it was built otherwise)."""
    try:
        return _BUILT.get(obj)
    except TypeError:
        return None


class Registry:
    """The entries of one kind, by plain and by qualified name."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Entry] = {}  # plain name -> the entry that has it
        self._qualified: dict[str, Entry] = {}  # distribution/name -> every entry
        #: ``(winner, shadowed)`` pairs: entries whose plain name another plugin had first.
        self.clashes: list[tuple[Entry, Entry]] = []

    def check(self, entry: Entry) -> None:
        """Raise the error :meth:`register` would raise for ``entry``, changing nothing."""
        if not _NAME.match(entry.name):
            raise GanZooError(
                f"{entry.plugin} registers {SINGULAR[self.kind]} name '{entry.name}': names are "
                "lower-case letters, digits and hyphens (an optional '.tag' suffix is allowed)"
            )
        old = self._qualified.get(entry.qualified_name)
        if old is not None:
            raise DuplicateNameError(
                f"{SINGULAR[self.kind]} '{entry.name}' is registered twice by "
                f"{entry.plugin.distribution} ({old.plugin} and {entry.plugin}); a distribution "
                "registers each name once"
            )

    def register(self, entry: Entry) -> Entry:
        """Add ``entry``; returns it, marked shadowed if its plain name was taken."""
        self.check(entry)
        winner = self._entries.get(entry.name)
        if winner is not None:
            entry = replace(entry, shadowed=True)
            self.clashes.append((winner, entry))
        else:
            self._entries[entry.name] = entry
        self._qualified[entry.qualified_name] = entry
        return entry

    def unregister(self, name: str) -> None:
        entry = self._entries.pop(name, None) or self._qualified.get(name)
        if entry is not None:
            self._qualified.pop(entry.qualified_name, None)
            self._entries = {k: v for k, v in self._entries.items() if v is not entry}

    def get(self, name: str) -> Entry:
        """The entry called ``name``: a plain name, or ``distribution/name``."""
        found = self._qualified.get(name) if "/" in name else self._entries.get(name)
        if found is not None:
            return found
        hint = f"(see 'gan-zoo list {self.kind}')"
        choices = self._qualified if "/" in name else self._entries
        raise unknown(SINGULAR[self.kind], name, choices, hint=hint) from None

    def resolve(self, name: str, distribution: str | None = None) -> Entry:
        """The entry ``name`` means to ``distribution``: its own entry of that name first (a
        preset's names, a run's recorded parts), else :meth:`get`. A qualified name is itself."""
        if distribution and "/" not in name:
            own = self._qualified.get(f"{distribution}/{name}")
            if own is not None:
                return own
        return self.get(name)

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
        """Entries sorted by the name that reaches them (shadowed ones by their qualified name),
        filtered by a wildcard ``pattern`` and by what they support."""
        entries = sorted(self._qualified.values(), key=lambda e: e.key)
        return [
            entry
            for entry in entries
            if (
                pattern is None
                or fnmatch.fnmatchcase(entry.key, pattern)
                or fnmatch.fnmatchcase(entry.name, pattern)
            )
            and entry.supports.matches(image_size, channels, conditional)
        ]

    def names(self, pattern: str | None = None, **filters: Any) -> list[str]:
        return [entry.key for entry in self.list(pattern, **filters)]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._entries or name in self._qualified)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.list())

    def __len__(self) -> int:
        return len(self._qualified)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self)} entries)"
