"""``gan-zoo datasets``: where a dataset's files are, what is in it, what it looks like.

``info`` loads one split through the public API and prints where the files were found, the
image size and channels and the images per class; ``--grid`` saves real samples as a PNG
grid. ``download`` fetches a dataset into the user cache; ``list`` is ``gan-zoo list datasets``.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import click

from ..config import parse_value
from ..errors import GanZooError


def _options(
    data_dir: str | None,
    split: str,
    image_size: int | None,
    channels: int | None,
    download: bool,
    extra: tuple[str, ...],
) -> dict[str, Any]:
    """Factory options: only those the user set, so datasets without them still work."""
    options: dict[str, Any] = {"split": split}
    if data_dir is not None:
        options["data_dir"] = data_dir
    if download:
        options["download"] = True
    if image_size is not None:
        options["image_size"] = image_size
    if channels is not None:
        options["channels"] = channels
    for item in extra:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise GanZooError(f"option '{item}' is not KEY=VALUE (e.g. -o test_fraction=0.2)")
        options[key.strip().replace("-", "_")] = parse_value(value)
    return options


def _load(name: str, options: dict[str, Any]) -> Any:
    """Load with a spinner on a terminal; warnings (skipped files) as one line each on stderr."""
    from rich.console import Console

    from .. import factory

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with Console(stderr=True).status(f"Loading {name} ({options['split']})..."):
            dataset = factory.create_dataset(name, **options)
    for warning in caught:
        click.secho(f"Warning: {' '.join(str(warning.message).split())}", fg="yellow", err=True)
    return dataset


_split_option = click.option("--split", default="train", show_default=True, help="Split to load.")
_data_dir_option = click.option(
    "--data-dir", type=click.Path(file_okay=False), help="Look here first (see docs/datasets.md)."
)
_extra_option = click.option(
    "-o",
    "--option",
    "extra",
    multiple=True,
    metavar="KEY=VALUE",
    help="Another factory option, e.g. -o test_fraction=0.2 (repeatable).",
)


@click.group("datasets")
def datasets_cmd() -> None:
    """Inspect, preview and download datasets.

    \b
    Examples:
      gan-zoo datasets list
      gan-zoo datasets info fashion-mnist --grid real.png
      gan-zoo datasets info image-folder --data-dir photos/ --image-size 64
      gan-zoo datasets download mnist
    """


@datasets_cmd.command("list")
@click.argument("pattern", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def list_datasets_cmd(ctx: click.Context, pattern: str | None, as_json: bool) -> None:
    """List registered datasets (same as 'gan-zoo list datasets').

    \b
    Example:
      gan-zoo datasets list '*mnist'
    """
    from .catalog import list_cmd

    ctx.invoke(
        list_cmd,
        kind="datasets",
        pattern=pattern,
        image_size=None,
        channels=None,
        conditional=None,
        as_json=as_json,
    )


@datasets_cmd.command("info")
@click.argument("name")
@_data_dir_option
@_split_option
@click.option("--image-size", type=int, help="Resize to this size (datasets that accept it).")
@click.option("--channels", type=click.IntRange(1, 4), help="1 or 3 (image-folder).")
@click.option("--download", is_flag=True, help="Download into the user cache if not found.")
@_extra_option
@click.option(
    "--grid", type=click.Path(dir_okay=False), help="Save a PNG grid of real samples here."
)
@click.option(
    "--grid-size", default=64, show_default=True, type=click.IntRange(1), help="Images in the grid."
)
@click.option("--seed", default=0, show_default=True, help="Seed that picks the grid's images.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def info_cmd(
    name, data_dir, split, image_size, channels, download, extra, grid, grid_size, seed, as_json
):
    """Show where a dataset was found, its image size and its images per class.

    \b
    Examples:
      gan-zoo datasets info fashion-mnist
      gan-zoo datasets info fashion-mnist --split test --grid real.png
      gan-zoo datasets info image-folder --data-dir photos/ --image-size 128 -o test_fraction=0.2
    """
    dataset = _load(name, _options(data_dir, split, image_size, channels, download, extra))
    from ..datasets.summary import save_real_grid, summarize

    summary = summarize(dataset, name)
    counts = list(summary["classes"].values())
    if grid:
        summary["grid"] = save_real_grid(dataset, grid, grid_size, seed)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    channels_text = "grayscale" if dataset.channels == 1 else f"{dataset.channels} channels"
    console.print(
        f"[bold cyan]{name}[/] ({dataset.split}): {len(dataset):,} images, "
        f"{dataset.image_size}x{dataset.image_size} {channels_text}, "
        f"{dataset.num_classes or 'no'} class{'' if dataset.num_classes == 1 else 'es'}"
    )
    console.print(f"found in [green]{dataset.source}[/]", highlight=False)
    if counts:
        table = Table(title="Images per class", title_justify="left")
        table.add_column("label", justify="right")
        table.add_column("class", style="bold")
        table.add_column("images", justify="right")
        table.add_column("share", justify="right")
        for label, (class_name, count) in enumerate(zip(dataset.class_names, counts, strict=True)):
            table.add_row(
                str(label), class_name, f"{count:,}", f"{100 * count / len(dataset):.1f}%"
            )
        console.print(table)
    if grid:
        console.print(
            f"saved {summary['grid']['images']} real images to [green]{grid}[/]", highlight=False
        )


@datasets_cmd.command("download")
@click.argument("name")
def download_cmd(name: str) -> None:
    """Download a dataset's train and test splits into the user cache (if not found already).

    Files are looked for first (see docs/datasets.md); only missing ones are fetched, with
    their checksums verified.

    \b
    Examples:
      gan-zoo datasets download mnist
      gan-zoo datasets download cifar10
    """
    for split in ("train", "test"):
        dataset = _load(name, {"split": split, "download": True})
        click.echo(f"{name} {split}: {len(dataset):,} images in {dataset.source}")


COMMANDS = [datasets_cmd]
