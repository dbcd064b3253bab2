"""``gan-zoo --version``, ``--version --verbose`` / ``gan-zoo doctor`` and the dependency floors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner
from helpers import ROOT

from gan_zoo import environment
from gan_zoo.cli import build_cli, main

ROOT = ROOT


def test_version_names_gan_zoo_its_plugins_and_dependencies_without_importing_torch():
    code = (
        "import sys\nfrom gan_zoo.cli import main\ntry:\n    main(['--version'])\n"
        "except SystemExit:\n    pass\nprint('torch imported:', 'torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    lines = out.splitlines()
    assert lines[0].startswith("gan-zoo ") and lines[1].startswith("plugins: ")
    assert lines[2].startswith("dependencies: torch ") and "click" in lines[2]
    assert lines[-1] == "torch imported: False"


def test_version_verbose_is_doctor(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version", "--verbose"])
    assert exit_.value.code in (0, None)
    verbose = capsys.readouterr().out
    doctor = CliRunner().invoke(build_cli(), ["doctor"]).output
    assert verbose == doctor
    assert "--device auto -> cpu, --precision auto -> " in doctor
    assert "CUDA: not available" in doctor and "bf16 " in doctor


def test_doctor_json():
    info = json.loads(CliRunner().invoke(build_cli(), ["doctor", "--json"]).output)
    assert info["auto"]["device"] == "cpu" and info["auto"]["precision"] in ("bf16", "fp32")
    assert info["cuda"]["available"] is False and isinstance(info["cpu"]["native_bf16"], bool)
    assert set(info["dependencies"]) == set(environment.FLOORS)


def test_installed_plugins_are_listed_with_their_versions(use_distribution):
    use_distribution(ROOT / "plugins" / "gan-zoo-stylegan2")
    assert "gan-zoo-stylegan2" in environment.plugin_distributions()
    assert "gan-zoo" not in environment.plugin_distributions()
    lines = environment.version_lines(environment.versions())
    assert "gan-zoo-stylegan2 0.1" in lines[1]


def test_an_old_dependency_is_one_line_naming_its_floor(monkeypatch, capsys):
    real = environment._version
    monkeypatch.setattr(
        environment, "_version", lambda name: "8.0.4" if name == "click" else real(name)
    )
    with pytest.raises(SystemExit) as exit_:
        main(["list", "models"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert (
        err == "Error: gan-zoo needs click >= 8.1, but click 8.0.4 is installed; "
        "upgrade it with: pip install -U 'click>=8.1'\n"
    )


@pytest.mark.parametrize(
    "text, release",
    [
        ("2.14.1+cu130", (2, 14, 1)),
        ("0.4.5", (0, 4, 5)),
        ("13.9.4", (13, 9, 4)),
        ("2.6.0rc1", (2, 6, 0)),
        ("dev", ()),
    ],
)
def test_release_numbers(text, release):
    assert environment._release(text) == release


def test_the_floors_are_the_ones_pyproject_declares():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    declared = {}
    for dep in deps:
        name, floor = dep.split(">=")
        numbers = tuple(int(x) for x in floor.split("."))
        declared[name] = numbers + (0,) * (2 - len(numbers))
    assert declared == environment.FLOORS
