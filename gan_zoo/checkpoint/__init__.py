"""Checkpoints: safetensors weights plus JSON state, written atomically, kept K at a time.

A checkpoint is a directory (the layout agreed with the trainer, see ``docs/checkpoints.md``)::

    checkpoints/step-0000469/
      generator.safetensors        the weights to sample with (EMA weights when EMA is on)
      discriminator.safetensors
      training-state.safetensors   optimizer moments, raw G when EMA is on, RNG states
      training-state.json          step, epoch, scalars, optimizer param_groups, GradScaler
      config.json                  the resolved config, gan-zoo version and plugin versions
      README.md                    the model card
      samples.png
    checkpoints/latest             names the newest complete checkpoint (replaced atomically)
    checkpoints/best               the same for the best value of a tracked metric

Design origin: weights as safetensors with string metadata and no pickle anywhere (the
Hugging Face ``safetensors`` format: loading a file cannot run code, and a lone
``generator.safetensors`` names its architecture, options and config hash in its header);
optimizer state split into tensors and JSON as in ``accelerate``'s ``save_state``; the
write-to-temp, fsync, rename protocol of databases and of git's ref updates, so that a crash or
``kill -9`` never leaves a half-written checkpoint as ``latest``.

One module per concern; this file only re-exports:

- :mod:`.layout`  file names, the ``step-NNNNNNN`` folders, ``latest``/``best``, listing
- :mod:`.record`  the config record (``config.json``), plugin versions, hash, header metadata
- :mod:`.layout`  also every key prefix inside the files (``generator_raw/``, ``rng/``, ...)
- :mod:`.training_state` :class:`TrainingState`, what a checkpoint saves and restores
- :mod:`.state`   nested optimizer/scaler state as tensors + JSON and back
- :mod:`.save`    writing a checkpoint, pointers, pruning, ``best``
- :mod:`.reader`  finding a checkpoint; :class:`CheckpointReader`, the one reader of its files
- :mod:`.load`    resuming, rebuilding a generator (both through the reader)
- :mod:`.weights` safetensors headers checked entry by entry, shapes and dtypes before loading
- :mod:`.schema`  the schemas of config.json, training-state.json and header metadata
- :mod:`.info`    what a checkpoint holds (``gan-zoo info``), recording evaluated metrics
- :mod:`.card`    the model card, a pure function of record, state and metrics
- :mod:`.yaml`    the small YAML emitter of the card's front matter

Importing the package does not import torch.
"""

from ..safe_io import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    read_json,
    safetensors_bytes,
)
from .card import card_metrics, front_matter, protocol_text, render_card
from .info import describe, record_exports, record_metrics
from .layout import (
    BEST,
    CARD_FILE,
    CHECKPOINTS_DIR,
    CONFIG_FILE,
    DISCRIMINATOR_FILE,
    EVENTS_LOG,
    EXPORTS_FILE,
    FORMAT,
    FORMAT_VERSION,
    GENERATOR_FILE,
    LATEST,
    METRICS_FILE,
    METRICS_LOG,
    RAW_GENERATOR_PREFIX,
    REPORT_FILE,
    RNG_PREFIX,
    SAMPLES_DIR,
    SAMPLES_FILE,
    STATE_JSON_FILE,
    STATE_TENSORS_FILE,
    list_checkpoints,
    read_pointer,
    step_name,
)
from .load import StoredGenerator, load_generator, load_training_state, restore_training_state
from .reader import CheckpointReader, open_checkpoint, resolve_checkpoint
from .record import (
    config_record,
    missing_part,
    part_descriptions,
    part_entry,
    pin_parts,
    plugin_versions,
    record_hash,
    record_to_config,
    weights_metadata,
)
from .save import prune, save_checkpoint
from .state import unwrap
from .training_state import TrainingState
from .weights import check_fits, load_weights, read_header, read_metadata, read_safetensors
from .yaml import dump_yaml, split_front_matter

__all__ = [
    "BEST",
    "CARD_FILE",
    "CHECKPOINTS_DIR",
    "CONFIG_FILE",
    "CheckpointReader",
    "DISCRIMINATOR_FILE",
    "EVENTS_LOG",
    "FORMAT",
    "FORMAT_VERSION",
    "GENERATOR_FILE",
    "LATEST",
    "EXPORTS_FILE",
    "METRICS_FILE",
    "METRICS_LOG",
    "RAW_GENERATOR_PREFIX",
    "REPORT_FILE",
    "RNG_PREFIX",
    "SAMPLES_DIR",
    "SAMPLES_FILE",
    "STATE_JSON_FILE",
    "STATE_TENSORS_FILE",
    "StoredGenerator",
    "TrainingState",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "card_metrics",
    "check_fits",
    "config_record",
    "describe",
    "dump_yaml",
    "front_matter",
    "list_checkpoints",
    "load_generator",
    "load_training_state",
    "load_weights",
    "missing_part",
    "open_checkpoint",
    "part_descriptions",
    "part_entry",
    "pin_parts",
    "plugin_versions",
    "protocol_text",
    "prune",
    "read_header",
    "read_json",
    "read_metadata",
    "read_pointer",
    "read_safetensors",
    "record_hash",
    "record_exports",
    "record_metrics",
    "record_to_config",
    "render_card",
    "resolve_checkpoint",
    "restore_training_state",
    "safetensors_bytes",
    "save_checkpoint",
    "split_front_matter",
    "step_name",
    "unwrap",
    "weights_metadata",
]
