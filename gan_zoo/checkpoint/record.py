"""The config record (``config.json``) and the safetensors metadata derived from it.

The record is the resolved :class:`~gan_zoo.config.TrainConfig` as JSON plus three extras: the
gan-zoo version, the distribution and version of the plugin behind each part, and the dataset's
class names. A save builds it once and hashes it once; every weights file's header carries a copy,
so a lone ``generator.safetensors`` still says what it is.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from typing import Any

from .. import plugins
from .._version import __version__
from ..config import TrainConfig, config_hash, from_dict, portable_out, to_dict, upgrade
from ..errors import GanZooError
from .layout import FORMAT, FORMAT_VERSION
from .schema import check_record

#: Keys of config.json that are not TrainConfig fields.
RECORD_EXTRAS = ("gan_zoo_version", "plugins", "class_names")
#: The registry kind behind each part named in a config.
_PARTS = {
    "model": "models",
    "generator": "generators",
    "discriminator": "discriminators",
    "loss": "losses",
    "regularizer": "losses",
    "dataset": "datasets",
}
#: The parts the model card describes, with their registry kinds.
CARD_PARTS = {"generator": "generators", "discriminator": "discriminators", "loss": "losses"}


def part_name(spec: Any) -> str | None:
    """The registry name of a part as the record holds it (``{"name": ...}`` or a plain string)."""
    return spec.get("name") if isinstance(spec, dict) else spec


def plugin_versions(config: TrainConfig) -> dict[str, str]:
    """``{part: "distribution version"}`` for every part of ``config`` that is registered."""
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


def recorded_distribution(record: dict[str, Any], part: str) -> str | None:
    """The distribution ``config.json`` records for ``part`` (None if none, or not valid)."""
    recorded = record.get("plugins") if isinstance(record.get("plugins"), dict) else {}
    dist, _, version = str(recorded.get(part) or "").partition(" ")
    return dist if _DISTRIBUTION.match(dist) and _VERSION.match(version) else None


def part_entry(record: dict[str, Any], part: str) -> Any:
    """The registry entry of ``part`` of a run: its name inside the distribution the run
    recorded for it first, so that a plugin installed later that has (or takes) the same plain
    name does not change what the run means. Raises the registry's unknown-name error."""
    return plugins.registry(_PARTS[part]).resolve(
        str(part_name(record.get(part))), recorded_distribution(record, part)
    )


def pin_parts(config: TrainConfig, record: dict[str, Any]) -> TrainConfig:
    """``config`` (read from ``record``) with each part named as it must be here to reach the
    entry the run recorded: a plain name another distribution now has becomes the qualified
    ``distribution/name``; names that reach the recorded entry stay as they are."""
    for part in ("generator", "discriminator", "loss", "regularizer", "dataset"):
        value = getattr(config, part)
        if value is None:
            continue
        try:
            key = part_entry(record, part).key
        except GanZooError:  # not installed: the caller's missing_part says what to install
            continue
        if isinstance(value, str):
            setattr(config, part, key)
        else:
            value.name = key
    return config


def part_descriptions(record: dict[str, Any]) -> dict[str, str]:
    """``{part: description}`` of the generator, discriminator and loss that are registered here
    (the model card's "Model" table); parts of plugins that are not installed are left out."""
    found = {}
    for part in CARD_PARTS:
        if not part_name(record.get(part)):
            continue
        try:
            found[part] = part_entry(record, part).description
        except GanZooError:
            continue
    return found


def portable_config(config: TrainConfig) -> TrainConfig:
    """``config`` as a run records it: ``out`` made portable (:func:`~gan_zoo.config.portable_out`:
    relative, or None), so the record, its hash and the card hold no machine path."""
    if config.out == portable_out(config.out):
        return config
    return dataclasses.replace(config, out=portable_out(config.out))


def config_record(
    config: TrainConfig | dict[str, Any], class_names: list[str] | None = None
) -> dict[str, Any]:
    """What ``config.json`` holds: the resolved config (``out`` made portable), the gan-zoo
    version and the plugins.

    A dict is taken as an existing record (e.g. read from ``config.json``) and copied.
    """
    if isinstance(config, dict):
        record = json.loads(json.dumps(config))
    else:
        record = to_dict(portable_config(config))
        record["gan_zoo_version"] = __version__
        record["plugins"] = plugin_versions(config)
    if class_names is not None and "class_names" not in record:
        record["class_names"] = list(class_names)
    return record


def record_to_config(record: dict[str, Any], where: str = "config.json") -> TrainConfig:
    """The :class:`TrainConfig` inside a ``config.json`` record (a ConfigError if it is not one,
    e.g. a record of a newer gan-zoo with fields this one lacks); the record's schema
    (:func:`~gan_zoo.checkpoint.schema.check_record`) is checked first."""
    check_record(record, where)
    return from_dict(
        TrainConfig, upgrade({k: v for k, v in record.items() if k not in RECORD_EXTRAS})
    )


def record_hash(record: dict[str, Any], config: TrainConfig | None = None) -> str:
    """:func:`~gan_zoo.config.config_hash` of the record's config (pass ``config`` when it is
    already built); a record this gan-zoo cannot read is hashed as it is."""
    if config is not None:
        return config_hash(config)
    try:
        return config_hash(record_to_config(record))
    except GanZooError:  # a record from a newer gan-zoo: hash what is there
        text = json.dumps(record, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def weights_metadata(
    record: dict[str, Any], part: str, *, digest: str | None = None, **extra: Any
) -> dict[str, str]:
    """safetensors header metadata (str -> str) that says what a weights file is.

    ``digest`` is the record's :func:`record_hash`, computed here when not given; a save passes
    it so that three files cost one hash. ``extra`` values that are not strings are stored as
    compact JSON.
    """
    meta = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "part": part,
        "gan_zoo_version": str(record.get("gan_zoo_version", __version__)),
        "config_hash": digest if digest is not None else record_hash(record),
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


# Parts whose plugin is not installed here.
#: The packaging name rule (PyPA core metadata): what a distribution name may look like.
_DISTRIBUTION = re.compile(r"^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]{0,98}[A-Za-z0-9])$")
#: A PEP 440 version's characters, bounded.
_VERSION = re.compile(r"^[0-9][0-9A-Za-z.+!_-]{0,63}$")


def plugin_shown(plugin: Any) -> str:
    """A ``"distribution version"`` string read from a run, as it may be shown: as it is when it
    matches the packaging rules, else a placeholder (a run could put a command there)."""
    dist, _, version = plugin.partition(" ") if isinstance(plugin, str) else ("", "", "")
    ok = _DISTRIBUTION.match(dist) and _VERSION.match(version)
    return plugin if ok else "(a plugin name that is not valid)"


def install_hint(plugin: Any, what: str) -> str:
    """Why ``what`` (e.g. "generator 'x'") is missing and the ``pip install`` that fixes it, for
    a ``"distribution version"`` string read from a run. Only a distribution name and version
    that match the packaging rules are echoed, in single quotes; those rules admit no quote,
    space or shell metacharacter, so a crafted string from a downloaded run can never make the
    pasted command do anything else."""
    dist, _, version = plugin.partition(" ") if isinstance(plugin, str) else ("", "", "")
    if not _DISTRIBUTION.match(dist) or not _VERSION.match(version):
        return (
            f"{what} is not installed here, and the run does not name its plugin in a valid form; "
            "find the plugin that provides it ('gan-zoo list' shows what is installed)"
        )
    if dist == "gan-zoo":
        return (
            f"{what} is built into gan-zoo {version} (per config.json) but not into this gan-zoo "
            f"{__version__}; upgrade with: pip install '{dist}>={version}'"
        )
    return (
        f"{what} comes from the plugin {dist} {version} (per config.json), which is not "
        f"installed; install it with: pip install '{dist}=={version}'"
    )


def missing_part(
    record: dict[str, Any], parts: tuple[str, ...] = tuple(_PARTS)
) -> GanZooError | None:
    """The error for the first of ``parts`` in ``record`` that no installed plugin registers
    (naming the plugin to install, from the record's ``plugins``), or None if all are here."""
    from ..errors import CheckpointError
    from ..registry import SINGULAR

    recorded = record.get("plugins") if isinstance(record.get("plugins"), dict) else {}
    for part in parts:
        name = part_name(record.get(part))
        kind = _PARTS[part]
        if not isinstance(name, str) or not name or _installed(record, part, name):
            continue
        shown = f"'{name}'" if _NAME_SHOWN.match(name) else "(an unreadable name)"
        return CheckpointError(install_hint(recorded.get(part), f"{SINGULAR[kind]} {shown}"))
    return None


def _installed(record: dict[str, Any], part: str, name: str) -> bool:
    """True when the entry a run recorded for ``part`` is registered here: the recorded
    distribution's own ``name`` (another distribution's entry of that plain name is not it)."""
    registry = plugins.registry(_PARTS[part])
    dist = recorded_distribution(record, part)
    if dist is None or "/" in name:
        return name in registry
    return f"{dist}/{name}" in registry


_NAME_SHOWN = re.compile(r"^[a-z0-9][a-z0-9./-]{0,99}$")
