"""``gan-zoo reproduce``: retrain a card's recipe over seeds and compare with the card's number.

A thin layer over :func:`gan_zoo.reproduction.reproduce`.
"""

from __future__ import annotations

import json

import click

from ..reproduction import SPREAD


@click.command("reproduce")
@click.argument("source")
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Runs to train, with the card's seed, then the next ones.",
)
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    help="Train each run this many steps only: a smoke check of the pipeline, whose numbers "
    "are not comparable with the card's.",
)
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    help="A metric of the card to reproduce; repeat for several (default: every metric of the "
    "card that is installed here).",
)
@click.option("--device", help="auto, cpu, cuda, cuda:N or mps (default: the card's).")
@click.option("--data-dir", type=click.Path(), help="Where the dataset is.")
@click.option(
    "--out",
    type=click.Path(),
    help="The folder of the runs and reproduction.json (default: runs/reproduce-...).",
)
@click.option("--quiet", is_flag=True, help="No progress bars while training.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def reproduce_cmd(source, seeds, steps, metrics, device, data_dir, out, quiet, as_json):
    """Retrain the recipe of SOURCE and check the number on its card.

    SOURCE is a run, a checkpoint, a pretrained tag or hf-hub:owner/name. Its config.json is
    trained again with --seeds seeds; each run is scored under the protocol the card records
    (metric, number of samples, reference split); the card's value is printed next to the
    reproduced mean ± std with a verdict: within mean ± 2 std, or not. Versions of gan-zoo and
    of the plugins that differ from the card's are listed.

    \b
    Examples:
      gan-zoo reproduce dcgan.fashion-mnist
      gan-zoo reproduce dcgan.fashion-mnist --steps 200        # a smoke check only
      gan-zoo reproduce runs/my-run --seeds 5 --metric classifier-fd --device cuda
    """
    from ..reproduction import reproduce

    found = reproduce(
        source,
        seeds=seeds,
        steps=steps,
        metrics=list(metrics) or None,
        device=device,
        data_dir=data_dir,
        out=out,
        progress="quiet" if quiet or as_json else "auto",
    )
    if as_json:
        click.echo(json.dumps(found.as_dict(), indent=2))
        return
    _render(found)


def _render(found) -> None:
    from rich.console import Console
    from rich.table import Table

    seeds = ", ".join(map(str, found.seeds))
    click.echo(f"Reproduced {found.source}: {len(found.seeds)} runs (seeds {seeds}) in {found.dir}")
    if found.smoke:
        click.echo(
            f"Smoke check: {found.steps} steps per run instead of the recipe's "
            f"{found.recipe_length}; the numbers are not comparable with the card's and the "
            "verdict says nothing about the card"
        )
    if found.version_differences:
        click.echo("Versions that differ from the card's: " + "; ".join(found.version_differences))
    else:
        click.echo("Versions: gan-zoo and every plugin as recorded with the card")
    reasons: dict[str, list[str]] = {}
    for name, why in found.skipped.items():
        reasons.setdefault(why, []).append(name)
    for why, names in reasons.items():
        click.echo(f"Skipped {', '.join(names)}: {why}")
    table = Table(
        title_justify="left", title=f"Card vs reproduction (spread: mean ± {SPREAD:g} std)"
    )
    for column in ("metric", "card", "reproduced", "per seed", "verdict"):
        table.add_column(column)
    for m in found.metrics:
        std = "" if m.std is None else f" ± {m.std:.4g}"
        table.add_row(
            m.name,
            f"{m.card:.4g}",
            f"{m.mean:.4g}{std} (n={len(m.values)})",
            ", ".join(f"{v:.4g}" for v in m.values),
            _verdict(m.within, found.smoke),
        )
    Console(width=120).print(table)
    for m in found.metrics:
        if m.protocol_differences:
            click.echo(f"Protocol of {m.name} differs: " + "; ".join(m.protocol_differences))


def _verdict(within: bool | None, smoke: bool) -> str:
    if within is None:
        text = "no spread with one seed"
    else:
        text = "within the spread" if within else "outside the spread"
    return f"{text} (smoke check)" if smoke else text


COMMANDS = [reproduce_cmd]
