"""gan-zoo-pretrained: build.py packs a real run, pip installs it, gan-zoo reaches it by tag."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import gan_zoo_cli, pip_install

TAG = "dcgan.fashion-mnist"
TINY = ["generator.width=8", "discriminator.width=8"]


@pytest.fixture
def run(idx_dir, tmp_path, load_plugins):  # noqa: F811 (the kit's fixtures, by name)
    import gan_zoo

    load_plugins()
    return gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        steps=2,
        batch_size=16,
        device="cpu",
        ema=0.9,
        data_dir=str(idx_dir),
        out=str(tmp_path / "run"),
        overrides=TINY,
        progress="quiet",
    ).dir


def build(copy, *args):
    return subprocess.run(
        [sys.executable, str(copy / "build.py"), *map(str, args)], capture_output=True, text=True
    )


def test_with_no_tags_the_package_imports_and_lists_none(distribution_copy, tmp_path):
    site = pip_install(distribution_copy, tmp_path / "site")
    listed = gan_zoo_cli(site, "list", "pretrained", "--json", cache=tmp_path / "cache")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []
    plugins = json.loads(gan_zoo_cli(site, "plugins", "--json", cache=tmp_path / "cache").stdout)
    assert [p["status"] for p in plugins if p["distribution"] == "gan-zoo-pretrained"] == ["ok"]


def test_build_ships_the_sampling_files_only_and_the_tag_works(distribution_copy, run, tmp_path):
    result = build(distribution_copy, run, TAG)
    assert result.returncode == 0, result.stderr
    package = distribution_copy / "gan_zoo_pretrained"
    folder = package / "weights" / TAG
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.md",
        "config.json",
        "generator.safetensors",
    ]
    table = json.loads((package / "tags.json").read_text())
    assert list(table) == [TAG] and table[TAG]["checkpoint"] == "step-0000002"
    assert "EMA generator after 2 steps" in table[TAG]["description"]

    site = pip_install(distribution_copy, tmp_path / "site")
    installed = site / "gan_zoo_pretrained" / "weights" / TAG
    assert sorted(p.name for p in installed.iterdir()) == sorted(p.name for p in folder.iterdir())
    cache = tmp_path / "cache"
    listed = json.loads(gan_zoo_cli(site, "list", "pretrained", "--json", cache=cache).stdout)
    assert [(e["name"], e["preset"], e["dataset"], e["distribution"]) for e in listed] == [
        (TAG, "dcgan", "fashion-mnist", "gan-zoo-pretrained")
    ]
    out = tmp_path / "grid.png"
    gen = gan_zoo_cli(site, "generate", TAG, "--n", "16", "--out", str(out), cache=cache)
    assert gen.returncode == 0 and out.exists(), gen.stderr
    info = json.loads(gan_zoo_cli(site, "info", TAG, "--json", cache=cache).stdout)
    assert info["source"] == "pretrained" and info["step"] == 2
    check = gan_zoo_cli(site, "plugins", "--check", cache=cache)
    assert check.returncode == 0, check.stdout + check.stderr


def test_build_refuses_bad_input_in_one_line(distribution_copy, run, tmp_path):
    for args, message in (
        ((run, "DCGAN"), "must be <preset>.<dataset>"),
        ((tmp_path / "nothing", TAG), "is not a gan-zoo run"),
        ((run, TAG, "--checkpoint", "best"), "has no checkpoints/best"),
    ):
        result = build(distribution_copy, *args)
        assert (
            result.returncode == 2 and message in result.stderr and result.stderr.count("\n") == 1
        )
    assert build(distribution_copy, run, TAG).returncode == 0
    again = build(distribution_copy, run, TAG)
    assert again.returncode == 2 and "pass --force" in again.stderr
    assert build(distribution_copy, run, TAG, "--force").returncode == 0
