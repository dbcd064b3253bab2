"""``gan-zoo generate``, ``gan-zoo interpolate`` and ``gan-zoo info``: use a trained generator.

Thin click commands over :func:`gan_zoo.load`, :mod:`gan_zoo.sample_files` and
:func:`gan_zoo.checkpoint.describe`: parse, call, render. Option defaults come from
:mod:`gan_zoo.sample_files`; torch is imported inside the commands, never at start-up.
"""

from __future__ import annotations

from pathlib import Path

import click

from .. import sample_files

_PATH = click.Path(path_type=Path)
#: Where ``generate`` writes without --out or --out-dir, and ``interpolate`` without --out.
DEFAULT_GRID, DEFAULT_NPZ, DEFAULT_WALK = "grid.png", "samples.npz", "walk.gif"


@click.command("generate")
@click.argument("path", metavar="SOURCE", type=_PATH)
@click.option(
    "-n",
    "--n",
    "n",
    default=sample_files.NUM_SAMPLES,
    show_default=True,
    type=click.IntRange(min=1),
    help="Number of images.",
)
@click.option(
    "--class",
    "class_",
    metavar="NAME|NUMBER",
    help="Class for conditional models, e.g. sneaker or 7.",
)
@click.option(
    "--seed",
    default=sample_files.SEED,
    show_default=True,
    type=int,
    help="Seed of the latents (same images on any device).",
)
@click.option(
    "--truncation",
    type=click.FloatRange(min=0, min_open=True),
    help="Resample latent values beyond this (e.g. 0.7).",
)
@click.option(
    "--psi",
    type=float,
    help="Truncation in the generator's own latent space, w = w_avg + psi (w - w_avg): 1 = none, "
    "0 = the average image (e.g. 0.7; StyleGAN-like generators only).",
)
@click.option(
    "--out",
    type=_PATH,
    help=f"One file: a PNG grid or an .npz of all images.  [default: {DEFAULT_GRID}]",
)
@click.option(
    "--out-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="One file per image in this folder.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sample_files.SAMPLE_FORMATS),
    help="File format (default: from --out, else png).",
)
@click.option(
    "--nrow", type=click.IntRange(min=1), help="Images per grid row (default: a square grid)."
)
@click.option(
    "--batch-size",
    default=sample_files.BATCH_SIZE,
    show_default=True,
    type=click.IntRange(min=1),
    help="Images per forward pass.",
)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:1 or mps.")
def generate_cmd(
    path, n, class_, seed, truncation, psi, out, out_dir, fmt, nrow, batch_size, device
):
    """Sample images from a run, a checkpoint, a pretrained tag or a Hub repository.

    SOURCE is a run directory (its latest checkpoint is used), a checkpoint directory, a lone
    generator.safetensors, a pretrained tag (see 'gan-zoo list pretrained') or
    hf-hub:owner/name[@revision]. The .npz holds `images` uint8 (N, H, W, C) and `labels` int64
    (N,) (-1 for unconditional models).

    \b
    Examples:
      gan-zoo generate runs/dcgan-fashion-mnist-20250101-120000 --out grid.png
      gan-zoo generate dcgan.fashion-mnist --n 64 --out grid.png
      gan-zoo generate hf-hub:me/dcgan-fashion-mnist --n 16
      gan-zoo generate runs/cgan-run --class sneaker --n 16 --seed 1
      gan-zoo generate runs/stylegan2-run --psi 0.7 --n 16
      gan-zoo generate checkpoints/step-0004690 --n 10000 --out-dir fakes/
      gan-zoo generate generator.safetensors --n 1000 --out fakes.npz
    """
    if out is not None and out_dir is not None:
        raise click.UsageError("give --out (one file) or --out-dir (one file per image), not both")
    from .. import sampling

    if out_dir is None:
        out = out or Path(DEFAULT_NPZ if fmt == "npz" else DEFAULT_GRID)
        fmt = sample_files.sample_format(
            out, fmt
        )  # a suffix that contradicts --format fails before loading
    g = sampling.load(path, device=device)
    request = sample_files.SampleRequest(n, class_, seed, truncation, batch_size, psi)
    options = dict(request=request, fmt=fmt, progress=True)
    if out_dir is not None:
        written = sample_files.save_sample_files(g, out_dir, **options)
        click.echo(f"Wrote {written.count} {(fmt or 'png').upper()} files to {out_dir}/")
    elif fmt == "png":
        sample_files.save_samples(g, out, nrow=nrow, **options)
        click.echo(f"Wrote a grid of {n} images ({g.image_size}x{g.image_size} px each) to {out}")
    else:
        sample_files.save_samples(g, out, **options)
        click.echo(f"Wrote {n} images (uint8 N, H, W, C) to {out}")


@click.command("interpolate")
@click.argument("path", metavar="SOURCE", type=_PATH)
@click.option(
    "--steps",
    default=sample_files.STEPS,
    show_default=True,
    type=click.IntRange(min=2),
    help="Frames per walk.",
)
@click.option(
    "--out",
    default=Path(DEFAULT_WALK),
    show_default=True,
    type=_PATH,
    help="An animated .gif, an H.264 .mp4 (pip install 'gan-zoo[video]') or a .png strip.",
)
@click.option(
    "--walks",
    default=sample_files.WALKS,
    show_default=True,
    type=click.IntRange(min=1),
    help="Walks shown side by side (or in a grid, see --nrow).",
)
@click.option(
    "--nrow",
    type=click.IntRange(min=1),
    help="Walks per row of an animation's frame (default: all in one row).",
)
@click.option(
    "--path",
    "walk_path",
    default="slerp",
    show_default=True,
    type=click.Choice(["slerp", "lerp"]),
    help="Spherical (slerp) or straight (lerp) path between the two latents.",
)
@click.option(
    "--class",
    "class_",
    metavar="NAME|NUMBER",
    help="Class for conditional models (default: 0, 1, ...).",
)
@click.option(
    "--to-class",
    metavar="NAME|NUMBER",
    help="Walk from --class to this class (conditional models; the frames blend the classes).",
)
@click.option(
    "--seed",
    default=sample_files.SEED,
    show_default=True,
    type=int,
    help="Seed of the two end latents.",
)
@click.option(
    "--truncation",
    type=click.FloatRange(min=0, min_open=True),
    help="Resample latent values beyond this.",
)
@click.option(
    "--psi",
    type=float,
    help="Truncation in the generator's own latent space (StyleGAN-like generators only).",
)
@click.option(
    "--fps",
    default=sample_files.FPS,
    show_default=True,
    type=click.IntRange(min=1),
    help="Frames per second of a .gif or .mp4.",
)
@click.option(
    "--scale",
    default=sample_files.SCALE,
    show_default=True,
    type=click.IntRange(min=1),
    help="Nearest-neighbour upscaling.",
)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:1 or mps.")
def interpolate_cmd(
    path,
    steps,
    out,
    walks,
    nrow,
    walk_path,
    class_,
    to_class,
    seed,
    truncation,
    psi,
    fps,
    scale,
    device,
):
    """Walk between two latents (slerp or lerp) and save the frames.

    SOURCE is a run, a checkpoint, a generator.safetensors, a pretrained tag or
    hf-hub:owner/name. A .gif or an H.264 .mp4 gets one frame per step (the walks side by
    side, or in a grid of --nrow per row); a .png gets one row per walk.

    \b
    Examples:
      gan-zoo interpolate runs/dcgan-fashion-mnist-20250101-120000 --steps 16 --out walk.gif
      gan-zoo interpolate runs/dcgan-run --walks 16 --nrow 4 --steps 60 --fps 24 --out walk.mp4
      gan-zoo interpolate runs/cgan-run --class sneaker --walks 4 --scale 4 --out walks.gif
      gan-zoo interpolate runs/cgan-run --class sandal --to-class sneaker --out morph.mp4
      gan-zoo interpolate generator.safetensors --steps 8 --path lerp --out strip.png
    """
    from .. import sampling

    sample_files.check_walk_path(out)  # before loading the generator
    g = sampling.load(path, device=device)
    written = sample_files.save_interpolation(
        g,
        out,
        steps=steps,
        walks=walks,
        labels=class_,
        seed=seed,
        truncation=truncation,
        psi=psi,
        fps=fps,
        scale=scale,
        path=walk_path,
        to_labels=to_class,
        nrow=nrow,
    )
    if out.suffix.lower() == ".png":
        click.echo(f"Wrote {walks} walk(s) of {steps} frames to {out}")
    else:
        click.echo(
            f"Wrote a {steps}-frame animation ({written.width}x{written.height} px) to {out}"
        )


COMMANDS = [generate_cmd, interpolate_cmd]
