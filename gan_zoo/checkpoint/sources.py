"""Where a generator can come from: a path, a pretrained tag, or a Hugging Face Hub repository.

:func:`open_source` is the one place that turns what a user typed into a checkpoint folder (or
a lone weights file); ``gan_zoo.load``, ``generate``, ``interpolate``, ``info``, ``evaluate``
and ``train --init`` all go through it. The order:

1. an existing path (file, folder or link) wins, whatever it is called;
2. ``hf-hub:owner/name[@revision]``: downloaded with ``huggingface_hub`` (see :mod:`.hub`);
3. a registered pretrained tag (``dcgan.fashion-mnist`` or ``distribution/dcgan.fashion-mnist``,
   the ``pretrained`` kind): a checkpoint folder shipped inside a Python package;
4. anything else is a one-line error, with did-you-mean over the tags when it looks like a name.

Design origin: timm's ``create_model("resnet50.a1_in1k", pretrained=True)`` and its
``hf-hub:`` prefix. Importing this module does not import torch or ``huggingface_hub``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, NamedTuple

from .. import plugins
from ..errors import CheckpointError, did_you_mean
from ..safe_io import read_json, shown
from .layout import CONFIG_FILE, GENERATOR_FILE, METRICS_FILE
from .schema import check_metrics, check_record

HUB_PREFIX = "hf-hub:"
#: What a name looks like (a tag, maybe qualified by its distribution), as opposed to a path.
_NAME_LIKE = re.compile(r"^(?:[A-Za-z0-9][A-Za-z0-9._-]*/)?[a-z0-9][a-z0-9.-]*$")
_USAGE = (
    "pass a run directory, a checkpoint directory, a generator .safetensors file, a pretrained "
    "tag (see 'gan-zoo list pretrained') or hf-hub:owner/name"
)


class Source(NamedTuple):
    """What :func:`find_source` found: the spec as given, the local path, and its kind."""

    spec: str
    path: Path
    kind: str  # "path", "pretrained" or "hf-hub"

    @property
    def writable(self) -> bool:
        """Whether gan-zoo may write into it (``evaluate``'s metrics): only the user's own runs,
        never an installed package or a download cache."""
        return self.kind == "path"


def find_source(spec: str | os.PathLike, *, training: bool = False) -> Source:
    """Resolve ``spec`` (see the module's docstring). ``training`` also fetches what starting a
    run from the weights reads (the discriminator and training state) from the Hub."""
    spec = os.fspath(spec)  # a Path("hf-hub:owner/name") from click is still a spec
    if isinstance(spec, bytes):
        return Source(shown(spec), Path(os.fsdecode(spec)), "path")
    path = Path(spec).expanduser()
    if os.path.lexists(path):
        return Source(spec, path, "path")
    if spec.startswith(HUB_PREFIX):
        from .hub import download

        return Source(spec, download(spec[len(HUB_PREFIX) :], training=training), "hf-hub")
    tags = plugins.registry("pretrained")
    if spec in tags:
        return Source(spec, tags.get(spec).load(), "pretrained")
    owners = {entry.plugin.distribution for entry in tags.list()}
    qualified = "/" not in spec or spec.split("/", 1)[0] in owners
    if _NAME_LIKE.match(spec) and qualified and not spec.endswith(".safetensors"):
        suggestion = did_you_mean(spec, tags.names())
        if suggestion:
            raise CheckpointError(
                f"unknown pretrained tag '{spec}' (and no such file or folder){suggestion}"
            )
        raise CheckpointError(
            f"'{spec}' is neither a file or folder nor a pretrained tag; {_USAGE}"
        )
    raise CheckpointError(f"{shown(path)} does not exist; {_USAGE}")


def open_source(spec: str | os.PathLike, *, training: bool = False) -> Path:
    """The local path of ``spec``: a run, checkpoint folder or weights file to read."""
    return find_source(spec, training=training).path


# Listing pretrained tags.
def pretrained_summary(entry: Any) -> dict[str, Any]:
    """What ``gan-zoo list pretrained`` shows for one tag: preset, dataset and metrics from the
    folder's ``config.json`` and ``metrics.json`` (not from the registration), and its size."""
    summary: dict[str, Any] = {
        **entry.as_dict(),
        "preset": None,
        "dataset": None,
        "metrics": {},
        "size": None,
        "error": None,
    }
    try:
        folder = entry.load()
        record = check_record(read_json(folder / CONFIG_FILE), shown(folder / CONFIG_FILE))
        metrics_file = folder / METRICS_FILE
        metrics = (
            check_metrics(read_json(metrics_file), shown(metrics_file))
            if metrics_file.exists()
            else {}
        )
        if not (folder / GENERATOR_FILE).is_file():
            raise CheckpointError(f"{shown(folder)} has no {GENERATOR_FILE}")
    except Exception as exc:  # a broken package is listed with its reason, not a traceback
        summary["error"] = " ".join(str(exc).split())[:300]
        return summary
    summary.update(
        preset=record.get("model"),
        dataset=record.get("dataset"),
        metrics={
            name: item.get("value") if isinstance(item, dict) else item
            for name, item in metrics.items()
        },
        size=sum(p.stat().st_size for p in folder.iterdir() if p.is_file()),
        path=str(folder),
    )
    return summary


__all__ = ["HUB_PREFIX", "Source", "find_source", "open_source", "pretrained_summary"]
