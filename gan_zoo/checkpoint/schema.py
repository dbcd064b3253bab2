"""Schemas of the JSON a run holds (``config.json``, ``training-state.json``, ``metrics.json``
and the JSON strings in safetensors metadata), checked before anything else reads them.

A run downloaded from a stranger can hold any JSON at all: a list where an object belongs, a
string where a number belongs, a name that is a shell command, numbers that would allocate
gigabytes. Each check here names the first value that does not fit, in one line, with the file
it came from; values are shown cut short, never echoed whole. Unknown keys are left alone (a
newer gan-zoo may add some); known keys must have their type and range.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..errors import CheckpointError
from ..safe_io import parse_json

#: Registry names as a record may hold them (the registry's own rule is stricter).
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")
#: Option names of a network or dataset: Python identifiers.
OPTION = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
#: Ranges of the numbers that size a network (the trainer's own checks are the same or tighter).
SIZES = {
    "z_dim": (1, 16_384),
    "image_size": (1, 2048),
    "channels": (1, 4),
    "num_classes": (0, 100_000),
}
MAX_CLASSES, MAX_TEXT, MAX_ITEMS, MAX_DEPTH = 100_000, 1000, 10_000, 6
COUNTERS = ("step", "epoch", "images_seen", "step_in_epoch", "total_steps")
#: Sizes in the training state (DDP processes and the batch of each: absent in older runs).
POSITIVE = ("steps_per_epoch", "world_size", "batch_per_process")


#: Strings from a file that are echoed as they are; others are described, never shown.
_SHOWN = re.compile(r"^[A-Za-z0-9 ._+:/-]{0,60}$")


def short(value: Any) -> str:
    """A value from a file for an error line: numbers and plain short strings as they are,
    anything else (a string that could be a shell command, a container) only described."""
    if isinstance(value, str):
        return repr(value) if _SHOWN.match(value) else f"a string of {len(value)} characters"
    if isinstance(value, dict):
        return f"an object with {len(value)} keys"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)} items"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _fail(where: str, key: str, expected: str, value: Any) -> CheckpointError:
    return CheckpointError(
        f"{where}: {key} must be {expected}, got {short(value)}; the run is corrupt or not from "
        "gan-zoo: re-copy it or use another checkpoint"
    )


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def is_plain(value: Any, depth: int = 0) -> bool:
    """JSON of bounded size made of short strings, finite numbers, booleans, lists and objects."""
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, (int, float)):
        return is_number(value) and abs(value) <= 2**53
    if isinstance(value, str):
        return len(value) <= MAX_TEXT
    if depth >= MAX_DEPTH:
        return False
    if isinstance(value, list):
        return len(value) <= MAX_ITEMS and all(is_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return len(value) <= MAX_ITEMS and all(
            isinstance(k, str) and len(k) <= MAX_TEXT and is_plain(v, depth + 1)
            for k, v in value.items()
        )
    return False


def _options(value: Any, where: str, key: str) -> None:
    if not isinstance(value, dict):
        raise _fail(where, key, "an object of options", value)
    for name, option in value.items():
        if not OPTION.match(name):
            raise _fail(where, f"{key} name", "an identifier", name)
        if not is_plain(option):
            raise _fail(where, f"{key}.{name}", "a plain JSON value", option)


def _text_list(value: Any, where: str, key: str, limit: int = MAX_CLASSES) -> None:
    if not isinstance(value, list) or len(value) > limit:
        raise _fail(where, key, f"a list of at most {limit} strings", value)
    for item in value:
        if not isinstance(item, str) or len(item) > MAX_TEXT:
            raise _fail(where, f"an item of {key}", "a short string", item)


def check_record(record: Any, where: str) -> dict[str, Any]:
    """``record`` if it fits the schema of ``config.json`` (names, options, sizes, class names,
    plugins), else a one-line CheckpointError naming the first value that does not."""
    if not isinstance(record, dict):
        raise _fail(where, "the config", "a JSON object", type(record).__name__)
    for key in ("model", "dataset"):
        value = record.get(key)
        if value is not None and not (isinstance(value, str) and NAME.match(value)):
            raise _fail(where, key, "a registry name", value)
    for part in ("generator", "discriminator", "loss", "regularizer"):
        spec = record.get(part)
        if spec is None or (isinstance(spec, str) and NAME.match(spec)):
            continue
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise _fail(where, part, 'an object {"name": ..., "options": {...}}', spec)
        if not NAME.match(spec["name"]):
            raise _fail(where, f"{part}.name", "a registry name", spec["name"])
        _options(spec.get("options", {}), where, f"{part}.options")
    for key, (low, high) in SIZES.items():
        value = record.get(key)
        if value is not None and not (type(value) is int and low <= value <= high):
            raise _fail(where, key, f"an integer in {low}..{high}", value)
    if record.get("dataset_options") is not None:
        _options(record["dataset_options"], where, "dataset_options")
    if record.get("class_names") is not None:
        _text_list(record["class_names"], where, "class_names")
    plugins = record.get("plugins")
    if plugins is not None and not (
        isinstance(plugins, dict)
        and all(isinstance(v, str) and len(v) <= MAX_TEXT for v in plugins.values())
    ):
        raise _fail(where, "plugins", 'an object {part: "distribution version"}', plugins)
    init = record.get("init")
    if init is not None and not (
        isinstance(init, dict)
        and len(init) <= 8
        and all(isinstance(v, str) and len(v) <= MAX_TEXT for v in init.values())
    ):
        raise _fail(where, "init", 'an object {"source": ..., "generator_sha256": ...}', init)
    version = record.get("gan_zoo_version")
    if version is not None and not (isinstance(version, str) and len(version) <= 64):
        raise _fail(where, "gan_zoo_version", "a version string", version)
    return record


def check_state(doc: Any, where: str) -> dict[str, Any]:
    """``doc`` if it fits the schema of ``training-state.json``, else a one-line error."""
    if not isinstance(doc, dict):
        raise _fail(where, "the training state", "a JSON object", type(doc).__name__)
    state = doc.get("state", {})
    if not isinstance(state, dict):
        raise _fail(where, "state", "a JSON object", state)
    for key in COUNTERS:
        if key in state and not (type(state[key]) is int and 0 <= state[key] < 2**62):
            raise _fail(where, f"state.{key}", "a whole number", state[key])
    for key in POSITIVE:
        if key in state and not (type(state[key]) is int and 1 <= state[key] < 2**62):
            raise _fail(where, f"state.{key}", "a positive whole number", state[key])
    if "elapsed_seconds" in state and not (
        is_number(state["elapsed_seconds"]) and state["elapsed_seconds"] >= 0
    ):
        raise _fail(where, "state.elapsed_seconds", "a number of seconds", state["elapsed_seconds"])
    if "hardware" in state and not (
        isinstance(state["hardware"], str) and len(state["hardware"]) <= MAX_TEXT
    ):
        raise _fail(where, "state.hardware", "a short string", state["hardware"])
    losses = state.get("last_losses", {})
    if not (isinstance(losses, dict) and all(is_number(v) or v is None for v in losses.values())):
        raise _fail(where, "state.last_losses", "an object of numbers", losses)
    for key in ("class_names", "warnings"):
        if key in state:
            _text_list(state[key], where, f"state.{key}")
    if "metrics" in state:
        check_metrics(state["metrics"], where, "state.metrics")
    parts = state.get("loss_state", {})
    if not (
        isinstance(parts, dict)
        and set(parts) <= {"loss", "regularizer"}
        and all(isinstance(v, dict) and is_plain(v) for v in parts.values())
    ):
        raise _fail(where, "state.loss_state", '{"loss": {...}, "regularizer": {...}}', parts)
    metric = doc.get("metric")
    if metric is not None and not (
        isinstance(metric, dict)
        and isinstance(metric.get("name"), str)
        and is_number(metric.get("value"))
        and isinstance(metric.get("higher_is_better"), bool)
    ):
        raise _fail(where, "metric", '{"name": ..., "value": ..., "higher_is_better": ...}', metric)
    if not isinstance(doc.get("ema", False), bool):
        raise _fail(where, "ema", "true or false", doc["ema"])
    for key in ("g_optimizer", "d_optimizer", "scaler"):
        if doc.get(key) is not None and not is_plain(doc[key]):
            raise _fail(where, key, "a JSON object of optimizer state", doc[key])
    return doc


def check_metrics(metrics: Any, where: str, key: str = "metrics") -> dict[str, Any]:
    """Evaluated metrics: ``{name: number | {"value": number, "protocol": {...}}}``."""
    if not isinstance(metrics, dict):
        raise _fail(where, key, "a JSON object", metrics)
    for name, item in metrics.items():
        value = item.get("value") if isinstance(item, dict) else item
        if not (value is None or is_number(value)) or not is_plain(item):
            raise _fail(
                where, f"{key}.{name}", 'a number or {"value": number, "protocol": {...}}', item
            )
    return metrics


def check_exports(exports: Any, where: str) -> dict[str, Any]:
    """Recorded exports (``exports.json``): ``{format: {"file": text, "check": {...}, ...}}``."""
    if not isinstance(exports, dict):
        raise _fail(where, "exports", "a JSON object", exports)
    for name, item in exports.items():
        ok = isinstance(item, dict) and is_plain(item) and isinstance(item.get("check", {}), dict)
        if not ok or not isinstance(item.get("file", ""), str):
            raise _fail(where, f"exports.{name}", '{"file": ..., "check": {...}}', item)
    return exports


def meta_json(meta: dict[str, str], key: str, default: Any, kind: type, where: str) -> Any:
    """The JSON value of metadata ``key`` of a safetensors header, which must be a ``kind``."""
    if key not in meta:
        return default
    value = parse_json(meta[key], f"{where} metadata '{key}'")
    if not isinstance(value, kind) or not is_plain(value):
        raise _fail(where, f"metadata '{key}'", f"a JSON {kind.__name__}", value)
    if kind is list:
        _text_list(value, where, f"metadata '{key}'")
    return value
