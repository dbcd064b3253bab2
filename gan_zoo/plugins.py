"""The plugin manager: built-in plugin modules first, then the ``gan_zoo`` entry points.

Plugins are loaded once, on first use (never at import, never for ``gan-zoo --help``). A plugin
that fails to import or to register is recorded as broken with a one-line reason and
contributes nothing; everything else keeps working. Each plugin registers atomically: either
all of its entries land or none does.

``GAN_ZOO_LOAD_PLUGINS`` (comma-separated entry-point or distribution names) loads only the
named third-party plugins; set it to an empty string to load none. Under pytest (conftest sets
``sys._called_from_test``) no third-party plugin is loaded unless that variable names it, so
tests never pick up whatever happens to be installed.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from . import hookspecs
from ._version import __version__
from .registry import KINDS, SINGULAR, Entry, PluginInfo, Registry, Supports

ENTRY_POINT_GROUP = "gan_zoo"
LOAD_PLUGINS_ENV = "GAN_ZOO_LOAD_PLUGINS"

#: The built-in plugins, registered before any third-party one through the same hooks.
DEFAULT_PLUGINS = (
    "gan_zoo.cli.commands",
    "gan_zoo.models",
    "gan_zoo.losses",
    "gan_zoo.datasets",
    "gan_zoo.metrics",
)


@dataclass
class PluginStatus:
    """What ``gan-zoo plugins`` shows for one plugin."""

    name: str
    distribution: str
    version: str
    source: str  # "built-in", "entry point" or "registered"
    error: str | None = None
    entries: dict[str, list[str]] = field(default_factory=dict)
    #: One line per entry whose plain name another plugin had first (it stays reachable as
    #: ``distribution/name``).
    clashes: list[str] = field(default_factory=list)
    #: The commands it added to the ``gan-zoo`` group (filled when the group is built).
    commands: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def info(self) -> PluginInfo:
        return PluginInfo(self.name, self.distribution, self.version)

    def as_dict(self) -> dict[str, Any]:
        """The status as JSON-able data (what ``gan-zoo plugins --json`` prints)."""
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "source": self.source,
            "status": "ok" if self.ok else "broken",
            "error": self.error,
            "clashes": self.clashes,
            "entries": self.entries,
            "commands": self.commands,
        }


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


class PluginHost:
    """A pluggy manager plus the registries its plugins filled."""

    def __init__(self, load_entry_points: bool | None = None):
        self.pm = pluggy.PluginManager("gan_zoo")
        self.pm.add_hookspecs(hookspecs)
        self.statuses: dict[str, PluginStatus] = {}
        self._registries: dict[str, Registry] | None = None
        #: One line per shadowed entry, naming it and the distribution that has the plain name.
        self.shadowed: list[str] = []
        self._reported: set[str] = set()
        for module_name in DEFAULT_PLUGINS:
            status = PluginStatus(module_name, "gan-zoo", __version__, "built-in")
            self._add(status, lambda m=module_name: importlib.import_module(m))
        if load_entry_points is None:
            load_entry_points = True
        if load_entry_points:
            self._load_entry_points()

    # Loading.
    def _wanted(self) -> set[str] | None:
        value = os.environ.get(LOAD_PLUGINS_ENV)
        if value is None:
            return set() if getattr(sys, "_called_from_test", False) else None
        return {name.strip() for name in value.split(",") if name.strip()}

    def _load_entry_points(self) -> None:
        wanted = self._wanted()
        eps = sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)
        for ep in eps:
            dist = ep.dist.name if ep.dist is not None else ep.name
            version = ep.dist.version if ep.dist is not None else "?"
            if wanted is not None and ep.name not in wanted and dist not in wanted:
                continue
            status = PluginStatus(ep.name, dist, version, "entry point")
            self._add(status, ep.load)

    def _add(self, status: PluginStatus, load: Any) -> None:
        self.statuses[status.name] = status
        try:
            plugin = load()
            self.pm.register(plugin, name=status.name)
        except Exception as exc:  # a broken plugin must not break the others
            status.error = _one_line(exc)
            return
        unknown_hooks = [
            impl.function.__name__
            for caller in self.pm.get_hookcallers(plugin) or []
            for impl in caller.get_hookimpls()
            if impl.plugin is plugin and caller.spec is None
        ]
        if unknown_hooks:
            self.pm.unregister(plugin)
            status.error = f"unknown hook '{unknown_hooks[0]}' (see docs/plugins.md)"
        self._registries = None

    def register(
        self, plugin: Any, name: str, distribution: str = "test", version: str = "0"
    ) -> None:
        """Register a plugin object by hand (tests, notebooks); see :meth:`unregister`."""
        self._add(PluginStatus(name, distribution, version, "registered"), lambda: plugin)

    def unregister(self, name: str) -> None:
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin)
        self.statuses.pop(name, None)
        self._registries = None

    # Registries.
    @property
    def registries(self) -> dict[str, Registry]:
        if self._registries is None:
            self._registries = self._build_registries()
        return self._registries

    def _build_registries(self) -> dict[str, Registry]:
        registries = {kind: Registry(kind) for kind in KINDS}
        for status in self.statuses.values():
            status.entries, status.clashes = {}, []
            plugin = self.pm.get_plugin(status.name)
            if plugin is None or status.error:
                continue
            staged: list[Entry] = []
            try:
                for kind in KINDS:
                    impl = _impl_of(self.pm, f"register_{kind}", plugin)
                    if impl is not None:
                        impl(register=_collector(kind, status.info, staged))
                trial = {kind: Registry(kind) for kind in KINDS}
                for entry in staged:  # bad names, a name twice within one distribution
                    trial[entry.kind].register(entry)
                    registries[entry.kind].check(entry)
            except Exception as exc:
                status.error = _one_line(exc)
                continue
            for entry in staged:  # all or nothing: only now does anything land
                entry = registries[entry.kind].register(entry)
                status.entries.setdefault(entry.kind, []).append(entry.key)
        self.shadowed = []
        for registry_ in registries.values():
            for winner, shadowed in registry_.clashes:
                what = f"{SINGULAR[registry_.kind]} '{shadowed.name}'"
                self.shadowed.append(
                    f"{what} of {shadowed.plugin.distribution} is shadowed: "
                    f"plain '{shadowed.name}' is {winner.plugin.distribution}'s; "
                    f"use '{shadowed.qualified_name}'"
                )
                loser = self._status_of(shadowed)
                if loser is not None:
                    loser.clashes.append(
                        f"{what} is also registered by {winner.plugin}, which was first: plain "
                        f"'{shadowed.name}' means {winner.plugin.distribution}'s, this plugin's is "
                        f"'{shadowed.qualified_name}' (its own presets and runs keep using it)"
                    )
        return registries

    def _status_of(self, entry: Entry) -> PluginStatus | None:
        info = entry.plugin
        status = self.statuses.get(info.name)
        return status if status is not None and status.distribution == info.distribution else None

    def problems(self, once: bool = False) -> str | None:
        """One line about broken plugins and shadowed names, each shadowed entry named with the
        distribution that wins (None when all is well). ``once``: leave out what this host
        already reported, so that a process warns about each clash once."""
        _ = self.registries
        broken = [s.name for s in self.statuses.values() if s.error]
        shadowed = list(self.shadowed)
        if once:
            broken = [b for b in broken if f"broken {b}" not in self._reported]
            shadowed = [s for s in shadowed if s not in self._reported]
            self._reported |= {f"broken {b}" for b in broken} | set(shadowed)
        parts = []
        if broken:
            parts.append(
                f"{len(broken)} broken plugin{'s' if len(broken) > 1 else ''} ("
                + ", ".join(broken)
                + ")"
            )
        parts += shadowed
        return "; ".join(parts) + "; see 'gan-zoo plugins'" if parts else None

    def add_commands(self, cli: Any) -> None:
        """Let every healthy plugin add commands to the click group."""
        for status in self.statuses.values():
            plugin = self.pm.get_plugin(status.name)
            impl = _impl_of(self.pm, "register_commands", plugin) if plugin else None
            if impl is None or status.error:
                continue
            before = set(cli.commands)
            try:
                impl(cli=cli)
            except Exception as exc:
                status.error = _one_line(exc)
            status.commands = sorted(set(cli.commands) - before)


def _impl_of(pm: pluggy.PluginManager, hook_name: str, plugin: Any):
    caller = getattr(pm.hook, hook_name)
    for impl in caller.get_hookimpls():
        if impl.plugin is plugin:
            return impl.function
    return None


def _collector(kind: str, info: PluginInfo, staged: list[Entry]):
    def register(
        name: str,
        target: Any,
        *,
        description: str,
        image_sizes: tuple[int, ...] | list[int] = (),
        channels: tuple[int, ...] | list[int] = (),
        conditional: bool = False,
    ) -> None:
        supports = Supports(tuple(image_sizes), tuple(channels), bool(conditional))
        description = " ".join(str(description).split())
        staged.append(Entry(kind, name, target, description, info, supports))

    return register


_host: PluginHost | None = None


def host() -> PluginHost:
    """The process-wide plugin host, created on first use."""
    global _host
    if _host is None:
        _host = PluginHost()
    return _host


def reset() -> None:
    """Forget the loaded plugins; the next call to :func:`host` loads them again."""
    global _host
    _host = None


def registry(kind: str) -> Registry:
    """The registry of one kind (``"generators"``, ``"models"``, ...)."""
    from .errors import unknown

    registries = host().registries
    if kind not in registries:
        raise unknown("kind", kind, registries, hint="(see 'gan-zoo list --help')")
    return registries[kind]


def problems(once: bool = False) -> str | None:
    """One line about broken or clashing plugins, for ``gan-zoo list`` and ``train`` (or None);
    ``once``: only what this process has not been told yet."""
    return host().problems(once)


def statuses() -> list[PluginStatus]:
    """Every plugin with its status, after registration (which is what finds broken ones)."""
    h = host()
    _ = h.registries
    return list(h.statuses.values())


__all__ = [
    "DEFAULT_PLUGINS",
    "ENTRY_POINT_GROUP",
    "LOAD_PLUGINS_ENV",
    "PluginHost",
    "PluginStatus",
    "host",
    "problems",
    "registry",
    "reset",
    "statuses",
]
