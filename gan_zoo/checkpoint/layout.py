"""Where things are in a run: file names, the ``step-NNNNNNN`` folders, the ``latest``/``best``
pointers. Everything else in the package finds files through these names."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..safe_io import POINTER_CAP, read_capped

GENERATOR_FILE = "generator.safetensors"
DISCRIMINATOR_FILE = "discriminator.safetensors"
STATE_TENSORS_FILE = "training-state.safetensors"
STATE_JSON_FILE = "training-state.json"
CONFIG_FILE = "config.json"
CARD_FILE = "README.md"
SAMPLES_FILE = "samples.png"
METRICS_FILE = "metrics.json"
LATEST, BEST = "latest", "best"
#: The folder of a run that holds its checkpoints and pointers.
CHECKPOINTS_DIR = "checkpoints"
#: What a weights file's ``format`` metadata and ``training-state.json`` say they are.
FORMAT = "gan-zoo"
FORMAT_VERSION = 1

STEP_DIR = re.compile(r"^step-(\d+)$")
#: What a ``latest``/``best`` pointer may name: one folder of ``checkpoints/``, never a path.
POINTER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


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
