"""Which plugin raised: turn an exception from third-party plugin code into one line naming it.

When a generator, loss, dataset or metric of an installed plugin raises while gan-zoo trains,
samples or evaluates, the user needs to know whose code failed, not a 60-line traceback through
gan-zoo's loop. :func:`blame` walks the traceback from the innermost frame outwards and finds
the first frame that runs a third-party plugin's module (by module name, against the modules
its hooks and its registered entries live in); the entry is the one whose target is defined in
that module (the class of ``self`` decides between several), or better, the entry whose
factory built the object whose method raised (the registry remembers what it built). The CLI prints the line and exits
with code 2; ``--debug`` or ``GAN_ZOO_DEBUG=1`` shows the traceback instead (pytest names the
plugin that raised in the same way).
"""

from __future__ import annotations

import os
import types
from typing import Any

DEBUG_ENV = "GAN_ZOO_DEBUG"


def debug_enabled() -> bool:
    """True when ``GAN_ZOO_DEBUG`` is set to anything but empty / 0 / false."""
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _target_module(entry: Any) -> tuple[str, str]:
    """``(module, attribute)`` an entry's target is defined in."""
    target = entry.target
    if isinstance(target, str):
        module, _, attr = target.partition(":")
        return module, attr.split(".")[-1]
    return getattr(target, "__module__", "") or "", getattr(target, "__qualname__", "") or ""


def _plugin_modules() -> dict[str, tuple[Any, list[Any]]]:
    """``{top-level package: (status, entries)}`` for every third-party plugin."""
    from . import plugins
    from .registry import KINDS

    host = plugins.host()
    found: dict[str, tuple[Any, list[Any]]] = {}
    for status in host.statuses.values():
        if status.distribution == "gan-zoo":
            continue
        plugin = host.pm.get_plugin(status.name)
        module = getattr(plugin, "__name__", None) or type(plugin).__module__
        if module:
            found.setdefault(module.split(".")[0], (status, []))
    for kind in KINDS:
        try:
            entries = list(plugins.registry(kind))
        except Exception:  # registries could not be built: blame nothing rather than fail here
            return found
        for entry in entries:
            if entry.plugin.distribution == "gan-zoo":
                continue
            top = _target_module(entry)[0].split(".")[0]
            status = next(
                (s for s in host.statuses.values() if s.name == entry.plugin.name), None
            )
            if top and status is not None:
                found.setdefault(top, (status, []))[1].append(entry)
    return found


def _frames(tb: types.TracebackType | None) -> list[types.FrameType]:
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    return frames[::-1]  # innermost first


def blame(exc: BaseException) -> str | None:
    """One line naming the plugin entry that raised ``exc``, or None if no plugin code did."""
    modules = _plugin_modules()
    if not modules:
        return None
    from .registry import SINGULAR, built_by

    frames = _frames(exc.__traceback__)
    for frame in frames:  # the innermost object a plugin's factory built
        entry = built_by(frame.f_locals.get("self"))
        if entry is not None and entry.plugin.distribution != "gan-zoo":
            if entry.plugin.name in {s.name for s, _ in modules.values()}:
                return _line(f"{SINGULAR[entry.kind]} '{entry.key}' of plugin "
                             f"{entry.plugin.distribution} {entry.plugin.version}", exc)  # fmt: skip
    for frame in frames:  # else: the innermost frame in a plugin's modules
        name = frame.f_globals.get("__name__", "")
        hit = modules.get(name.split(".")[0])
        if hit is None:
            continue
        status, entries = hit
        here = [e for e in entries if _target_module(e)[0] == name]
        owner = type(frame.f_locals.get("self", None)).__name__
        chosen = next((e for e in here if _target_module(e)[1] == owner), None)
        chosen = chosen or (here[0] if len(here) == 1 else None)
        what = (
            f"{SINGULAR[chosen.kind]} '{chosen.key}' of plugin {status.distribution} {status.version}"
            if chosen is not None
            else f"plugin {status.distribution} {status.version} ({name})"
        )
        return _line(what, exc)
    return None


def _line(what: str, exc: BaseException) -> str:
    detail = " ".join(str(exc).split())[:300]
    return (
        f"{what} raised {type(exc).__name__}" + (f": {detail}" if detail else "")
        + f"; this is a bug in that plugin: report it to its authors, or run with --debug "
        f"(or {DEBUG_ENV}=1) for the traceback"
    )  # fmt: skip
