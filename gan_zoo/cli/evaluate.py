"""``gan-zoo evaluate``: score a trained generator with registered metrics (FID, KID, ...).

A thin layer over :func:`gan_zoo.evaluation.evaluate`, whose keyword defaults are the options'.
"""

from __future__ import annotations

import inspect
import json

import click

from ..evaluation import evaluate

#: The defaults of :func:`~gan_zoo.evaluation.evaluate`, shown by the options.
_DEFAULTS = {name: p.default for name, p in inspect.signature(evaluate).parameters.items()}


@click.command("evaluate")
@click.argument("path", type=click.Path())
@click.option("--metric", "metrics", multiple=True, default=_DEFAULTS["metrics"], show_default=True,
              help="A registered metric; repeat for several (see 'gan-zoo list metrics').")
@click.option("--n", "num_samples", type=click.IntRange(min=2), default=_DEFAULTS["num_samples"], show_default=True,
              help="Generated images, and at most as many reference images.")
@click.option("--split", default=_DEFAULTS["split"], show_default=True, help="Reference split of the run's dataset.")
@click.option("--batch-size", type=click.IntRange(min=1), default=_DEFAULTS["batch_size"],
              show_default=True)
@click.option("--device", default=_DEFAULTS["device"], show_default=True, help="auto, cpu, cuda, cuda:N or mps.")
@click.option("--seed", type=int, default=_DEFAULTS["seed"], show_default=True, help="Seed of the generated latents.")
@click.option("--data-dir", type=click.Path(), help="Where the reference dataset is.")
@click.option("--no-record", is_flag=True, help="Do not write the result into the model card.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def evaluate_cmd(path, metrics, num_samples, split, batch_size, device, seed, data_dir, no_record, as_json):
    """Score the generator of a run or checkpoint and record it in the model card.

    \b
    Examples:
      pip install gan-zoo-fid
      gan-zoo evaluate runs/dcgan-fashion-mnist-20261124-101500 --metric fid --metric kid
      gan-zoo evaluate runs/my-run/checkpoints/step-0004690 --n 2000 --no-record
    """
    results = evaluate(
        path, list(metrics), num_samples=num_samples, split=split, batch_size=batch_size,
        device=device, seed=seed, data_dir=data_dir, record=not no_record,
    )  # fmt: skip
    if as_json:
        click.echo(json.dumps(results, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    from ..checkpoint.card import protocol_text

    table = Table(title=f"Evaluation of {path}", title_justify="left")
    for column in ("metric", "value", "protocol"):
        table.add_column(column)
    for name, item in results.items():
        table.add_row(name, f"{item['value']:.4f}", protocol_text(item["protocol"]))
    Console().print(table)


COMMANDS = [evaluate_cmd]
