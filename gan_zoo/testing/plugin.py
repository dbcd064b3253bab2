"""pytest fixtures for plugin authors, registered by gan-zoo's ``pytest11`` entry point.

Available in every test session where gan-zoo is installed (or with
``pytest_plugins = ["gan_zoo.testing.plugin"]`` in a top-level ``conftest.py``); none is
autouse, so a session that does not ask for them is unchanged. Importing this module imports
neither torch nor gan-zoo's plugins.

* ``load_plugins("gan-zoo-mygan")``: for this test, gan-zoo loads its built-ins plus the named
  distributions only (``GAN_ZOO_LOAD_PLUGINS``), freshly, with a private cache folder;
* ``register_plugin(obj, "name")``: register a plugin object for one test, removed after;
* ``idx_dir``: a tiny Fashion-MNIST-format folder (64 train, 16 test images of 28x28).
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def load_plugins(monkeypatch, tmp_path_factory):
    """``load_plugins(*distributions)``: gan-zoo's built-ins plus only these third-party
    plugins (entry-point or distribution names) for this test, loaded afresh; none given loads
    the built-ins alone. The plugins are forgotten after the test."""
    from gan_zoo import plugins

    def load(*distributions: str):
        monkeypatch.setenv(plugins.LOAD_PLUGINS_ENV, ",".join(distributions))
        monkeypatch.delenv("GAN_ZOO_DATA", raising=False)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        plugins.reset()
        return plugins.host()

    yield load
    plugins.reset()


@pytest.fixture
def register_plugin():
    """Register a plugin object for one test: ``register_plugin(obj, "name")``; removed after."""
    from gan_zoo import plugins

    names = []

    def register(plugin, name="test-plugin", distribution="test", version="0"):
        plugins.host().register(plugin, name, distribution, version)
        names.append(name)
        return plugins.host()

    yield register
    for name in names:
        plugins.host().unregister(name)


@pytest.fixture
def idx_dir(tmp_path) -> Path:
    """A tiny Fashion-MNIST-format folder: 64 train and 16 test 28x28 images, 10 classes;
    pass it as ``data_dir`` / ``--data-dir``."""
    from gan_zoo.testing.data import write_fashion_mnist

    return write_fashion_mnist(tmp_path / "fashion-mnist")
