"""Finding and reading checkpoints: a path -> its checkpoint, the training state to resume from,
and a generator rebuilt from its config record, header and weights.

Nothing is unpickled: weights come from safetensors (header checked against the file size
first), the rest from JSON. A generator is rebuilt through the registry with the arguments
:func:`gan_zoo.factory.network_kwargs` gives for the run's config, the same call that built it
for training; a generator whose plugin is missing names the ``pip install`` that fixes it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NamedTuple

from .. import plugins
from ..errors import CheckpointError, GanZooError
from ..factory import network_kwargs
from ..safe_io import load_weights, read_header, read_json, read_metadata, read_safetensors
from .layout import (
    BEST,
    CHECKPOINTS_DIR,
    CONFIG_FILE,
    DISCRIMINATOR_FILE,
    GENERATOR_FILE,
    LATEST,
    STATE_JSON_FILE,
    STATE_TENSORS_FILE,
)
from .record import missing_part, record_to_config
from .state import join_state, load_optimizer, unwrap

_USAGE = "pass a run directory, a checkpoint directory or a generator .safetensors file"


# Finding.
def resolve_checkpoint(path: str | os.PathLike) -> Path:
    """A run dir -> its latest checkpoint dir; a checkpoint dir or a ``.safetensors`` file as is."""
    p = Path(path).expanduser()
    if not p.exists():
        raise CheckpointError(f"{p} does not exist; {_USAGE}")
    if p.is_file():
        if p.suffix == ".safetensors":
            read_header(p)
            return p
        if p.name in (LATEST, BEST):
            return _follow(p)
        raise CheckpointError(f"{p} is not a checkpoint; {_USAGE}")
    if (p / GENERATOR_FILE).is_file():
        return p
    for pointer in (p / CHECKPOINTS_DIR / LATEST, p / LATEST):
        if pointer.is_file():
            return _follow(pointer)
    if (p / CHECKPOINTS_DIR).is_dir():
        raise CheckpointError(
            f"{p} has no complete checkpoint yet (no checkpoints/latest); wait for the first save"
        )
    raise CheckpointError(
        f"{p} is not a gan-zoo run or checkpoint (no {GENERATOR_FILE}, no checkpoints/latest); {_USAGE}"
    )


def _follow(pointer: Path) -> Path:
    name = pointer.read_text().strip()
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise CheckpointError(
            f"{pointer} is corrupt (it should name a checkpoint directory like step-0000469)"
        )
    target = pointer.parent / name
    if not (target / GENERATOR_FILE).is_file():
        raise CheckpointError(
            f"{pointer} names {name}, which is missing or has no {GENERATOR_FILE}"
        )
    return target


# Resuming.
def load_training_state(
    path: str | os.PathLike,
    *,
    generator: Any,
    discriminator: Any,
    g_optimizer: Any,
    d_optimizer: Any,
    ema_generator: Any = None,
    scaler: Any = None,
    map_location: Any = "cpu",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Restore networks, optimizers and scaler in place; return ``(state, rng)`` to resume from.

    ``path`` is a run dir (its ``latest`` checkpoint) or a checkpoint dir. Weights are read onto
    ``map_location`` and copied into the modules; RNG states stay on the CPU.
    """
    ckpt = resolve_checkpoint(path)
    if ckpt.is_file():
        raise CheckpointError(
            f"{ckpt} holds weights only; resuming needs a checkpoint directory with {STATE_JSON_FILE}"
        )
    generator, discriminator = unwrap(generator), unwrap(discriminator)
    ema_generator = unwrap(ema_generator) if ema_generator is not None else None
    doc = read_json(ckpt / STATE_JSON_FILE)
    source = str(ckpt / STATE_TENSORS_FILE)
    tensors, _ = read_safetensors(ckpt / STATE_TENSORS_FILE)
    g_tensors, _ = read_safetensors(ckpt / GENERATOR_FILE, map_location)
    d_tensors, _ = read_safetensors(ckpt / DISCRIMINATOR_FILE, map_location)
    load_weights(discriminator, d_tensors, str(ckpt / DISCRIMINATOR_FILE), "the discriminator")
    if doc.get("ema"):  # generator.safetensors holds the average; the trained G is in the state
        raw = {k.split("/", 1)[1]: v for k, v in tensors.items() if k.startswith("generator_raw/")}
        load_weights(generator, raw, source, "the generator")
    else:
        load_weights(generator, g_tensors, str(ckpt / GENERATOR_FILE), "the generator")
    if ema_generator is not None:  # without saved EMA weights the average restarts from G
        load_weights(ema_generator, g_tensors, str(ckpt / GENERATOR_FILE), "the EMA generator")
    for opt, key in ((g_optimizer, "g_optimizer"), (d_optimizer, "d_optimizer")):
        data = doc.get(key)
        if not isinstance(data, dict):
            raise CheckpointError(
                f"{ckpt / STATE_JSON_FILE} has no {key} state; the checkpoint is incomplete"
            )
        load_optimizer(opt, data, tensors, source)
    if scaler is not None and doc.get("scaler"):
        scaler.load_state_dict(join_state(doc["scaler"], tensors, source))
    rng = {k.split("/", 1)[1]: v for k, v in tensors.items() if k.startswith("rng/")}
    return doc.get("state", {}), rng


# Reading a generator back.
class StoredGenerator(NamedTuple):
    """A generator rebuilt from a checkpoint, with what the checkpoint says about it."""

    net: Any  # the nn.Module, weights loaded, on the CPU, in training mode as built
    record: dict[str, Any]  # config.json (or the header's copy)
    class_names: list[str]
    source: Path  # the checkpoint dir, or the lone .safetensors file


def load_generator(path: str | os.PathLike) -> StoredGenerator:
    """Rebuild the generator of a run, a checkpoint dir or a ``generator.safetensors``.

    Every tensor name and shape is checked before loading; a registry name this installation
    lacks is a one-line error with the ``pip install`` of the plugin (or gan-zoo) that has it.
    """
    ckpt = resolve_checkpoint(path)
    weights = ckpt if ckpt.is_file() else ckpt / GENERATOR_FILE
    meta = read_metadata(weights)
    if meta.get("part", "generator") != "generator":
        raise CheckpointError(
            f"{weights} holds {meta['part']} weights; pass the {GENERATOR_FILE} of the checkpoint"
        )
    record = _record_for(ckpt, weights, meta)
    spec = record.get("generator")
    if not isinstance(spec, dict) or not spec.get("name"):
        raise CheckpointError(f"the config of {ckpt} names no generator; the checkpoint is corrupt")
    name = spec["name"]
    entry = _generator_entry(name, record)
    kwargs = _generator_kwargs(record, meta, weights)
    try:
        net = entry.create(**kwargs)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"cannot build generator '{name}' with {kwargs}: {exc}") from None
    tensors, _ = read_safetensors(weights)
    load_weights(net, tensors, str(weights), f"generator '{name}'")
    class_names = record.get("class_names") or json.loads(meta.get("class_names", "[]"))
    return StoredGenerator(net, record, list(class_names), ckpt)


def _record_for(ckpt: Path, weights: Path, meta: dict[str, str]) -> dict[str, Any]:
    """The config record: the checkpoint's config.json, else the file's own metadata, else a
    config.json lying next to a lone weights file."""
    if ckpt.is_dir() and (ckpt / CONFIG_FILE).is_file():
        return read_json(ckpt / CONFIG_FILE)
    if "config" in meta:
        try:
            return json.loads(meta["config"])
        except ValueError:
            raise CheckpointError(
                f"{weights} has corrupt gan-zoo metadata (config is not JSON)"
            ) from None
    if (weights.parent / CONFIG_FILE).is_file():
        return read_json(weights.parent / CONFIG_FILE)
    raise CheckpointError(
        f"{weights} carries no gan-zoo metadata and has no {CONFIG_FILE} beside it, so the "
        "generator it belongs to is unknown; put it next to the config.json of its run"
    )


def _generator_entry(name: str, record: dict[str, Any]) -> Any:
    """The registry entry of generator ``name``, or an error that says what to install."""
    missing = missing_part(record, ("generator",))
    if missing is not None:
        raise missing
    return plugins.registry("generators").get(name)


def _generator_kwargs(
    record: dict[str, Any], meta: dict[str, str], weights: Path
) -> dict[str, Any]:
    """The factory arguments: :func:`~gan_zoo.factory.network_kwargs` of the recorded config, as
    when the run built the generator; a record this gan-zoo cannot read as a config (an old or a
    newer run) falls back to the ``generator_kwargs`` its weights file recorded."""
    try:
        config = record_to_config(record)
    except (GanZooError, TypeError, ValueError) as exc:  # untrusted JSON of any shape
        reason = str(exc)
    else:
        return network_kwargs(config, "generator")
    if "generator_kwargs" not in meta:
        raise CheckpointError(
            f"the config of {weights} cannot be read by this gan-zoo ({reason}) and the file "
            "records no generator_kwargs; upgrade gan-zoo"
        )
    try:
        kwargs = json.loads(meta["generator_kwargs"])
    except ValueError:
        kwargs = None
    if not isinstance(kwargs, dict):
        raise CheckpointError(f"{weights} has corrupt gan-zoo metadata (generator_kwargs)")
    return kwargs
