"""``gan-zoo plugin new NAME``: the package it writes installs with pip, passes its own tests
(gan-zoo's conformance kit among them) as generated, and trains with ``gan-zoo train``.

The generated package is pip-installed for real (no dependencies, no build isolation) and run
in subprocesses, as an author would run it; bad names and occupied folders are one-line errors.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import ROOT

from gan_zoo import plugins
from gan_zoo._version import __version__
from gan_zoo.cli import build_cli
from gan_zoo.plugin_check import check_plugins
from gan_zoo.scaffold import compatible_range

REPO = ROOT
TREE = [
    "README.md",
    "gan_zoo_my_model/__init__.py",
    "gan_zoo_my_model/loss.py",
    "gan_zoo_my_model/networks.py",
    "pyproject.toml",
    "tests/conftest.py",
    "tests/test_conformance.py",
    "tests/test_plugin.py",
]


def new(*args: str):
    return CliRunner().invoke(build_cli(), ["plugin", "new", *args])


@pytest.fixture(scope="module")
def scaffold(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("scaffold") / "my-model"
    out = new("my-model", "--out", str(folder))
    assert out.exit_code == 0, out.output
    assert f"Wrote gan-zoo-my-model (8 files) in {folder}" in out.output
    return folder


def test_the_tree_and_the_declared_gan_zoo_versions(scaffold):
    files = sorted(str(p.relative_to(scaffold)) for p in scaffold.rglob("*") if p.is_file())
    # pip's in-tree build (another test installs the folder) leaves build/ and *.egg-info.
    files = [f for f in files if not f.startswith("build/") and ".egg-info/" not in f]
    assert files == TREE
    pyproject = (scaffold / "pyproject.toml").read_text()
    assert 'name = "gan-zoo-my-model"' in pyproject
    assert f'dependencies = ["{compatible_range()}"]' in pyproject
    assert '[project.entry-points.gan_zoo]\nmy-model = "gan_zoo_my_model"' in pyproject
    assert "{{" not in "".join((scaffold / f).read_text() for f in TREE)


def test_compatibility_policy():
    assert compatible_range("0.1.0") == "gan-zoo>=0.1,<0.2"
    assert compatible_range("0.12.3") == "gan-zoo>=0.12,<0.13"
    assert compatible_range("1.4.0") == "gan-zoo>=1.4,<2"
    major, minor = __version__.split(".")[:2]
    assert compatible_range() == f"gan-zoo>={major}.{minor},<{major}.{int(minor) + 1}"


def test_the_generated_plugin_passes_the_quick_checks(scaffold, monkeypatch):
    """Imported straight from the folder and registered by hand: every entry lands and
    ``check_plugins`` finds nothing to complain about."""
    monkeypatch.syspath_prepend(str(scaffold))
    import gan_zoo_my_model

    plugins.host().register(gan_zoo_my_model, "my-model", "gan-zoo-my-model", "0.1.0")
    try:
        status = next(s for s in plugins.statuses() if s.name == "my-model")
        assert status.ok and status.entries == {
            kind: ["my-model"] for kind in ("models", "generators", "discriminators", "losses")
        }
        assert check_plugins("gan-zoo-my-model") == []
    finally:
        plugins.host().unregister("my-model")
        for name in [m for m in sys.modules if m.startswith("gan_zoo_my_model")]:
            del sys.modules[name]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "My_Model",
            "plugin name 'My_Model' must be lower-case letters, digits and hyphens, "
            "starting with a letter, at most 40 characters; did you mean 'my-model'?",
        ),
        (
            "gan-zoo-foo",
            "plugin name 'gan-zoo-foo' already has the 'gan-zoo-' prefix the "
            "distribution gets; did you mean 'foo'?",
        ),
        ("9lives", "did you mean 'lives'?"),
        (
            "dcgan",
            "'dcgan' is already a model of gan-zoo; this plugin's entries would be "
            "shadowed by it; did you mean 'my-dcgan'?",
        ),
        ("bce", "'bce' is already a loss of gan-zoo"),
    ],
)
def test_a_bad_name_is_one_line_and_exit_2(name, message, tmp_path):
    out = new(name, "--out", str(tmp_path / "x"))
    assert out.exit_code == 2
    assert out.output.startswith("Error: ") and out.output.count("\n") == 1
    assert message in out.output
    assert not (tmp_path / "x").exists()


def test_an_occupied_folder_is_refused_and_an_empty_one_used(tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    out = new("fine", "--out", str(tmp_path / "taken"))
    assert out.exit_code == 2
    assert (
        out.output
        == f"Error: {tmp_path / 'taken'} already exists and is not empty; pick another --out\n"
    )
    assert sorted(p.name for p in (tmp_path / "taken").iterdir()) == ["notes.txt"]
    (tmp_path / "empty").mkdir()
    assert new("fine", "--out", str(tmp_path / "empty")).exit_code == 0
    assert (tmp_path / "empty" / "gan_zoo_fine" / "networks.py").is_file()


def test_it_writes_into_dot_name_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert new("my-model").exit_code == 0
    assert (tmp_path / "my-model" / "pyproject.toml").is_file()


def _env(*paths: Path) -> dict[str, str]:
    env = {**os.environ, "GAN_ZOO_LOAD_PLUGINS": "gan-zoo-my-model"}
    env["PYTHONPATH"] = os.pathsep.join([*map(str, paths), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    env.pop("GAN_ZOO_DEBUG", None)
    return env


def test_gan_zoo_train_runs_the_pip_installed_plugin(scaffold, pip_install, idx_dir, tmp_path):
    site = pip_install(scaffold)
    exe = Path(sys.executable).with_name("gan-zoo")
    out = subprocess.run(
        [
            str(exe),
            "train",
            "my-model",
            "fashion-mnist",
            "--steps",
            "2",
            "--data-dir",
            str(idx_dir),
            "--batch-size",
            "8",
            "--device",
            "cpu",
            "--out",
            str(tmp_path / "run"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        env=_env(site),
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    config = (tmp_path / "run" / "config.json").read_text()
    assert '"model": "my-model"' in config and '"gan-zoo-my-model 0.1.0' in config
    assert (tmp_path / "run" / "samples" / "step-0000002.png").is_file()


def _summary(out: subprocess.CompletedProcess) -> str:
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr[-500:]


def test_the_generated_tests_pass_as_generated(scaffold, pip_install):
    """22 conformance cases (4 entries) and the plugin's own 2 tests, gan-zoo from this checkout."""
    site = pip_install(scaffold)
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs"],
        cwd=scaffold,
        capture_output=True,
        text=True,
        env=_env(site, REPO),
        timeout=900,
    )
    assert out.returncode == 0, out.stdout[-3000:]
    assert _summary(out).startswith("24 passed"), out.stdout[-3000:]


@pytest.mark.slow
def test_the_generated_tests_pass_as_generated_with_gan_zoo_from_a_wheel(
    scaffold, pip_install, tmp_path
):
    """gan-zoo itself is pip-installed from this checkout too, so its pytest11 entry point and
    the templates shipped as package data are what the author's run uses."""
    source = tmp_path / "gan-zoo"
    shutil.copytree(
        REPO / "gan_zoo", source / "gan_zoo", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    core = pip_install(source)
    assert (core / "gan_zoo" / "templates" / "plugin" / "package" / "networks.py.tmpl").is_file()
    written = tmp_path / "from-wheel"
    exe = [sys.executable, "-c", "from gan_zoo.cli import main; main()"]
    made = subprocess.run(
        [*exe, "plugin", "new", "my-model", "--out", str(written)],
        capture_output=True,
        text=True,
        env=_env(core),
        timeout=300,
    )
    assert made.returncode == 0, made.stderr
    site = pip_install(written)
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--trace-config"],
        cwd=written,
        capture_output=True,
        text=True,
        env=_env(core, site),
        timeout=900,
    )
    assert out.returncode == 0, out.stdout[-3000:]
    assert f"PLUGIN registered: <module 'gan_zoo.testing.plugin' from '{core}" in out.stdout
    assert _summary(out).startswith("24 passed"), out.stdout[-3000:]
