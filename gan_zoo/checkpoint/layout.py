"""Where things are in a run: file names, the ``step-NNNNNNN`` folders, the ``latest``/``best``
pointers, and the names inside the files (tensor key prefixes, JSON keys, header parts).
Everything else in the package finds files and keys through these names."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ..safe_io import POINTER_CAP, read_capped

GENERATOR_FILE = "generator.safetensors"
DISCRIMINATOR_FILE = "discriminator.safetensors"
STATE_TENSORS_FILE = "training-state.safetensors"
STATE_JSON_FILE = "training-state.json"
CONFIG_FILE = "config.json"
CARD_FILE = "README.md"
SAMPLES_FILE = "samples.png"
METRICS_FILE = "metrics.json"
#: The exports of a checkpoint's generator (``gan-zoo export``) and their checks.
EXPORTS_FILE = "exports.json"
LATEST, BEST = "latest", "best"
#: The folder of a run that holds its checkpoints and pointers.
CHECKPOINTS_DIR = "checkpoints"
#: What a training writes into its run folder beside ``checkpoints/`` (and ``config.json``).
METRICS_LOG = "metrics.jsonl"
SAMPLES_DIR = "samples"
#: Warnings and notes of a training with the step they came at (NaN stops, resumes, ...), and
#: the HTML report of the run (``gan-zoo report``), refreshed at each checkpoint.
EVENTS_LOG = "events.jsonl"
REPORT_FILE = "report.html"

#: Every file name a run or checkpoint holds (an export never replaces one of them).
RUN_FILES = frozenset(
    {
        GENERATOR_FILE,
        DISCRIMINATOR_FILE,
        STATE_TENSORS_FILE,
        STATE_JSON_FILE,
        CONFIG_FILE,
        CARD_FILE,
        SAMPLES_FILE,
        METRICS_FILE,
        EXPORTS_FILE,
        METRICS_LOG,
        EVENTS_LOG,
        REPORT_FILE,
        LATEST,
        BEST,
    }
)

#: Tensor key prefixes in ``training-state.safetensors``: the trained generator when
#: ``generator.safetensors`` holds the EMA weights, and the RNG states by stream name.
RAW_GENERATOR_PREFIX = "generator_raw/"
RNG_PREFIX = "rng/"
#: Keys of ``training-state.json`` whose state is split into JSON and tensors (the tensors are
#: in ``training-state.safetensors`` under the same name as prefix: ``g_optimizer/state/0/...``).
G_OPTIMIZER, D_OPTIMIZER, SCALER = "g_optimizer", "d_optimizer", "scaler"
#: The ``part`` metadata of the three safetensors headers.
GENERATOR_PART, DISCRIMINATOR_PART, STATE_PART = "generator", "discriminator", "training-state"
#: What a weights file's ``format`` metadata and ``training-state.json`` say they are.
FORMAT = "gan-zoo"
FORMAT_VERSION = 1

STEP_DIR = re.compile(r"^step-(\d+)$")
#: What a ``latest``/``best`` pointer may name: one folder of ``checkpoints/``, never a path.
POINTER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def with_prefix(tensors: dict[str, Any], prefix: str) -> dict[str, Any]:
    """``tensors`` with every key under ``prefix`` (``rng/`` + ``torch``)."""
    return {f"{prefix}{key}": value for key, value in tensors.items()}


def under_prefix(entries: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The entries (tensors or header entries) whose key starts with ``prefix``, without it."""
    return {key[len(prefix) :]: value for key, value in entries.items() if key.startswith(prefix)}


def step_name(step: int) -> str:
    """``step-0000469``: zero-padded, so names sort like steps."""
    return f"step-{int(step):07d}"


def read_pointer(root: Path, which: str) -> str | None:
    """The checkpoint name in ``root/latest`` or ``root/best``; None when there is none.

    A pointer is untrusted input: it is read only if it is a small regular file inside the run
    (a FIFO, a link to ``/dev/zero`` or a huge file is a one-line CheckpointError), and a name
    that is not one folder (``../x``, a line of garbage) counts as no pointer."""
    path = Path(root) / which
    if not os.path.lexists(path):
        return None
    raw = read_capped(path, POINTER_CAP, "pointer file")
    name = raw.decode("utf-8", "replace").strip()
    return name if POINTER_NAME.match(name) else None


def list_checkpoints(run_dir: str | os.PathLike) -> list[Path]:
    """The complete checkpoint directories of a run, oldest first."""
    root = Path(run_dir) / CHECKPOINTS_DIR
    if not root.is_dir():
        return []
    try:
        entries = list(root.iterdir())
    except OSError:  # removed or replaced while we looked
        return []
    found = [(int(m.group(1)), p) for p in entries if (m := STEP_DIR.match(p.name)) and p.is_dir()]
    return [p for _, p in sorted(found)]
