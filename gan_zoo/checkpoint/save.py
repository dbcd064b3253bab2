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
    DISCRIMINATOR_PART,
    GENERATOR_FILE,
    GENERATOR_PART,
    LATEST,
    SAMPLES_FILE,
    STATE_JSON_FILE,
    STATE_PART,
    STATE_TENSORS_FILE,
    list_checkpoints,
    read_pointer,
    step_name,
)
from .record import (
    config_record,
    part_descriptions,
    portable_config,
    record_hash,
    record_to_config,
    weights_metadata,
)
from .training_state import TrainingState


def save_checkpoint(
    run_dir: str | os.PathLike,
    state: TrainingState,
    config: TrainConfig | dict[str, Any],
    *,
    keep: int = 3,
) -> Path:
    """Write ``RUN/checkpoints/step-NNNNNNN`` atomically, update ``latest`` (and ``best``), prune.

    ``state`` is the :class:`~gan_zoo.checkpoint.training_state.TrainingState` to save (its
    ``progress["step"]`` names the folder; its ``metric``, when set, keeps the checkpoint with
    the best value as ``best``, never pruned). ``config`` is the resolved :class:`TrainConfig`
    or its record (:func:`config_record`). ``keep=0`` keeps every checkpoint.
    """
    root = make_dirs(Path(run_dir) / CHECKPOINTS_DIR)
    inside_run(root / LATEST, follow_last=False)  # a checkpoints/ folder linked out of the run
    name = step_name(state.step)
    files = checkpoint_files(state, config)

    # Write, then move the pointers: `latest` only ever names complete checkpoints.
    final = _write_directory(root, name, files)
    atomic_write_text(root / LATEST, name + "\n")  # root was checked to be inside the run
    metric_doc = state.metric_doc
    if metric_doc is not None and _is_better(root, metric_doc):
        atomic_write_text(root / BEST, name + "\n")
    prune(root, keep)
    return final


def checkpoint_files(
    state: TrainingState, config: TrainConfig | dict[str, Any]
) -> dict[str, bytes]:
    """The bytes of every file of ``state``'s checkpoint, by file name, serialized in memory (a
    failure here touches no file): weights with their headers, training state, config, card."""
    progress = state.progress
    # The record is built once and hashed once, for config.json and all three headers; the
    # hash is of the config as recorded (no machine path in ``out``).
    if isinstance(config, TrainConfig):
        config = portable_config(config)
    record = config_record(config, class_names=progress.get("class_names"))
    train_config = config if isinstance(config, TrainConfig) else record_to_config(record)
    digest = record_hash(record, train_config)
    g_kwargs = network_kwargs(train_config, "generator")
    d_kwargs = network_kwargs(train_config, "discriminator")
    # Every header says which step it is and, for conditional use, the class names.
    extra: dict[str, Any] = {"step": str(state.step)}
    if record.get("class_names"):
        extra["class_names"] = record["class_names"]

    tensors, doc = state.state_dict()
    g_meta = weights_metadata(
        record,
        GENERATOR_PART,
        digest=digest,
        generator_kwargs=g_kwargs,
        ema="true" if doc["ema"] else "false",
        **extra,
    )
    d_meta = weights_metadata(
        record, DISCRIMINATOR_PART, digest=digest, discriminator_kwargs=d_kwargs, **extra
    )
    state_meta = weights_metadata(record, STATE_PART, digest=digest, **extra)
    files = {
        GENERATOR_FILE: safetensors_bytes(tensors[GENERATOR_FILE], g_meta),
        DISCRIMINATOR_FILE: safetensors_bytes(tensors[DISCRIMINATOR_FILE], d_meta),
        STATE_TENSORS_FILE: safetensors_bytes(tensors[STATE_TENSORS_FILE], state_meta),
        STATE_JSON_FILE: (json.dumps(doc, indent=2) + "\n").encode(),
        CONFIG_FILE: (json.dumps(record, indent=2) + "\n").encode(),
    }
    if state.samples is not None:
        from ..images import png_bytes

        files[SAMPLES_FILE] = png_bytes(state.samples)
    files[CARD_FILE] = render_card(
        record,
        state=progress,
        metrics=card_metrics(progress, doc["metric"]),
        samples=SAMPLES_FILE if state.samples is not None else None,
        generator_kwargs=g_kwargs,
        descriptions=part_descriptions(record),
    ).encode()
    return files


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
