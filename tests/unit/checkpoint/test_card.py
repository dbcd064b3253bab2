"""The model card: Hub front matter that parses back to config.json, the body, metrics, YAML."""

from __future__ import annotations

import json
import math

import pytest
from helpers import make_run

from gan_zoo.checkpoint import dump_yaml, split_front_matter
from gan_zoo.checkpoint.card import card_metrics, protocol_text, render_card

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


RECORD = {
    "model": "cgan",
    "dataset": "fashion-mnist",
    "conditional": True,
    "ema": 0.999,
    "generator": {"name": "tiny-g", "options": {"width": 8}},
    "discriminator": {"name": "tiny-d", "options": {}},
    "loss": {"name": "hinge", "options": {}},
    "g_optim": {"lr": 0.0002, "betas": [0.5, 0.999]},
    "gan_zoo_version": "0.1.0",
    "plugins": {"generator": "gan-zoo-tiny 1.2.3"},
    "class_names": [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker | new",
        "Bag",
        "Ankle boot",
    ],
}


def test_render_card_is_a_pure_function_of_its_arguments(monkeypatch):
    """No file is read and no registry is asked: the card comes from the dicts alone."""
    import builtins

    from gan_zoo import plugins

    def forbidden(*args, **kwargs):
        raise AssertionError("render_card must not read files or ask the registry")

    monkeypatch.setattr(builtins, "open", forbidden)
    monkeypatch.setattr(plugins, "registry", forbidden)
    state = {
        "step": 469,
        "epoch": 1,
        "images_seen": 60000,
        "elapsed_seconds": 120.0,
        "hardware": "CPU (test)",
        "last_losses": {"loss/d": 0.5},
    }
    metrics = {"fid": {"value": 23.5, "protocol": {"num_samples": 100, "reference_split": "test"}}}
    args = dict(
        state=state,
        metrics=metrics,
        samples=None,
        generator_kwargs={"image_size": 28, "channels": 1},
        descriptions={"generator": "A tiny | piped generator."},
    )
    text = render_card(RECORD, **args)
    assert text == render_card(RECORD, **args)
    front, body = split_front_matter(text)
    meta = yaml.safe_load(front)
    assert meta["gan_zoo"] == RECORD and "class-conditional" in meta["tags"]
    assert meta["model-index"][0]["results"][0]["metrics"][0] == {
        "type": "fid",
        "value": 23.5,
        "name": "FID",
    }
    for fragment in (
        "# cgan on fashion-mnist",
        ") 0.1.0: preset `cgan` on the `fashion-mnist` dataset, 469 generator steps.",
        "| generator | `tiny-g` (gan-zoo-tiny 1.2.3) | A tiny \\| piped generator. |",
        "| discriminator | `tiny-d`  |  |",
        "Images are 28x28 pixels with 1 channel, values in [-1, 1].",
        "exponential moving average of the generator (decay 0.999)",
        "pip install gan-zoo gan-zoo-tiny",
        "--class sneaker-|-new --out grid.png",
        "| `g_optim.betas` | `[0.5, 0.999]` |",
        "- throughput: 500 img/s",
        "| `loss/d` | 0.5 |",
        "| fid | 23.5 | num samples: 100; reference split: test |",
        "at 28x28 pixels",
    ):
        assert fragment in body, fragment
    assert "## Samples" not in body and "class_names" not in body.split("## Training")[1]
    bare = render_card({"model": "dcgan", "dataset": "mnist"})
    assert "Not recorded." in bare and "Not evaluated yet." in bare and "- not recorded" in bare
    assert "![samples from fixed noise](samples.png)" in bare


def test_card_metrics_and_protocol_text():
    state = {"metrics": {"kid": {"value": 0.1, "protocol": {"feature_network": "inception"}}}}
    tracked = {"name": "fid", "value": 30.0, "higher_is_better": False}
    merged = card_metrics(state, tracked, {"fid": {"value": 25.0, "protocol": {"n": 5}}})
    assert merged == {
        "kid": {"value": 0.1, "protocol": {"feature_network": "inception"}},
        "fid": {"value": 25.0, "protocol": {"n": 5}},  # evaluated wins over tracked
    }
    assert card_metrics(None, tracked)["fid"] == {
        "value": 30.0,
        "protocol": "tracked during training",
    }
    assert card_metrics(state, {"name": "kid", "value": 9.0})["kid"]["value"] == 0.1
    assert protocol_text({"feature_network": "inception-v3", "num_samples": 10}) == (
        "feature network: inception-v3; num samples: 10"
    )
    assert protocol_text("tracked during training") == "tracked during training"
    assert protocol_text({}) == protocol_text(None) == "-"
