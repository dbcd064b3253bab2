"""A recipe file round-trips: ``--dump-config`` then ``--config`` trains bit for bit what the
original command trains (and so does a run's own ``config.json``)."""

from __future__ import annotations

import json

import torch
from helpers import cli_in_process
from safetensors import safe_open

from gan_zoo.checkpoint.record import RECORD_EXTRAS
from gan_zoo.config import portable_out

#: The original command: options, shorthands and --set into network options.
COMMAND = [
    "train",
    "dcgan",
    "fashion-mnist",
    "--steps",
    3,
    "--batch-size",
    16,
    "--ema",
    0.9,
    "--lr-d",
    1e-4,
    "--betas",
    "0.0,0.9",
    "--seed",
    7,
    "--eval-metric",
    "none",
    "--device",
    "cpu",
    "--set",
    "generator.width=8",
    "--set",
    "discriminator.width=8",
]
CHECKPOINT = "checkpoints/step-0000003"
FILES = ("generator.safetensors", "discriminator.safetensors", "training-state.safetensors")


def train(*args):
    result = cli_in_process(*args, "-q")
    assert result.exit_code == 0, result.output


def contents(run):
    """Every tensor of the checkpoint, and each file's metadata with the config minus ``out``
    (and minus the config's hash, which covers ``out``)."""
    tensors, metadata = {}, {}
    for name in FILES:
        with safe_open(run / CHECKPOINT / name, "pt") as f:
            tensors.update({f"{name}:{key}": f.get_tensor(key) for key in f.keys()})
            meta = dict(f.metadata())
        config = json.loads(meta.pop("config"))
        meta.pop("config_hash")
        assert config.pop("out") == portable_out(str(run))  # absolute: not recorded
        metadata[name] = {**meta, "config": config}
    return tensors, metadata


def bits(tensor):
    """The tensor's bytes (``equal`` on values would take -0.0 for 0.0)."""
    return tensor.contiguous().reshape(-1).view(torch.uint8)


def assert_same_training(a, b):
    (tensors_a, meta_a), (tensors_b, meta_b) = contents(a), contents(b)
    assert meta_a == meta_b
    assert tensors_a.keys() == tensors_b.keys() and len(tensors_a) > 10
    for key, tensor in tensors_a.items():
        other = tensors_b[key]
        assert tensor.dtype == other.dtype and tensor.shape == other.shape, key
        assert bits(tensor).equal(bits(other)), key


def test_dump_config_then_config_trains_bit_for_bit(tmp_path, idx_dir):
    data = ["--data-dir", idx_dir]
    train(*COMMAND, *data, "--out", tmp_path / "original")
    for suffix in (".toml", ".yaml"):
        recipe = tmp_path / f"recipe{suffix}"
        result = cli_in_process(*COMMAND, *data, "--dump-config", recipe)
        assert result.exit_code == 0 and recipe.is_file(), result.output
    train("train", "--config", tmp_path / "recipe.toml", "--out", tmp_path / "from-toml")
    assert_same_training(tmp_path / "original", tmp_path / "from-toml")
    train("train", "--config", tmp_path / "recipe.yaml", "--out", tmp_path / "from-yaml")
    assert_same_training(tmp_path / "original", tmp_path / "from-yaml")
    # A run's config.json is a recipe too (resolved: device, precision, size are decided there).
    train(
        "train", "--config", tmp_path / "original" / "config.json", "--out", tmp_path / "from-run"
    )
    assert_same_training(tmp_path / "original", tmp_path / "from-run")
    # --resume RUN --dump-config: the run's own config (what a resume would train).
    dumped = tmp_path / "resumed.json"
    result = cli_in_process("train", "--resume", tmp_path / "original", "--dump-config", dumped)
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "original" / "config.json").read_text())
    assert json.loads(dumped.read_text()) == {
        k: v for k, v in record.items() if k not in RECORD_EXTRAS
    }
