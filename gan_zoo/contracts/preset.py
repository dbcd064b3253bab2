"""The preset contract: a :class:`~gan_zoo.config.Preset` naming registered parts.

Importing this module does not import torch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..config import Preset, TrainConfig, from_dict, to_dict
from .common import Contract, ContractError, deeper

SINGULAR = {"generators": "generator", "discriminators": "discriminator", "losses": "loss"}


def check(
    preset: Any,
    depth: str = "run",
    *,
    who: str = "model",
    registry: Callable[[str], Any] | None = None,
    supports: Any = None,
) -> None:
    """The preset contract. ``"signature"``: a :class:`Preset` whose config survives
    ``config.json``. ``"run"`` (with ``registry``, ``plugins.registry``): its networks and
    losses are registered and its networks support every size ``supports`` (the entry's
    registration) declares. ``"deep"``: also every declared channel count, a declared size
    equal to the preset's own, and the generator's ``conditional`` equal to the entry's. All
    problems are raised together."""
    if not isinstance(preset, Preset):
        raise ContractError(
            who, f"it registers a {type(preset).__name__}, not a gan_zoo.config.Preset"
        )
    config = TrainConfig.from_preset("preset", "fashion-mnist", preset)
    if from_dict(TrainConfig, to_dict(config)) != config:
        raise ContractError(who, "its config does not survive config.json (JSON-able options only)")
    if not deeper(depth, "run") or registry is None:
        return
    problems = _parts(preset, registry, supports, deeper(depth, "deep"))
    if problems:
        raise ContractError(who, *problems)


def _parts(preset: Preset, registry: Callable[[str], Any], supports: Any, deep: bool) -> list[str]:
    found = []
    sizes = (supports.image_sizes if supports is not None else ()) or (
        (preset.image_size,) if preset.image_size else ()
    )
    parts = [
        ("generators", preset.generator),
        ("discriminators", preset.discriminator),
        ("losses", preset.loss),
    ] + ([("losses", preset.regularizer)] if preset.regularizer else [])
    for kind, spec in parts:
        if spec.name not in registry(kind):
            found.append(f"its {SINGULAR[kind]} '{spec.name}' is not registered")
            continue
        part = registry(kind).get(spec.name).supports
        for size in sizes:
            if kind != "losses" and not part.matches(image_size=size):
                found.append(
                    f"it declares {size} px but its {SINGULAR[kind]} '{spec.name}' supports {part}"
                )
    if deep and not found and supports is not None:
        found += _declared(preset, registry, supports, sizes or (28,))
    return found


def _declared(
    preset: Preset, registry: Callable[[str], Any], supports: Any, sizes: tuple
) -> list[str]:
    g = registry("generators").get(preset.generator.name).supports
    d = registry("discriminators").get(preset.discriminator.name).supports
    found = []
    if preset.image_size is not None and tuple(sizes) != (preset.image_size,):
        found.append(
            f"it trains at {preset.image_size} px but is registered with "
            f"image_sizes={tuple(sizes)}; register image_sizes=({preset.image_size},)"
        )
    for size in sizes:
        for channels in supports.channels or (1, 3):
            if not (g.matches(size, channels) and d.matches(size, channels)):
                found.append(
                    f"it declares {size} px, {channels} ch but its generator supports "
                    f"{g} and its discriminator {d}"
                )
    if supports.conditional != g.conditional:
        found.append(
            f"it is registered conditional={supports.conditional} but its generator "
            f"is conditional={g.conditional}"
        )
    return found


CONTRACT = Contract("preset", "models", Preset, check)
