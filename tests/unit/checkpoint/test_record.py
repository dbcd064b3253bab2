"""gan_zoo/checkpoint/record.py: config.json, the headers' config and hash, and the card hold
``out`` relative or not at all, and the hash is of what is recorded."""

from __future__ import annotations

import json

from helpers import Parts

import gan_zoo
from gan_zoo import checkpoint
from gan_zoo.checkpoint.record import config_record, portable_config, record_hash
from gan_zoo.config import config_hash


def test_an_absolute_out_is_not_recorded_and_the_hash_is_of_the_record(tmp_path):
    parts = Parts()
    parts.config.out = str(tmp_path / "run")  # absolute, as `--out /some/where` gives
    parts.save(tmp_path / "run", 2)
    ckpt = tmp_path / "run" / "checkpoints" / "step-0000002"
    record = json.loads((ckpt / "config.json").read_text())
    assert record["out"] is None
    meta = checkpoint.read_metadata(ckpt / "generator.safetensors")
    assert json.loads(meta["config"]) == record
    assert meta["config_hash"] == record_hash(record) == config_hash(portable_config(parts.config))
    assert str(tmp_path) not in (ckpt / "README.md").read_text()
    assert gan_zoo.load(tmp_path / "run", device="cpu").z_dim == parts.config.z_dim


def test_a_relative_out_is_kept():
    parts = Parts()
    parts.config.out = "runs/small"
    assert config_record(parts.config)["out"] == "runs/small"
    assert portable_config(parts.config) is parts.config


def test_a_record_read_back_is_copied_as_it_is():
    """An older run's config.json (with the path it recorded) is not rewritten on reading."""
    parts = Parts()
    record = config_record(parts.config)
    record["out"] = "/work/exp/old-run"
    assert config_record(record)["out"] == "/work/exp/old-run"
