"""Which plugin raised: turn an exception from third-party plugin code into one line naming it.

When a generator, loss, dataset or metric of an installed plugin raises while gan-zoo trains,
samples or evaluates, the user needs to know whose code failed, not a 60-line traceback through
gan-zoo's loop. :func:`blame` walks the traceback from the innermost frame outwards and finds
the first frame that runs a file a third-party plugin's **distribution owns**: the files in its
installation record (``importlib.metadata.distribution(name).files``; for an editable install,
the package folders its entry points name), compared as resolved paths with the frame's
``co_filename``. gan-zoo's own files are never a plugin's, whatever a plugin registers (a preset
is a :class:`gan_zoo.config.Preset`, defined in gan-zoo), so an error in gan-zoo's own code keeps
its traceback. The entry named is the one whose factory built the object whose method raised
(the registry remembers what it built), else the one defined in the file that raised (the class
of ``self`` decides between several). The CLI prints the line and exits with code 2;
``--debug`` or ``GAN_ZOO_DEBUG=1`` shows the traceback instead (pytest names the plugin that
raised in the same way).
"""

from __future__ import annotations

import os
import sys
import types
from importlib import metadata
from pathlib import Path
from typing import Any

DEBUG_ENV = "GAN_ZOO_DEBUG"
#: gan-zoo's own package folder: no file under it is ever blamed on a plugin.
_OWN = Path(__file__).resolve().parent


def debug_enabled() -> bool:
    """True when ``GAN_ZOO_DEBUG`` is set to anything but empty / 0 / false."""
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _resolved(path: str | os.PathLike) -> Path | None:
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError, ValueError):
        return None


def _is_own(path: Path) -> bool:
    return path == _OWN or _OWN in path.parents


def _module_folder(module: str) -> Path | None:
    """The folder of a package (or the file of a module) that an entry point names."""
    loaded = sys.modules.get(module.split(".")[0])
    origin = getattr(loaded, "__file__", None)
    if not origin:
        return None
    path = _resolved(origin)
    if path is None:
        return None
    return path.parent if path.name == "__init__.py" else path


def owned_files(distribution: str) -> tuple[set[Path], tuple[Path, ...]]:
    """``(files, folders)`` a distribution owns: the Python files of its installation record,
    and for an editable install (whose record lists a ``.pth`` file, not the sources) the
    package folders its ``gan_zoo`` entry points name. gan-zoo's own files are left out."""
    try:
        dist = metadata.distribution(distribution)
    except (metadata.PackageNotFoundError, ValueError):
        return set(), ()
    files: set[Path] = set()
    for record in dist.files or ():
        if record.suffix != ".py":
            continue
        path = _resolved(dist.locate_file(record))
        if path is not None and not _is_own(path):
            files.add(path)
    folders: list[Path] = []
    editable = any(str(r).endswith(".pth") for r in dist.files or ())
    if editable:
        for ep in dist.entry_points.select(group="gan_zoo"):
            folder = _module_folder(ep.module)
            if folder is not None and not _is_own(folder):
                folders.append(folder)
    return files, tuple(folders)


class _Owners:
    """Which third-party plugin owns a source file, from the distributions' records."""

    def __init__(self) -> None:
        from . import plugins

        self.host = plugins.host()
        self._files: dict[Path, Any] = {}
        self._folders: list[tuple[Path, Any]] = []
        seen: set[str] = set()
        for status in self.host.statuses.values():
            if status.distribution == "gan-zoo" or status.distribution in seen:
                continue
            seen.add(status.distribution)
            files, folders = owned_files(status.distribution)
            self._files.update(dict.fromkeys(files, status))
            self._folders += [(folder, status) for folder in folders]

    def __bool__(self) -> bool:
        return bool(self._files or self._folders)

    def of(self, filename: str) -> Any:
        """The status of the plugin whose distribution owns ``filename``, or None."""
        path = _resolved(filename) if filename and not filename.startswith("<") else None
        if path is None or _is_own(path):
            return None
        if path in self._files:
            return self._files[path]
        return next((s for f, s in self._folders if f == path or f in path.parents), None)


def _target_file(entry: Any) -> tuple[Path | None, str]:
    """``(source file, attribute)`` of an entry's target, once it is loaded."""
    import inspect

    target = entry.target
    if isinstance(target, str):  # not loaded yet: the module's file, if it was imported
        module, _, attr = target.partition(":")
        origin = getattr(sys.modules.get(module), "__file__", None)
        return (_resolved(origin) if origin else None), attr.split(".")[-1]
    try:
        path = inspect.getsourcefile(target if callable(target) else type(target))
    except TypeError:
        path = None
    return (_resolved(path) if path else None), getattr(target, "__qualname__", "") or ""


def _frames(tb: types.TracebackType | None) -> list[types.FrameType]:
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    return frames[::-1]  # innermost first


def blame(exc: BaseException) -> str | None:
    """One line naming the plugin entry that raised ``exc``, or None if no plugin code did."""
    owners = _Owners()
    if not owners:
        return None
    from .registry import SINGULAR, built_by

    frames = [f for f in _frames(exc.__traceback__) if owners.of(f.f_code.co_filename)]
    for frame in frames:  # the innermost object a plugin's factory built, in that plugin's file
        entry = built_by(frame.f_locals.get("self"))
        status = owners.of(frame.f_code.co_filename)
        if entry is not None and entry.plugin.distribution == status.distribution:
            return _line(
                f"{SINGULAR[entry.kind]} '{entry.key}' of plugin "
                f"{entry.plugin.distribution} {entry.plugin.version}",
                exc,
            )
    if not frames:
        return None
    frame = frames[0]  # else: the innermost frame in a plugin's files
    status = owners.of(frame.f_code.co_filename)
    here = _entries_in(owners, status, _resolved(frame.f_code.co_filename))
    owner = type(frame.f_locals.get("self", None)).__name__  # a method of the target class,
    chosen = next((e for e, attr in here if attr in (owner, frame.f_code.co_name)), None)  # or it
    chosen = chosen or (here[0][0] if len(here) == 1 else None)
    module = frame.f_globals.get("__name__", "") or Path(frame.f_code.co_filename).name
    what = (
        f"{SINGULAR[chosen.kind]} '{chosen.key}' of plugin {status.distribution} {status.version}"
        if chosen is not None
        else f"plugin {status.distribution} {status.version} ({module})"
    )
    return _line(what, exc)


def _entries_in(owners: _Owners, status: Any, path: Path | None) -> list[tuple[Any, str]]:
    """``(entry, attribute)`` for the entries of ``status``'s distribution defined in ``path``."""
    from .registry import KINDS

    found = []
    for kind in KINDS:
        try:
            entries = list(owners.host.registries[kind])
        except Exception:  # registries could not be built: name the plugin, not an entry
            return []
        for entry in entries:
            if entry.plugin.distribution != status.distribution:
                continue
            file, attr = _target_file(entry)
            if file is not None and file == path:
                found.append((entry, attr))
    return found


def _line(what: str, exc: BaseException) -> str:
    detail = " ".join(str(exc).split())[:300]
    return (
        f"{what} raised {type(exc).__name__}"
        + (f": {detail}" if detail else "")
        + f"; this is a bug in that plugin: report it to its authors, or run with --debug "
        f"(or {DEBUG_ENV}=1) for the traceback"
    )
