"""Shared fixtures. ``register_plugin`` comes from the kit (gan_zoo.testing), as it does for a
plugin author. Third-party plugins are never loaded by accident (see gan_zoo.plugins)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from gan_zoo.testing import write_idx

sys._called_from_test = (
    True  # gan_zoo.plugins loads no entry point unless GAN_ZOO_LOAD_PLUGINS names it
)


@pytest.fixture(autouse=True)
def _fresh_plugins(monkeypatch, tmp_path_factory):
    """Every test starts with freshly loaded plugins and an empty, private cache folder."""
    from gan_zoo import plugins

    monkeypatch.delenv("GAN_ZOO_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("GAN_ZOO_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    plugins.reset()
    yield
    plugins.reset()


@pytest.fixture
def idx_dir_256(tmp_path) -> Path:
    """A Fashion-MNIST-format folder four times the kit's ``idx_dir`` (256 train and 64 test
    images, the kit's blobs), for tests that need several batches per epoch or per class."""
    from gan_zoo.testing import write_fashion_mnist

    return write_fashion_mnist(tmp_path / "fashion-mnist", train=256, test=64)


@pytest.fixture(scope="session")
def pip_install(tmp_path_factory):
    """Install a real distribution (a folder with a pyproject.toml) with pip into a folder of its
    own, once per session; ``use(folder)`` puts it on sys.path and PYTHONPATH for one test."""
    import subprocess

    installed = {}

    def install(project: Path) -> Path:
        if project not in installed:
            target = tmp_path_factory.mktemp("site")
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
            installed[project] = target
        return installed[project]

    return install


@pytest.fixture
def use_distribution(pip_install, monkeypatch):
    import os

    def use(project: Path) -> Path:
        target = pip_install(project)
        monkeypatch.syspath_prepend(str(target))
        paths = [str(target), os.environ.get("PYTHONPATH", "")]
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))
        return target

    return use


# A real two-step run shared by the hostile-run, fuzz and full-disk tests (once per module).
@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("data") / "fashion-mnist"
    folder.mkdir()
    for prefix, n in (("train", 64), ("t10k", 16)):
        write_idx(
            folder / f"{prefix}-images-idx3-ubyte",
            bytes(range(256)) * (n * 784 // 256),
            (n, 28, 28),
        )
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", bytes(i % 10 for i in range(n)), (n,))
    return folder


@pytest.fixture(scope="module")
def trained(tmp_path_factory, data_dir) -> Path:
    """A real run of 2 steps (with samples, metrics.jsonl and plots), trained once."""
    out = tmp_path_factory.mktemp("trained") / "run"
    from helpers import cli_in_process

    result = cli_in_process(
        "train",
        "dcgan",
        "fashion-mnist",
        "--out",
        out,
        "--steps",
        2,
        "--batch-size",
        8,
        "--data-dir",
        data_dir,
        "--device",
        "cpu",
        "--quiet",
        "--set",
        "generator.width=4",
        "--set",
        "discriminator.width=4",
    )
    assert result.exit_code == 0, result.output
    return out
