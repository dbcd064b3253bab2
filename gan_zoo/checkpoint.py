"""Checkpoints: safetensors weights plus JSON state, written atomically, kept K at a time.

A checkpoint is a directory (the layout agreed with the trainer, see ``docs/checkpoints.md``)::

    checkpoints/step-0000469/
      generator.safetensors        the weights to sample with (EMA weights when EMA is on)
      discriminator.safetensors
      training-state.safetensors   optimizer moments, raw G when EMA is on, RNG states
      training-state.json          step, epoch, scalars, optimizer param_groups, GradScaler
      config.json                  the resolved config, gan-zoo version and plugin versions
      README.md                    the model card (gan_zoo.card)
      samples.png
    checkpoints/latest             names the newest complete checkpoint (replaced atomically)
    checkpoints/best               the same for the best value of a tracked metric

Design origin: weights as safetensors with string metadata and no pickle anywhere (the
Hugging Face ``safetensors`` format: loading a file cannot run code, and a lone
``generator.safetensors`` names its architecture, options and config hash in its header);
optimizer state split into tensors and JSON as in ``accelerate``'s ``save_state``; the
write-to-temp, fsync, rename protocol of databases and of git's ref updates, so that a crash or
``kill -9`` never leaves a half-written checkpoint as ``latest``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ._version import __version__
from .config import TrainConfig, config_hash, from_dict, to_dict
from .errors import CheckpointError, GanZooError
from .safe_io import (  # re-exported: the trainer and the CLI use them from here
    _fsync_dir,
    _umask,
    _write_durable,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    load_weights,
    read_header,
    read_json,
    read_metadata,
    read_safetensors,
    safetensors_bytes,
)

GENERATOR_FILE = "generator.safetensors"
DISCRIMINATOR_FILE = "discriminator.safetensors"
STATE_TENSORS_FILE = "training-state.safetensors"
STATE_JSON_FILE = "training-state.json"
CONFIG_FILE = "config.json"
CARD_FILE = "README.md"
SAMPLES_FILE = "samples.png"
METRICS_FILE = "metrics.json"
LATEST, BEST = "latest", "best"
FORMAT = "gan-zoo"
FORMAT_VERSION = 1

_STEP_DIR = re.compile(r"^step-(\d+)$")
#: Keys of config.json that are not TrainConfig fields.
_RECORD_EXTRAS = ("gan_zoo_version", "plugins", "class_names")
#: The registry kind behind each part named in a config.
_PARTS = {
    "model": "models",
    "generator": "generators",
    "discriminator": "discriminators",
    "loss": "losses",
    "regularizer": "losses",
    "dataset": "datasets",
}


# The config record (config.json).
def plugin_versions(config: TrainConfig) -> dict[str, str]:
    """``{part: "distribution version"}`` for every part of ``config`` that is registered."""
    from . import plugins

    found = {}
    for part, kind in _PARTS.items():
        value = getattr(config, part, None)
        name = value if isinstance(value, str) or value is None else value.name
        if name is None:
            continue
        try:
            info = plugins.registry(kind).get(name).plugin
        except GanZooError:
            continue
        found[part] = f"{info.distribution} {info.version}"
    return found


def config_record(
    config: TrainConfig | dict[str, Any], class_names: list[str] | None = None
) -> dict[str, Any]:
    """What ``config.json`` holds: the resolved config, the gan-zoo version and the plugins.

    A dict is taken as an existing record (e.g. read from ``config.json``) and copied.
    """
    if isinstance(config, dict):
        record = json.loads(json.dumps(config))
    else:
        record = to_dict(config)
        record["gan_zoo_version"] = __version__
        record["plugins"] = plugin_versions(config)
    if class_names is not None and "class_names" not in record:
        record["class_names"] = list(class_names)
    return record


def record_to_config(record: dict[str, Any]) -> TrainConfig:
    """The :class:`TrainConfig` inside a ``config.json`` record."""
    return from_dict(TrainConfig, {k: v for k, v in record.items() if k not in _RECORD_EXTRAS})


def record_hash(record: dict[str, Any]) -> str:
    try:
        return config_hash(record_to_config(record))
    except GanZooError:  # a record from a newer gan-zoo: hash what is there
        import hashlib

        text = json.dumps(record, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


# Safetensors with gan-zoo metadata.
def network_kwargs(
    module: Any, options: dict[str, Any], discriminator: bool = False
) -> dict[str, Any]:
    """The keyword arguments that rebuild ``module`` through its registry factory."""
    kwargs: dict[str, Any] = {} if discriminator else {"z_dim": int(module.z_dim)}
    kwargs.update(image_size=int(module.image_size), channels=int(module.channels))
    if int(getattr(module, "num_classes", 0) or 0):
        kwargs["num_classes"] = int(module.num_classes)
    kwargs.update(options)
    return kwargs


def weights_metadata(record: dict[str, Any], part: str, **extra: Any) -> dict[str, str]:
    """safetensors header metadata (str -> str) that says what a weights file is."""
    meta = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "part": part,
        "gan_zoo_version": str(record.get("gan_zoo_version", __version__)),
        "config_hash": record_hash(record),
        "config": json.dumps(record, separators=(",", ":")),
    }
    for key in ("model", "dataset"):
        if record.get(key):
            meta[key] = str(record[key])
    for key in ("generator", "discriminator", "loss"):
        if isinstance(record.get(key), dict):
            meta[key] = str(record[key]["name"])
    for key, value in extra.items():
        meta[key] = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return meta


# Splitting nested state (optimizers, scalers) into tensors and JSON.
def _split(obj: Any, prefix: str, tensors: dict[str, Any]) -> Any:
    import torch

    if isinstance(obj, torch.Tensor):
        tensors[prefix] = obj
        return {"__tensor__": prefix}
    if isinstance(obj, dict):
        return {str(k): _split(v, f"{prefix}/{k}", tensors) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_split(v, f"{prefix}/{i}", tensors) for i, v in enumerate(obj)]
    return obj


def _join(obj: Any, tensors: dict[str, Any], source: str) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {"__tensor__"}:
            if obj["__tensor__"] not in tensors:
                raise CheckpointError(
                    f"{source} lacks tensor '{obj['__tensor__']}'; the checkpoint is incomplete"
                )
            return tensors[obj["__tensor__"]]
        return {k: _join(v, tensors, source) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_join(v, tensors, source) for v in obj]
    return obj


def _optimizer_state(opt: Any, prefix: str, tensors: dict[str, Any]) -> dict[str, Any]:
    return _split(opt.state_dict(), prefix, tensors)


def _load_optimizer(
    opt: Any, data: dict[str, Any], tensors: dict[str, Any], source: str, device: Any
) -> None:
    state = _join(data, tensors, source)
    state["state"] = {int(k): v for k, v in state["state"].items()}
    try:
        opt.load_state_dict(state)
    except (ValueError, KeyError) as exc:
        raise CheckpointError(f"{source}: the optimizer state does not fit ({exc})") from None
    _match_layouts(opt)


def _match_layouts(opt: Any) -> None:
    """Give each loaded state tensor its parameter's memory layout (e.g. channels_last).

    Safetensors stores tensors row-major, and ``load_state_dict`` keeps that layout; fused Adam
    walks a parameter and its moments as flat memory, so a channels_last weight with row-major
    moments would be updated with another element's moments.
    """
    import torch

    for param, state in opt.state.items():
        for key, value in state.items():
            if (
                isinstance(value, torch.Tensor)
                and value.shape == param.shape
                and value.stride() != param.stride()
            ):
                state[key] = torch.empty_like(param, dtype=value.dtype).copy_(value)


# Saving.
def unwrap(module: Any) -> Any:
    """The plain network inside DDP/DataParallel or ``torch.compile`` wrappers, so that weight
    names never carry ``module.`` or ``_orig_mod.`` prefixes."""
    from torch.nn.parallel import DataParallel, DistributedDataParallel

    while True:
        if isinstance(module, (DataParallel, DistributedDataParallel)):
            module = module.module
        elif type(module).__name__ == "OptimizedModule" and hasattr(module, "_orig_mod"):
            module = module._orig_mod
        else:
            return module


def save_checkpoint(
    run_dir: str | os.PathLike,
    *,
    config: TrainConfig | dict[str, Any],
    generator: Any,
    discriminator: Any,
    g_optimizer: Any,
    d_optimizer: Any,
    ema_generator: Any = None,
    scaler: Any = None,
    state: dict[str, Any],
    rng: dict[str, Any],
    samples: Any = None,
    keep: int = 3,
    metric: tuple[str, float, bool] | None = None,
) -> Path:
    """Write ``RUN/checkpoints/step-NNNNNNN`` atomically, update ``latest`` (and ``best``), prune.

    ``state`` is JSON-able and holds at least ``step``, ``epoch``, ``images_seen``,
    ``elapsed_seconds``, ``hardware`` and ``last_losses``; ``class_names`` and ``metrics``
    (``{name: {"value": v, "protocol": ...}}``) are used by the model card when present.
    ``rng`` maps names to RNG state tensors (e.g. ``torch.get_rng_state()``). ``samples`` is a
    uint8 grid (C, H, W). ``metric`` is ``(name, value, higher_is_better)``: the checkpoint with
    the best value is kept as ``best`` and never pruned. ``keep=0`` keeps every checkpoint.
    """
    from . import card
    from .images import png_bytes

    root = Path(run_dir) / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    step = int(state["step"])
    name = f"step-{step:07d}"
    record = config_record(config, class_names=state.get("class_names"))
    generator, discriminator = unwrap(generator), unwrap(discriminator)
    ema_generator = unwrap(ema_generator) if ema_generator is not None else None
    sampler = ema_generator if ema_generator is not None else generator
    extra: dict[str, Any] = {"step": str(step)}
    if record.get("class_names"):
        extra["class_names"] = record["class_names"]
    metric_doc = None
    if metric is not None:
        metric_doc = {
            "name": str(metric[0]),
            "value": float(metric[1]),
            "higher_is_better": bool(metric[2]),
        }

    # Serialize everything in memory first: a failure here touches no file.
    files: dict[str, bytes] = {}
    g_kwargs = network_kwargs(sampler, record["generator"].get("options", {}))
    d_kwargs = network_kwargs(
        discriminator, record["discriminator"].get("options", {}), discriminator=True
    )
    files[GENERATOR_FILE] = safetensors_bytes(
        sampler.state_dict(),
        weights_metadata(
            record,
            "generator",
            generator_kwargs=g_kwargs,
            ema="true" if ema_generator is not None else "false",
            **extra,
        ),
    )
    files[DISCRIMINATOR_FILE] = safetensors_bytes(
        discriminator.state_dict(),
        weights_metadata(record, "discriminator", discriminator_kwargs=d_kwargs, **extra),
    )
    tensors: dict[str, Any] = {}
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "gan_zoo_version": __version__,
        "state": state,
        "metric": metric_doc,
        "ema": ema_generator is not None,
        "g_optimizer": _optimizer_state(g_optimizer, "g_optimizer", tensors),
        "d_optimizer": _optimizer_state(d_optimizer, "d_optimizer", tensors),
        "scaler": _split(scaler.state_dict(), "scaler", tensors) if scaler is not None else None,
        "rng": sorted(rng),
    }
    if ema_generator is not None:  # generator.safetensors holds EMA weights; keep the raw G here
        tensors.update({f"generator_raw/{k}": v for k, v in generator.state_dict().items()})
    tensors.update({f"rng/{k}": v for k, v in rng.items()})
    files[STATE_TENSORS_FILE] = safetensors_bytes(
        tensors, weights_metadata(record, "training-state", **extra)
    )
    files[STATE_JSON_FILE] = (json.dumps(doc, indent=2) + "\n").encode()
    files[CONFIG_FILE] = (json.dumps(record, indent=2) + "\n").encode()
    if samples is not None:
        files[SAMPLES_FILE] = png_bytes(samples)
    metrics = dict(state.get("metrics") or {})
    if metric_doc is not None and metric_doc["name"] not in metrics:
        metrics[metric_doc["name"]] = {
            "value": metric_doc["value"],
            "protocol": "tracked during training",
        }
    files[CARD_FILE] = card.render_card(
        record,
        state=state,
        metrics=metrics,
        samples=SAMPLES_FILE if samples is not None else None,
        generator_kwargs=g_kwargs,
    ).encode()

    # Write into a temp dir, fsync, then rename: `latest` only ever names complete checkpoints.
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=root))
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        for filename, data in files.items():
            _write_durable(tmp / filename, data)
        _fsync_dir(tmp)
        final = root / name
        if final.exists():  # the same step saved again (e.g. after a resume): swap it out
            old = root / f".old-{name}-{os.getpid()}"
            os.rename(final, old)
            os.rename(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, final)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):  # e.g. a full disk: the previous checkpoints are untouched
            raise CheckpointError(
                f"cannot write checkpoint {root / name} ({exc.strerror or exc}); "
                f"{_pointer(root, LATEST) or 'no checkpoint'} is still the latest; free space or use another --out"
            ) from exc
        raise
    _fsync_dir(root)
    atomic_write_text(root / LATEST, name + "\n")
    if metric_doc is not None and _is_better(root, metric_doc):
        atomic_write_text(root / BEST, name + "\n")
    prune(root, keep)
    return final


def _pointer(root: Path, which: str) -> str | None:
    try:
        return (root / which).read_text().strip() or None
    except OSError:
        return None


def _is_better(root: Path, metric: dict[str, Any]) -> bool:
    value = metric["value"]
    if value != value:  # NaN is never the best
        return False
    best = _pointer(root, BEST)
    try:
        old = json.loads((root / str(best) / STATE_JSON_FILE).read_text())["metric"]
    except (OSError, ValueError, KeyError, TypeError):
        return True
    if not old or old.get("name") != metric["name"]:
        return True
    return value > old["value"] if metric["higher_is_better"] else value < old["value"]


def list_checkpoints(run_dir: str | os.PathLike) -> list[Path]:
    """The complete checkpoint directories of a run, oldest first."""
    root = Path(run_dir) / "checkpoints"
    if not root.is_dir():
        return []
    found = [
        (int(m.group(1)), p)
        for p in root.iterdir()
        if (m := _STEP_DIR.match(p.name)) and p.is_dir()
    ]
    return [p for _, p in sorted(found)]


def prune(root: Path, keep: int) -> None:
    """Delete all but the last ``keep`` checkpoints (never ``latest`` or ``best``) and stale temp dirs."""
    protected = {_pointer(root, LATEST), _pointer(root, BEST)}
    steps = list_checkpoints(root.parent)
    doomed = steps[:-keep] if keep > 0 else []
    for path in doomed:
        if path.name not in protected:
            shutil.rmtree(path, ignore_errors=True)
    for path in root.iterdir():  # left behind by a crash mid-save
        if path.is_dir() and path.name.startswith((".tmp-", ".old-")):
            shutil.rmtree(path, ignore_errors=True)


# Finding and loading.
def resolve_checkpoint(path: str | os.PathLike) -> Path:
    """A run dir -> its latest checkpoint dir; a checkpoint dir or a ``.safetensors`` file as is."""
    p = Path(path).expanduser()
    usage = "pass a run directory, a checkpoint directory or a generator .safetensors file"
    if not p.exists():
        raise CheckpointError(f"{p} does not exist; {usage}")
    if p.is_file():
        if p.suffix == ".safetensors":
            read_header(p)
            return p
        if p.name in (LATEST, BEST):
            return _follow(p)
        raise CheckpointError(f"{p} is not a checkpoint; {usage}")
    if (p / GENERATOR_FILE).is_file():
        return p
    for pointer in (p / "checkpoints" / LATEST, p / LATEST):
        if pointer.is_file():
            return _follow(pointer)
    if (p / "checkpoints").is_dir():
        raise CheckpointError(
            f"{p} has no complete checkpoint yet (no checkpoints/latest); wait for the first save"
        )
    raise CheckpointError(
        f"{p} is not a gan-zoo run or checkpoint (no {GENERATOR_FILE}, no checkpoints/latest); {usage}"
    )


def _follow(pointer: Path) -> Path:
    name = pointer.read_text().strip()
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise CheckpointError(
            f"{pointer} is corrupt (it should name a checkpoint directory like step-0000469)"
        )
    target = pointer.parent / name
    if not (target / GENERATOR_FILE).is_file():
        raise CheckpointError(
            f"{pointer} names {name}, which is missing or has no {GENERATOR_FILE}"
        )
    return target


def load_training_state(
    path: str | os.PathLike,
    *,
    generator: Any,
    discriminator: Any,
    g_optimizer: Any,
    d_optimizer: Any,
    ema_generator: Any = None,
    scaler: Any = None,
    map_location: Any = "cpu",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Restore networks, optimizers and scaler in place; return ``(state, rng)`` to resume from.

    ``path`` is a run dir (its ``latest`` checkpoint) or a checkpoint dir. Weights are read onto
    ``map_location`` and copied into the modules; RNG states stay on the CPU.
    """
    ckpt = resolve_checkpoint(path)
    if ckpt.is_file():
        raise CheckpointError(
            f"{ckpt} holds weights only; resuming needs a checkpoint directory with {STATE_JSON_FILE}"
        )
    generator, discriminator = unwrap(generator), unwrap(discriminator)
    ema_generator = unwrap(ema_generator) if ema_generator is not None else None
    doc = read_json(ckpt / STATE_JSON_FILE)
    tensors, _ = read_safetensors(ckpt / STATE_TENSORS_FILE)
    g_tensors, _ = read_safetensors(ckpt / GENERATOR_FILE, map_location)
    d_tensors, _ = read_safetensors(ckpt / DISCRIMINATOR_FILE, map_location)
    load_weights(discriminator, d_tensors, str(ckpt / DISCRIMINATOR_FILE), "the discriminator")
    if doc.get("ema"):
        raw = {k.split("/", 1)[1]: v for k, v in tensors.items() if k.startswith("generator_raw/")}
        load_weights(generator, raw, str(ckpt / STATE_TENSORS_FILE), "the generator")
    else:
        load_weights(generator, g_tensors, str(ckpt / GENERATOR_FILE), "the generator")
    if ema_generator is not None:  # without saved EMA weights the average restarts from G
        load_weights(ema_generator, g_tensors, str(ckpt / GENERATOR_FILE), "the EMA generator")
    source = str(ckpt / STATE_TENSORS_FILE)
    for opt, key in ((g_optimizer, "g_optimizer"), (d_optimizer, "d_optimizer")):
        data = doc.get(key)
        if not isinstance(data, dict):
            raise CheckpointError(
                f"{ckpt / STATE_JSON_FILE} has no {key} state; the checkpoint is incomplete"
            )
        for group in data.get("param_groups", []):
            for k, v in group.items():
                if k != "params" and isinstance(v, list):
                    group[k] = tuple(v)
        _load_optimizer(opt, data, tensors, source, map_location)
    if scaler is not None and doc.get("scaler"):
        scaler.load_state_dict(_join(doc["scaler"], tensors, source))
    rng = {k.split("/", 1)[1]: v for k, v in tensors.items() if k.startswith("rng/")}
    return doc.get("state", {}), rng


__all__ = [
    "BEST",
    "CARD_FILE",
    "CONFIG_FILE",
    "DISCRIMINATOR_FILE",
    "GENERATOR_FILE",
    "LATEST",
    "METRICS_FILE",
    "SAMPLES_FILE",
    "STATE_JSON_FILE",
    "STATE_TENSORS_FILE",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "config_record",
    "list_checkpoints",
    "load_training_state",
    "load_weights",
    "plugin_versions",
    "prune",
    "read_header",
    "read_json",
    "read_metadata",
    "read_safetensors",
    "record_hash",
    "record_to_config",
    "resolve_checkpoint",
    "safetensors_bytes",
    "save_checkpoint",
    "unwrap",
    "weights_metadata",
]
