"""Typed configuration shared by the CLI, the trainer, checkpoints and the model card.

A :class:`Preset` (the ``models`` kind) is a recipe: which generator, discriminator and loss,
with which options and hyper-parameters. :class:`TrainConfig` is a preset plus the run's own
settings (dataset, device, precision, seed, ...); once resolved it is what ``config.json``
and the model card print. No string class paths and no ``exec``: everything is a dataclass,
so a typo in an override fails at once with a suggestion.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from .errors import ConfigError, did_you_mean


@dataclass
class NetSpec:
    """A registry name plus the keyword options for its factory."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class OptimizerConfig:
    """Adam settings for one network."""

    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    weight_decay: float = 0.0


@dataclass
class Preset:
    """A training recipe: the pair of networks, the loss and the hyper-parameters.

    ``generator``, ``discriminator``, ``loss`` and the optional ``regularizer`` are
    :class:`NetSpec` (a registry name and its options); ``z_dim`` is the latent size,
    ``batch_size`` and ``epochs`` the default length, ``n_critic`` the D updates per G update,
    ``g_optim`` and ``d_optim`` the two Adam settings, ``lr_decay`` (``lr_decay_every``,
    ``lr_decay_gamma``) the learning-rate schedule, ``ema`` and ``ema_warmup`` the generator's
    moving average, ``augment`` the DiffAugment policy, and ``image_size`` and ``channels``
    the image the recipe is written for (None: the dataset's own).
    """

    generator: NetSpec = field(default_factory=lambda: NetSpec("dcgan"))
    discriminator: NetSpec = field(default_factory=lambda: NetSpec("dcgan"))
    loss: NetSpec = field(default_factory=lambda: NetSpec("bce"))
    #: An extra penalty usable with any loss, e.g. ``NetSpec("r1", {"gamma": 10.0})``.
    regularizer: NetSpec | None = None
    z_dim: int = 100
    batch_size: int = 128
    epochs: int = 25
    #: Discriminator (critic) updates per generator update.
    n_critic: int = 1
    g_optim: OptimizerConfig = field(default_factory=OptimizerConfig)
    d_optim: OptimizerConfig = field(default_factory=OptimizerConfig)
    #: Learning-rate decay: "none", "linear" (to 0 at the end) or "step".
    lr_decay: str = "none"
    lr_decay_every: int = 0
    lr_decay_gamma: float = 0.5
    #: Generator EMA decay (0 = off) and its warm-up in images.
    ema: float = 0.0
    ema_warmup: int = 0
    #: DiffAugment policy, e.g. "translation,cutout,color" ("" = off).
    augment: str = ""
    #: Image size the recipe is written for (None: the dataset's native size).
    image_size: int | None = None
    #: Image channels the recipe is written for, 1 or 3 (None: the dataset's own).
    channels: int | None = None


@dataclass
class TrainConfig(Preset):
    """A preset plus everything a run needs; ``config.json`` is this, resolved."""

    model: str = "dcgan"
    dataset: str = "fashion-mnist"
    #: None = the preset's ``epochs``; ``steps`` (generator updates) wins when set.
    steps: int | None = None
    num_classes: int = 0
    conditional: bool = False
    device: str = "auto"
    precision: str = "auto"
    seed: int = 0
    compile: bool = False
    #: torch.compile mode: "default", "reduce-overhead" (CUDA graphs on CUDA), "max-autotune",
    #: "max-autotune-no-cudagraphs".
    compile_mode: str = "default"
    #: TF32 for fp32 matmuls and convolutions on Ampere+ GPUs (off: full fp32, as stylegan2-ada
    #: sets it; bf16/fp16 autocast is where the speed comes from). Recorded; no effect on CPUs.
    tf32: bool = False
    #: cuDNN's autotuner (``torch.backends.cudnn.benchmark``): on, since a run's shapes are fixed.
    cudnn_benchmark: bool = True
    #: Deterministic CUDA kernels (``torch.use_deterministic_algorithms``, cuDNN deterministic,
    #: no autotuner): the same seed gives the same weights on the same GPU, and a resumed run
    #: equals an uninterrupted one bit for bit, at some speed. CPU runs are deterministic anyway.
    deterministic: bool = False
    #: channels_last memory format; None = auto (on for convolutional networks on the CPU and
    #: under CUDA bf16/fp16 autocast, where it is the faster layout).
    channels_last: bool | None = None
    #: Write samples every N steps (0 = every epoch); log every N steps.
    sample_every: int = 0
    log_every: int = 50
    #: Checkpoint every N steps (0 = every epoch) and keep the last K.
    checkpoint_every: int = 0
    keep: int = 3
    data_dir: str | None = None
    download: bool = False
    #: Further keyword options of the dataset's factory, e.g. ``{"split": "all"}`` or
    #: image-folder's ``test_fraction`` / ``max_memory_mb`` (``--set dataset_options.split=all``).
    dataset_options: dict[str, Any] = field(default_factory=dict)
    out: str | None = None
    #: Experiment trackers the run also reports to: "tensorboard", "wandb", "mlflow"
    #: (``--log NAME``, repeatable; ``--tensorboard`` is ``--log tensorboard``). A tracker that
    #: fails (not installed, not logged in, offline) is a warning; the run goes on without it.
    log: list[str] = field(default_factory=list)
    #: Under DDP: BatchNorm statistics over all processes' batches (PyTorch's SyncBatchNorm on
    #: CUDA, gan-zoo's gloo stand-in on the CPU); no effect in a single process.
    sync_batchnorm: bool = False
    #: Under DDP: "per-process" (each process takes ``batch_size``; the global batch is
    #: ``batch_size`` x processes) or "global" (``batch_size`` is split over the processes).
    #: Learning rates are not scaled either way.
    ddp_batch: str = "per-process"
    #: Evaluate the (EMA) generator with this registered metric at every scheduled checkpoint
    #: and keep the best checkpoint as ``checkpoints/best``. "auto": ``classifier-fd`` on the
    #: CPU where the shipped classifier fits the data (Fashion-MNIST, 28x28, one channel, a
    #: reference split of at least ``eval_samples`` images), else off; "none" or None: off.
    eval_metric: str | None = "auto"
    #: Generated (and reference) images per evaluation, and the reference split.
    eval_samples: int = 2000
    eval_split: str = "test"
    #: Licence of the trained weights for the model card (a Hub identifier such as "mit" or
    #: "cc-by-4.0"); None = gan-zoo's own, bsd-3-clause. Check your training data's terms.
    license: str | None = None
    #: The weights the run started from (``--init``): ``{"source": a path, pretrained tag or
    #: hf-hub id, "generator_sha256": the digest of the generator weights loaded, "loaded": which
    #: networks}``; None = random initialisation. Completed before step 0; a resume keeps it.
    init: dict[str, str] | None = None

    @classmethod
    def from_preset(cls, model: str, dataset: str, preset: Preset, **run: Any) -> TrainConfig:
        values = {f.name: getattr(preset, f.name) for f in dataclasses.fields(Preset)}
        return cls(model=model, dataset=dataset, **_deepcopy(values), **run)


def _deepcopy(value: Any) -> Any:
    import copy

    return copy.deepcopy(value)


# Conversion to and from JSON-able dicts.
def to_dict(config: Any) -> dict[str, Any]:
    """A JSON-able dict of a config dataclass (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def config_hash(config: Any) -> str:
    """A short, stable hash of a config (used in safetensors metadata)."""
    import hashlib

    text = json.dumps(to_dict(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """A config dict written by an older gan-zoo, in today's fields (a copy): ``tensorboard:
    true`` became ``log: ["tensorboard"]``."""
    data = dict(data)
    if "tensorboard" in data and "log" not in data:
        data["log"] = ["tensorboard"] if data.pop("tensorboard") is True else []
    return data


def portable_out(out: str | None) -> str | None:
    """``--out`` as a run's ``config.json`` (and so its weights' headers and model card) keeps
    it: a relative path that stays below the working directory as given, anything else (an
    absolute path, ``~``, a climb out with ``..``) not at all, so that no shipped or pushed file
    names the training machine's folders or its user. The run directory is where config.json
    lies; nothing reads ``out`` back (a resume is given its run)."""
    if not out:
        return None
    path = PurePosixPath(out.replace("\\", "/"))
    if path.is_absolute() or out.startswith("~") or ".." in path.parts or ":" in out:
        return None
    return str(path)


def from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Rebuild a config dataclass from :func:`to_dict` output; unknown keys are errors."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        if key not in names:
            raise ConfigError(f"unknown {cls.__name__} field '{key}'{did_you_mean(key, names)}")
        kwargs[key] = convert(hints[key], value, key)
    missing = [
        f.name
        for f in dataclasses.fields(cls)
        if f.name not in kwargs
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{cls.__name__} needs '{missing[0]}', got {data!r}"[:300])
    return cls(**kwargs)


def convert(hint: Any, value: Any, where: str) -> Any:
    """``value`` (JSON-like) as the type ``hint``; a one-line ConfigError naming ``where``."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        hint = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint) and isinstance(value, dict):
        return from_dict(hint, value)
    if origin is dict and not isinstance(value, dict):
        raise ConfigError(f"{where} must be a mapping of options, got {value!r}")
    if origin is dict and not all(isinstance(k, str) for k in value):
        raise ConfigError(f"{where} must have string keys, got {value!r}")
    if origin is list and not isinstance(value, list):
        raise ConfigError(f"{where} must be a list, got {value!r}")
    if origin is tuple:
        fixed = len(args) != 2 or args[1] is not Ellipsis
        if not isinstance(value, (list, tuple)) or (fixed and len(value) != len(args)):
            raise ConfigError(f"{where} must be a list of {len(args)} numbers, got {value!r}")
        return tuple(convert(a, v, where) for a, v in zip(args, value, strict=False))
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ConfigError(f"{where} must be a finite number, got {value!r}")
        return float(value)
    if hint in (int, float, str, bool) and (
        not isinstance(value, hint) or (hint is int and isinstance(value, bool))
    ):
        raise ConfigError(f"{where} must be {_TYPE_NAMES[hint]}, got {value!r}")
    if dataclasses.is_dataclass(hint) and not isinstance(value, hint):
        raise ConfigError(f"{where} must be a {hint.__name__}, got {value!r}")
    return value


_TYPE_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


# Overrides from the command line ("--set generator.width=128", "--set g_optim.lr=1e-4").
def parse_value(text: str) -> Any:
    """Parse a command-line value: JSON (numbers, true/false, null, lists) or a plain string."""
    lowered = text.strip().lower()
    if lowered in ("true", "false", "none", "null"):
        return {"true": True, "false": False}.get(lowered)
    try:
        return json.loads(text)
    except ValueError:
        return text


def _option_value(value: Any) -> Any:
    """A factory option's value: like :func:`parse_value`, except that ``none`` stays the string
    ``"none"`` (options such as ``norm=none`` name a choice; ``null`` means None)."""
    if isinstance(value, str):
        return value.strip() if value.strip().lower() == "none" else parse_value(value)
    return value


def apply_override(config: Any, key: str, value: Any) -> None:
    """Set ``a.b.c = value`` on a config tree, checking names and types.

    ``generator.width`` is short for ``generator.options.width``: the options of a network
    are whatever its factory accepts (the trainer checks them against the factory).
    """
    parts = key.split(".")
    target = config
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(target, NetSpec) and part not in ("name", "options"):
            target.options[part] = _option_value(value)
            if not last:
                raise ConfigError(f"cannot set '{key}': network options are not nested")
            return
        if isinstance(target, dict):
            if not last:
                raise ConfigError(f"cannot set '{key}': options are not nested")
            target[part] = _option_value(value)
            return
        if not dataclasses.is_dataclass(target):
            raise ConfigError(f"cannot set '{key}': '{parts[i - 1]}' has no fields")
        names = [f.name for f in dataclasses.fields(target)]
        if part not in names:
            path = ".".join(parts[:i]) or "config"
            raise ConfigError(f"{path} has no field '{part}'{did_you_mean(part, names)}")
        if last:
            hint = typing.get_type_hints(type(target))[part]
            raw = parse_value(value) if isinstance(value, str) else value
            if isinstance(raw, str) and _base(hint) is NetSpec:
                raw = {"name": raw, "options": {}}
            if raw is None and not _optional(hint):
                raise ConfigError(f"'{key}' cannot be null; give a value (e.g. --set {key}=...)")
            if _base(hint) is str and not isinstance(raw, str) and raw is not None:
                raw = str(value)
            setattr(target, part, convert(hint, raw, key))
            return
        child = getattr(target, part)
        if child is None:
            raise ConfigError(f"cannot set '{key}': '{part}' is not set; set '{part}' first")
        target = child


def _optional(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType) and type(
        None
    ) in typing.get_args(hint)


def _base(hint: Any) -> Any:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return next(a for a in typing.get_args(hint) if a is not type(None))
    return hint
