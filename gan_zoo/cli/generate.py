"""``gan-zoo generate``, ``gan-zoo interpolate`` and ``gan-zoo info``: use a trained generator.

Thin click commands over :func:`gan_zoo.load` (``gan_zoo.sampling``) and
:func:`gan_zoo.card.describe`; torch is imported inside the commands, never at start-up.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import ConfigError

_PATH = click.Path(path_type=Path)


@click.command("generate")
@click.argument("path", metavar="RUN_OR_CHECKPOINT", type=_PATH)
@click.option(
    "-n",
    "--n",
    "n",
    default=64,
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
    default=0,
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
    "--out", type=_PATH, help="One file: a PNG grid or an .npz of all images.  [default: grid.png]"
)
@click.option(
    "--out-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="One file per image in this folder.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["png", "npz"]),
    help="File format (default: from --out, else png).",
)
@click.option(
    "--nrow", type=click.IntRange(min=1), help="Images per grid row (default: a square grid)."
)
@click.option(
    "--batch-size",
    default=256,
    show_default=True,
    type=click.IntRange(min=1),
    help="Images per forward pass.",
)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:1 or mps.")
def generate_cmd(path, n, class_, seed, truncation, out, out_dir, fmt, nrow, batch_size, device):
    """Sample images from a run, a checkpoint directory or a generator.safetensors.

    RUN_OR_CHECKPOINT is a run directory (its latest checkpoint is used), a checkpoint
    directory, or a lone generator.safetensors. The .npz holds `images` uint8 (N, H, W, C) and
    `labels` int64 (N,) (-1 for unconditional models).

    \b
    Examples:
      gan-zoo generate runs/dcgan-fashion-mnist-20250101-120000 --out grid.png
      gan-zoo generate runs/cgan-run --class sneaker --n 16 --seed 1
      gan-zoo generate checkpoints/step-0004690 --n 10000 --out-dir fakes/
      gan-zoo generate generator.safetensors --n 1000 --out fakes.npz
    """
    if out is not None and out_dir is not None:
        raise click.UsageError("give --out (one file) or --out-dir (one file per image), not both")
    suffix = out.suffix.lower().lstrip(".") if out is not None else ""
    fmt = fmt or ("npz" if suffix == "npz" else "png")
    if out is not None and suffix in ("png", "npz") and suffix != fmt:
        raise ConfigError(f"--out {out} ends in .{suffix} but --format is {fmt}; make them agree")
    if out is None and out_dir is None:
        out = Path("grid.png" if fmt == "png" else "samples.npz")

    import numpy as np
    import torch

    from .. import images as images_io
    from .. import sampling

    g = sampling.load(path, device=device)
    label_arg = class_ if class_ is not None else None
    if label_arg is not None:
        g.class_index(label_arg)  # a bad class fails before any work
    images, labels = [], []
    written = 0
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    with _progress(n) as advance:
        for x, y in g.iter_samples(n, label_arg, seed, truncation, batch_size):
            x8 = images_io.to_uint8(x)  # (b, C, H, W)
            y_cpu = y.cpu() if y is not None else torch.full((len(x8),), -1, dtype=torch.long)
            if out_dir is None:
                images.append(x8)
                labels.append(y_cpu)
            else:
                for img, lab in zip(x8, y_cpu, strict=True):
                    name = out_dir / f"{written:06d}.{fmt}"
                    if fmt == "png":
                        images_io.pil_image(img).save(name)
                    else:
                        np.savez_compressed(
                            name,
                            images=img.permute(1, 2, 0)[None].numpy(),
                            labels=lab[None].numpy(),
                        )
                    written += 1
            advance(len(x8))
    if out_dir is not None:
        click.echo(f"Wrote {written} {fmt.upper()} files to {out_dir}/")
        return
    batch, ys = torch.cat(images), torch.cat(labels)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "png":
        images_io.pil_image(images_io.make_grid(batch, nrow)).save(out, format="PNG")
        click.echo(f"Wrote a grid of {n} images ({g.image_size}x{g.image_size} px each) to {out}")
    else:
        with open(out, "wb") as f:  # a file object: numpy would otherwise append ".npz"
            np.savez_compressed(f, images=batch.permute(0, 2, 3, 1).numpy(), labels=ys.numpy())
        click.echo(f"Wrote {n} images (uint8 N, H, W, C) to {out}")


class _progress:
    """A rich progress bar with img/s and ETA for long runs; nothing for a handful of images."""

    def __init__(self, total: int):
        self.total = total
        self.bar = None

    def __enter__(self):
        if self.total >= 1024:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                ProgressColumn,
                TimeRemainingColumn,
            )
            from rich.text import Text

            class Rate(ProgressColumn):
                def render(self, task):
                    return Text(f"{task.speed:.0f} img/s" if task.speed else "- img/s")

            self.bar = Progress(BarColumn(), MofNCompleteColumn(), Rate(), TimeRemainingColumn())
            self.bar.__enter__()
            self.task = self.bar.add_task("generate", total=self.total)

        def advance(k: int) -> None:
            if self.bar is not None:
                self.bar.advance(self.task, k)

        return advance

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)
        return False


@click.command("interpolate")
@click.argument("path", metavar="RUN_OR_CHECKPOINT", type=_PATH)
@click.option(
    "--steps", default=16, show_default=True, type=click.IntRange(min=2), help="Frames per walk."
)
@click.option(
    "--out",
    default=Path("walk.gif"),
    show_default=True,
    type=_PATH,
    help="An animated .gif or a .png strip.",
)
@click.option(
    "--walks",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Walks shown side by side.",
)
@click.option(
    "--class",
    "class_",
    metavar="NAME|NUMBER",
    help="Class for conditional models (default: 0, 1, ...).",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the two end latents.")
@click.option(
    "--truncation",
    type=click.FloatRange(min=0, min_open=True),
    help="Resample latent values beyond this.",
)
@click.option(
    "--fps", default=8, show_default=True, type=click.IntRange(min=1), help="GIF frames per second."
)
@click.option(
    "--scale",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Nearest-neighbour upscaling.",
)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:1 or mps.")
def interpolate_cmd(path, steps, out, walks, class_, seed, truncation, fps, scale, device):
    """Walk between two latents with spherical interpolation (slerp) and save the frames.

    A .gif gets one frame per step (the walks side by side); a .png gets one row per walk.

    \b
    Examples:
      gan-zoo interpolate runs/dcgan-fashion-mnist-20250101-120000 --steps 16 --out walk.gif
      gan-zoo interpolate runs/cgan-run --class sneaker --walks 4 --scale 4 --out walks.gif
      gan-zoo interpolate generator.safetensors --steps 8 --out strip.png
    """
    suffix = out.suffix.lower()
    if suffix not in (".gif", ".png"):
        raise ConfigError(f"--out {out} must end in .gif (animation) or .png (a strip of frames)")
    from .. import images as images_io
    from .. import sampling

    g = sampling.load(path, device=device)
    frames = images_io.to_uint8(g.interpolate(steps, walks, class_, seed, truncation).flatten(0, 1))
    frames = frames.view(steps, walks, *frames.shape[1:])  # (steps, walks, C, H, W)
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".png":
        strip = frames.transpose(0, 1).flatten(0, 1)  # (walks * steps, C, H, W), one row per walk
        images_io.pil_image(images_io.make_grid(strip, nrow=steps), scale).save(out, format="PNG")
        click.echo(f"Wrote {walks} walk(s) of {steps} frames to {out}")
        return
    pads = 0 if walks == 1 else 2
    images = [
        images_io.pil_image(images_io.make_grid(f, nrow=walks, padding=pads), scale) for f in frames
    ]
    images[0].save(
        out,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=round(1000 / fps),
        loop=0,
    )
    click.echo(
        f"Wrote a {steps}-frame animation ({images[0].width}x{images[0].height} px) to {out}"
    )


@click.command("info")
@click.argument("path", metavar="RUN_OR_CHECKPOINT", type=_PATH)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a panel.")
def info_cmd(path, as_json):
    """Show what a run or checkpoint holds: model, dataset, steps, metrics, files.

    Reads only JSON and safetensors headers, so it is instant even for large checkpoints.

    \b
    Examples:
      gan-zoo info runs/dcgan-fashion-mnist-20250101-120000
      gan-zoo info checkpoints/step-0004690 --json
    """
    import json

    from ..card import describe, protocol_text
    from ..formatting import duration, human_bytes

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

    def row(key: str, value) -> None:
        if value not in (None, "", [], {}):
            grid.add_row(key, Text(str(value)))  # Text: names with [brackets] are not markup

    def number(v) -> str:
        return f"{v:.4g}" if isinstance(v, (int, float)) else str(v)

    kwargs = info["generator_kwargs"]
    parts = f"G {info['generator']}, D {info['discriminator']}, loss {info['loss']}"
    row("model", f"{info['model']} ({parts})")
    row("dataset", info["dataset"])
    if kwargs:
        sizes = f"{kwargs.get('image_size')} px, {kwargs.get('channels')} ch, z_dim {kwargs.get('z_dim')}"
        row("images", sizes)
    if kwargs.get(
        "num_classes"
    ):  # runs record their dataset's classes; only conditional G use them
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
        item = item if isinstance(item, dict) else {"value": item}
        protocol = protocol_text({k: v for k, v in item.items() if k != "value"})
        row(f"metric {name}", number(item["value"]) + (f" ({protocol})" if protocol != "-" else ""))
    row("gan-zoo", info["gan_zoo_version"])
    row("plugins", ", ".join(sorted(set(info["plugins"].values()))))
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
    title = Text(info["checkpoint"], style="bold")
    Console().print(Panel(grid, title=title, title_align="left", expand=False))


COMMANDS = [generate_cmd, interpolate_cmd, info_cmd]
