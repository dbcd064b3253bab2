"""What a checkpoint holds, read from its JSON and safetensors headers (``gan-zoo info``), and
evaluated metrics written back into it (``metrics.json`` and a re-rendered model card).

Reads no weights and imports no torch: ``gan-zoo info`` stays instant on large checkpoints.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..safe_io import atomic_write_json, atomic_write_text, read_json, read_metadata
from .card import card_metrics, render_card
from .layout import (
    BEST,
    CARD_FILE,
    CONFIG_FILE,
    GENERATOR_FILE,
    LATEST,
    METRICS_FILE,
    SAMPLES_FILE,
    STATE_JSON_FILE,
    list_checkpoints,
    read_pointer,
)
from .load import resolve_checkpoint
from .record import missing_part, part_descriptions, part_name


def _read_if_there(path: Path) -> dict[str, Any]:
    return read_json(path) if path.is_file() else {}


def describe(path: str | os.PathLike) -> dict[str, Any]:
    """What a run, checkpoint dir or lone ``generator.safetensors`` holds, from its JSON and headers."""
    given = Path(path).expanduser()
    ckpt = resolve_checkpoint(given)
    lone = ckpt.is_file()
    meta = read_metadata(ckpt if lone else ckpt / GENERATOR_FILE)
    if not lone and (ckpt / CONFIG_FILE).is_file():
        record = read_json(ckpt / CONFIG_FILE)
    else:
        record = json.loads(meta.get("config", "{}"))
    doc = {} if lone else _read_if_there(ckpt / STATE_JSON_FILE)
    state = doc.get("state") or {}
    evaluated = {} if lone else _read_if_there(ckpt / METRICS_FILE)
    files = [ckpt] if lone else sorted(p for p in ckpt.iterdir() if p.is_file())
    run = ckpt.parent.parent if not lone and ckpt.parent.name == "checkpoints" else None
    step = meta.get("step", "")
    return {
        "path": str(given),
        "checkpoint": str(ckpt),
        "run": str(run) if run is not None else None,
        "model": record.get("model"),
        "dataset": record.get("dataset"),
        "generator": part_name(record.get("generator")),
        "discriminator": part_name(record.get("discriminator")),
        "loss": part_name(record.get("loss")),
        "generator_kwargs": json.loads(meta.get("generator_kwargs", "{}")),
        "ema": meta.get("ema") == "true",
        "class_names": record.get("class_names") or json.loads(meta.get("class_names", "[]")),
        "step": state.get("step", int(step) if step.isdigit() else None),
        "epoch": state.get("epoch"),
        "images_seen": state.get("images_seen"),
        "elapsed_seconds": state.get("elapsed_seconds"),
        "hardware": state.get("hardware"),
        "last_losses": state.get("last_losses") or {},
        "metrics": card_metrics(state, doc.get("metric"), evaluated),
        "gan_zoo_version": record.get("gan_zoo_version", meta.get("gan_zoo_version")),
        "plugins": record.get("plugins") or {},
        "missing": str(missing) if (missing := missing_part(record)) is not None else None,
        "config_hash": meta.get("config_hash"),
        "files": {p.name: p.stat().st_size for p in files},
        "checkpoints": [p.name for p in list_checkpoints(run)] if run is not None else [],
        "latest": read_pointer(ckpt.parent, LATEST) if run is not None else None,
        "best": read_pointer(ckpt.parent, BEST) if run is not None else None,
    }


def record_metrics(checkpoint_dir: str | os.PathLike, metrics: dict[str, Any]) -> None:
    """Add evaluated metrics to a checkpoint (``metrics.json``) and rewrite its model card.

    ``metrics`` maps a name to ``{"value": v, "protocol": {...}}`` (feature network, number of
    samples, reference split), e.g. ``{"fid": {"value": 23.1, "protocol": {"feature_network":
    "inception-v3", "num_samples": 10000, "reference_split": "test"}}}``.
    """
    ckpt = Path(checkpoint_dir)
    if not (ckpt / GENERATOR_FILE).is_file():
        ckpt = resolve_checkpoint(ckpt)
    saved = _read_if_there(ckpt / METRICS_FILE)
    saved.update(json.loads(json.dumps(metrics)))  # a JSON copy: the caller's dict stays its own
    atomic_write_json(ckpt / METRICS_FILE, saved)
    record = read_json(ckpt / CONFIG_FILE)
    doc = _read_if_there(ckpt / STATE_JSON_FILE)
    state = doc.get("state") or {}
    header = read_metadata(ckpt / GENERATOR_FILE)
    text = render_card(
        record,
        state=state,
        metrics=card_metrics(state, doc.get("metric"), saved),
        samples=SAMPLES_FILE if (ckpt / SAMPLES_FILE).is_file() else None,
        generator_kwargs=json.loads(header.get("generator_kwargs", "{}")),
        descriptions=part_descriptions(record),
    )
    atomic_write_text(ckpt / CARD_FILE, text)
