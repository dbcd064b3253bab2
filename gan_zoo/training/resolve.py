"""From ``gan-zoo train MODEL DATASET [options]`` to a :class:`~gan_zoo.config.TrainConfig`.

No torch here: the preset is copied out of the ``models`` registry, run options and
``--set key=value`` overrides are applied with the checks of :func:`gan_zoo.config.apply_override`
(so a typo fails at once with a suggestion), and the result is validated before any data is
read. A resumed run takes its config from the run's ``config.json`` instead; only settings that
do not change the training trajectory (length, logging, device) may change on resume.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

from .. import plugins
from ..config import NetSpec, TrainConfig, apply_override
from ..errors import ConfigError, GanZooError, did_you_mean
from ..factory import check_metric, check_options
from ..recipe import SHORTHANDS, Recipe, apply_recipe
from .trackers import check_trackers

#: What ``--resume`` may change without breaking an exact continuation.
RESUME_CHANGEABLE = frozenset(
    {
        "steps",
        "epochs",
        "device",
        "log_every",
        "sample_every",
        "checkpoint_every",
        "keep",
        "log",
        "tensorboard",
        "data_dir",
        "download",
        "compile",
        "compile_mode",
        "eval_metric",
        "eval_samples",
        "eval_split",
        "license",
        "tf32",
        "cudnn_benchmark",
        "deterministic",
    }
)
LR_DECAYS = ("none", "linear", "step")
#: How ``batch_size`` is read under DDP: each process's batch, or the global batch to split.
DDP_BATCHES = ("per-process", "global")
#: ``eval_metric`` values that name no metric: off, or decided by :func:`setup.auto_eval_metric`.
EVAL_OFF_OR_AUTO = (None, "none", "auto")
#: Numeric precisions of a run ("auto": bf16 or fp16 on CUDA, bf16 on CPUs with native bf16,
#: fp32 elsewhere).
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
#: ``torch.compile`` modes; "reduce-overhead" and "max-autotune" capture CUDA graphs on CUDA.
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


def apply_options(
    config: TrainConfig, options: dict[str, Any], sets: Iterable[str] = ()
) -> TrainConfig:
    """Apply keyword options (``None`` = not given) and ``key=value`` overrides in place."""
    for key, value in options.items():
        if value is None:
            continue
        if key == "lr":
            config.g_optim.lr = config.d_optim.lr = float(value)
        elif key == "lr_g":
            config.g_optim.lr = float(value)
        elif key == "lr_d":
            config.d_optim.lr = float(value)
        elif key == "betas":
            config.g_optim.betas = config.d_optim.betas = tuple(float(b) for b in value)
        elif key == "tensorboard":  # --tensorboard is --log tensorboard
            if value and "tensorboard" not in config.log:
                config.log.append("tensorboard")
        elif key == "log":  # --log adds trackers to the recipe's
            names = [value] if isinstance(value, str) else list(value)
            config.log.extend(n for n in names if n not in config.log)
        elif key == "init":  # the source; the trainer adds the digest of what it loaded
            config.init = (
                {"source": os.fspath(value)}
                if isinstance(value, (str, os.PathLike))
                else dict(value)
            )
        elif key in ("generator", "discriminator", "loss", "regularizer") and isinstance(
            value, str
        ):
            # A different network keeps no options: they belonged to the preset's choice.
            old = getattr(config, key)
            if old is None or old.name != value:
                setattr(config, key, NetSpec(value))
        else:
            apply_override(config, key, value)
    if options.get("compile_mode") is not None and options.get("compile") is None:
        config.compile = True  # a compile mode implies compiling
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set takes key=value (e.g. generator.width=32), got '{item}'")
        apply_override(config, key.strip(), value.strip())
    return config


def validate(config: TrainConfig, source: Callable[[str], str | None] | None = None) -> TrainConfig:
    """Check names against the registries and numbers against their ranges (one-line errors).

    ``source(key)`` names the recipe file a top-level setting came from (None: not from one), so
    that an error about that setting names the file and the key."""
    for key, check in _name_checks(config):
        try:
            check()
        except GanZooError as exc:
            raise _sourced(exc, key, source) from None
    for key, ok, message in _ranges(config):
        if not ok:
            raise _sourced(ConfigError(message), key, source)
    for option, value in (("--out", config.out), ("--data-dir", config.data_dir)):
        check_encodable(option, value)
    return config


def _name_checks(config: TrainConfig) -> list[tuple[str, Callable[[], Any]]]:
    """``(key, check)`` for every name of a config: registry entries, options, trackers."""
    checks: list[tuple[str, Callable[[], Any]]] = [
        ("dataset", lambda: plugins.registry("datasets").get(config.dataset)),
        ("log", lambda: check_trackers(config.log)),
    ]
    if config.eval_metric not in EVAL_OFF_OR_AUTO:
        checks.append(("eval_metric", lambda: check_metric(config.eval_metric)))
    for part, kind in _PART_KINDS.items():
        spec = getattr(config, part)
        if spec is not None:
            checks.append((part, partial(plugins.registry(kind).get, spec.name)))
            checks.append((part, partial(check_options, kind, spec, part)))
    return checks


def _sourced(
    error: GanZooError, key: str, source: Callable[[str], str | None] | None
) -> GanZooError:
    """``error`` prefixed with the recipe file and key the bad value came from, if it did;
    ``key`` may name several settings (``"g_optim d_optim"``)."""
    for name in key.split():
        where = source(name) if source is not None else None
        if where is not None:
            message = f"{where}, key '{name}': {error}"
            try:
                return type(error)(message)
            except TypeError:  # an error class with arguments of its own
                return ConfigError(message)
    return error


def check_encodable(option: str, value: str | None) -> None:
    """A path the run writes into config.json (UTF-8) and opens (the file system's encoding)
    must encode to both, before training starts rather than at the first checkpoint."""
    if value is None:
        return
    try:
        value.encode("utf-8")
        os.fsencode(value)
    except (UnicodeError, TypeError):
        shown = value.encode("utf-8", "backslashreplace").decode("utf-8")
        raise ConfigError(
            f"{option} {shown} is not valid text (bytes that are not UTF-8); pick a path of "
            "UTF-8 characters"
        ) from None


#: Upper bounds that catch typos (an extra zero) before they allocate gigabytes.
MAX_SEED, MAX_Z_DIM, MAX_IMAGE_SIZE, MAX_BATCH = 2**32 - 1, 16_384, 2048, 65_536


def _ranges(config: TrainConfig) -> list[tuple[str, bool, str]]:
    """``(key, ok, message)`` for every number and choice of a config."""
    return [
        (
            "batch_size",
            config.batch_size >= 1,
            f"batch size must be at least 1, got {config.batch_size}",
        ),
        ("epochs", config.epochs >= 1, f"epochs must be at least 1, got {config.epochs}"),
        (
            "steps",
            config.steps is None or config.steps >= 1,
            f"steps must be at least 1, got {config.steps}",
        ),
        ("n_critic", config.n_critic >= 1, f"n_critic must be at least 1, got {config.n_critic}"),
        ("z_dim", config.z_dim >= 1, f"z_dim must be at least 1, got {config.z_dim}"),
        (
            "ema",
            0.0 <= config.ema < 1.0,
            f"ema decay must be in [0, 1) (e.g. 0.999), got {config.ema}",
        ),
        (
            "log_every",
            config.log_every >= 1,
            f"log_every must be at least 1, got {config.log_every}",
        ),
        (
            "sample_every",
            config.sample_every >= 0,
            "sample_every must be 0 (every epoch) or a number of steps",
        ),
        (
            "checkpoint_every",
            config.checkpoint_every >= 0,
            "checkpoint_every must be 0 (every epoch) or a number of steps",
        ),
        ("keep", config.keep >= 0, f"keep must be 0 (all) or more, got {config.keep}"),
        (
            "ddp_batch",
            config.ddp_batch in DDP_BATCHES,
            f"ddp_batch must be per-process or global, got '{config.ddp_batch}'",
        ),
        (
            "lr_decay",
            config.lr_decay in LR_DECAYS,
            f"lr_decay must be one of {', '.join(LR_DECAYS)}, got '{config.lr_decay}'",
        ),
        (
            "lr_decay_every",
            config.lr_decay != "step" or config.lr_decay_every >= 1,
            "lr_decay 'step' needs lr_decay_every (steps between decays), "
            "e.g. --set lr_decay_every=10000",
        ),
    ] + _more_ranges(config)


def _more_ranges(config: TrainConfig) -> list[tuple[str, bool, str]]:
    """The rest of :func:`_ranges`: learning rates, run settings, upper bounds."""
    betas = [*config.g_optim.betas, *config.d_optim.betas]
    return [
        (
            "g_optim d_optim",
            config.g_optim.lr > 0 and config.d_optim.lr > 0,
            "learning rates must be positive",
        ),
        (
            "precision",
            config.precision in PRECISIONS,
            f"precision must be auto, fp32, bf16 or fp16, got '{config.precision}'",
        ),
        (
            "license",
            config.license is None
            or re.fullmatch(r"[a-z0-9][a-z0-9.+-]*", config.license) is not None,
            f"license must be a lowercase Hub identifier such as mit, apache-2.0 or cc-by-4.0, "
            f"got '{config.license}'",
        ),
        (
            "eval_samples",
            config.eval_samples >= 2,
            f"eval_samples must be at least 2 to compare distributions, got {config.eval_samples}",
        ),
        (
            "compile_mode",
            config.compile_mode in COMPILE_MODES,
            f"compile mode must be one of {', '.join(COMPILE_MODES)}, got '{config.compile_mode}'"
            f"{did_you_mean(config.compile_mode, COMPILE_MODES)}",
        ),
        ("seed", 0 <= config.seed <= MAX_SEED, f"seed must be in 0..{MAX_SEED}, got {config.seed}"),
        (
            "z_dim",
            config.z_dim <= MAX_Z_DIM,
            f"z_dim must be at most {MAX_Z_DIM}, got {config.z_dim}",
        ),
        (
            "batch_size",
            config.batch_size <= MAX_BATCH,
            f"batch size must be at most {MAX_BATCH}, got {config.batch_size}",
        ),
        (
            "image_size",
            config.image_size is None or 1 <= config.image_size <= MAX_IMAGE_SIZE,
            f"image size must be in 1..{MAX_IMAGE_SIZE} pixels, got {config.image_size}",
        ),
        (
            "channels",
            config.channels in (None, 1, 3),
            f"channels must be 1 or 3, got {config.channels}",
        ),
        (
            "g_optim d_optim",
            all(0.0 <= b < 1.0 for b in betas),
            f"Adam betas must be in [0, 1) (e.g. 0.5,0.999), got {config.g_optim.betas} for G and "
            f"{config.d_optim.betas} for D",
        ),
        (
            "g_optim d_optim",
            config.g_optim.weight_decay >= 0 and config.d_optim.weight_decay >= 0,
            "weight decay must be 0 or more",
        ),
    ]


def build_config(
    model: str,
    dataset: str,
    options: dict[str, Any] | None = None,
    sets: Iterable[str] = (),
    recipe: Recipe | None = None,
) -> TrainConfig:
    """The config of a new run: preset ``model`` + ``recipe`` (a file's settings) + ``options`` +
    ``sets``, each on top of the one before, validated."""
    from ..config import Preset

    preset = plugins.registry("models").get(model).load()
    if not isinstance(preset, Preset):
        raise GanZooError(
            f"model '{model}' is registered with a {type(preset).__name__}, not a Preset"
        )
    plugins.registry("datasets").get(dataset)
    config = TrainConfig.from_preset(model, dataset, preset)
    own_names(config, plugins.registry("models").get(model).plugin.distribution)
    from_file = apply_recipe(config, recipe) if recipe is not None else set()
    apply_options(config, dict(options or {}), sets)
    # An error about a setting the recipe made (and nothing later changed) names the file.
    later = {k for k, v in (options or {}).items() if v is not None}
    later |= {"g_optim", "d_optim"} if later & set(SHORTHANDS) else set()
    later |= {item.partition("=")[0].strip().split(".")[0] for item in sets}
    kept = from_file - later
    return validate(config, lambda key: recipe.where if recipe and key in kept else None)


def own_names(config: TrainConfig, distribution: str) -> TrainConfig:
    """Name the preset's parts as they reach its own ``distribution``'s entries: a preset of a
    plugin whose ``ragan`` is shadowed by gan-zoo's trains with the plugin's (``dist/ragan``).
    Names the distribution does not register keep their meaning (usually gan-zoo's)."""
    for part, kind in _PART_KINDS.items():
        spec = getattr(config, part)
        if spec is not None:
            try:
                spec.name = plugins.registry(kind).resolve(spec.name, distribution).key
            except GanZooError:  # unknown: validate() says so with a suggestion
                pass
    return config


_PART_KINDS = {
    "generator": "generators",
    "discriminator": "discriminators",
    "loss": "losses",
    "regularizer": "losses",
}


def resume_config(
    run: str | os.PathLike, options: dict[str, Any] | None = None, sets: Iterable[str] = ()
) -> tuple[TrainConfig, Path, Path]:
    """``(config, run_dir, checkpoint_dir)`` for ``--resume RUN`` (a run or checkpoint dir)."""
    from ..checkpoint import (
        CONFIG_FILE,
        missing_part,
        pin_parts,
        read_json,
        record_to_config,
        resolve_checkpoint,
    )

    ckpt = resolve_checkpoint(run)
    if ckpt.is_file():
        raise ConfigError(
            f"{ckpt} holds weights only; --resume needs a run or checkpoint directory"
        )
    record = read_json(ckpt / CONFIG_FILE)
    missing = missing_part(record)  # a part whose plugin is not installed: say which to install
    if missing is not None:
        raise missing
    config = pin_parts(record_to_config(record), record)
    if "ddp_batch" not in record:  # written before the field: DDP split the batch then
        config.ddp_batch = "global"
    changed = {k for k, v in (options or {}).items() if v is not None}
    changed |= {item.partition("=")[0].strip().split(".")[0] for item in sets}
    frozen = sorted(changed - RESUME_CHANGEABLE)
    if frozen:
        raise ConfigError(
            f"cannot change {', '.join(frozen)} when resuming "
            "(it would not continue the same run); "
            f"only {', '.join(sorted(RESUME_CHANGEABLE))} may change"
        )
    apply_options(config, dict(options or {}), sets)
    if "epochs" in changed and "steps" not in changed:
        config.steps = None  # a new number of epochs replaces a step budget
    return validate(config), ckpt.parent.parent, ckpt
