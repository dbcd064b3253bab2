"""Pretrained tags (the ``pretrained`` kind), one resolution of sources, and ``train --init``.

The checkpoints are real: a tiny DCGAN trained two steps on the kit's Fashion-MNIST-format
files, then packed the way a pretrained distribution ships it (EMA generator, config, card and
metrics only). The tag is registered by a plugin object through the real hook.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from helpers import train_tiny
from safetensors.torch import load_file

import gan_zoo
from gan_zoo.checkpoint import resolve_checkpoint
from gan_zoo.checkpoint.sources import find_source
from gan_zoo.cli import build_cli
from gan_zoo.errors import CheckpointError, ConfigError, GanZooError
from gan_zoo.hookspecs import hookimpl
from gan_zoo.testing.data import write_fashion_mnist

TAG = "dcgan.fashion-mnist"
SHIPPED = ("generator.safetensors", "config.json", "README.md", "metrics.json")


def pack(run: Path, folder: Path) -> Path:
    """What a pretrained package ships for a tag: the sampling files of the latest checkpoint."""
    ckpt = resolve_checkpoint(run)
    folder.mkdir(parents=True)
    metrics = {"classifier-fd": {"value": 12.5, "protocol": {"num_samples": 16}}}
    (ckpt / "metrics.json").write_text(json.dumps(metrics))
    for name in SHIPPED:
        shutil.copyfile(ckpt / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_fashion_mnist(tmp_path_factory.mktemp("data") / "fashion-mnist")


@pytest.fixture(scope="module")
def source_run(data, tmp_path_factory) -> Path:
    return train_tiny(data, tmp_path_factory.mktemp("source") / "run")


@pytest.fixture(scope="module")
def tag_folder(source_run, tmp_path_factory) -> Path:
    return pack(source_run, tmp_path_factory.mktemp("package") / "weights" / TAG)


class TagPlugin:
    def __init__(self, folder: Path):
        self.folder = folder

    @hookimpl
    def register_pretrained(self, register):
        register(TAG, lambda: self.folder, description="DCGAN (width 8), two steps on test files.")


@pytest.fixture
def tagged(register_plugin, tag_folder):
    register_plugin(TagPlugin(tag_folder), "tags", distribution="gan-zoo-testtags")
    return tag_folder


def run_cli(*args, code=0):
    result = CliRunner().invoke(build_cli(), [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# Resolution.
def test_a_tag_loads_the_shipped_generator(tagged, source_run):
    by_tag = gan_zoo.load(TAG).sample(4, seed=1)
    assert torch.equal(by_tag, gan_zoo.load(source_run).sample(4, seed=1))
    assert torch.equal(gan_zoo.load(f"gan-zoo-testtags/{TAG}").sample(4, seed=1), by_tag)
    assert find_source(TAG) == (TAG, tagged, "pretrained")
    assert not find_source(TAG).writable


def test_an_existing_path_wins_over_a_tag(tagged, source_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(resolve_checkpoint(source_run), tmp_path / TAG)
    assert find_source(TAG).kind == "path" and find_source(TAG).path == Path(TAG)


def test_an_unknown_tag_is_one_line_with_did_you_mean(tagged):
    with pytest.raises(
        CheckpointError,
        match=r"^unknown pretrained tag 'dcgan\.fashion-mnst' \(and no such file or folder\); "
        r"did you mean 'dcgan\.fashion-mnist'\?$",
    ):
        gan_zoo.load("dcgan.fashion-mnst")
    with pytest.raises(
        CheckpointError,
        match=r"^'zebra' is neither a file or folder nor a pretrained tag; pass a run",
    ):
        gan_zoo.load("zebra")
    result = run_cli("generate", "dcgan.fashion-mnst", code=2)
    assert result.output.count("\n") == 1 and "did you mean 'dcgan.fashion-mnist'" in result.output
    with pytest.raises(CheckpointError, match="runs/nothing-here does not exist"):
        gan_zoo.load("runs/nothing-here")  # a path stays a path


def test_a_tag_whose_folder_is_gone_is_one_line(register_plugin, tmp_path):
    register_plugin(TagPlugin(tmp_path / "missing"), "tags", distribution="gan-zoo-testtags")
    with pytest.raises(
        GanZooError, match=r"pretrained tag 'dcgan\.fashion-mnist' .* not a folder; reinstall it"
    ):
        gan_zoo.load(TAG)


def test_a_package_data_target_is_found_with_importlib_resources(
    register_plugin, tmp_path, monkeypatch, tag_folder
):
    package = tmp_path / "site" / "my_weights"
    shutil.copytree(tag_folder, package / "weights" / TAG)
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))

    class Plugin:
        @hookimpl
        def register_pretrained(self, register):
            register(TAG, f"my_weights:weights/{TAG}", description="Package data found by name.")

    register_plugin(Plugin(), "pkg", distribution="gan-zoo-pkg")
    assert find_source(TAG).path == package / "weights" / TAG
    assert gan_zoo.load(TAG).z_dim == 100


# The commands.
def test_generate_info_and_list_take_a_tag(tagged, tmp_path):
    out = tmp_path / "grid.png"
    assert "Wrote a grid of 16 images" in run_cli("generate", TAG, "--n", "16", "--out", out).output
    assert out.stat().st_size > 0
    info = json.loads(run_cli("info", TAG, "--json").output)
    assert info["path"] == TAG and info["source"] == "pretrained" and info["model"] == "dcgan"
    assert info["metrics"]["classifier-fd"]["value"] == 12.5
    listed = json.loads(run_cli("list", "pretrained", "--json").output)
    assert [(e["name"], e["preset"], e["dataset"], e["metrics"]) for e in listed] == [
        (TAG, "dcgan", "fashion-mnist", {"classifier-fd": 12.5})
    ]
    assert listed[0]["size"] == sum(p.stat().st_size for p in tagged.iterdir())
    table = CliRunner().invoke(build_cli(), ["list", "pretrained", "--long"]).output
    assert TAG in table and "classifier-fd=12.5" in table and "gan-zoo-testtags" in table
    run_cli("interpolate", TAG, "--steps", "2", "--out", tmp_path / "walk.gif")


def test_no_tags_is_a_clean_empty_list():
    assert json.loads(run_cli("list", "pretrained", "--json").output) == []
    assert run_cli("list", "pretrained").output.splitlines()[1:] == []  # the header alone


def test_evaluating_a_tag_writes_nothing_into_the_package(tagged, data):
    before = files_of(tagged)
    result = run_cli(
        "evaluate",
        TAG,
        "--metric",
        "classifier-fd",
        "--n",
        "16",
        "--device",
        "cpu",
        "--data-dir",
        data,
        "--json",
    )
    assert "not recorded" in result.stderr
    assert files_of(tagged) == before


def test_plugins_check_loads_the_tag(tagged):
    from gan_zoo.plugin_check import check_plugins

    assert check_plugins("gan-zoo-testtags") == []


# Starting a run from weights.
def params(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Weights only: BatchNorm's running statistics move in any forward pass."""
    return {k: v for k, v in state.items() if "running_" not in k and "num_batches" not in k}


def raw_generator(ckpt: Path) -> dict[str, torch.Tensor]:
    state = load_file(ckpt / "training-state.safetensors")
    return {k.split("/", 1)[1]: v for k, v in state.items() if k.startswith("generator_raw/")}


def close(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    a, b = params(a), params(b)
    return a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-8) for k in a)


def test_init_from_a_run_loads_g_ema_and_d_before_step_0(source_run, data, tmp_path):
    src = resolve_checkpoint(source_run)
    run = train_tiny(data, tmp_path / "new", steps=1, lr=1e-12, init=str(source_run))
    ckpt = resolve_checkpoint(run)
    # At lr 1e-12 the step moves nothing measurably: G and D are the source's; the EMA took one
    # step (decay 0.9) from the source's EMA towards the source's raw G.
    assert close(raw_generator(ckpt), raw_generator(src))
    assert close(
        load_file(ckpt / "discriminator.safetensors"), load_file(src / "discriminator.safetensors")
    )
    ema, raw = params(load_file(src / "generator.safetensors")), params(raw_generator(src))
    assert close(
        load_file(ckpt / "generator.safetensors"), {k: 0.9 * ema[k] + 0.1 * raw[k] for k in ema}
    )
    record = json.loads((run / "config.json").read_text())
    digest = hashlib.sha256((src / "generator.safetensors").read_bytes()).hexdigest()
    assert record["init"] == {
        "source": str(source_run),
        "generator_sha256": digest,
        "loaded": "generator (raw), EMA generator, discriminator",
    }
    assert json.loads((ckpt / "training-state.json").read_text())["state"]["step"] == 1
    card = (ckpt / "README.md").read_text()
    assert f"This run started from the weights of `{source_run}`" in card and digest in card


def test_init_from_a_tag_starts_d_fresh(tagged, data, tmp_path):
    run = train_tiny(data, tmp_path / "new", steps=1, lr=1e-12, init=TAG)
    record = json.loads((run / "config.json").read_text())
    assert (
        record["init"]["source"] == TAG and record["init"]["loaded"] == "generator, EMA generator"
    )
    shipped = load_file(tagged / "generator.safetensors")  # the EMA weights: G and EMA start there
    assert close(raw_generator(resolve_checkpoint(run)), shipped)
    assert close(load_file(resolve_checkpoint(run) / "generator.safetensors"), shipped)


def test_init_of_another_architecture_names_both(source_run, data, tmp_path):
    with pytest.raises(
        ConfigError,
        match=r"^--init .* holds generator 'dcgan' \(.*width=8.*\) "
        r"but this run builds generator 'dcgan' \(.*width=16.*\): .*does not fit",
    ):
        train_tiny(
            data,
            tmp_path / "new",
            init=str(source_run),
            overrides=["generator.width=16", "discriminator.width=16"],
        )
    assert not (tmp_path / "new").exists()  # refused before the run directory was claimed
    result = run_cli(
        "train",
        "dcgan",
        "fashion-mnist",
        "--init",
        source_run,
        "--data-dir",
        data,
        "--device",
        "cpu",
        "--steps",
        "1",
        "--batch-size",
        "16",
        "--out",
        tmp_path / "cli",
        code=2,
    )
    assert result.output.startswith("Error: --init") and result.output.count("\n") == 1


def test_init_and_resume_together_are_refused(source_run):
    with pytest.raises(GanZooError, match="--init starts a new run .* give one of them"):
        gan_zoo.train(resume=str(source_run), init=TAG)


def test_a_resumed_init_run_keeps_its_record(source_run, data, tmp_path):
    run = train_tiny(data, tmp_path / "new", steps=1, init=str(source_run))
    first = json.loads((run / "config.json").read_text())["init"]
    gan_zoo.train(resume=str(run), steps=2, progress="quiet")
    assert json.loads((run / "config.json").read_text())["init"] == first
