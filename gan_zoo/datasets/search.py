"""Where dataset files are looked for, in order.

1. ``--data-dir`` (the folder itself, or its ``<name>`` sub-folder);
2. ``$GAN_ZOO_DATA/<name>``;
3. the user cache, ``$XDG_CACHE_HOME/gan-zoo/<name>`` (``~/.cache/gan-zoo/<name>``);
4. the Debian packages' location, ``/usr/share/datasets/<name>``.

Nothing here touches the network; downloading is a separate, explicit step (``--download``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

DATA_ENV = "GAN_ZOO_DATA"
SYSTEM_DIR = Path("/usr/share/datasets")


def cache_dir(name: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gan-zoo" / name


def candidates(name: str, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The folders to look in for dataset ``name``, in search order."""
    folders: list[Path] = []
    if data_dir is not None:
        folders += [Path(data_dir), Path(data_dir) / name]
    if os.environ.get(DATA_ENV):
        folders.append(Path(os.environ[DATA_ENV]) / name)
    folders.append(cache_dir(name))
    folders.append(SYSTEM_DIR / name)
    return folders


def find(
    name: str, has_files: Callable[[Path], bool], data_dir: str | os.PathLike | None = None
) -> Path | None:
    """The first candidate folder for which ``has_files(folder)`` holds, or None."""
    for folder in candidates(name, data_dir):
        if folder.is_dir() and has_files(folder):
            return folder
    return None
