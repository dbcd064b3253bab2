"""gan-zoo plugin: pretrained generators by tag, ``<preset>.<dataset>`` (``dcgan.fashion-mnist``).

Each tag is a checkpoint folder shipped as package data, ``weights/<tag>/``, holding only what
sampling needs: the EMA generator's ``generator.safetensors``, ``config.json``, the model card
``README.md`` and ``metrics.json`` (no discriminator, no optimizer state). The tags are listed in
``tags.json`` (``{tag: {"description": ..., ...}}``), which ``build.py`` at the root of the
distribution writes; the metrics and their protocol are read from each folder, never from here.
Registering imports neither torch nor the weights.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from gan_zoo.hookspecs import hookimpl

TAGS_FILE = "tags.json"
WEIGHTS_DIR = "weights"


def tags() -> dict[str, dict[str, Any]]:
    """The shipped tags and their table entries (empty when none is shipped yet)."""
    try:
        text = resources.files(__name__).joinpath(TAGS_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    table = json.loads(text)
    if not isinstance(table, dict):
        raise ValueError(f"{TAGS_FILE} must be an object {{tag: {{description: ...}}}}")
    return table


@hookimpl
def register_pretrained(register):
    for tag, entry in sorted(tags().items()):
        register(tag, f"{__name__}:{WEIGHTS_DIR}/{tag}", description=entry["description"])
