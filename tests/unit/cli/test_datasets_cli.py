"""``gan-zoo datasets``: info, --grid, list and download through click's CliRunner."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from PIL import Image

from gan_zoo.cli import build_cli
from gan_zoo.datasets import search


def run(*args: str):
    return CliRunner().invoke(build_cli(), list(args), prog_name="gan-zoo")


def test_info_shows_source_size_and_counts_per_class(idx_dir_256):
    result = run(
        "datasets", "info", "fashion-mnist", "--data-dir", str(idx_dir_256), "--split", "test"
    )
    assert result.exit_code == 0, result.output
    assert "fashion-mnist (test): 64 images, 28x28 grayscale, 10 classes" in result.output
    assert str(idx_dir_256) in result.output
    assert "Ankle boot" in result.output and "T-shirt/top" in result.output
    assert "10.9%" in result.output  # 7 of 64 images are of class 0


def test_info_json(idx_dir_256):
    result = run("datasets", "info", "fashion-mnist", "--data-dir", str(idx_dir_256), "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["images"] == 256 and info["image_size"] == 28 and info["channels"] == 1
    assert info["source"] == str(idx_dir_256) and info["classes"]["Bag"] == 25
    assert info["kind"] == "ImageDataset"


def test_grid_saves_real_samples(idx_dir, tmp_path):
    out = tmp_path / "real.png"
    result = run(
        "datasets",
        "info",
        "fashion-mnist",
        "--data-dir",
        str(idx_dir),
        "--grid",
        str(out),
        "--grid-size",
        "16",
    )
    assert result.exit_code == 0, result.output
    with Image.open(out) as im:
        assert im.size == (4 * 30 + 2, 4 * 30 + 2)  # 4x4 tiles of 28 px, 2 px padding


def test_image_folder_options_and_one_warning(tmp_path):
    root = tmp_path / "shoes"
    for i in range(4):
        (root / "boot").mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (20, 30), (i * 40, 0, 0)).save(root / "boot" / f"{i}.png")
    (root / "boot" / "bad.png").write_bytes(b"nope")
    result = run(
        "datasets",
        "info",
        "image-folder",
        "--data-dir",
        str(root),
        "--image-size",
        "16",
        "--channels",
        "1",
        "-o",
        "test-fraction=0.5",
        "-o",
        "workers=0",
        "--split",
        "all",
    )
    assert result.exit_code == 0, result.output
    assert "image-folder (all): 4 images, 16x16 grayscale, 1 class" in result.output
    assert result.output.count("Warning: image-folder: skipped 1 of 5 files") == 1


def test_unknown_dataset_is_one_line_and_exit_2():
    result = run("datasets", "info", "fashon-mnist")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: unknown dataset 'fashon-mnist'; did you mean 'fashion-mnist'? "
        "(see 'gan-zoo list datasets')"
    ]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--split", "valid"], "Error: fashion-mnist has splits 'train' and 'test', not 'valid'"),
        (["--channels", "3"], "Error: dataset 'fashion-mnist' has no option 'channels'"),
        (["-o", "color"], "Error: option 'color' is not KEY=VALUE"),
    ],
)
def test_bad_options_are_one_line(idx_dir, args, message):
    result = run("datasets", "info", "fashion-mnist", "--data-dir", str(idx_dir), *args)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message)


def test_missing_data_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(search, "SYSTEM_DIR", tmp_path)
    result = run("datasets", "info", "mnist")
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: MNIST not found") and "gan-zoo datasets download mnist" in line


def test_list_is_list_datasets():
    result = run("datasets", "list", "--json")
    assert result.exit_code == 0, result.output
    assert [d["name"] for d in json.loads(result.output)] == [
        "cifar10",
        "fashion-mnist",
        "image-folder",
        "mnist",
    ]
    assert json.loads(run("list", "datasets", "--json").output) == json.loads(result.output)


def test_download_reports_what_is_already_there(idx_dir_256, monkeypatch):
    monkeypatch.setenv("GAN_ZOO_DATA", str(idx_dir_256.parent))
    result = run("datasets", "download", "fashion-mnist")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"fashion-mnist train: 256 images in {idx_dir_256}",
        f"fashion-mnist test: 64 images in {idx_dir_256}",
    ]


def test_help_has_examples():
    for args in (["datasets"], ["datasets", "info"], ["datasets", "download"]):
        result = run(*args, "--help")
        assert result.exit_code == 0 and "Example" in result.output
