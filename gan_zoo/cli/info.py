"""``gan-zoo info``: what a run, checkpoint, weights file, pretrained tag or preset holds."""

from __future__ import annotations

from typing import Any

import click

from ..errors import GanZooError, did_you_mean
from .generate import _PATH


@click.command("info")
@click.argument("path", metavar="SOURCE", type=_PATH)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a panel.")
def info_cmd(path, as_json):
    """Show what a run, checkpoint or preset holds: model, dataset, steps, metrics, files.

    SOURCE is a run, a checkpoint, a generator.safetensors, a pretrained tag or
    hf-hub:owner/name. Reads only JSON and safetensors headers, so it is instant even for large
    checkpoints. SOURCE may also name a preset (when no such file or folder exists): its whole
    recipe, its results records and the pretrained tags trained from it.

    \b
    Examples:
      gan-zoo info runs/dcgan-fashion-mnist-20250101-120000
      gan-zoo info checkpoints/step-0004690 --json
      gan-zoo info dcgan.fashion-mnist
      gan-zoo info dcgan
    """
    import json
    import os

    from .. import plugins

    spec = os.fspath(path)
    models = plugins.registry("models")
    if not os.path.lexists(path) and spec not in plugins.registry("pretrained"):
        if spec in models:
            from .recipe import show_recipe

            show_recipe(models.get(spec), as_json)
            return
        # A name like a preset's (no '.tag', no folder): suggest presets; else find_source's error.
        near = did_you_mean(spec, models.names()) if not set("./\\:") & set(spec) else ""
        if near:
            raise GanZooError(
                f"'{spec}' is neither a file or folder, a pretrained tag nor a preset{near} "
                "(see 'gan-zoo list models')"
            )

    from ..checkpoint import describe

    info = describe(path)
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    from rich.console import Console
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold cyan", no_wrap=True)
    grid.add_column()
    for key, value in info_rows(info):
        grid.add_row(key, Text(str(value)))  # Text: names with [brackets] are not markup
    title = Text(info["checkpoint"], style="bold")
    Console().print(Panel(grid, title=title, title_align="left", expand=False))


def info_rows(info: dict[str, Any]) -> list[tuple[str, Any]]:
    """The panel's ``(key, value)`` rows for :func:`~gan_zoo.checkpoint.describe`'s ``info``,
    empty values left out."""
    from ..checkpoint.card import metric_protocol, protocol_text
    from ..formatting import duration, human_bytes

    rows: list[tuple[str, Any]] = []

    def row(key: str, value) -> None:
        if value not in (None, "", [], {}):
            rows.append((key, value))

    def number(v) -> str:
        return f"{v:.4g}" if isinstance(v, (int, float)) else str(v)

    kwargs = info["generator_kwargs"]
    parts = f"G {info['generator']}, D {info['discriminator']}, loss {info['loss']}"
    if info.get("source") != "path":
        row(
            "source",
            f"{info['path']} "
            f"({'pretrained tag' if info['source'] == 'pretrained' else 'Hugging Face Hub'})",
        )
    row("model", f"{info['model']} ({parts})")
    row("dataset", info["dataset"])
    if kwargs:
        sizes = (
            f"{kwargs.get('image_size')} px, {kwargs.get('channels')} ch, "
            f"z_dim {kwargs.get('z_dim')}"
        )
        row("images", sizes)
    # Runs record their dataset's classes; only conditional generators use them.
    if kwargs.get("num_classes"):
        row("classes", ", ".join(info["class_names"]) or f"0..{kwargs['num_classes'] - 1}")
    row("EMA weights", "yes" if info["ema"] else None)
    row("step", info["step"])
    row("epoch", info["epoch"])
    row("images seen", info["images_seen"])
    if isinstance(info["elapsed_seconds"], (int, float)):
        row("training time", duration(info["elapsed_seconds"]))
    row("hardware", info["hardware"])
    row("last losses", ", ".join(f"{k} {number(v)}" for k, v in info["last_losses"].items()))
    for name, item in info["metrics"].items():
        value = item["value"] if isinstance(item, dict) else item
        protocol = protocol_text(metric_protocol(item))
        row(f"metric {name}", number(value) + (f" ({protocol})" if protocol != "-" else ""))
    row("gan-zoo", info["gan_zoo_version"])
    row("plugins", ", ".join(sorted(set(info["plugins"].values()))))
    row("missing here", info["missing"])
    row("config hash", info["config_hash"])
    row("run", info["run"])
    marks: dict[str, list[str]] = {}
    for which in ("latest", "best"):
        if info[which]:
            marks.setdefault(info[which], []).append(which)
    listed = [c + (f" ({', '.join(marks[c])})" if c in marks else "") for c in info["checkpoints"]]
    row("checkpoints", ", ".join(listed))
    for name, size in info["files"].items():
        row(name, human_bytes(size))
    return rows


COMMANDS = [info_cmd]
