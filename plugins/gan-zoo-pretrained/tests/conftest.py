"""Fixtures for the gan-zoo-pretrained tests: the distribution pip-installed for real.

gan-zoo loads no third-party entry point under test unless ``GAN_ZOO_LOAD_PLUGINS`` names it,
so each test names this distribution. The tests build tags into a *copy* of the distribution in
a temporary folder (``build.py`` writes package data; the checkout is never touched), pip-install
that copy into a folder of its own, and run gan-zoo on it in subprocesses.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import pytest

from gan_zoo.testing.plugin import idx_dir, load_plugins  # noqa: F401

sys._called_from_test = True  # gan_zoo.plugins: load only what GAN_ZOO_LOAD_PLUGINS names

DISTRIBUTION_DIR = Path(__file__).resolve().parent.parent
DISTRIBUTION = "gan-zoo-pretrained"


_temporary_site: str | None = None


def _installed() -> bool:
    return any(
        ep.dist is not None and ep.dist.name == DISTRIBUTION
        for ep in metadata.entry_points(group="gan_zoo")
    )


def pytest_configure(config):
    """The checkout's distribution (with whatever tags it holds) installed for the conformance
    tests, before they are collected: an installed copy is used as it is, else this folder is
    pip-installed once into a temporary target put on sys.path."""
    global _temporary_site
    if _installed():
        return
    _temporary_site = tempfile.mkdtemp(prefix="gan-zoo-pretrained-site-")
    pip_install(DISTRIBUTION_DIR, Path(_temporary_site))
    sys.path.insert(0, _temporary_site)
    if not _installed():
        raise pytest.UsageError(
            f"pip installed {DISTRIBUTION_DIR} but its entry point is not visible"
        )


def pytest_unconfigure(config):
    if _temporary_site is not None:
        shutil.rmtree(_temporary_site, ignore_errors=True)


def pip_install(project: Path, target: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "--target",
            str(target),
            str(project),
        ],
        check=True,
    )
    return target


@pytest.fixture
def distribution_copy(tmp_path) -> Path:
    """This distribution copied into tmp with no tags (what the checkout holds may differ)."""
    copy = tmp_path / DISTRIBUTION
    shutil.copytree(
        DISTRIBUTION_DIR,
        copy,
        ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "weights", "tests"),
    )
    (copy / "gan_zoo_pretrained" / "tags.json").write_text("{}\n")
    return copy


def gan_zoo_cli(site: Path, *args: str, cache: Path) -> subprocess.CompletedProcess:
    """``gan-zoo ARGS`` in a fresh process that sees the distribution installed in ``site``."""
    env = {
        **os.environ,
        "GAN_ZOO_LOAD_PLUGINS": DISTRIBUTION,
        "XDG_CACHE_HOME": str(cache),
        "PYTHONPATH": os.pathsep.join([str(site), *sys.path]),
    }
    return subprocess.run(
        [sys.executable, "-m", "gan_zoo", *args], capture_output=True, text=True, env=env
    )
