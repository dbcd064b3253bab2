"""Fixtures for the gan-zoo-stylegan2 tests, which use the plugin as an installed distribution.

The fixtures come from gan-zoo's conformance kit (:mod:`gan_zoo.testing.plugin`); what is left
here is this plugin's own: installing it for the session and its tiny widths.

gan-zoo loads no third-party entry point under test unless ``GAN_ZOO_LOAD_PLUGINS`` names it
(see ``gan_zoo.plugins``), so every test here names this distribution and nothing else. The
plugin must be reached through its entry point, as users reach it: if ``gan-zoo-stylegan2`` is
installed (``pip install -e plugins/gan-zoo-stylegan2``, or a wheel), that copy is used;
otherwise this folder is pip-installed once per session into a temporary target (no
dependencies, no build isolation, so no network) that is put on ``sys.path`` and on
``PYTHONPATH`` for the subprocesses the tests start.
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

# gan-zoo's conformance kit: its fixtures (``load_plugins``, ``idx_dir``: a tiny Fashion-MNIST
# folder of soft blobs) serve these tests as they serve any plugin's. Imported by name so they
# also work where gan-zoo's pytest11 entry point is not installed (an editable checkout).
from gan_zoo.testing.plugin import idx_dir, load_plugins  # noqa: F401

sys._called_from_test = True  # gan_zoo.plugins: load only what GAN_ZOO_LOAD_PLUGINS names

PLUGIN_DIR = Path(__file__).resolve().parent.parent
DISTRIBUTION = "gan-zoo-stylegan2"
#: Widths small enough for the CPU tests: 32 channels at 4-8 px, 16 at 16 px, 8 at 32 px.
TINY_G = {"w_dim": 32, "channel_base": 256, "channel_max": 32, "mapping_layers": 2}
TINY_D = {"channel_base": 256, "channel_max": 32}

_temporary_site: str | None = None


def _installed() -> bool:
    return any(
        ep.dist is not None and ep.dist.name == DISTRIBUTION
        for ep in metadata.entry_points(group="gan_zoo")
    )


def pytest_configure(config):
    """Make the distribution importable before test modules are collected (they import it)."""
    global _temporary_site
    if _installed():
        return
    _temporary_site = tempfile.mkdtemp(prefix="gan-zoo-stylegan2-site-")
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
            _temporary_site,
            str(PLUGIN_DIR),
        ],
        check=True,
    )
    sys.path.insert(0, _temporary_site)
    paths = [_temporary_site, os.environ.get("PYTHONPATH", "")]
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    if not _installed():
        raise pytest.UsageError(f"pip installed {PLUGIN_DIR} but its entry point is not visible")


def pytest_unconfigure(config):
    if _temporary_site is not None:
        shutil.rmtree(_temporary_site, ignore_errors=True)


@pytest.fixture(autouse=True)
def _only_this_plugin(load_plugins):  # noqa: F811 (the kit's fixture, by name)
    """Every test loads gan-zoo's built-ins plus this plugin, freshly, with a private cache
    (the kit's ``load_plugins`` fixture)."""
    import torch

    # The tests' tensors are tiny: a second thread gains nothing and, on a busy shared CPU,
    # OpenMP threads waiting on each other made single tests 20-50x slower (0.2 s -> 10 s).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    load_plugins(DISTRIBUTION)
    yield
    torch.set_num_threads(threads)
