"""Fixtures for the gan-zoo-stylegan2 tests, which use the plugin as an installed distribution.

gan-zoo loads no third-party entry point under test unless ``GAN_ZOO_LOAD_PLUGINS`` names it
(see ``gan_zoo.plugins``), so every test here names this distribution and nothing else. The
plugin must be reached through its entry point, as users reach it: if ``gan-zoo-stylegan2`` is
installed (``pip install -e plugins/gan-zoo-stylegan2``, or a wheel), that copy is used;
otherwise this folder is pip-installed once per session into a temporary target (no
dependencies, no build isolation, so no network) that is put on ``sys.path`` and on
``PYTHONPATH`` for the subprocesses the tests start.
"""

from __future__ import annotations

import gzip
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import pytest

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
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--target", _temporary_site, str(PLUGIN_DIR)],
        check=True,
    )  # fmt: skip
    sys.path.insert(0, _temporary_site)
    paths = [_temporary_site, os.environ.get("PYTHONPATH", "")]
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    if not _installed():
        raise pytest.UsageError(f"pip installed {PLUGIN_DIR} but its entry point is not visible")


def pytest_unconfigure(config):
    if _temporary_site is not None:
        shutil.rmtree(_temporary_site, ignore_errors=True)


@pytest.fixture(autouse=True)
def _only_this_plugin(monkeypatch, tmp_path_factory):
    """Every test loads gan-zoo's built-ins plus this plugin, freshly, with a private cache."""
    import torch

    from gan_zoo import plugins

    monkeypatch.setenv("GAN_ZOO_LOAD_PLUGINS", DISTRIBUTION)
    monkeypatch.delenv("GAN_ZOO_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    # The tests' tensors are tiny: a second thread gains nothing and, on a busy shared CPU,
    # OpenMP threads waiting on each other made single tests 20-50x slower (0.2 s -> 10 s).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    plugins.reset()
    yield
    plugins.reset()
    torch.set_num_threads(threads)


def write_idx(path: Path, data: bytes, dims: tuple[int, ...]) -> Path:
    """A gzipped IDX file of unsigned bytes (magic 0x0000 08 ndim, big-endian dims, data)."""
    raw = bytes([0, 0, 0x08, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + data
    path = path.with_name(path.name + ".gz")
    path.write_bytes(gzip.compress(raw))
    return path


@pytest.fixture
def fashion_idx(tmp_path) -> Path:
    """A tiny Fashion-MNIST-format folder: 64 train and 16 test 28x28 images, 10 classes.

    The images are soft blobs on black (not noise), so D and G see data with some structure.
    """
    import torch

    g = torch.Generator().manual_seed(0)
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    yy, xx = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    for prefix, n in (("train", 64), ("t10k", 16)):
        centre = 8 + 12 * torch.rand(n, 2, generator=g)  # (N, 2)
        radius = 3 + 5 * torch.rand(n, 1, 1, generator=g)  # (N, 1, 1)
        d2 = (yy - centre[:, 0, None, None]) ** 2 + (xx - centre[:, 1, None, None]) ** 2
        images = (255 * torch.exp(-d2 / (2 * radius**2))).to(torch.uint8)  # (N, 28, 28)
        write_idx(folder / f"{prefix}-images-idx3-ubyte", images.numpy().tobytes(), (n, 28, 28))
        labels = bytes(i % 10 for i in range(n))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels, (n,))
    return folder
