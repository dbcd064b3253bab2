"""What the presets measured: the results records of ``benchmarks/results/``, shipped with gan-zoo.

``measured.json`` (package data beside this module) is written by
``python benchmarks/results_measured.py`` from the records behind docs/results.md, and a test
holds it equal to them. It holds one item per record: the preset and its distribution, the
``gan-zoo train`` arguments the row added to the preset, the metrics, the training speed and
the hardware.

A record is a **quality figure** of its preset only when it trained the preset's own recipe
(the row added no argument that changes the recipe: a row shortened to a few epochs, or one with
another loss, schedule or EMA, measures something else) and was scored with the standard
protocol (10,000 generated vs the 10,000 test images). ``gan-zoo list models`` shows the best
such FID of each preset; ``gan-zoo info PRESET`` shows every record of it.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

MEASURED_FILE = "measured.json"

#: ``gan-zoo train`` options that leave the recipe as it is: where and how fast it runs, what
#: it writes. A row that adds any other option (``--epochs``, ``--loss``, ``--set``, ...) trains
#: something else than the preset.
RECIPE_NEUTRAL = (
    "--precision",
    "--device",
    "--compile",
    "--compile-mode",
    "--channels-last",
    "--tf32",
    "--cudnn-benchmark",
    "--deterministic",
    "--data-dir",
    "--download",
    "--log-every",
    "--sample-every",
    "--checkpoint-every",
    "--keep",
    "--tensorboard",
    "--log",
    "--eval-metric",
    "--eval-samples",
    "--eval-split",
    "--license",
    "--quiet",
    "-q",
    "--plain",
)


@dataclass(frozen=True)
class Measurement:
    """One record: a row of the results table, one seed."""

    record: str  # "dcgan-s0"
    row: str
    seed: int
    preset: str
    distribution: str  # the distribution that registers the preset
    dataset: str
    note: str = ""
    #: What the row added to ``gan-zoo train PRESET DATASET`` (without --seed and --out).
    args: tuple[str, ...] = ()
    #: Scored with the standard protocol: 10,000 generated vs 10,000 test images.
    standard: bool = False
    metrics: dict[str, float] = field(default_factory=dict)
    img_s: float | None = None
    train_seconds: float | None = None
    precision: str | None = None
    hardware: str = ""
    date: str = ""
    #: The record passed the provenance check (False: it lies in benchmarks/results/unverified/,
    #: its command does not reproduce it exactly; the listings mark its figures with '*').
    verified: bool = True

    @property
    def own_recipe(self) -> bool:
        """The row trained the preset as registered (see :data:`RECIPE_NEUTRAL`)."""
        return not changed_recipe(self.args)

    @property
    def is_quality(self) -> bool:
        """A quality figure of the preset: its own recipe, the standard protocol, an FID."""
        return self.own_recipe and self.standard and "fid" in self.metrics

    @property
    def why_not(self) -> str:
        """Why this record is not a quality figure of its preset ("" when it is one)."""
        if not self.own_recipe:
            return "not the preset's recipe: " + " ".join(changed_recipe(self.args))
        if not self.standard:
            return "not the standard protocol"
        return "" if "fid" in self.metrics else "no FID"

    def as_dict(self) -> dict[str, Any]:
        return {
            **{k: getattr(self, k) for k in self.__dataclass_fields__},
            "args": list(self.args),
            "quality": self.is_quality,
        }


def changed_recipe(args: tuple[str, ...] | list[str]) -> list[str]:
    """The options among ``args`` that change the recipe (with their values)."""
    changed: list[str] = []
    taking = False
    for arg in args:
        if arg.startswith("-"):
            name = arg.split("=", 1)[0]
            taking = name not in RECIPE_NEUTRAL
            if taking:
                changed.append(arg)
        elif taking:
            changed.append(arg)
    return changed


def fid_text(m: Measurement) -> str:
    """The FID as every listing shows it (two decimals; a trailing '*' when the record is not
    verified)."""
    return f"{m.metrics['fid']:.2f}" + ("" if m.verified else "*")


def img_s_text(m: Measurement) -> str:
    """Training images per second as the listings show it (no decimals, no separators)."""
    return f"{m.img_s:.0f}" if m.img_s is not None else "-"


@functools.cache
def measurements() -> tuple[Measurement, ...]:
    """Every record in the shipped ``measured.json`` (empty if the file is missing)."""
    try:
        text = resources.files(__package__).joinpath(MEASURED_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return ()
    return tuple(from_dict(item) for item in json.loads(text)["records"])


def from_dict(item: dict[str, Any]) -> Measurement:
    fields = {k: v for k, v in item.items() if k in Measurement.__dataclass_fields__}
    return Measurement(**{**fields, "args": tuple(fields.get("args", ()))})


def of_preset(name: str, distribution: str) -> list[Measurement]:
    """The records of preset ``name`` of ``distribution``, in table order."""
    return [m for m in measurements() if m.preset == name and m.distribution == distribution]


def best(name: str, distribution: str) -> Measurement | None:
    """The preset's record with the lowest FID among its quality figures, verified ones first:
    an unverified record is shown only while the preset has no verified one (None: none)."""
    quality = [m for m in of_preset(name, distribution) if m.is_quality]
    pool = [m for m in quality if m.verified] or quality
    return min(pool, key=lambda m: m.metrics["fid"]) if pool else None


__all__ = [
    "MEASURED_FILE",
    "RECIPE_NEUTRAL",
    "Measurement",
    "best",
    "changed_recipe",
    "fid_text",
    "img_s_text",
    "measurements",
    "of_preset",
]
