"""Resuming and rebuilding: the training state restored from a checkpoint, and a generator
rebuilt from its config record, header and weights. Both read through one
:class:`~gan_zoo.checkpoint.reader.CheckpointReader` (as does ``--init``).

A generator is rebuilt through the registry with the arguments
:func:`gan_zoo.factory.network_kwargs` gives for the run's config, the same call that built it
for training; a generator whose plugin is missing names the ``pip install`` that fixes it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import CheckpointError, GanZooError
from ..factory import network_kwargs
from ..safe_io import shown
from .layout import (
    CHECKPOINTS_DIR,
    CONFIG_FILE,
    DISCRIMINATOR_FILE,
    DISCRIMINATOR_PART,
    EVENTS_LOG,
    GENERATOR_FILE,
    GENERATOR_PART,
    METRICS_LOG,
    RAW_GENERATOR_PREFIX,
    REPORT_FILE,
    SAMPLES_DIR,
    STATE_JSON_FILE,
    STATE_PART,
    STATE_TENSORS_FILE,
)
from .reader import CheckpointReader, open_checkpoint, resolve_checkpoint, with_retry
from .record import missing_part, part_entry, pin_parts, record_to_config
from .schema import meta_json, short
from .sources import open_source
from .training_state import TrainingState
from .weights import check_fits, load_weights

__all__ = [
    "StoredGenerator",
    "load_generator",
    "load_training_state",
    "resolve_checkpoint",
    "restore_training_state",
    "with_retry",
]


# Resuming.
def restore_training_state(
    path: str | os.PathLike, state: TrainingState, *, map_location: Any = "cpu"
) -> TrainingState:
    """Restore ``state``'s networks, optimizers and scaler in place from the checkpoint ``path``
    (a run dir: its ``latest``; or a checkpoint dir) and set its ``progress`` and ``rng``.

    Every file is checked (schema, sizes, tensor names, shapes and dtypes) before it is read into
    memory; weights are read onto ``map_location``; optimizer and RNG state stay on the CPU.
    """
    open_checkpoint(path, lambda reader: _restore(reader, state, map_location))
    return state


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

    The keyword form of :func:`restore_training_state`: ``state`` is ``training-state.json``'s
    ``state`` (step, epoch, ...), ``rng`` the RNG state tensors by stream name."""
    state = TrainingState(generator, discriminator, g_optimizer, d_optimizer, ema_generator, scaler)
    restore_training_state(path, state, map_location=map_location)
    return state.progress, state.rng


def _restore(reader: CheckpointReader, state: TrainingState, map_location: Any) -> None:
    check_run_writable(reader.path)
    doc = reader.state_doc()  # a lone weights file is refused here
    generator, discriminator, _ = state.networks()
    # Compare every header with the modules before reading a tensor.
    reader.check_fits(DISCRIMINATOR_FILE, discriminator, "the discriminator")
    reader.check_fits(GENERATOR_FILE, generator, "the generator")
    if doc.get("ema"):  # generator.safetensors holds the average; the trained G is in the state
        reader.check_fits(
            STATE_TENSORS_FILE, generator, "the generator", prefix=RAW_GENERATOR_PREFIX
        )
    _check_state_size(
        reader.header(STATE_TENSORS_FILE),
        (generator, discriminator),
        reader.shown(STATE_TENSORS_FILE),
    )
    names = (STATE_TENSORS_FILE, GENERATOR_FILE, DISCRIMINATOR_FILE)
    tensors = {
        name: reader.tensors(name, "cpu" if name == STATE_TENSORS_FILE else map_location)
        for name in names
    }
    state.load_state_dict(
        tensors, doc, {name: reader.shown(name) for name in (*names, STATE_JSON_FILE)}
    )


def _check_state_size(header: dict[str, Any], nets: tuple[Any, ...], source: str) -> None:
    """Optimizer moments, the raw generator and RNG states: a few times the networks' size."""
    model = sum(t.numel() * t.element_size() for net in nets for t in net.state_dict().values())
    limit = 4 * model + 64 * 2**20
    declared = sum(
        v["data_offsets"][1] - v["data_offsets"][0]
        for k, v in header.items()
        if k != "__metadata__"
    )
    if declared > limit:
        raise CheckpointError(
            f"{source} declares {declared:,} bytes of tensors, more than the state of these "
            f"networks can be ({limit:,}); it does not belong to this run: use another checkpoint"
        )


#: What a training writes into its run dir; a resumed run's must be the run's own.
RUN_ENTRIES = {
    METRICS_LOG: False,
    EVENTS_LOG: False,
    REPORT_FILE: False,
    "losses.png": False,
    "accuracy.png": False,
    CONFIG_FILE: False,
    SAMPLES_DIR: True,
    CHECKPOINTS_DIR: True,
    "tensorboard": True,
    "wandb": True,
}


def check_run_writable(ckpt: Path) -> None:
    """Before a resume writes anything: the run's files and folders must not be links, FIFOs or
    devices, so no write can leave the run (``os.replace`` would replace a link, but appends
    and folders would follow one)."""
    if ckpt.parent.name != CHECKPOINTS_DIR:
        return
    run = ckpt.parent.parent
    for name, folder in RUN_ENTRIES.items():
        try:
            mode = os.lstat(run / name).st_mode
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise CheckpointError(f"cannot read {shown(run / name)} ({exc.strerror})") from None
        ok = stat.S_ISDIR(mode) if folder else stat.S_ISREG(mode)
        if not ok:
            kind = (
                "a symbolic link"
                if stat.S_ISLNK(mode)
                else "not a regular " + ("folder" if folder else "file")
            )
            raise CheckpointError(
                f"{shown(run / name)} is {kind}; a resumed run writes there, and gan-zoo writes "
                "only into the run itself: remove it (or replace it with a copy) and resume again"
            )


# Reading a generator back.
class StoredGenerator(NamedTuple):
    """A generator rebuilt from a checkpoint, with what the checkpoint says about it."""

    net: Any  # the nn.Module, weights loaded, on the CPU, in training mode as built
    record: dict[str, Any]  # config.json (or the header's copy)
    class_names: list[str]
    source: Path  # the checkpoint dir, or the lone .safetensors file


def load_generator(path: str | os.PathLike) -> StoredGenerator:
    """Rebuild the generator of a run, a checkpoint dir or a ``generator.safetensors`` (or of a
    pretrained tag or ``hf-hub:owner/name``, found by :func:`~.sources.open_source`).

    The config and metadata are schema-checked, the generator is first built on the meta device
    and every tensor name, shape and dtype compared with the file's header, so a config or file
    that does not fit is a one-line error before anything is allocated; a registry name this
    installation lacks is a one-line error with the ``pip install`` of the plugin that has it.
    """
    return open_checkpoint(open_source(path), _load_generator)


def _load_generator(reader: CheckpointReader) -> StoredGenerator:
    weights = reader.file(GENERATOR_FILE)
    header, meta = reader.header(GENERATOR_FILE), reader.metadata()
    if meta.get("part", GENERATOR_PART) != GENERATOR_PART:
        part = meta["part"] if meta["part"] in (DISCRIMINATOR_PART, STATE_PART) else "other"
        raise CheckpointError(
            f"{shown(weights)} holds {part} weights; pass the {GENERATOR_FILE} of the checkpoint"
        )
    record = reader.record()
    if record is None:
        raise CheckpointError(
            f"{shown(weights)} carries no gan-zoo metadata and has no {CONFIG_FILE} beside it, so "
            "the generator it belongs to is unknown; put it next to the config.json of its run"
        )
    spec = record.get("generator")
    if not isinstance(spec, dict) or not spec.get("name"):
        raise CheckpointError(
            f"the config of {shown(reader.path)} names no generator; the checkpoint is corrupt"
        )
    name = spec["name"]
    entry = _generator_entry(name, record)
    kwargs = _generator_kwargs(record, meta, weights)
    net = _build_checked(entry, f"generator '{name}'", kwargs, header, weights)
    load_weights(net, reader.tensors(GENERATOR_FILE), shown(weights), f"generator '{name}'")
    class_names = record.get("class_names") or meta_json(
        meta, "class_names", [], list, shown(weights)
    )
    return StoredGenerator(net, record, list(class_names), reader.path)


def _build_checked(
    entry: Any, what: str, kwargs: dict[str, Any], header: dict[str, Any], weights: Path
) -> Any:
    """Build ``entry`` on the meta device (no memory), compare it with the file's header, then
    build it for real. A plugin network that cannot be built on the meta device is built once,
    for real, and compared after."""
    import torch

    try:
        with torch.device("meta"):
            shadow = entry.create(**kwargs)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(
            f"cannot build {what} with {short(kwargs)}: {short(str(exc))}"
        ) from None
    except Exception:  # noqa: BLE001 - e.g. a plugin that reads a tensor's value in __init__
        shadow = None
    if shadow is not None:
        check_fits(shadow.state_dict(), header, shown(weights), what)
    try:
        net = entry.create(**kwargs)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(
            f"cannot build {what} with {short(kwargs)}: {short(str(exc))}"
        ) from None
    check_fits(net.state_dict(), header, shown(weights), what)
    return net


def _generator_entry(name: str, record: dict[str, Any]) -> Any:
    """The registry entry of generator ``name``, or an error that says what to install."""
    missing = missing_part(record, ("generator",))
    if missing is not None:
        raise missing
    return part_entry({**record, "generator": name}, "generator")


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
        return network_kwargs(pin_parts(config, record), "generator")
    if "generator_kwargs" not in meta:
        raise CheckpointError(
            f"the config of {shown(weights)} cannot be read by this gan-zoo ({reason}) and the "
            "file records no generator_kwargs; upgrade gan-zoo"
        )
    kwargs = meta_json(meta, "generator_kwargs", {}, dict, shown(weights))
    if not all(key.isidentifier() for key in kwargs):
        raise CheckpointError(f"{shown(weights)} has corrupt gan-zoo metadata (generator_kwargs)")
    return kwargs
