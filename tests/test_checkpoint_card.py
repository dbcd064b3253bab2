"""The model card: Hub front matter that parses back to config.json, the body, metrics, YAML."""

from __future__ import annotations

import json
import math

import pytest
from test_checkpoint import make_run

from gan_zoo.checkpoint import dump_yaml, split_front_matter

yaml = pytest.importorskip("yaml")


def test_card_front_matter_parses_and_matches_config_json(tmp_path):
    run, _ = make_run(tmp_path)
    ckpt = run / "checkpoints" / "step-0000002"
    text = (ckpt / "README.md").read_text()
    front, body = split_front_matter(text)
    meta = yaml.safe_load(front)
    assert meta["gan_zoo"] == json.loads((ckpt / "config.json").read_text())
    assert meta["library_name"] == "gan-zoo"
    assert meta["pipeline_tag"] == "unconditional-image-generation"
    assert {"gan", "dcgan", "fashion-mnist", "gan-zoo"} <= set(meta["tags"])
    assert meta["datasets"] == ["zalando-datasets/fashion_mnist"]
    assert isinstance(meta["license"], str) and "model-index" not in meta
    for section in (
        "## Model",
        "## How to sample",
        "gan-zoo generate",
        "gan_zoo.load",
        "## Training",
        "| `g_optim.lr` | `0.0002` |",
        "## Hardware and training time",
        "CPU (test)",
        "## Final losses",
        "| `loss/d` | 1.25 |",
        "![samples from fixed noise](samples.png)",
        "## Metrics",
        "## Limitations",
    ):
        assert section in body, section


def test_metrics_reach_the_model_index_and_info(tmp_path):
    from gan_zoo.checkpoint import describe, record_metrics

    run, _ = make_run(tmp_path)
    ckpt = run / "checkpoints" / "step-0000002"
    protocol = {"feature_network": "inception-v3", "num_samples": 10000, "reference_split": "test"}
    record_metrics(ckpt, {"fid": {"value": 23.5, "protocol": protocol}})
    kid = {"feature_network": "inception-v3", "reference": "5000 images of fashion-mnist/train"}
    record_metrics(ckpt, {"kid": {"value": 0.01, "protocol": kid}})  # merged with fid
    front, body = split_front_matter((ckpt / "README.md").read_text())
    meta = yaml.safe_load(front)
    result, kid_result = meta["model-index"][0]["results"]
    assert result["metrics"] == [{"type": "fid", "value": 23.5, "name": "FID"}]
    assert result["dataset"]["split"] == "test" and kid_result["dataset"]["split"] == "train"
    assert kid_result["metrics"] == [{"type": "kid", "value": 0.01, "name": "KID"}]
    assert (
        "| fid | 23.5 | feature network: inception-v3; num samples: 10000; reference split: test |"
        in body
    )
    assert meta["gan_zoo"] == json.loads((ckpt / "config.json").read_text())
    assert describe(run)["metrics"]["fid"]["value"] == 23.5


def test_yaml_emitter_round_trips_awkward_values():
    data = {
        "plain": "dcgan",
        "yes": "yes",
        "no": "No",
        "empty": "",
        "colon": "a: b",
        "hash": "#x",
        "number-like": "1e5",
        "null-like": "null",
        "tilde": "~",
        "slash": "T-shirt/top",
        "space": "Ankle boot",
        "quote": 'say "hi"',
        "unicode": "Größe ✓",
        "newline": "a\nb",
        "floats": [0.0002, 1e-05, 1e20, -2.5, 3.0],
        "ints": [0, -7, 2**40],
        "bools": [True, False],
        "none": None,
        "empty-dict": {},
        "empty-list": [],
        "nested": [{"a": [1, {"b": []}]}, [[1, 2], []]],
        "inf": math.inf,
        "dash-key-": 1,
        "key with space": 2,
    }
    assert yaml.safe_load(dump_yaml(data)) == data
    assert math.isnan(yaml.safe_load(dump_yaml({"x": math.nan}))["x"])
