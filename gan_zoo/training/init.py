"""Starting a run from weights (``gan-zoo train PRESET DATASET --init SOURCE``).

``SOURCE`` is anything :func:`gan_zoo.checkpoint.sources.open_source` takes: a run, a checkpoint
folder, a lone ``generator.safetensors``, a pretrained tag or ``hf-hub:owner/name``. Before step
0 the freshly built networks receive what the source has:

- the generator: the trained (raw) generator when the source kept one beside its EMA weights
  (``training-state.safetensors``' ``generator_raw/``, ``RAW_GENERATOR_PREFIX``), else
  ``generator.safetensors``;
- the EMA generator (when the run has EMA): ``generator.safetensors``;
- the discriminator: ``discriminator.safetensors`` when the source has it, else it starts fresh
  (a pretrained package ships only the EMA generator).

Optimizers, random streams and the step count start afresh. The files are read through the
same :class:`~gan_zoo.checkpoint.reader.CheckpointReader` as resume and ``gan_zoo.load``. Every
tensor name and shape is compared before anything is loaded; a mismatch is one line naming both
architectures.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ..checkpoint.layout import (
    DISCRIMINATOR_FILE,
    GENERATOR_FILE,
    RAW_GENERATOR_PREFIX,
    STATE_TENSORS_FILE,
)
from ..checkpoint.reader import CheckpointReader, open_checkpoint
from ..checkpoint.schema import meta_json
from ..checkpoint.sources import find_source
from ..checkpoint.weights import load_weights
from ..config import TrainConfig
from ..errors import CheckpointError, ConfigError
from ..factory import network_kwargs
from ..safe_io import shown


def start_from(
    config: TrainConfig, generator: Any, discriminator: Any, ema_generator: Any = None
) -> dict[str, str]:
    """Load the weights of ``config.init["source"]`` into the networks (in place); returns the
    completed ``init`` record: the source, the sha256 of the generator weights, what was loaded."""
    spec = str(config.init["source"]) if config.init else ""
    if not spec:
        raise ConfigError(
            'init needs a "source": a run, a checkpoint, a pretrained tag or hf-hub:owner/name'
        )
    source = find_source(spec, training=True)
    nets = (generator, discriminator, ema_generator)
    return open_checkpoint(source.path, lambda reader: _load(config, spec, reader, *nets))


def _load(
    config: TrainConfig,
    spec: str,
    reader: CheckpointReader,
    generator: Any,
    discriminator: Any,
    ema_generator: Any,
) -> dict[str, str]:
    mismatch = _mismatch(config, spec, reader)
    _fits(reader, GENERATOR_FILE, generator, mismatch, "generator")
    has_raw = reader.has(STATE_TENSORS_FILE) and bool(
        reader.header(STATE_TENSORS_FILE, RAW_GENERATOR_PREFIX)
    )
    if has_raw:
        _fits(reader, STATE_TENSORS_FILE, generator, mismatch, "generator", RAW_GENERATOR_PREFIX)
    has_d = reader.has(DISCRIMINATOR_FILE)
    if has_d:
        _fits(reader, DISCRIMINATOR_FILE, discriminator, mismatch, "discriminator")
    # Everything fits: load.
    g_tensors = reader.tensors(GENERATOR_FILE)
    loaded = []
    if has_raw:
        raw = reader.tensors(STATE_TENSORS_FILE, prefix=RAW_GENERATOR_PREFIX)
        load_weights(generator, raw, reader.shown(STATE_TENSORS_FILE), "the generator")
        loaded.append("generator (raw)")
    else:
        load_weights(generator, g_tensors, reader.shown(GENERATOR_FILE), "the generator")
        loaded.append("generator")
    if ema_generator is not None:
        load_weights(ema_generator, g_tensors, reader.shown(GENERATOR_FILE), "the EMA generator")
        loaded.append("EMA generator")
    if has_d:
        load_weights(
            discriminator,
            reader.tensors(DISCRIMINATOR_FILE),
            reader.shown(DISCRIMINATOR_FILE),
            "the discriminator",
        )
        loaded.append("discriminator")
    g_file = reader.file(GENERATOR_FILE)
    return {"source": spec, "generator_sha256": _sha256(g_file), "loaded": ", ".join(loaded)}


def _fits(
    reader: CheckpointReader, name: str, module: Any, mismatch: str, part: str, prefix: str = ""
) -> None:
    try:
        reader.check_fits(name, module, f"the run's {part}", prefix)
    except CheckpointError as exc:
        raise ConfigError(
            f"{mismatch}: {exc}; start from weights of the same architecture and options"
        ) from None


def _mismatch(config: TrainConfig, spec: str, reader: CheckpointReader) -> str:
    """``--init X holds generator 'a' (...) but this run builds generator 'b' (...)``."""
    meta = reader.metadata()
    try:
        record = reader.record() or {}
        theirs = meta_json(meta, "generator_kwargs", {}, dict, shown(reader.path))
    except CheckpointError:
        record, theirs = {}, {}
    spec_of = record.get("generator")
    name = (
        spec_of.get("name") if isinstance(spec_of, dict) else spec_of or meta.get("generator", "?")
    )
    ours = network_kwargs(config, "generator")
    return (
        f"--init {spec} holds generator '{str(name)[:40]}' ({_kwargs(theirs)}) but this run builds "
        f"generator '{config.generator.name}' ({_kwargs(ours)})"
    )


def _kwargs(kwargs: dict[str, Any]) -> str:
    text = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    return text[:160] or "options unknown"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
