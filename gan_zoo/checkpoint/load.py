"""Finding and reading checkpoints: a path -> its checkpoint, the training state to resume from,
and a generator rebuilt from its config record, header and weights.

Nothing is unpickled: weights come from safetensors (header checked against the file size
first), the rest from JSON. A generator is rebuilt through the registry with the arguments
:func:`gan_zoo.factory.network_kwargs` gives for the run's config, the same call that built it
for training; a generator whose plugin is missing names the ``pip install`` that fixes it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from ..errors import CheckpointError, GanZooError
from ..factory import network_kwargs
from ..safe_io import POINTER_CAP, MissingFile, inside_run, read_capped, read_json, shown
from .layout import (
    BEST,
    CHECKPOINTS_DIR,
    CONFIG_FILE,
    DISCRIMINATOR_FILE,
    GENERATOR_FILE,
    LATEST,
    POINTER_NAME,
    STATE_JSON_FILE,
    STATE_TENSORS_FILE,
)
from .record import missing_part, part_entry, pin_parts, record_to_config
from .schema import check_record, check_state, meta_json, short
from .sources import open_source
from .state import join_state, load_optimizer, load_scaler, unwrap
from .weights import check_fits, load_weights, read_header, read_safetensors

_USAGE = "pass a run directory, a checkpoint directory or a generator .safetensors file"
T = TypeVar("T")


# Finding.
def resolve_checkpoint(path: str | os.PathLike) -> Path:
    """A run dir -> its latest checkpoint dir; a checkpoint dir or a ``.safetensors`` file as is.

    The path given is followed as the user gave it; everything found from there (pointers, the
    checkpoint they name) must be inside the run (see :func:`gan_zoo.safe_io.inside_run`)."""
    p = Path(path).expanduser()
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise CheckpointError(f"{shown(p)} does not exist; {_USAGE}") from None
    except (OSError, UnicodeError) as exc:
        raise CheckpointError(f"cannot read {shown(p)} ({getattr(exc, 'strerror', None) or exc}); {_USAGE}") from None
    if stat.S_ISREG(mode):
        if p.suffix == ".safetensors":
            read_header(p)
            return p
        if p.name in (LATEST, BEST):
            return _follow(p)
        raise CheckpointError(f"{shown(p)} is not a checkpoint; {_USAGE}")
    if not stat.S_ISDIR(mode):
        raise CheckpointError(f"{shown(p)} is not a file or folder (a FIFO or a device?); {_USAGE}")
    if os.path.lexists(p / GENERATOR_FILE):
        return p
    for pointer in (p / CHECKPOINTS_DIR / LATEST, p / LATEST):
        if os.path.lexists(pointer):
            return _follow(pointer)
    if (p / CHECKPOINTS_DIR).is_dir():
        raise CheckpointError(
            f"{shown(p)} has no complete checkpoint yet (no checkpoints/latest); wait for the first save"
        )
    raise CheckpointError(
        f"{shown(p)} is not a gan-zoo run or checkpoint (no {GENERATOR_FILE}, no checkpoints/latest); {_USAGE}"
    )


def _follow(pointer: Path) -> Path:
    name = read_capped(pointer, POINTER_CAP, "pointer file").decode("utf-8", "replace").strip()
    if not POINTER_NAME.match(name):
        raise CheckpointError(
            f"{shown(pointer)} is corrupt (it should name a checkpoint directory like step-0000469)"
        )
    target = pointer.parent / name
    inside_run(target)  # a checkpoint folder that is a link out of the run is refused
    if not os.path.lexists(target / GENERATOR_FILE):
        raise MissingFile(f"{shown(pointer)} names {name}, which is missing or has no {GENERATOR_FILE}")
    return target


def with_retry(path: str | os.PathLike, read: Callable[[Path], T]) -> T:
    """``read(checkpoint)`` for the checkpoint ``path`` resolves to. A training may prune or
    replace that checkpoint while it is read: then the pointer is read again, once; a second
    miss is a one-line "being written" error, never "corrupt"."""
    for attempt in range(2):
        ckpt = None
        try:
            ckpt = resolve_checkpoint(path)
            return read(ckpt)
        except MissingFile:
            if attempt == 0 and (ckpt is None or os.path.lexists(ckpt)):
                raise  # nothing vanished under us: the run is really incomplete
            if attempt:
                raise CheckpointError(
                    f"{shown(path)} is being written by a training (a checkpoint was pruned or "
                    "replaced while it was read); try again"
                ) from None
    raise AssertionError("unreachable")  # pragma: no cover


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

    ``path`` is a run dir (its ``latest`` checkpoint) or a checkpoint dir. Every file is checked
    (schema, sizes, tensor names, shapes and dtypes) before it is read into memory; weights are
    read onto ``map_location`` and copied into the modules; RNG states stay on the CPU.
    """
    nets = (unwrap(generator), unwrap(discriminator),
            unwrap(ema_generator) if ema_generator is not None else None)  # fmt: skip
    return with_retry(
        path, lambda ckpt: _restore(ckpt, *nets, g_optimizer, d_optimizer, scaler, map_location)
    )


def _restore(
    ckpt: Path, generator: Any, discriminator: Any, ema_generator: Any,
    g_optimizer: Any, d_optimizer: Any, scaler: Any, map_location: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:  # fmt: skip
    if ckpt.is_file():
        raise CheckpointError(
            f"{shown(ckpt)} holds weights only; resuming needs a checkpoint directory with {STATE_JSON_FILE}"
        )
    check_run_writable(ckpt)
    state_file = ckpt / STATE_JSON_FILE
    doc = check_state(read_json(state_file), shown(state_file))
    source = ckpt / STATE_TENSORS_FILE
    g_file, d_file = ckpt / GENERATOR_FILE, ckpt / DISCRIMINATOR_FILE
    # Compare every header with the modules before reading a tensor.
    check_fits(discriminator.state_dict(), read_header(d_file), shown(d_file), "the discriminator")
    g_header = read_header(g_file)
    check_fits(generator.state_dict(), g_header, shown(g_file), "the generator")
    state_header = read_header(source)
    if doc.get("ema"):  # generator.safetensors holds the average; the trained G is in the state
        raw = {k.split("/", 1)[1]: v for k, v in state_header.items() if k.startswith("generator_raw/")}
        check_fits(generator.state_dict(), raw, shown(source), "the generator")
    _check_state_size(state_header, (generator, discriminator), source)
    tensors, _ = read_safetensors(source)
    g_tensors, _ = read_safetensors(g_file, map_location)
    d_tensors, _ = read_safetensors(d_file, map_location)
    load_weights(discriminator, d_tensors, shown(d_file), "the discriminator")
    if doc.get("ema"):
        raw = {k.split("/", 1)[1]: v for k, v in tensors.items() if k.startswith("generator_raw/")}
        load_weights(generator, raw, shown(source), "the generator")
    else:
        load_weights(generator, g_tensors, shown(g_file), "the generator")
    if ema_generator is not None:  # without saved EMA weights the average restarts from G
        load_weights(ema_generator, g_tensors, shown(g_file), "the EMA generator")
    for opt, key in ((g_optimizer, "g_optimizer"), (d_optimizer, "d_optimizer")):
        data = doc.get(key)
        if not isinstance(data, dict):
            raise CheckpointError(
                f"{shown(state_file)} has no {key} state; the checkpoint is incomplete"
            )
        load_optimizer(opt, data, tensors, shown(source))
    if scaler is not None and doc.get("scaler"):
        load_scaler(scaler, join_state(doc["scaler"], tensors, shown(source)), shown(source))
    rng = {k.split("/", 1)[1]: v for k, v in tensors.items() if k.startswith("rng/")}
    _check_rng(rng, shown(source))
    return doc.get("state", {}), rng


def _check_state_size(header: dict[str, Any], nets: tuple[Any, ...], source: Path) -> None:
    """Optimizer moments, the raw generator and RNG states: a few times the networks' size."""
    model = sum(t.numel() * t.element_size() for net in nets for t in net.state_dict().values())
    limit = 4 * model + 64 * 2**20
    declared = sum(v["data_offsets"][1] - v["data_offsets"][0]
                   for k, v in header.items() if k != "__metadata__")  # fmt: skip
    if declared > limit:
        raise CheckpointError(
            f"{shown(source)} declares {declared:,} bytes of tensors, more than the state of these "
            f"networks can be ({limit:,}); it does not belong to this run: use another checkpoint"
        )


#: Bytes of a CUDA (Philox) generator's state: its seed and offset, 8 bytes each. A CPU
#: generator's (Mersenne Twister) is ``torch.get_rng_state().numel()``: 5,056 bytes.
PHILOX_STATE_BYTES = 16


def rng_state_device(state: Any) -> str:
    """``"cpu"`` or ``"cuda"``: the kind of generator an RNG state vector was taken from, by its
    size (the two kinds' states cannot be exchanged, see :class:`~gan_zoo.training.streams.Streams`)."""
    import torch

    if state.numel() == PHILOX_STATE_BYTES:
        return "cuda"
    return "cpu" if state.numel() == torch.get_rng_state().numel() else "?"


def _check_rng(rng: dict[str, Any], source: str) -> None:
    """RNG states are uint8 vectors of the sizes torch's generators use: the CPU generator's for
    ``torch`` and ``data``, a CPU or a CUDA generator's for ``noise`` (it lives on the training
    device), a CUDA generator's for ``cuda``."""
    import torch

    cpu = torch.get_rng_state().numel()
    sizes = {"torch": (cpu,), "data": (cpu,), "noise": (cpu, PHILOX_STATE_BYTES),
             "cuda": (PHILOX_STATE_BYTES,)}  # fmt: skip
    for name, value in rng.items():
        ok = value.dtype == torch.uint8 and value.dim() == 1
        if ok and name in sizes:
            ok = value.numel() in sizes[name]
        if not ok:
            want = " or ".join(f"{n:,}" for n in sizes.get(name, (cpu,)))
            raise CheckpointError(
                f"{source}: RNG state '{name[:40]}' is not a uint8 vector of {want} bytes; the "
                "checkpoint is corrupt"
            )


#: What a training writes into its run dir; a resumed run's must be the run's own.
RUN_ENTRIES = {"metrics.jsonl": False, "losses.png": False, "accuracy.png": False,
               "config.json": False, "samples": True, CHECKPOINTS_DIR: True, "tensorboard": True}  # fmt: skip


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
            kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular " + ("folder" if folder else "file")
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
    return with_retry(open_source(path), _load_generator)


def _load_generator(ckpt: Path) -> StoredGenerator:
    weights = ckpt if ckpt.is_file() else ckpt / GENERATOR_FILE
    header = read_header(weights)
    meta = header.get("__metadata__", {})
    if meta.get("part", "generator") != "generator":
        part = meta["part"] if meta["part"] in ("discriminator", "training-state") else "other"
        raise CheckpointError(
            f"{shown(weights)} holds {part} weights; pass the {GENERATOR_FILE} of the checkpoint"
        )
    record = _record_for(ckpt, weights, meta)
    spec = record.get("generator")
    if not isinstance(spec, dict) or not spec.get("name"):
        raise CheckpointError(f"the config of {shown(ckpt)} names no generator; the checkpoint is corrupt")
    name = spec["name"]
    entry = _generator_entry(name, record)
    kwargs = _generator_kwargs(record, meta, weights)
    net = _build_checked(entry, f"generator '{name}'", kwargs, header, weights)
    tensors, _ = read_safetensors(weights)
    load_weights(net, tensors, shown(weights), f"generator '{name}'")
    class_names = record.get("class_names") or meta_json(meta, "class_names", [], list, shown(weights))
    return StoredGenerator(net, record, list(class_names), ckpt)


def _build_checked(entry: Any, what: str, kwargs: dict[str, Any], header: dict[str, Any],
                   weights: Path) -> Any:  # fmt: skip
    """Build ``entry`` on the meta device (no memory), compare it with the file's header, then
    build it for real. A plugin network that cannot be built on the meta device is built once,
    for real, and compared after."""
    import torch

    try:
        with torch.device("meta"):
            shadow = entry.create(**kwargs)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"cannot build {what} with {short(kwargs)}: {short(str(exc))}") from None
    except Exception:  # noqa: BLE001 - e.g. a plugin that reads a tensor's value in __init__
        shadow = None
    if shadow is not None:
        check_fits(shadow.state_dict(), header, shown(weights), what)
    try:
        net = entry.create(**kwargs)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"cannot build {what} with {short(kwargs)}: {short(str(exc))}") from None
    check_fits(net.state_dict(), header, shown(weights), what)
    return net


def _record_for(ckpt: Path, weights: Path, meta: dict[str, str]) -> dict[str, Any]:
    """The config record: the checkpoint's config.json, else the file's own metadata, else a
    config.json lying next to a lone weights file; schema-checked in every case."""
    if ckpt.is_dir() and os.path.lexists(ckpt / CONFIG_FILE):
        return check_record(read_json(ckpt / CONFIG_FILE), shown(ckpt / CONFIG_FILE))
    if "config" in meta:
        return check_record(meta_json(meta, "config", {}, dict, shown(weights)), shown(weights))
    if os.path.lexists(weights.parent / CONFIG_FILE):
        return check_record(read_json(weights.parent / CONFIG_FILE), shown(weights.parent / CONFIG_FILE))
    raise CheckpointError(
        f"{shown(weights)} carries no gan-zoo metadata and has no {CONFIG_FILE} beside it, so the "
        "generator it belongs to is unknown; put it next to the config.json of its run"
    )


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
