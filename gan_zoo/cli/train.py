"""``gan-zoo train``: train a preset on a dataset (a thin layer over :func:`gan_zoo.train`)."""

from __future__ import annotations

import click

from ..config import TrainConfig
from ..errors import GanZooError
from ..training.resolve import COMPILE_MODES, DDP_BATCHES, LR_DECAYS, PRECISIONS

#: Run settings the presets do not set: their defaults come from TrainConfig itself.
_RUN = TrainConfig()


def _default(field: str) -> str:
    value = getattr(_RUN, field)
    return f"  [default: {'none' if value is None else value}]"


def _betas(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        b1, b2 = (float(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter("use two numbers, e.g. 0.5,0.999") from None
    return b1, b2


@click.command("train")
@click.argument("model", required=False)
@click.argument("dataset", required=False)
@click.option("--epochs", type=int, help="Passes over the data (default: the preset's).")
@click.option("--steps", type=int, help="Generator updates; wins over --epochs.")
@click.option("--batch-size", type=int, help="Batch size (per process under DDP, see --ddp-batch).")
@click.option("--lr", type=float, help="Learning rate of both networks.")
@click.option("--lr-g", type=float, help="Generator learning rate (TTUR).")
@click.option("--lr-d", type=float, help="Discriminator learning rate (TTUR).")
@click.option("--betas", callback=_betas, help="Adam betas of both networks, e.g. 0.0,0.9.")
@click.option("--n-critic", type=int, help="D updates per G update.")
@click.option("--lr-decay", type=click.Choice(LR_DECAYS), help="Learning-rate decay.")
@click.option("--loss", help="Loss name (see 'gan-zoo list losses').")
@click.option("--generator", help="Generator name (see 'gan-zoo list generators').")
@click.option("--discriminator", help="Discriminator name (see 'gan-zoo list discriminators').")
@click.option("--ema", type=float, help="Generator EMA decay, e.g. 0.999 (0 = off).")
@click.option("--augment", help="DiffAugment policy, e.g. translation,cutout,color.")
@click.option("--image-size", type=int, help="Image size (datasets that can resize).")
@click.option(
    "--channels",
    type=click.Choice(["1", "3"]),
    callback=lambda c, p, v: v and int(v),
    help="1 (grayscale) or 3 (RGB), for datasets that can convert (image-folder).",
)
@click.option("--device", help="auto, cpu, cuda, cuda:N or mps." + _default("device"))
@click.option("--precision", type=click.Choice(PRECISIONS), help=_default("precision").strip())
@click.option("--seed", type=int, help="Random seed." + _default("seed"))
@click.option("--compile/--no-compile", default=None, help="torch.compile the networks.")
@click.option(
    "--compile-mode",
    help="torch.compile mode (implies --compile): "
    + ", ".join(COMPILE_MODES)
    + " (reduce-overhead and max-autotune capture CUDA graphs on CUDA).",
)
@click.option(
    "--channels-last/--no-channels-last",
    default=None,
    help="channels_last memory format (auto: on for conv nets on CPU, CUDA bf16/fp16).",
)
@click.option(
    "--tf32/--no-tf32",
    default=None,
    help="TF32 for fp32 matmuls and convolutions on Ampere+ GPUs (default: off).",
)
@click.option(
    "--deterministic",
    is_flag=True,
    default=None,
    help="Deterministic CUDA kernels: same seed, same weights on one GPU (slower).",
)
@click.option(
    "--sync-batchnorm",
    is_flag=True,
    default=None,
    help="BatchNorm statistics over all DDP processes (SyncBatchNorm; a gloo stand-in on CPU).",
)
@click.option(
    "--ddp-batch",
    type=click.Choice(DDP_BATCHES),
    help="Under DDP: each process takes --batch-size (global batch = batch x processes), or "
    "--batch-size is the global batch, split. Learning rates are not scaled."
    + _default("ddp_batch"),
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Run directory (default: runs/MODEL-DATASET-TIME).",
)
@click.option(
    "--resume", type=click.Path(exists=True), help="Continue the run (or checkpoint) RUN exactly."
)
@click.option(
    "--init",
    metavar="SOURCE",
    help="Start from these weights (a run, checkpoint, pretrained tag or hf-hub:owner/name); "
    "fresh optimizers, step 0.",
)
@click.option("--sample-every", type=int, help="Write samples every N steps (0 = every epoch).")
@click.option("--log-every", type=int, help="Log statistics every N steps." + _default("log_every"))
@click.option("--checkpoint-every", type=int, help="Checkpoint every N steps (0 = every epoch).")
@click.option("--keep", type=int, help="Checkpoints to keep (0 = all)." + _default("keep"))
@click.option(
    "--log",
    multiple=True,
    callback=lambda c, p, v: v or None,
    metavar="TRACKER",
    help="Also report to an experiment tracker: tensorboard, wandb or mlflow (repeatable).",
)
@click.option("--tensorboard", is_flag=True, default=None, help="Same as --log tensorboard.")
@click.option(
    "--eval-metric",
    help="Evaluate at every checkpoint with this metric (e.g. fid) and keep checkpoints/best; "
    "'auto': classifier-fd on the CPU for Fashion-MNIST, else off; 'none': off."
    + _default("eval_metric"),
)
@click.option("--license", help="Licence of the weights for the model card (e.g. mit, cc-by-4.0).")
@click.option("--eval-samples", type=int, help="Images per evaluation." + _default("eval_samples"))
@click.option("--eval-split", help="Reference split for evaluation." + _default("eval_split"))
@click.option("--data-dir", type=click.Path(), help="Where the dataset files are.")
@click.option("--download", is_flag=True, default=None, help="Download the dataset if missing.")
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Set any config field, e.g. generator.width=32 or g_optim.lr=1e-4 (repeatable).",
)
@click.option(
    "--config",
    "recipe",
    metavar="FILE",
    help="Start from this recipe file (.toml, .yaml or a run's config.json); the options and "
    "--set given here win over it.",
)
@click.option(
    "--dump-config",
    metavar="FILE",
    help="Write the fully resolved recipe to FILE (.toml, .yaml or .json; - for stdout, TOML) "
    "and exit without training.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress output (warnings still shown).")
@click.option("--plain", is_flag=True, help="Plain log lines even on a terminal.")
def train_cmd(model, dataset, resume, recipe, dump_config, overrides, quiet, plain, **options):
    """Train MODEL (a preset, see 'gan-zoo list models') on DATASET.

    Writes a run directory with config.json, metrics.jsonl, samples/ every epoch, loss and
    accuracy plots, and checkpoints/ (resume with --resume RUN). Ctrl-C finishes the step,
    writes a checkpoint and exits with code 130.

    \b
    Examples:
      gan-zoo train dcgan fashion-mnist
      gan-zoo train dcgan fashion-mnist --steps 2000 --ema 0.999 --augment translation,cutout
      gan-zoo train dcgan fashion-mnist --set generator.width=32 --out runs/small
      gan-zoo train dcgan fashion-mnist --init dcgan.fashion-mnist --steps 500
      gan-zoo train dcgan fashion-mnist --steps 2000 --dump-config small.toml
      gan-zoo train --config small.toml --log wandb
      gan-zoo train --resume runs/small
      torchrun --nproc-per-node 2 -m gan_zoo train dcgan fashion-mnist
    """
    import sys

    from ..training.run import resolve_config, train

    if resume is None and recipe is None and (model is None or dataset is None):
        raise GanZooError(
            "name a MODEL and a DATASET (e.g. 'gan-zoo train dcgan fashion-mnist'), "
            "pass --config RECIPE or --resume RUN"
        )
    from .catalog import warn_about_plugins

    warn_about_plugins()
    if dump_config is not None:
        config = resolve_config(
            model, dataset, recipe=recipe, resume=resume, overrides=overrides, **options
        )
        dump(config, dump_config)
        return
    progress = "quiet" if quiet else "plain" if plain else "auto"
    run = train(
        model,
        dataset,
        recipe=recipe,
        resume=resume,
        overrides=overrides,
        progress=progress,
        **options,
    )
    main = run.rank == 0  # under torchrun only rank 0 speaks
    if run.interrupted:
        if main:
            click.echo(
                f"Interrupted at step {run.step}; checkpoint {run.checkpoint}. "
                f"Continue with: gan-zoo train --resume {run.dir}",
                err=True,
            )
        sys.exit(130)
    if main and not quiet:
        click.echo(f"Done: {run.step} steps, checkpoint {run.checkpoint}")


def dump(config, path: str) -> None:
    """``--dump-config``: the recipe to ``path`` (or TOML to stdout for ``-``)."""
    from ..recipe import recipe_text, write_recipe

    if path == "-":
        click.echo(recipe_text(config, "toml"), nl=False)
        return
    written = write_recipe(config, path)
    click.echo(f"Wrote {written}; train it with: gan-zoo train --config {written}", err=True)


COMMANDS = [train_cmd]
