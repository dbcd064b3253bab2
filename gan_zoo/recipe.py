"""Recipe files: a run's settings in a file to commit, diff and share (TOML, YAML or JSON).

``gan-zoo train --config recipe.toml`` reads one; ``--dump-config recipe.toml`` writes the fully
resolved one; a run's ``config.json`` is one too. A recipe holds
:class:`~gan_zoo.config.TrainConfig` fields (``[generator]`` with ``name`` and
``[generator.options]``, ``[g_optim]``, ``steps``, ...) and the command line's shorthands
``lr``, ``lr_g``, ``lr_d`` and ``betas``. It is applied on top of its preset (``model``), and
the command line (options, then ``--set``) on top of it. Values are checked as strictly as
``--set`` checks its own (a string where a number belongs, an unknown key with a suggestion),
and every error names the file and the key. TOML has no null, so a TOML recipe lists the
settings that are none in ``unset``.

:func:`load_preset` reads a recipe of preset fields only: how a plugin ships its presets as files.
No torch here.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import toml_writer
from ._version import __version__
from .checkpoint.record import RECORD_EXTRAS
from .checkpoint.schema import check_record
from .checkpoint.yaml import dump_yaml
from .config import NetSpec, Preset, TrainConfig, convert, to_dict, upgrade
from .errors import ConfigError, did_you_mean
from .safe_io import atomic_write_text, shown

#: File suffixes and the format each names.
FORMATS = {".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".json": "json"}
#: The command line's shorthands: each sets these fields.
SHORTHANDS = {
    "lr": ("g_optim.lr", "d_optim.lr"),
    "lr_g": ("g_optim.lr",),
    "lr_d": ("d_optim.lr",),
    "betas": ("g_optim.betas", "d_optim.betas"),
}
#: Options that say how to run this command, not what to train: command line only.
COMMAND_LINE_ONLY = {
    "resume": "--resume RUN",
    "quiet": "--quiet",
    "plain": "--plain",
    "config": "--config FILE",
    "dump_config": "--dump-config FILE",
    "set": "--set KEY=VALUE",
}
#: The key that lists the settings that are none (TOML has no null).
UNSET = "unset"
#: The parts of a config that are networks or losses: a name and options.
NETWORKS = ("generator", "discriminator", "loss", "regularizer")
#: A recipe is a page of settings; anything larger is not one.
MAX_BYTES = 1 << 20


@dataclass(frozen=True)
class Recipe:
    """The settings of a recipe file, as read, and the file as error lines show it."""

    data: dict[str, Any]
    where: str

    def name(self, key: str) -> str | None:
        """``model`` or ``dataset`` as the recipe names it (None: it does not)."""
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{self.where}: {key} must be a string, got {value!r}")
        return value


# Reading.
def recipe_format(path: str | os.PathLike) -> str:
    """``toml``, ``yaml`` or ``json`` from the file's suffix."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ConfigError(
            f"{shown(path)}: a recipe file ends in .toml, .yaml, .yml or .json, not "
            f"'{suffix or '(none)'}'"
        )
    return FORMATS[suffix]


def read_recipe(path: str | os.PathLike) -> Recipe:
    """The recipe in ``path`` (TOML, YAML by PyYAML, or JSON such as a run's ``config.json``)."""
    where = shown(path)
    fmt = recipe_format(path)
    try:
        with open(path, "rb") as file:
            raw = file.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read recipe {where} ({exc.strerror or exc})") from None
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"{where} is over {MAX_BYTES // 1024} KiB, too large for a recipe")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{where} is not UTF-8 text; save the recipe as UTF-8") from None
    return Recipe(parse_recipe(text, fmt, where), where)


def parse_recipe(text: str, fmt: str, where: str) -> dict[str, Any]:
    """The mapping in ``text``; a one-line error for a file that does not parse."""
    try:
        if fmt == "toml":
            data = _toml_module(where).loads(text)
        elif fmt == "yaml":
            data = _yaml_module(where).safe_load(text)
        else:
            data = json.loads(text)
    except ConfigError:
        raise
    except Exception as exc:  # each parser has its own error class; all mean "not valid"
        reason = " ".join(str(exc).split())[:200]
        raise ConfigError(f"{where} is not valid {fmt.upper()}: {reason}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must hold a mapping of settings, not a {type(data).__name__}")
    check_plain(data, where)
    return data


def _toml_module(where: str) -> Any:
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib
    try:
        import tomli
    except ImportError:
        raise ConfigError(
            f"{where} is TOML, which Python 3.10 reads with the tomli package: pip install tomli"
        ) from None
    return tomli


def _yaml_module(where: str) -> Any:
    try:
        import yaml
    except ImportError:
        raise ConfigError(
            f"{where} is YAML, which needs PyYAML: pip install 'gan-zoo[yaml]' "
            "(or write the recipe as .toml)"
        ) from None
    return yaml


def check_plain(value: Any, where: str, key: str = "") -> None:
    """Strings, numbers, booleans, null, lists and string-keyed mappings only (YAML can hold
    dates and other types that a config cannot)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return
    if isinstance(value, list):
        for item in value:
            check_plain(item, where, key)
        return
    if isinstance(value, dict):
        for name, item in value.items():
            if not isinstance(name, str):
                raise ConfigError(f"{where}: the key {name!r} under '{key}' must be a string")
            check_plain(item, where, f"{key}.{name}" if key else name)
        return
    raise ConfigError(
        f"{where}: {key} is a {type(value).__name__}, which a recipe cannot hold; quote it"
    )


# Applying.
def apply_recipe(config: Preset, recipe: Recipe) -> set[str]:
    """Apply ``recipe`` to ``config`` (a preset's :class:`TrainConfig`, or a :class:`Preset`)
    in place; returns the top-level fields it set. ``model`` and ``dataset`` are left to the
    caller (the command line's win)."""
    recipe.name("model"), recipe.name("dataset")  # strings, even where the command line's win
    data = upgrade(recipe.data) if isinstance(config, TrainConfig) else dict(recipe.data)
    if "gan_zoo_version" in data:  # a run's config.json: a new run needs its own directory
        check_record(data, recipe.where)
        data.pop("out", None)
    unset = data.pop(UNSET, [])
    if not isinstance(unset, list) or not all(isinstance(k, str) for k in unset):
        raise ConfigError(f"{recipe.where}: {UNSET} must be a list of keys, got {unset!r}")
    touched = set()
    for key, value in data.items():
        if key in ("model", "dataset") or key in RECORD_EXTRAS:
            continue
        touched |= _apply(config, key, value, recipe.where)
    for key in unset:
        _set_path(config, key, None, recipe.where)
        touched.add(key.split(".")[0])
    return touched


def _apply(config: Preset, key: str, value: Any, where: str) -> set[str]:
    if key in COMMAND_LINE_ONLY:
        raise ConfigError(
            f"{where}: '{key}' is not a recipe setting; give {COMMAND_LINE_ONLY[key]} on the "
            "command line"
        )
    if key in SHORTHANDS:
        for target in SHORTHANDS[key]:
            _set_path(config, target, value, where, shown_as=key)
        return {target.split(".")[0] for target in SHORTHANDS[key]}
    if key == "tensorboard" and isinstance(config, TrainConfig):  # before "log" (config.json)
        if convert(bool, value, f"{where}: tensorboard") and "tensorboard" not in config.log:
            config.log.append("tensorboard")
        return {"log"}
    if key == "init" and isinstance(value, str):  # as --init SOURCE
        value = {"source": value}
    if key in NETWORKS and isinstance(value, (str, dict)):
        _apply_network(config, key, value, where)
    elif key in ("g_optim", "d_optim") and isinstance(value, dict):
        for name, item in value.items():
            _set_path(config, f"{key}.{name}", item, where)
    else:
        _set_path(config, key, value, where)
    return {key}


def _apply_network(config: Preset, part: str, value: str | dict[str, Any], where: str) -> None:
    """``generator = "resnet"`` or ``[generator]`` with ``name`` and ``options``: a different
    network starts without the preset's options (as ``--generator`` does); the same one, or a
    table without a name, adds to them. Other keys of the table are options (as in ``--set``)."""
    table = {"name": value} if isinstance(value, str) else value
    name = table.get("name")
    if name is not None:
        if not isinstance(name, str):
            raise ConfigError(f"{where}: {part}.name must be a string, got {name!r}")
        old = getattr(config, part)
        if old is None or old.name != name:
            setattr(config, part, NetSpec(name))
    spec = getattr(config, part)
    if spec is None:
        raise ConfigError(f'{where}: {part} is not set by the preset; give its name = "..."')
    for key, item in table.items():
        if key == "options":
            if not isinstance(item, dict):
                raise ConfigError(f"{where}: {part}.options must be a table, got {item!r}")
            spec.options.update(item)
        elif key != "name":
            spec.options[key] = item


def _set_path(config: Any, key: str, value: Any, where: str, shown_as: str | None = None) -> None:
    """Set the dotted ``key`` to ``value`` with the types of the config's fields (no parsing of
    strings: a recipe's values are typed already)."""
    parts = key.split(".")
    target = config
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        path = ".".join(parts[: i + 1])
        if isinstance(target, NetSpec) and part not in ("name", "options"):
            target = target.options  # generator.width is generator.options.width
        if isinstance(target, dict):
            if not last:
                raise ConfigError(f"{where}: cannot set '{key}': options are not nested")
            target[part] = value
            return
        if not dataclasses.is_dataclass(target):
            raise ConfigError(f"{where}: cannot set '{key}': '{parts[i - 1]}' has no fields")
        names = [f.name for f in dataclasses.fields(target)]
        if part not in names:
            if i == 0:
                names += [*SHORTHANDS, UNSET]
            raise ConfigError(f"{where}: unknown key '{path}'{did_you_mean(part, names)}")
        if last:
            hint = typing.get_type_hints(type(target))[part]
            if value is None and not _optional(hint):
                raise ConfigError(f"{where}: {shown_as or key} cannot be none; give a value")
            try:
                setattr(target, part, convert(hint, value, shown_as or key))
            except ConfigError as exc:
                raise ConfigError(f"{where}: {exc}") from None
            return
        target = getattr(target, part)
        if target is None:
            raise ConfigError(f"{where}: cannot set '{key}': '{path}' is not set; set it first")


def _optional(hint: Any) -> bool:
    return type(None) in typing.get_args(hint)


# Writing.
def recipe_data(config: Preset) -> dict[str, Any]:
    """A config as recipe data: ``model`` and ``dataset`` first, then the fields in order."""
    data = to_dict(config)
    first = {k: data.pop(k) for k in ("model", "dataset") if k in data}
    return {**first, **data}


def recipe_text(config: Preset, fmt: str) -> str:
    """``config`` as a recipe in ``fmt`` (``toml``, ``yaml`` or ``json``)."""
    data = recipe_data(config)
    lines = [
        f"A gan-zoo {__version__} recipe (docs/recipes.md): gan-zoo train --config FILE",
    ]
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt == "yaml":
        return "".join(f"# {line}\n" for line in lines) + dump_yaml(data)
    unset = _null_paths(data)
    for key in unset:
        _drop(data, key)
    if unset:
        data[UNSET] = unset
        lines.append(f"{UNSET}: the settings that are none (TOML has no null)")
    try:
        return toml_writer.dumps(data, header="\n".join(lines))
    except ValueError as exc:
        raise ConfigError(f"cannot write this config as TOML ({exc}); use .yaml or .json") from None


def _null_paths(data: dict[str, Any], prefix: str = "") -> list[str]:
    """The dotted keys whose value is None, in order."""
    found = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        if value is None:
            found.append(path)
        elif isinstance(value, dict):
            found += _null_paths(value, path + ".")
    return found


def _drop(data: dict[str, Any], path: str) -> None:
    """Remove the dotted key ``path``."""
    *parents, last = path.split(".")
    for part in parents:
        data = data[part]
    del data[last]


def write_recipe(config: Preset, path: str | os.PathLike) -> Path:
    """Write ``config`` as a recipe file (the format from the suffix), atomically."""
    return atomic_write_text(path, recipe_text(config, recipe_format(path)))


# Presets from files.
def load_preset(path: str | os.PathLike) -> Preset:
    """A :class:`Preset` from a recipe file of preset fields (a plugin's presets as files):
    ``register("mygan", load_preset(Path(__file__).parent / "mygan.toml"), ...)``."""
    recipe = read_recipe(path)
    extra = sorted({"model", "dataset"} & set(recipe.data))
    if extra:
        raise ConfigError(
            f"{recipe.where}: a preset file holds the recipe, not '{extra[0]}' (the user picks it)"
        )
    preset = Preset()
    apply_recipe(preset, recipe)
    return preset
