"""The four distributions as PyPI's users get them (what ``make dist`` and the release workflow
build): each wheel holds its package's tracked files and nothing else, and the wheels installed
into a fresh virtual environment outside the checkout train, sample, evaluate and list plugins
from the command line. Slow: one build of each distribution and one venv with torch (about 5 GB
with Linux's PyPI torch and its CUDA libraries; the venv is deleted afterwards)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
from helpers import ROOT

from gan_zoo.testing import write_idx

REPO = ROOT
pytestmark = pytest.mark.slow

# distribution -> (project folder, import package, files that must be in the wheel besides .py)
DISTRIBUTIONS = {
    "gan-zoo": (
        REPO,
        "gan_zoo",
        [
            "gan_zoo/metrics/fashion-mnist-cnn.safetensors",
            "gan_zoo/measured.json",
            "gan_zoo/templates/plugin/pyproject.toml.tmpl",
            "gan_zoo/templates/plugin/package/__init__.py.tmpl",
            "gan_zoo/templates/plugin/tests/test_conformance.py.tmpl",
        ],
    ),
    "gan-zoo-fid": (REPO / "plugins" / "gan-zoo-fid", "gan_zoo_fid", []),
    "gan-zoo-stylegan2": (REPO / "plugins" / "gan-zoo-stylegan2", "gan_zoo_stylegan2", []),
    "gan-zoo-pretrained": (
        REPO / "plugins" / "gan-zoo-pretrained",
        "gan_zoo_pretrained",
        [
            "gan_zoo_pretrained/tags.json",  # each tag's files are checked against it below
        ],
    ),
}
TAG_FILES = ("generator.safetensors", "config.json", "README.md")
# Never in a wheel: caches, build outputs, a test suite (the scaffold's *.tmpl tests are data).
JUNK = re.compile(
    r"(^|/)(__pycache__|build|dist|\.pytest_cache)/|\.py[cod]$|\.egg-info/|(^|/)tests?/[^/]*\.py$"
)


def show(config, *lines: str) -> None:
    """Print past pytest's capture, so that the numbers are in CI's log."""
    with config.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
        print("", *lines, sep="\n", flush=True)


def run(args: list, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)


def check(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def sources(project: Path, package: str) -> set[str]:
    """The package's source files, relative to the project folder: those git tracks and new
    ones it does not ignore (caches and build outputs are ignored)."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout: the source files are unknown")
    listing = ["git", "-C", project, "ls-files", "--cached", "--others", "--exclude-standard"]
    return set(check(run([*listing, "--", package])).splitlines())


@pytest.fixture(scope="module")
def dist(tmp_path_factory, pytestconfig) -> Path:
    """sdist + wheel of each distribution, built in isolation as ``make dist`` builds them (the
    wheel from the sdist, so a file the sdist lacks is missing from the wheel too)."""
    out = tmp_path_factory.mktemp("dist")
    for project, _, _ in DISTRIBUTIONS.values():
        check(run([sys.executable, "-m", "build", "--outdir", out, project]))
    check(run([sys.executable, "-m", "twine", "check", "--strict", *sorted(out.iterdir())]))
    show(
        pytestconfig,
        "built by python -m build:",
        *(f"  {p.stat().st_size / 1e6:8.2f} MB  {p.name}" for p in sorted(out.iterdir())),
    )
    return out


def artefact(dist: Path, name: str, kind: str) -> Path:
    stem = name.replace("-", "_")
    found = sorted(dist.glob(f"{stem}-*.whl" if kind == "wheel" else f"{stem}-*.tar.gz"))
    assert len(found) == 1, f"{kind} of {name}: {found}"
    return found[0]


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_the_wheel_holds_its_package_and_nothing_else(dist, name, pytestconfig):
    project, package, required = DISTRIBUTIONS[name]
    wheel = artefact(dist, name, "wheel")
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if not n.endswith("/")]
        dist_info = {n for n in names if n.split("/")[0].endswith(".dist-info")}
        files = set(names) - dist_info
        assert [n for n in names if JUNK.search(n)] == []
        assert files == sources(project, package), "the wheel's files are not the package's sources"
        assert set(required) <= files
        info = wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info"
        assert {
            f"{info}/{n}"
            for n in ("METADATA", "WHEEL", "RECORD", "entry_points.txt", "licenses/LICENSE")
        } <= dist_info
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
        if name == "gan-zoo":
            assert "gan-zoo = gan_zoo.cli:main" in entry_points
        else:
            assert f"[gan_zoo]\n{name.removeprefix('gan-zoo-')} = {package}" in entry_points
        if name == "gan-zoo-pretrained":
            tags = json.loads(archive.read("gan_zoo_pretrained/tags.json"))
            assert tags, "no pretrained tag is shipped"
            for tag in tags:
                assert {f"gan_zoo_pretrained/weights/{tag}/{n}" for n in TAG_FILES} <= files, tag
        unpacked = sum(archive.getinfo(n).file_size for n in names)
    show(
        pytestconfig,
        f"{wheel.name}: {wheel.stat().st_size / 1e6:.2f} MB, {len(files)} files, "
        f"{unpacked / 1e6:.2f} MB unpacked",
    )


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_the_sdist_holds_the_sources_and_no_tests(dist, name):
    project, package, _ = DISTRIBUTIONS[name]
    sdist = artefact(dist, name, "sdist")
    with tarfile.open(sdist) as archive:
        root = archive.getnames()[0].split("/")[0]
        names = {
            n.removeprefix(root + "/") for n in archive.getnames() if archive.getmember(n).isfile()
        }
    assert sources(project, package) <= names
    assert {"PKG-INFO", "pyproject.toml", "README.md", "LICENSE"} <= names
    assert [
        n for n in names if n.startswith("tests/") or "__pycache__" in n or n.endswith(".pyc")
    ] == []


@pytest.fixture(scope="module")
def user_venv(tmp_path_factory, dist, pytestconfig):
    """A fresh venv outside the checkout with the same torch as this one and the four built
    wheels installed for real (never the source tree, never -e)."""
    import torch
    import torchvision

    home = tmp_path_factory.mktemp("user")
    venv = home / "venv"
    times = {}
    start = time.perf_counter()
    check(run([sys.executable, "-m", "venv", venv]))
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    pip = [python, "-m", "pip", "install", "--quiet", "--no-compile", "--disable-pip-version-check"]
    # The same torch as this venv's, without its local build suffix (+cpu, +cu124).
    torch_pins = [
        f"torch=={torch.__version__.split('+')[0]}",
        f"torchvision=={torchvision.__version__.split('+')[0]}",
    ]
    check(run([*pip, *torch_pins]))
    times["venv + torch"] = time.perf_counter() - start
    start = time.perf_counter()
    wheels = sorted(dist.glob("*.whl"))
    check(run([*pip, *wheels]))
    times["the four wheels"] = time.perf_counter() - start
    show(pytestconfig, "user venv: " + ", ".join(f"{k} {v:.0f} s" for k, v in times.items()))
    yield venv
    shutil.rmtree(venv, ignore_errors=True)  # several GB: not left to pytest's three kept runs


@pytest.fixture
def as_a_user(user_venv, tmp_path):
    """Run a command of the user venv from a folder outside the checkout, with no trace of this
    venv or checkout in the environment."""
    bin_dir = user_venv / ("Scripts" if os.name == "nt" else "bin")
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in ("PYTHONPATH", "VIRTUAL_ENV", "GAN_ZOO_LOAD_PLUGINS", "GAN_ZOO_DATA", "PYTHONHOME")
    }
    env.update(
        PATH=os.pathsep.join([str(bin_dir), env.get("PATH", "")]),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        VIRTUAL_ENV=str(user_venv),
        COLUMNS="100",
    )
    cwd = tmp_path / "work"
    cwd.mkdir()
    assert REPO.resolve() not in cwd.resolve().parents

    def user(program, *args) -> subprocess.CompletedProcess:
        # The venv's own program by its full path (Windows looks a bare name up in our PATH).
        found = shutil.which(program, path=str(bin_dir))
        assert found, f"{program} is not installed in the user venv"
        result = subprocess.run(
            [found, *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
        )
        check(result)
        return result

    user.cwd = cwd
    return user


def small_fashion_mnist(folder: Path) -> Path:
    """Fashion-MNIST's IDX files with 256 train and 64 test images of random pixels."""
    import random

    rng = random.Random(0)
    folder.mkdir(parents=True)
    for prefix, n in (("train", 256), ("t10k", 64)):
        write_idx(
            folder / f"{prefix}-images-idx3-ubyte",
            bytes(rng.randrange(256) for _ in range(n * 784)),
            (n, 28, 28),
        )
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", bytes(i % 10 for i in range(n)), (n,))
    return folder


def test_the_installed_wheels_work_from_the_command_line(as_a_user, user_venv, pytestconfig):
    site = as_a_user(
        "python",
        "-c",
        "import gan_zoo, gan_zoo_pretrained; "
        "print(gan_zoo.__file__); print(gan_zoo_pretrained.__file__)",
    ).stdout
    for path in site.split():
        assert Path(path).resolve().is_relative_to(user_venv.resolve()), path
    timings = {}

    def timed(label, *args):
        start = time.perf_counter()
        result = as_a_user(*args)
        timings[label] = time.perf_counter() - start
        return result

    data = small_fashion_mnist(as_a_user.cwd / "data")
    timed(
        "train",
        "gan-zoo",
        "train",
        "dcgan",
        "fashion-mnist",
        "--steps",
        "3",
        "--data-dir",
        data,
        "--out",
        "run",
        "--device",
        "cpu",
        "--plain",
    )
    run_dir = as_a_user.cwd / "run"
    assert (run_dir / "config.json").is_file() and (run_dir / "checkpoints").is_dir()

    timed(
        "generate",
        "gan-zoo",
        "generate",
        "dcgan.fashion-mnist",
        "--out",
        "grid.png",
        "--device",
        "cpu",
    )
    assert (as_a_user.cwd / "grid.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    listing = timed("plugins", "gan-zoo", "plugins").stdout
    for name in ("gan-zoo-fid", "gan-zoo-stylegan2", "gan-zoo-pretrained"):
        assert name in listing, listing

    # The small test split has 64 images: --n may not ask for more references than that.
    scores = timed(
        "evaluate",
        "gan-zoo",
        "evaluate",
        run_dir,
        "--metric",
        "classifier-fd",
        "--n",
        "64",
        "--batch-size",
        "32",
        "--device",
        "cpu",
        "--data-dir",
        data,
        "--json",
    ).stdout
    assert json.loads(scores)["classifier-fd"]["value"] >= 0

    timed("import the kit", "python", "-c", "import gan_zoo.testing")
    show(pytestconfig, "as a user: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))


def test_the_core_wheel_resolves_with_the_oldest_declared_torch(dist, tmp_path, pytestconfig):
    """pip resolves the built wheels with torch 2.4 and torchvision 0.19, the floors declared in
    pyproject.toml (a dry run: nothing is downloaded beyond metadata, nothing installed)."""
    report = tmp_path / "report.json"
    wheels = sorted(dist.glob("*.whl"))
    result = run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--disable-pip-version-check",
            "--report",
            report,
            *wheels,
            "torch==2.4.*",
            "torchvision==0.19.*",
        ]
    )
    output = result.stdout + result.stderr
    if result.returncode != 0 and re.search(
        r"No matching distribution found for (torch|torchvision)==", output
    ):
        pytest.skip(
            "no package index reachable from here serves torch 2.4 / torchvision 0.19 for this "
            f"Python and platform: {output.strip().splitlines()[-1]}"
        )
    check(result)
    versions = {
        item["metadata"]["name"]: item["metadata"]["version"]
        for item in json.loads(report.read_text())["install"]
    }
    assert versions["torch"].startswith("2.4.") and versions["torchvision"].startswith("0.19."), (
        versions
    )
    show(
        pytestconfig,
        f"resolves with torch {versions['torch']}, torchvision {versions['torchvision']}",
    )
