"""``gan-zoo push``: publish a run's checkpoint to the Hugging Face Hub (a thin layer over
:func:`gan_zoo.checkpoint.hub.push`). ``huggingface_hub`` is imported only to upload."""

from __future__ import annotations

import click


@click.command("push")
@click.argument("run", type=click.Path())
@click.argument("repo_id", metavar="OWNER/NAME")
@click.option(
    "--checkpoint",
    default="latest",
    show_default=True,
    help="Which checkpoint: best, latest or step-N.",
)
@click.option("--private", is_flag=True, help="Create the repository private.")
@click.option(
    "--with-state",
    is_flag=True,
    help="Also upload the optimizer and training state (to resume elsewhere).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="List the files and sizes that would be uploaded; upload nothing.",
)
def push_cmd(run, repo_id, checkpoint, private, with_state, dry_run):
    """Upload a checkpoint of RUN to the Hub model repository OWNER/NAME (created if needed).

    Uploads the generator (the EMA weights when EMA is on) and discriminator weights, the model
    card README.md, config.json, metrics.json and the sample grid; the optimizer state only
    with --with-state. Log in first with 'hf auth login' (or set HF_TOKEN). Needs the extra:
    pip install "gan-zoo[hub]".

    \b
    Examples:
      gan-zoo push runs/dcgan-fashion-mnist-20250101-120000 me/dcgan-fashion-mnist --dry-run
      gan-zoo push runs/my-run me/my-gan --checkpoint best --private
      gan-zoo generate hf-hub:me/my-gan --out grid.png
    """
    from ..checkpoint.hub import push
    from ..formatting import human_bytes

    staged, url = push(
        run, repo_id, checkpoint=checkpoint, private=private, with_state=with_state, dry_run=dry_run
    )
    for name, size in staged:
        click.echo(f"  {name}  {human_bytes(size)}")
    total = human_bytes(sum(size for _, size in staged))
    if dry_run:
        click.echo(
            f"Would upload {len(staged)} files ({total}) to {repo_id}; "
            "nothing was uploaded (--dry-run)"
        )
        return
    click.echo(f"Uploaded {len(staged)} files ({total}) to {repo_id}: {url}")
    click.echo(f"Load it with: gan-zoo generate hf-hub:{repo_id}")


COMMANDS = [push_cmd]
