"""``gan-zoo evaluate``: score a trained generator with registered metrics (FID, KID, ...).

A thin layer over :func:`gan_zoo.evaluation.evaluate`, whose keyword defaults are the options'.
"""

from __future__ import annotations

import inspect
import json

import click

from ..evaluation import evaluate, write_reference_stats

#: The defaults of :func:`~gan_zoo.evaluation.evaluate`, shown by the options.
_DEFAULTS = {name: p.default for name, p in inspect.signature(evaluate).parameters.items()}
_STATS = {
    name: p.default for name, p in inspect.signature(write_reference_stats).parameters.items()
}


@click.command("evaluate")
@click.argument("path", type=click.Path())
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    default=_DEFAULTS["metrics"],
    show_default=True,
    help="A registered metric; repeat for several (see 'gan-zoo list metrics').",
)
@click.option(
    "--n",
    "num_samples",
    type=click.IntRange(min=2),
    default=_DEFAULTS["num_samples"],
    show_default=True,
    help="Generated images, and at most as many reference images.",
)
@click.option(
    "--split",
    default=_DEFAULTS["split"],
    show_default=True,
    help="Reference split of the run's dataset.",
)
@click.option(
    "--batch-size", type=click.IntRange(min=1), default=_DEFAULTS["batch_size"], show_default=True
)
@click.option(
    "--device",
    default=_DEFAULTS["device"],
    show_default=True,
    help="auto, cpu, cuda, cuda:N or mps.",
)
@click.option(
    "--seed",
    type=int,
    default=_DEFAULTS["seed"],
    show_default=True,
    help="Seed of the generated latents.",
)
@click.option("--data-dir", type=click.Path(), help="Where the reference dataset is.")
@click.option(
    "--ref-stats",
    type=click.Path(exists=True, dir_okay=False),
    help="Compare with these mu/sigma (.npz, the pytorch-fid / clean-fid layout) instead "
    "of the dataset (FID-type metrics).",
)
@click.option("--no-record", is_flag=True, help="Do not write the result into the model card.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def evaluate_cmd(
    path,
    metrics,
    num_samples,
    split,
    batch_size,
    device,
    seed,
    data_dir,
    ref_stats,
    no_record,
    as_json,
):
    """Score the generator of a run or checkpoint and record it in the model card.

    PATH may also be a pretrained tag or hf-hub:owner/name: those are not your runs, so the
    results are printed (or --json) and nothing is written.

    \b
    Examples:
      pip install gan-zoo-fid
      gan-zoo evaluate runs/dcgan-fashion-mnist-20261124-101500 --metric fid --metric kid
      gan-zoo evaluate runs/my-run/checkpoints/step-0004690 --n 2000 --no-record
      gan-zoo evaluate runs/my-run --metric fid --ref-stats fashion-mnist-test.npz
      gan-zoo evaluate runs/my-run --metric classifier-fd --metric class-coverage
      gan-zoo evaluate dcgan.fashion-mnist --metric classifier-fd --n 2000
    """
    import os

    results = evaluate(
        path,
        list(metrics),
        num_samples=num_samples,
        split=split,
        batch_size=batch_size,
        device=device,
        seed=seed,
        data_dir=data_dir,
        ref_stats=ref_stats,
        record=not no_record,
    )
    if not no_record and not os.path.lexists(path):  # a tag or a Hub download: not the user's
        click.echo(
            f"Note: {path} is not a run of yours; the results are not recorded anywhere", err=True
        )
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
        extra = "".join(
            f" ({k} {v:.4g})" for k, v in item.items() if k not in ("value", "protocol")
        )
        table.add_row(name, f"{item['value']:.4f}{extra}", protocol_text(item["protocol"]))
    Console().print(table)


@click.command("ref-stats")
@click.argument("dataset")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The .npz to write.")
@click.option(
    "--metric",
    default=_STATS["metric"],
    show_default=True,
    help="Feature space: fid (TF-Inception) or classifier-fd.",
)
@click.option("--split", default=_STATS["split"], show_default=True, help="Dataset split.")
@click.option(
    "--n",
    "num_samples",
    type=click.IntRange(min=2),
    default=_STATS["num_samples"],
    show_default=True,
    help="Images (the whole split when smaller).",
)
@click.option(
    "--batch-size", type=click.IntRange(min=1), default=_STATS["batch_size"], show_default=True
)
@click.option(
    "--device", default=_STATS["device"], show_default=True, help="auto, cpu, cuda, cuda:N or mps."
)
@click.option("--data-dir", type=click.Path(), help="Where the dataset is.")
@click.option("--image-size", type=click.IntRange(min=1), help="Resize (datasets that can).")
def ref_stats_cmd(
    dataset, out, metric, split, num_samples, batch_size, device, data_dir, image_size
):
    """Write the reference statistics (mu, sigma) of a dataset split as an .npz.

    The file has the layout pytorch-fid and clean-fid use (plus the protocol), so numbers can be
    compared with those computed elsewhere; 'gan-zoo evaluate RUN --ref-stats FILE' uses it.

    \b
    Examples:
      gan-zoo ref-stats fashion-mnist --split test --out fashion-mnist-test.npz
      gan-zoo ref-stats fashion-mnist --metric classifier-fd --out fmnist-classifier.npz
    """
    path = write_reference_stats(
        dataset,
        out,
        metric=metric,
        split=split,
        num_samples=num_samples,
        batch_size=batch_size,
        device=device,
        data_dir=data_dir,
        image_size=image_size,
    )
    click.echo(f"Wrote the {metric} reference statistics of {dataset}/{split} to {path}")


COMMANDS = [evaluate_cmd, ref_stats_cmd]
