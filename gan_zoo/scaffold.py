"""``gan-zoo plugin new NAME``: a working plugin package to start from.

The files come from ``gan_zoo/templates/plugin/`` (shipped in the wheel), with ``{{name}}``,
``{{package}}``, ``{{distribution}}``, ``{{title}}`` and ``{{requirement}}`` filled in. The
result installs with pip, registers a generator, a discriminator, a loss and a preset all
called NAME, passes its own tests (gan-zoo's conformance kit among them) and trains with
``gan-zoo train NAME fashion-mnist``.

Importing this module does not import torch.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from . import plugins
from ._version import __version__
from .errors import GanZooError
from .registry import KINDS, SINGULAR

__all__ = ["compatible_range", "new_plugin", "plugin_names"]

_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
_PREFIX = "gan-zoo-"


def compatible_range(version: str = __version__) -> str:
    """The gan-zoo requirement a plugin written against ``version`` declares: the same minor
    series before 1.0 (``gan-zoo>=0.1,<0.2``), the same major series after."""
    major, minor = (int(part) for part in re.findall(r"\d+", version)[:2])
    if major == 0:
        return f"gan-zoo>={major}.{minor},<{major}.{minor + 1}"
    return f"gan-zoo>={major}.{minor},<{major + 1}"


def _suggestion(name: str) -> str:
    """A valid name close to ``name`` (lower-case, hyphens), or ``""``."""
    text = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if text.startswith(_PREFIX):
        text = text[len(_PREFIX) :]
    text = re.sub(r"^[0-9-]+", "", text)
    return text if _NAME.match(text) and text != name else ""


def plugin_names(name: str) -> dict[str, str]:
    """The names a plugin called ``name`` gets, or a one-line error for a bad name."""
    hint = _suggestion(name)
    did_you_mean = f"; did you mean '{hint}'?" if hint else ""
    if name.startswith(_PREFIX):
        raise GanZooError(
            f"plugin name '{name}' already has the '{_PREFIX}' prefix the "
            f"distribution gets{did_you_mean}"
        )
    if not _NAME.match(name) or len(name) > 40:
        raise GanZooError(
            f"plugin name '{name}' must be lower-case letters, digits and hyphens, "
            f"starting with a letter, at most 40 characters{did_you_mean}"
        )
    for kind in KINDS:
        registry = plugins.registry(kind)
        if name in registry:
            owner = registry.get(name).plugin.distribution
            raise GanZooError(
                f"'{name}' is already a {SINGULAR[kind]} "
                f"of {owner}; this plugin's entries would be shadowed by it; did you "
                f"mean 'my-{name}'?"
            )
    return {
        "name": name,
        "package": "gan_zoo_" + name.replace("-", "_"),
        "distribution": _PREFIX + name,
        "title": " ".join(part.capitalize() for part in name.split("-")),
        "requirement": compatible_range(),
    }


def new_plugin(name: str, out: str | Path | None = None) -> list[Path]:
    """Write plugin ``name`` into ``out`` (default ``./NAME``); returns the files written.

    Refuses (one line) a bad name, a name gan-zoo already uses, or an existing non-empty folder.
    """
    names = plugin_names(name)
    folder = Path(out) if out is not None else Path(name)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise GanZooError(f"{folder} already exists and is not empty; pick another --out")
    root = resources.files("gan_zoo") / "templates" / "plugin"
    written = []
    for source, target in _template_files(root, Path(names["package"])):
        text = source.read_text(encoding="utf-8")
        for key, value in names.items():
            text = text.replace("{{" + key + "}}", value)
        path = folder / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _template_files(root, package: Path):
    """``(template, relative target path)`` pairs; ``package/`` becomes the package's name."""
    stack = [(root, Path())]
    while stack:
        folder, rel = stack.pop()
        for item in sorted(folder.iterdir(), key=lambda t: t.name):
            if item.is_dir():
                stack.append(
                    (
                        item,
                        rel
                        / (str(package) if item.name == "package" and rel == Path() else item.name),
                    )
                )
            elif item.name.endswith(".tmpl"):
                yield item, rel / item.name[: -len(".tmpl")]
