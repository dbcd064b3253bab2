"""What a checkpoint holds, read from its JSON and safetensors headers (``gan-zoo info``), and
evaluated metrics and checked exports written back into it (``metrics.json``, ``exports.json``
and a re-rendered model card).

Reads no weights and imports no torch: ``gan-zoo info`` stays instant on large checkpoints.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from ..safe_io import (
    MissingFile,
    atomic_write_json,
    atomic_write_text,
    inside_run,
    read_json,
    shown,
)
from .card import card_metrics, render_card
from .layout import (
    BEST,
    CARD_FILE,
    CHECKPOINTS_DIR,
    CONFIG_FILE,
    EXPORTS_FILE,
    GENERATOR_FILE,
    LATEST,
    METRICS_FILE,
    SAMPLES_FILE,
    STATE_JSON_FILE,
    list_checkpoints,
    read_pointer,
)
from .reader import resolve_checkpoint, with_retry
from .record import missing_part, part_descriptions, part_name, plugin_shown
from .schema import check_exports, check_metrics, check_record, check_state, meta_json
from .sources import find_source
from .weights import read_metadata


def _read_if_there(path: Path) -> dict[str, Any]:
    return read_json(path) if os.path.lexists(path) else {}


def _files(ckpt: Path) -> dict[str, int]:
    """``{name: size}`` of the regular files of a checkpoint (links and others are not listed)."""
    try:
        entries = sorted(ckpt.iterdir())
        sizes = {p.name: os.lstat(p) for p in entries}
    except FileNotFoundError:  # pruned while we looked
        raise MissingFile(f"{shown(ckpt)} does not exist") from None
    return {name: st.st_size for name, st in sizes.items() if stat.S_ISREG(st.st_mode)}


def describe(path: str | os.PathLike) -> dict[str, Any]:
    """What a run, checkpoint dir or lone ``generator.safetensors`` (or a pretrained tag, or
    ``hf-hub:owner/name``) holds, from its JSON and headers (every file schema-checked; a
    checkpoint pruned meanwhile is looked up again)."""
    source = find_source(path)
    given = shown(source.path) if source.kind == "path" else source.spec
    return {"path": given, "source": source.kind, **with_retry(source.path, _describe)}


def _describe(ckpt: Path) -> dict[str, Any]:
    lone = ckpt.is_file()
    weights = ckpt if lone else ckpt / GENERATOR_FILE
    where = shown(weights)
    meta = read_metadata(weights)
    if not lone and os.path.lexists(ckpt / CONFIG_FILE):
        record = check_record(read_json(ckpt / CONFIG_FILE), shown(ckpt / CONFIG_FILE))
    else:
        record = check_record(meta_json(meta, "config", {}, dict, where), where)
    doc = (
        {}
        if lone
        else check_state(_read_if_there(ckpt / STATE_JSON_FILE), shown(ckpt / STATE_JSON_FILE))
    )
    state = doc.get("state") or {}
    evaluated = (
        {}
        if lone
        else check_metrics(_read_if_there(ckpt / METRICS_FILE), shown(ckpt / METRICS_FILE))
    )
    run = ckpt.parent.parent if not lone and ckpt.parent.name == CHECKPOINTS_DIR else None
    step = meta.get("step", "")
    return {
        "checkpoint": shown(ckpt),
        "run": shown(run) if run is not None else None,
        "model": record.get("model"),
        "dataset": record.get("dataset"),
        "generator": part_name(record.get("generator")),
        "discriminator": part_name(record.get("discriminator")),
        "loss": part_name(record.get("loss")),
        "generator_kwargs": meta_json(meta, "generator_kwargs", {}, dict, where),
        "ema": meta.get("ema") == "true",
        "class_names": record.get("class_names") or meta_json(meta, "class_names", [], list, where),
        "step": state.get("step", int(step) if step.isdigit() and len(step) < 19 else None),
        "epoch": state.get("epoch"),
        "images_seen": state.get("images_seen"),
        "elapsed_seconds": state.get("elapsed_seconds"),
        "hardware": state.get("hardware"),
        "last_losses": state.get("last_losses") or {},
        "metrics": card_metrics(state, doc.get("metric"), evaluated),
        "gan_zoo_version": record.get(
            "gan_zoo_version", meta.get("gan_zoo_version", "")[:64] or None
        ),
        "plugins": {k: plugin_shown(v) for k, v in (record.get("plugins") or {}).items()},
        "missing": str(missing) if (missing := missing_part(record)) is not None else None,
        "config_hash": meta.get("config_hash", "")[:64] or None,
        "files": {ckpt.name: ckpt.stat().st_size} if lone else _files(ckpt),
        "checkpoints": [p.name for p in list_checkpoints(run)] if run is not None else [],
        "latest": read_pointer(ckpt.parent, LATEST) if run is not None else None,
        "best": read_pointer(ckpt.parent, BEST) if run is not None else None,
    }


def record_metrics(checkpoint_dir: str | os.PathLike, metrics: dict[str, Any]) -> None:
    """Add evaluated metrics to a checkpoint (``metrics.json``) and rewrite its model card.

    ``metrics`` maps a name to ``{"value": v, "protocol": {...}}`` (feature network, number of
    samples, reference split), e.g. ``{"fid": {"value": 23.1, "protocol": {"feature_network":
    "inception-v3", "num_samples": 10000, "reference_split": "test"}}}``. Both files are
    replaced atomically, never written through a link, and only inside the checkpoint's run.
    """
    ckpt = _checkpoint_of(checkpoint_dir, METRICS_FILE)
    saved = check_metrics(_read_if_there(ckpt / METRICS_FILE), shown(ckpt / METRICS_FILE))
    saved.update(json.loads(json.dumps(metrics)))  # a JSON copy: the caller's dict stays its own
    text = _card(ckpt, saved, _exports_of(ckpt))
    atomic_write_json(ckpt / METRICS_FILE, saved, run=True)
    atomic_write_text(ckpt / CARD_FILE, text, run=True)


def record_exports(checkpoint_dir: str | os.PathLike, exports: dict[str, Any]) -> None:
    """Add exports of the generator to a checkpoint (``exports.json``, one entry per format:
    ``{"onnx": {"file": ..., "created": ..., "check": {"max_abs_diff": ..., ...}}}``) and
    rewrite its model card; replaced atomically, as :func:`record_metrics` does."""
    ckpt = _checkpoint_of(checkpoint_dir, EXPORTS_FILE)
    saved = _exports_of(ckpt)
    saved.update(json.loads(json.dumps(exports)))
    evaluated = check_metrics(_read_if_there(ckpt / METRICS_FILE), shown(ckpt / METRICS_FILE))
    text = _card(ckpt, evaluated, saved)
    atomic_write_json(ckpt / EXPORTS_FILE, saved, run=True)
    atomic_write_text(ckpt / CARD_FILE, text, run=True)


def _checkpoint_of(checkpoint_dir: str | os.PathLike, name: str) -> Path:
    """The checkpoint folder of a run or checkpoint, whose file ``name`` may be written (a
    checkpoint folder linked out of its run may not)."""
    ckpt = Path(checkpoint_dir)
    if not os.path.lexists(ckpt / GENERATOR_FILE):
        ckpt = resolve_checkpoint(ckpt)
    inside_run(ckpt / name, follow_last=False)
    return ckpt


def _exports_of(ckpt: Path) -> dict[str, Any]:
    return check_exports(_read_if_there(ckpt / EXPORTS_FILE), shown(ckpt / EXPORTS_FILE))


def _card(ckpt: Path, evaluated: dict[str, Any], exports: dict[str, Any]) -> str:
    """The model card of ``ckpt`` rendered again with these metrics and exports."""
    record = check_record(read_json(ckpt / CONFIG_FILE), shown(ckpt / CONFIG_FILE))
    doc = check_state(_read_if_there(ckpt / STATE_JSON_FILE), shown(ckpt / STATE_JSON_FILE))
    state = doc.get("state") or {}
    header = read_metadata(ckpt / GENERATOR_FILE)
    return render_card(
        record,
        state=state,
        metrics=card_metrics(state, doc.get("metric"), evaluated),
        samples=SAMPLES_FILE if os.path.lexists(ckpt / SAMPLES_FILE) else None,
        generator_kwargs=meta_json(
            header, "generator_kwargs", {}, dict, shown(ckpt / GENERATOR_FILE)
        ),
        descriptions=part_descriptions(record),
        exports=exports,
    )
