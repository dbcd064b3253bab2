"""Starting a run from weights (``gan-zoo train PRESET DATASET --init SOURCE``).

``SOURCE`` is anything :func:`gan_zoo.checkpoint.sources.open_source` takes: a run, a checkpoint
folder, a lone ``generator.safetensors``, a pretrained tag or ``hf-hub:owner/name``. Before step
0 the freshly built networks receive what the source has:

- the generator: the trained (raw) generator when the source kept one beside its EMA weights
  (``training-state.safetensors``' ``generator_raw/``), else ``generator.safetensors``;
- the EMA generator (when the run has EMA): ``generator.safetensors``;
- the discriminator: ``discriminator.safetensors`` when the source has it, else it starts fresh
  (a pretrained package ships only the EMA generator).

Optimizers, random streams and the step count start afresh. Every tensor name and shape is
compared before anything is loaded; a mismatch is one line naming both architectures.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from ..checkpoint.layout import CONFIG_FILE, DISCRIMINATOR_FILE, GENERATOR_FILE, STATE_TENSORS_FILE
from ..checkpoint.load import with_retry
from ..checkpoint.schema import check_record, meta_json
from ..checkpoint.sources import find_source
from ..checkpoint.weights import check_fits, load_weights, read_header, read_safetensors
from ..config import TrainConfig
from ..errors import CheckpointError, ConfigError
from ..factory import network_kwargs
from ..safe_io import read_json, shown

RAW_PREFIX = "generator_raw/"


def start_from(config: TrainConfig, generator: Any, discriminator: Any, ema_generator: Any = None) -> dict[str, str]:
    """Load the weights of ``config.init["source"]`` into the networks (in place); returns the
    completed ``init`` record: the source, the sha256 of the generator weights, what was loaded."""
    spec = str(config.init["source"]) if config.init else ""
    if not spec:
        raise ConfigError('init needs a "source": a run, a checkpoint, a pretrained tag or hf-hub:owner/name')
    source = find_source(spec, training=True)
    nets = (generator, discriminator, ema_generator)
    return with_retry(source.path, lambda ckpt: _load(config, spec, ckpt, *nets))


def _load(config: TrainConfig, spec: str, ckpt: Path, generator: Any, discriminator: Any,
          ema_generator: Any) -> dict[str, str]:  # fmt: skip
    lone = ckpt.is_file()
    g_file = ckpt if lone else ckpt / GENERATOR_FILE
    g_header = read_header(g_file)
    mismatch = _mismatch(config, spec, ckpt, g_header)
    _fits(generator.state_dict(), g_header, g_file, mismatch, "generator")
    raw_file = None if lone else ckpt / STATE_TENSORS_FILE
    raw_header = {}
    if raw_file is not None and os.path.lexists(raw_file):
        raw_header = {k[len(RAW_PREFIX):]: v for k, v in read_header(raw_file).items() if k.startswith(RAW_PREFIX)}
        _fits(generator.state_dict(), raw_header, raw_file, mismatch, "generator")
    d_file = None if lone else ckpt / DISCRIMINATOR_FILE
    has_d = d_file is not None and os.path.lexists(d_file)
    if has_d:
        _fits(discriminator.state_dict(), read_header(d_file), d_file, mismatch, "discriminator")
    # Everything fits: load.
    g_tensors, _ = read_safetensors(g_file)
    loaded = []
    if raw_header:
        tensors, _ = read_safetensors(raw_file)
        raw = {k[len(RAW_PREFIX):]: v for k, v in tensors.items() if k.startswith(RAW_PREFIX)}
        load_weights(generator, raw, shown(raw_file), "the generator")
        loaded.append("generator (raw)")
    else:
        load_weights(generator, g_tensors, shown(g_file), "the generator")
        loaded.append("generator")
    if ema_generator is not None:
        load_weights(ema_generator, g_tensors, shown(g_file), "the EMA generator")
        loaded.append("EMA generator")
    if has_d:
        d_tensors, _ = read_safetensors(d_file)
        load_weights(discriminator, d_tensors, shown(d_file), "the discriminator")
        loaded.append("discriminator")
    return {"source": spec, "generator_sha256": _sha256(g_file), "loaded": ", ".join(loaded)}


def _fits(expected: dict[str, Any], header: dict[str, Any], file: Path, mismatch: str, part: str) -> None:
    try:
        check_fits(expected, header, shown(file), f"the run's {part}")
    except CheckpointError as exc:
        raise ConfigError(
            f"{mismatch}: {exc}; start from weights of the same architecture and options"
        ) from None


def _mismatch(config: TrainConfig, spec: str, ckpt: Path, header: dict[str, Any]) -> str:
    """``--init X holds generator 'a' (...) but this run builds generator 'b' (...)``."""
    meta = header.get("__metadata__") or {}
    config_file = (ckpt if ckpt.is_dir() else ckpt.parent) / CONFIG_FILE
    try:
        record = check_record(read_json(config_file), shown(config_file)) if config_file.exists() else {}
        theirs = meta_json(meta, "generator_kwargs", {}, dict, shown(ckpt))
    except CheckpointError:
        record, theirs = {}, {}
    spec_of = record.get("generator")
    name = spec_of.get("name") if isinstance(spec_of, dict) else spec_of or meta.get("generator", "?")
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
