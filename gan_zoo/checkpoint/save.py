"""Saving a checkpoint: serialize in memory, write into a temp dir, fsync, rename, then move the
``latest`` (and ``best``) pointer and prune old checkpoints.

The write-to-temp, fsync, rename protocol is that of databases and of git's ref updates: a crash
or ``kill -9`` at any moment never leaves a half-written checkpoint as ``latest``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .._version import __version__
from ..config import TrainConfig
from ..errors import CheckpointError
from ..factory import network_kwargs
from ..safe_io import (
    atomic_write_text,
    current_umask,
    fsync_dir,
    inside_run,
    make_dirs,
    read_json,
    safetensors_bytes,
    write_durable,
)
from .card import card_metrics, render_card
from .layout import (
    BEST,
    CARD_FILE,
    CHECKPOINTS_DIR,
    CONFIG_FILE,
    DISCRIMINATOR_FILE,
    FORMAT,
    FORMAT_VERSION,
    GENERATOR_FILE,
    LATEST,
    SAMPLES_FILE,
    STATE_JSON_FILE,
    STATE_TENSORS_FILE,
    list_checkpoints,
    read_pointer,
    step_name,
)
from .record import (
    config_record,
    part_descriptions,
    record_hash,
    record_to_config,
    weights_metadata,
)
from .state import split_state, unwrap


def save_checkpoint(
    run_dir: str | os.PathLike,
    *,
    config: TrainConfig | dict[str, Any],
    generator: Any,
    discriminator: Any,
    g_optimizer: Any,
    d_optimizer: Any,
    ema_generator: Any = None,
    scaler: Any = None,
    state: dict[str, Any],
    rng: dict[str, Any],
    samples: Any = None,
    keep: int = 3,
    metric: tuple[str, float, bool] | None = None,
) -> Path:
    """Write ``RUN/checkpoints/step-NNNNNNN`` atomically, update ``latest`` (and ``best``), prune.

    ``config`` is the resolved :class:`TrainConfig` or its record (:func:`config_record`).
    ``state`` is JSON-able and holds at least ``step``, ``epoch``, ``images_seen``,
    ``elapsed_seconds``, ``hardware`` and ``last_losses``; ``class_names`` and ``metrics``
    (``{name: {"value": v, "protocol": ...}}``) are used by the model card when present.
    ``rng`` maps names to RNG state tensors (e.g. ``torch.get_rng_state()``). ``samples`` is a
    uint8 grid (C, H, W). ``metric`` is ``(name, value, higher_is_better)``: the checkpoint with
    the best value is kept as ``best`` and never pruned. ``keep=0`` keeps every checkpoint.
    """
    root = make_dirs(Path(run_dir) / CHECKPOINTS_DIR)
    inside_run(root / LATEST, follow_last=False)  # a checkpoints/ folder linked out of the run
    name = step_name(state["step"])
    # The record is built once and hashed once, for config.json and all three headers.
    record = config_record(config, class_names=state.get("class_names"))
    train_config = config if isinstance(config, TrainConfig) else record_to_config(record)
    digest = record_hash(record, train_config)
    g_kwargs = network_kwargs(train_config, "generator")
    d_kwargs = network_kwargs(train_config, "discriminator")
    # Every header says which step it is and, for conditional use, the class names.
    extra: dict[str, Any] = {"step": str(int(state["step"]))}
    if record.get("class_names"):
        extra["class_names"] = record["class_names"]
    metric_doc = _metric_doc(metric) if metric is not None else None

    # Serialize everything in memory first: a failure here touches no file.
    ema = unwrap(ema_generator) if ema_generator is not None else None
    sampler = ema if ema is not None else unwrap(generator)
    g_meta = weights_metadata(
        record, "generator", digest=digest, generator_kwargs=g_kwargs,
        ema="true" if ema is not None else "false", **extra,
    )  # fmt: skip
    d_meta = weights_metadata(
        record, "discriminator", digest=digest, discriminator_kwargs=d_kwargs, **extra
    )
    files = {
        GENERATOR_FILE: safetensors_bytes(sampler.state_dict(), g_meta),
        DISCRIMINATOR_FILE: safetensors_bytes(unwrap(discriminator).state_dict(), d_meta),
        **_state_files(
            generator, g_optimizer, d_optimizer, ema, scaler, state, rng, metric_doc,
            weights_metadata(record, "training-state", digest=digest, **extra),
        ),
        CONFIG_FILE: (json.dumps(record, indent=2) + "\n").encode(),
    }  # fmt: skip
    if samples is not None:
        from ..images import png_bytes

        files[SAMPLES_FILE] = png_bytes(samples)
    files[CARD_FILE] = render_card(
        record,
        state=state,
        metrics=card_metrics(state, metric_doc),
        samples=SAMPLES_FILE if samples is not None else None,
        generator_kwargs=g_kwargs,
        descriptions=part_descriptions(record),
    ).encode()

    # Write, then move the pointers: `latest` only ever names complete checkpoints.
    final = _write_directory(root, name, files)
    atomic_write_text(root / LATEST, name + "\n")  # root was checked to be inside the run
    if metric_doc is not None and _is_better(root, metric_doc):
        atomic_write_text(root / BEST, name + "\n")
    prune(root, keep)
    return final


def _metric_doc(metric: tuple[str, float, bool]) -> dict[str, Any]:
    """The tracked metric as ``training-state.json`` records it (``best`` compares these)."""
    name, value, higher_is_better = metric
    return {"name": str(name), "value": float(value), "higher_is_better": bool(higher_is_better)}


def _state_files(
    generator: Any,
    g_optimizer: Any,
    d_optimizer: Any,
    ema_generator: Any,
    scaler: Any,
    state: dict[str, Any],
    rng: dict[str, Any],
    metric_doc: dict[str, Any] | None,
    tensors_meta: dict[str, str],
) -> dict[str, bytes]:
    """``training-state.safetensors`` and ``training-state.json``."""
    tensors: dict[str, Any] = {}
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "gan_zoo_version": __version__,
        "state": state,
        "metric": metric_doc,
        "ema": ema_generator is not None,
        "g_optimizer": split_state(g_optimizer.state_dict(), "g_optimizer", tensors),
        "d_optimizer": split_state(d_optimizer.state_dict(), "d_optimizer", tensors),
        "scaler": split_state(scaler.state_dict(), "scaler", tensors)
        if scaler is not None
        else None,
        "rng": sorted(rng),
    }
    if ema_generator is not None:  # generator.safetensors holds EMA weights; keep the raw G here
        raw = unwrap(generator).state_dict()
        tensors.update({f"generator_raw/{k}": v for k, v in raw.items()})
    tensors.update({f"rng/{k}": v for k, v in rng.items()})
    return {
        STATE_TENSORS_FILE: safetensors_bytes(tensors, tensors_meta),
        STATE_JSON_FILE: (json.dumps(doc, indent=2) + "\n").encode(),
    }


def _write_directory(root: Path, name: str, files: dict[str, bytes]) -> Path:
    """Write ``files`` into a temp dir, fsync, then rename it to ``root/name``."""
    final, tmp = root / name, None
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=root))
        os.chmod(tmp, 0o777 & ~current_umask())
        for filename, data in files.items():
            write_durable(tmp / filename, data)
        fsync_dir(tmp)
        if os.path.lexists(final):  # the same step saved again (e.g. after a resume): swap it out
            old = root / f".old-{name}-{os.getpid()}"
            os.rename(final, old)
            os.rename(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, final)
    except BaseException as exc:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, (OSError, UnicodeError)):  # e.g. a full disk: older checkpoints stay
            try:
                latest = read_pointer(root, LATEST) or "no checkpoint"
            except CheckpointError:
                latest = "no readable checkpoint"
            raise CheckpointError(
                f"cannot write checkpoint {final} ({getattr(exc, 'strerror', None) or exc}); "
                f"{latest} is still the latest; free space or use another --out"
            ) from None
        raise
    fsync_dir(root)
    return final


def _is_better(root: Path, metric: dict[str, Any]) -> bool:
    """Whether ``metric`` beats the one recorded in the current ``best`` checkpoint."""
    value = metric["value"]
    if value != value:  # NaN is never the best
        return False
    try:
        best = read_pointer(root, BEST)
        old = read_json(root / str(best) / STATE_JSON_FILE).get("metric") if best else None
    except CheckpointError:  # no best yet, or one that cannot be read: this one is the best
        return True
    if not isinstance(old, dict) or old.get("name") != metric["name"]:
        return True
    if not isinstance(old.get("value"), (int, float)):
        return True
    return value > old["value"] if metric["higher_is_better"] else value < old["value"]


def prune(root: Path, keep: int) -> None:
    """Delete all but the last ``keep`` checkpoints (never ``latest`` or ``best``), and what a
    crash mid-save left behind: ``.tmp-*``/``.old-*`` folders and ``.latest.*.tmp``/
    ``.best.*.tmp`` files. Links are removed as links; nothing outside the run is touched."""
    protected = {_pointer_or_none(root, LATEST), _pointer_or_none(root, BEST)}
    steps = list_checkpoints(root.parent)
    doomed = steps[:-keep] if keep > 0 else []
    for path in doomed:
        if path.name not in protected:
            _remove(path)
    try:
        leftovers = [p for p in root.iterdir() if _is_leftover(p.name)]
    except OSError:
        return
    for path in leftovers:
        _remove(path)


def _is_leftover(name: str) -> bool:
    if name.startswith((".tmp-", ".old-")):
        return True
    return name.startswith((f".{LATEST}.", f".{BEST}.")) and name.endswith(".tmp")


def _remove(path: Path) -> None:
    """Delete a folder (or a file, or a link as a link), ignoring what is already gone."""
    try:
        if path.is_symlink() or not path.is_dir():
            path.unlink(missing_ok=True)
        else:
            shutil.rmtree(path, ignore_errors=True)
    except OSError:
        pass


def _pointer_or_none(root: Path, which: str) -> str | None:
    try:
        return read_pointer(root, which)
    except CheckpointError:
        return None
