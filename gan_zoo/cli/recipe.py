"""``gan-zoo info PRESET`` (and ``gan-zoo list models NAME --long``): a preset's whole recipe.

The networks with their options (the preset's own, then the factory's defaults), the loss and
penalty, the optimizers, the schedule, batch, EMA and augmentation; then every results record of
the preset (:mod:`gan_zoo.measured`), which of them is its quality figure, and the pretrained
tags trained from it. Rendered like the listings: padded ``key  value`` lines on a terminal,
tab-separated into a pipe.
"""

from __future__ import annotations

from typing import Any

import click

from .. import measured, plugins
from ..registry import Entry

#: Options every network gets from the run, not from the recipe.
_CONTRACT = {"z_dim", "image_size", "channels", "num_classes"}


def _value(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _net(kind: str, spec: Any, distribution: str) -> str:
    """``name: k=v, ...``: the preset's options, then the factory's defaults."""
    defaults: dict[str, Any] = {}
    try:
        entry = plugins.registry(kind).resolve(spec.name, distribution)
        defaults = {k: v for k, v in entry.options().items() if k not in _CONTRACT}
    except Exception:  # noqa: BLE001 (a broken plugin: show what the preset says)
        pass
    own = ", ".join(f"{k}={_value(v)}" for k, v in spec.options.items())
    rest = ", ".join(f"{k}={_value(v)}" for k, v in defaults.items() if k not in spec.options)
    parts = [p for p in (own, f"defaults {rest}" if rest else "") if p]
    return spec.name + (f" ({'; '.join(parts)})" if parts else "")


def _optim(o: Any) -> str:
    betas = ", ".join(_value(b) for b in o.betas)
    decay = f", weight decay {_value(o.weight_decay)}" if o.weight_decay else ""
    return f"Adam lr {_value(o.lr)}, betas ({betas}){decay}"


def _schedule(p: Any) -> str:
    epochs = f"{p.epochs} epochs"
    if p.lr_decay == "linear":
        return f"{epochs}, learning rate decayed linearly to 0"
    if p.lr_decay == "step":
        return (
            f"{epochs}, learning rate x {_value(p.lr_decay_gamma)} every {p.lr_decay_every} steps"
        )
    return f"{epochs}, constant learning rate"


def _record(m: measured.Measurement) -> str:
    fid = f"FID {measured.fid_text(m)}" if "fid" in m.metrics else "no FID"
    text = f"{fid}, {measured.img_s_text(m)} img/s on {m.dataset}; {m.note}; {m.hardware}"
    return text + ("" if m.is_quality else f" (not a quality figure: {m.why_not})")


def pretrained_tags(entry: Entry) -> list[str]:
    """The pretrained tags whose config.json names this preset."""
    from ..checkpoint.sources import pretrained_summary

    return [
        tag.key
        for tag in plugins.registry("pretrained").list()
        if pretrained_summary(tag)["preset"] in (entry.name, entry.qualified_name)
    ]


def recipe_rows(entry: Entry) -> list[tuple[str, str]]:
    """``(key, value)`` rows of the recipe, its records and its pretrained tags."""
    p = entry.load()
    dist = entry.plugin.distribution
    rows = [
        ("preset", f"{entry.key} ({entry.plugin.distribution} {entry.plugin.version})"),
        ("description", entry.description),
        ("images", str(entry.supports)),
        ("generator", _net("generators", p.generator, dist)),
        ("discriminator", _net("discriminators", p.discriminator, dist)),
        ("loss", _net("losses", p.loss, dist)),
        ("extra penalty", _net("losses", p.regularizer, dist) if p.regularizer else "none"),
        ("D steps", f"{p.n_critic} per G step"),
        ("G optimizer", _optim(p.g_optim)),
        ("D optimizer", _optim(p.d_optim)),
        ("schedule", _schedule(p)),
        ("batch", str(p.batch_size)),
        ("latent", f"z_dim {p.z_dim}"),
        ("EMA", f"{_value(p.ema)} (warm-up {p.ema_warmup} images)" if p.ema else "off"),
        ("augmentation", f"DiffAugment {p.augment}" if p.augment else "off"),
    ]
    if p.image_size or p.channels:
        size = f"{p.image_size} px" if p.image_size else "the dataset's size"
        channels = f"{p.channels} ch" if p.channels else "the dataset's channels"
        rows.append(("written for", f"{size}, {channels}"))
    best = measured.best(entry.name, dist)
    if best is not None:
        quality = f"FID {measured.fid_text(best)}, {measured.img_s_text(best)} img/s"
        rows.append(("quality", f"{quality} (record {best.record}, the best of its own recipe)"))
    else:
        rows.append(("quality", "no record of its own recipe at the standard protocol"))
    rows += [(f"record {m.record}", _record(m)) for m in measured.of_preset(entry.name, dist)]
    tags = pretrained_tags(entry)
    rows.append(("pretrained", ", ".join(tags) or "none installed (see gan-zoo list pretrained)"))
    rows.append(("train", f"gan-zoo train {entry.key} DATASET"))
    return rows


def recipe_json(entry: Entry) -> dict[str, Any]:
    from ..config import to_dict

    best = measured.best(entry.name, entry.plugin.distribution)
    return {
        **entry.as_dict(),
        "recipe": to_dict(entry.load()),
        "best_record": best.record if best else None,
        "records": [m.as_dict() for m in measured.of_preset(entry.name, entry.plugin.distribution)],
        "pretrained": pretrained_tags(entry),
    }


def recipe_lines(entry: Entry, *, plain: bool, width: int = 80) -> list[str]:
    from ..formatting import printable, table

    rows = [[k, printable(v)] for k, v in recipe_rows(entry)]
    return table(rows, plain=plain, width=width, wrap_last=True)


def show_recipe(entry: Entry, as_json: bool = False) -> None:
    """Print the recipe of preset ``entry`` (see :func:`recipe_lines`)."""
    import json

    from .listing import terminal

    if as_json:
        click.echo(json.dumps(recipe_json(entry), indent=2))
        return
    plain, width = terminal()
    click.echo("\n".join(recipe_lines(entry, plain=plain, width=width)))
