"""gan_zoo.checkpoint.schema: the JSON a run holds, good documents passed through unchanged and
bad ones refused with one line naming the first value that does not fit."""

from __future__ import annotations

import copy
import json

import pytest

from gan_zoo.checkpoint.schema import (
    MAX_DEPTH,
    MAX_ITEMS,
    MAX_TEXT,
    check_metrics,
    check_record,
    check_state,
    is_number,
    is_plain,
    meta_json,
    short,
)
from gan_zoo.errors import CheckpointError

TAIL = "; the run is corrupt or not from gan-zoo: re-copy it or use another checkpoint"
WHERE = "run/config.json"

GOOD_RECORD = {
    "model": "dcgan",
    "dataset": "fashion-mnist",
    "generator": {"name": "dcgan", "options": {"width": 64, "norm": "batch"}},
    "discriminator": "dcgan",
    "loss": {"name": "gan-zoo/bce"},
    "regularizer": None,
    "z_dim": 100,
    "image_size": 28,
    "channels": 1,
    "num_classes": 10,
    "dataset_options": {"augment": False},
    "class_names": ["T-shirt/top", "Trouser"],
    "plugins": {"generator": "gan-zoo 1.0"},
    "init": {"source": "runs/a", "generator_sha256": "ab" * 32},
    "gan_zoo_version": "1.0.0",
    "a_key_of_a_newer_version": [1, 2, 3],
}

GOOD_STATE = {
    "state": {
        "step": 10,
        "epoch": 1,
        "images_seen": 640,
        "step_in_epoch": 0,
        "total_steps": 100,
        "steps_per_epoch": 10,
        "world_size": 2,
        "batch_per_process": 32,
        "elapsed_seconds": 12.5,
        "hardware": "CPU",
        "last_losses": {"loss/d": 1.25, "loss/g": None},
        "class_names": ["a"],
        "warnings": ["re-seeded"],
        "metrics": {"fid": 12.5},
        "loss_state": {"loss": {"ema": 0.5}},
    },
    "metric": {"name": "fid", "value": 12.5, "higher_is_better": False},
    "ema": True,
    "g_optimizer": {"param_groups": [{"lr": 0.0002, "betas": [0.5, 0.999]}], "state": {}},
    "d_optimizer": None,
}


def _refused(check, doc, where: str = WHERE) -> str:
    with pytest.raises(CheckpointError) as info:
        check(doc, where)
    line = str(info.value)
    assert "\n" not in line and line.startswith(f"{where}: ") and line.endswith(TAIL)
    return line.removeprefix(f"{where}: ").removesuffix(TAIL)


def _with(doc: dict, path: str, value) -> dict:
    """A deep copy of ``doc`` with the dotted ``path`` set to ``value``."""
    doc = copy.deepcopy(doc)
    *parents, last = path.split(".")
    inner = doc
    for key in parents:
        inner = inner[key]
    inner[last] = value
    return doc


# short(): what of a file's value an error line shows.
@pytest.mark.parametrize(
    "value, text",
    [
        ("dcgan", "'dcgan'"),
        ("a b.c+d:e/f-g_h", "'a b.c+d:e/f-g_h'"),
        ("$(rm -rf ~)", "a string of 11 characters"),  # never echoed
        ("x" * 61, "a string of 61 characters"),
        ("line\nbreak", "a string of 10 characters"),
        ({"a": 1, "b": 2}, "an object with 2 keys"),
        ([1, 2, 3], "a list of 3 items"),
        (1.5, "1.5"),
        (True, "True"),
        (None, "None"),
        (10**70, "1" + "0" * 56 + "..."),
    ],
)
def test_short_shows_plain_values_and_only_describes_the_rest(value, text):
    assert short(value) == text


def test_is_number_takes_finite_numbers_but_no_booleans():
    assert is_number(0) and is_number(-1.5) and is_number(10**30)
    assert not any(is_number(v) for v in (True, float("nan"), float("inf"), "1", None))


def test_is_plain_bounds_size_depth_and_numbers():
    assert is_plain({"a": [1, 2.5, "x", None, True, {"b": []}]})
    assert is_plain(2**53) and not is_plain(2**53 + 1) and not is_plain(float("nan"))
    assert is_plain("x" * MAX_TEXT) and not is_plain("x" * (MAX_TEXT + 1))
    assert is_plain(list(range(MAX_ITEMS))) and not is_plain(list(range(MAX_ITEMS + 1)))
    nested: list = []
    for _ in range(MAX_DEPTH - 1):
        nested = [nested]  # MAX_DEPTH lists, one in the other
    assert is_plain(nested) and not is_plain([nested]) and not is_plain({"a": nested})
    assert not is_plain({1: "a"})  # JSON objects have string keys
    assert not is_plain({"k" * (MAX_TEXT + 1): 1})
    assert not is_plain(b"bytes") and not is_plain((1, 2))  # only what json.loads returns


# config.json
def test_a_good_record_is_returned_as_it_is():
    doc = json.loads(json.dumps(GOOD_RECORD))
    assert check_record(doc, WHERE) is doc and doc == GOOD_RECORD


def test_a_minimal_record_passes():
    assert check_record({}, WHERE) == {}


@pytest.mark.parametrize(
    "path, value, message",
    [
        (
            "model",
            "dcgan; rm -rf ~",
            "model must be a registry name, got a string of 15 characters",
        ),
        ("model", 3, "model must be a registry name, got 3"),
        ("dataset", "-leading", "dataset must be a registry name, got '-leading'"),
        (
            "generator",
            ["dcgan"],
            'generator must be an object {"name": ..., "options": {...}}, got a list of 1 items',
        ),
        (
            "generator",
            {"options": {}},
            'generator must be an object {"name": ..., "options": '
            "{...}}, got an object with 1 keys",
        ),
        ("loss", {"name": "a b"}, "loss.name must be a registry name, got 'a b'"),
        (
            "generator.options",
            [1],
            "generator.options must be an object of options, got a list of 1 items",
        ),
        (
            "generator.options",
            {"not-an-identifier": 1},
            "generator.options name must be an identifier, got 'not-an-identifier'",
        ),
        (
            "generator.options",
            {"width": float("nan")},
            "generator.options.width must be a plain JSON value, got nan",
        ),
        ("z_dim", 0, "z_dim must be an integer in 1..16384, got 0"),
        ("z_dim", 100.0, "z_dim must be an integer in 1..16384, got 100.0"),
        ("image_size", True, "image_size must be an integer in 1..2048, got True"),
        ("channels", 5, "channels must be an integer in 1..4, got 5"),
        ("num_classes", 10**9, "num_classes must be an integer in 0..100000, got 1000000000"),
        ("dataset_options", {"1x": 2}, "dataset_options name must be an identifier, got '1x'"),
        ("class_names", "abc", "class_names must be a list of at most 100000 strings, got 'abc'"),
        ("class_names", ["a", 2], "an item of class_names must be a short string, got 2"),
        (
            "plugins",
            {"generator": 1},
            'plugins must be an object {part: "distribution version"}, got an object with 1 keys',
        ),
        (
            "init",
            {str(i): "x" for i in range(9)},
            'init must be an object {"source": ..., '
            '"generator_sha256": ...}, got an object with 9 keys',
        ),
        (
            "gan_zoo_version",
            "1" * 65,
            "gan_zoo_version must be a version string, got a string of 65 characters",
        ),
    ],
)
def test_a_bad_record_names_its_first_bad_value(path, value, message):
    assert _refused(check_record, _with(GOOD_RECORD, path, value)) == message


def test_a_record_that_is_not_an_object():
    assert _refused(check_record, [GOOD_RECORD]) == "the config must be a JSON object, got 'list'"


def test_class_names_are_bounded():
    doc = _with(GOOD_RECORD, "class_names", ["c"] * 100_001)
    assert _refused(check_record, doc) == (
        "class_names must be a list of at most 100000 strings, got a list of 100001 items"
    )


# training-state.json
def test_a_good_state_passes_and_an_old_minimal_one_too():
    assert check_state(copy.deepcopy(GOOD_STATE), WHERE) == GOOD_STATE
    assert check_state({"state": {"step": 3}}, WHERE) == {"state": {"step": 3}}


@pytest.mark.parametrize(
    "path, value, message",
    [
        ("state", [], "state must be a JSON object, got a list of 0 items"),
        ("state.step", -1, "state.step must be a whole number, got -1"),
        ("state.step", 2**62, f"state.step must be a whole number, got {2**62}"),
        ("state.epoch", 1.0, "state.epoch must be a whole number, got 1.0"),
        ("state.images_seen", True, "state.images_seen must be a whole number, got True"),
        ("state.world_size", 0, "state.world_size must be a positive whole number, got 0"),
        (
            "state.steps_per_epoch",
            "10",
            "state.steps_per_epoch must be a positive whole number, got '10'",
        ),
        (
            "state.elapsed_seconds",
            -0.5,
            "state.elapsed_seconds must be a number of seconds, got -0.5",
        ),
        (
            "state.elapsed_seconds",
            float("inf"),
            "state.elapsed_seconds must be a number of seconds, got inf",
        ),
        ("state.hardware", ["GPU"], "state.hardware must be a short string, got a list of 1 items"),
        (
            "state.last_losses",
            {"loss/d": "1.0"},
            "state.last_losses must be an object of numbers, got an object with 1 keys",
        ),
        ("state.warnings", [1], "an item of state.warnings must be a short string, got 1"),
        (
            "state.metrics",
            {"fid": "low"},
            'state.metrics.fid must be a number or {"value": '
            "number, \"protocol\": {...}}, got 'low'",
        ),
        (
            "state.loss_state",
            {"other": {}},
            'state.loss_state must be {"loss": {...}, '
            '"regularizer": {...}}, got an object with 1 keys',
        ),
        (
            "state.loss_state",
            {"loss": 1},
            'state.loss_state must be {"loss": {...}, '
            '"regularizer": {...}}, got an object with 1 keys',
        ),
        (
            "metric",
            {"name": "fid", "value": 1.0},
            'metric must be {"name": ..., "value": ..., '
            '"higher_is_better": ...}, got an object with 2 keys',
        ),
        (
            "metric",
            {"name": "fid", "value": None, "higher_is_better": True},
            "metric must be "
            '{"name": ..., "value": ..., "higher_is_better": ...}, got an object with 3 keys',
        ),
        ("ema", "yes", "ema must be true or false, got 'yes'"),
        (
            "g_optimizer",
            {"state": {"0": float("nan")}},
            "g_optimizer must be a JSON object of optimizer state, got an object with 1 keys",
        ),
        (
            "d_optimizer",
            "x" * 2000,
            "d_optimizer must be a JSON object of optimizer state, got a string of 2000 characters",
        ),
    ],
)
def test_a_bad_state_names_its_first_bad_value(path, value, message):
    assert _refused(check_state, _with(GOOD_STATE, path, value)) == message


def test_a_state_that_is_not_an_object():
    assert _refused(check_state, "state") == "the training state must be a JSON object, got 'str'"


# metrics.json and metadata
def _meta_check(meta: dict, key: str, kind: type):
    """``meta_json`` as a check of the ``(doc, where)`` form that _refused calls."""
    return lambda _doc, where: meta_json(meta, key, None, kind, where)


def test_metrics_take_numbers_none_or_values_with_a_protocol():
    good = {"fid": 12.5, "is": None, "kid": {"value": 0.01, "protocol": {"n": 10_000}}}
    assert check_metrics(good, "metrics.json") is good
    line = _refused(check_metrics, {"fid": {"value": "x"}}, "metrics.json")
    assert line == (
        'metrics.fid must be a number or {"value": number, "protocol": {...}}, got an object '
        "with 1 keys"
    )
    assert (
        _refused(check_metrics, [], "metrics.json") == "metrics must be a JSON object, got a "
        "list of 0 items"
    )


def test_meta_json_reads_a_typed_value_or_the_default():
    meta = {"class_names": '["a", "b"]', "options": '{"width": 8}', "bad": "{"}
    where = "generator.safetensors"
    assert meta_json(meta, "class_names", None, list, where) == ["a", "b"]
    assert meta_json(meta, "options", {}, dict, where) == {"width": 8}
    assert meta_json(meta, "missing", "default", dict, where) == "default"
    assert _refused(_meta_check(meta, "options", list), None, where) == (
        "metadata 'options' must be a JSON list, got an object with 1 keys"
    )
    with pytest.raises(
        CheckpointError, match=r"^generator.safetensors metadata 'bad' is not valid"
    ):
        meta_json(meta, "bad", None, dict, where)
    assert _refused(_meta_check({"c": "[1]"}, "c", list), None, where) == (
        "an item of metadata 'c' must be a short string, got 1"
    )
