"""Where dataset files are looked for, in order.

1. ``--data-dir`` (the folder itself, or its ``<name>`` sub-folder);
2. ``$GAN_ZOO_DATA/<name>``;
3. the user cache, ``$XDG_CACHE_HOME/gan-zoo/<name>`` (``~/.cache/gan-zoo/<name>``);
4. the Debian packages' location, ``/usr/share/datasets/<name>``.

In each folder a dataset may also accept a few known sub-folders (the layout its official
archive or torchvision unpacks to, e.g. ``cifar-10-batches-bin`` or ``FashionMNIST/raw``).
Nothing here touches the network; downloading is a separate, explicit step (``--download``,
see :mod:`gan_zoo.datasets.download`), and it writes into the user cache, step 3.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

DATA_ENV = "GAN_ZOO_DATA"
SYSTEM_DIR = Path("/usr/share/datasets")


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/gan-zoo`` (``~/.cache/gan-zoo``): downloads and preprocessed files."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gan-zoo"


def cache_dir(name: str) -> Path:
    return cache_root() / name


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
    name: str,
    has_files: Callable[[Path], bool],
    data_dir: str | os.PathLike | None = None,
    subdirs: Sequence[str] = (),
) -> Path | None:
    """The first folder for which ``has_files(folder)`` holds, or None.

    Each candidate folder is tried as it is, then with each of ``subdirs`` appended. A
    ``data_dir`` that does not exist is an error (a typo should not fall through to another copy).
    """
    if data_dir is not None and not Path(data_dir).is_dir():
        from ..errors import DataError

        raise DataError(f"--data-dir {data_dir} is not a folder")
    for folder in candidates(name, data_dir):
        for sub in ("", *subdirs):
            path = folder / sub if sub else folder
            if path.is_dir() and has_files(path):
                return path
    return None


def not_found_message(
    title: str,
    name: str,
    data_dir: str | os.PathLike | None,
    extra: str = "",
    download_error: str | None = None,
) -> str:
    """One line: where we looked, why a download failed, and every way to get the data."""
    looked = ", ".join(str(p) for p in candidates(name, data_dir))
    ways = f"{extra}, " if extra else ""
    if download_error is None:
        ways += f"'gan-zoo datasets download {name}' (or --download), "
        failed = ""
    else:
        ways += f"'gan-zoo datasets download {name}' once online, "
        failed = f" and {download_error}"
    return (
        f"{title} not found (looked in {looked}){failed}; get it with {ways}"
        f"or point --data-dir or ${DATA_ENV} at a folder that has it"
    )


def find_or_download(
    name: str,
    title: str,
    has_files: Callable[[Path], bool],
    data_dir: str | os.PathLike | None,
    download: Callable[[], Path] | None,
    subdirs: Sequence[str] = (),
    extra: str = "",
) -> Path:
    """:func:`find`, then ``download()`` if given; a one-line DataError if both fail."""
    from ..errors import DataError

    folder = find(name, has_files, data_dir, subdirs)
    if folder is not None:
        return folder
    error = None
    if download is not None:
        try:
            return download()
        except DataError as exc:
            error = str(exc)
    raise DataError(not_found_message(title, name, data_dir, extra, error))
