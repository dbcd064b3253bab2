"""Writing a generator's samples to files: what ``gan-zoo generate`` and ``gan-zoo interpolate``
do, as Python functions.

Example::

    g = gan_zoo.load("runs/dcgan-fashion-mnist-20250101-120000")
    save_samples(g, "grid.png", n=64, seed=0)             # one PNG grid
    save_samples(g, "fakes.npz", n=10000)                 # images (N, H, W, C) and labels (N,)
    save_sample_files(g, "fakes/", n=10000)               # 000000.png, 000001.png, ...
    save_interpolation(g, "walk.gif", steps=16, walks=4)  # slerp walks, an animated GIF

Seeds make files reproducible on any device (latents are drawn on the CPU) and in any batch
size. The defaults are module constants, which the command-line options show; importing this
module does not import torch, so the CLI reads them at start-up.
"""

from __future__ import annotations

import os
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError

if TYPE_CHECKING:
    from .images import Written

#: Images per ``generate`` call, seed of the latents, images per forward pass.
NUM_SAMPLES = 64
SEED = 0
BATCH_SIZE = 256
#: Frames per latent walk, walks side by side, frames per second, nearest upscaling.
STEPS = 16
WALKS = 1
FPS = 8
SCALE = 1
#: File formats of sampled images, and the suffixes of latent walks.
SAMPLE_FORMATS = ("png", "npz")
WALK_SUFFIXES = (".gif", ".mp4", ".png")


@dataclass(frozen=True)
class SampleRequest:
    """What to sample, passed as one value from the command line through
    :func:`save_samples` to :meth:`~gan_zoo.sampling.LoadedGenerator.iter_samples`.

    ``n`` images; ``labels`` are class names or numbers (one for all, or one per image; None:
    0..K-1 cycling for conditional generators); ``seed`` seeds the latents (None: unseeded);
    ``truncation`` redraws latent values beyond it; ``psi`` truncates in the generator's own
    latent space; ``batch_size`` images per forward pass (the images do not depend on it)."""

    n: int
    labels: Any = None
    seed: int | None = None
    truncation: float | None = None
    batch_size: int = BATCH_SIZE
    psi: float | None = None


def sample_format(path: str | os.PathLike, fmt: str | None = None) -> str:
    """``png`` or ``npz`` for a samples file: ``fmt``, else the suffix (``.npz``), else png; a
    suffix that names the other format is an error."""
    suffix = Path(path).suffix.lower().lstrip(".")
    chosen = fmt or ("npz" if suffix == "npz" else "png")
    if chosen not in SAMPLE_FORMATS:
        raise ConfigError(f"unknown image file format '{chosen}'; use png or npz")
    if suffix in SAMPLE_FORMATS and suffix != chosen:
        raise ConfigError(
            f"--out {path} ends in .{suffix} but --format is {chosen}; make them agree"
        )
    return chosen


#: The most memory one output file (a grid, an .npz, a walk) may need: more is refused.
MAX_IN_MEMORY = 2 * 10**9


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return ""  # pragma: no cover


def check_in_memory(generator: Any, n: int, what: str, factor: int = 1) -> None:
    """Refuse ``n`` images in one file when they would need more than :data:`MAX_IN_MEMORY`."""
    need = n * generator.channels * generator.image_size**2 * factor
    if need > MAX_IN_MEMORY:
        raise ConfigError(
            f"{n} images of {generator.channels}x{generator.image_size}x{generator.image_size} "
            f"would need {_size(need)} in memory for {what} (at most {_size(MAX_IN_MEMORY)}); "
            "write one file per image with --out-dir, or ask for fewer"
        )


def check_disk(generator: Any, folder: str | os.PathLike, n: int) -> None:
    """Refuse ``n`` image files that would not fit on the disk of ``folder`` (their raw size)."""
    import shutil

    need = n * (generator.channels * generator.image_size**2 + 100)
    place = Path(folder)
    while not place.exists() and place != place.parent:
        place = place.parent
    try:
        free = shutil.disk_usage(place).free
    except OSError:
        return
    if need > free:
        raise ConfigError(
            f"{n} image files would need about {_size(need)} on disk but {folder} has "
            f"{_size(free)} free; ask for fewer images or write somewhere else"
        )


def check_walk_path(path: str | os.PathLike) -> Path:
    """``path`` if it ends in .gif or .mp4 (an animation) or .png (a strip), else a one-line
    error."""
    path = Path(path)
    if path.suffix.lower() not in WALK_SUFFIXES:
        raise ConfigError(
            f"--out {path} must end in .gif or .mp4 (animation) or .png (a strip of frames)"
        )
    return path


def save_samples(
    generator: Any,
    out: str | os.PathLike,
    *,
    n: int = NUM_SAMPLES,
    fmt: str | None = None,
    labels: Any = None,
    seed: int | None = SEED,
    truncation: float | None = None,
    nrow: int | None = None,
    batch_size: int = BATCH_SIZE,
    progress: bool = False,
    psi: float | None = None,
    request: SampleRequest | None = None,
) -> Written:
    """Sample ``n`` images from ``generator`` (a :class:`~gan_zoo.sampling.LoadedGenerator`) into
    one file: a PNG grid (``nrow`` per row, default square) or an ``.npz`` of ``images`` uint8
    (N, H, W, C) and ``labels`` int64 (N,), -1 when unconditional.

    ``fmt`` is ``png`` or ``npz`` (default: from the suffix of ``out``); ``labels`` are class
    names or numbers, ``truncation`` and ``psi`` truncate on z or in the generator's own latent
    space (see :meth:`~gan_zoo.sampling.LoadedGenerator.sample`); ``progress`` shows a bar on a
    terminal for long runs. A :class:`SampleRequest` given as ``request`` replaces ``n``,
    ``labels``, ``seed``, ``truncation``, ``batch_size`` and ``psi``. Returns an
    :class:`~gan_zoo.images.Written`.
    """
    import torch

    from . import images

    request = request or SampleRequest(n, labels, seed, truncation, batch_size, psi)
    fmt = sample_format(out, fmt)
    check_in_memory(generator, request.n, "a PNG grid" if fmt == "png" else "an .npz", factor=2)
    batches, ys = [], []
    for x, y in _batches(generator, request, progress):
        batches.append(x)
        ys.append(y)
    batch = torch.cat(batches)  # (n, C, H, W) uint8
    label = torch.cat(ys) if ys[0] is not None else None
    if fmt == "png":
        return images.save_grid(batch, out, nrow)
    return images.save_npz(batch, label, out)


def save_sample_files(
    generator: Any,
    folder: str | os.PathLike,
    *,
    n: int = NUM_SAMPLES,
    fmt: str | None = None,
    labels: Any = None,
    seed: int | None = SEED,
    truncation: float | None = None,
    batch_size: int = BATCH_SIZE,
    progress: bool = False,
    psi: float | None = None,
    request: SampleRequest | None = None,
) -> Written:
    """Sample ``n`` images into ``folder``, one file each (``000000.png``, ...; with
    ``fmt="npz"`` one ``.npz`` per image), written batch by batch so memory stays flat.
    Arguments as for :func:`save_samples`; returns an :class:`~gan_zoo.images.Written`."""
    from . import images

    request = request or SampleRequest(n, labels, seed, truncation, batch_size, psi)
    fmt = fmt or "png"
    generator.labels_for(
        request.n, request.labels
    )  # a bad class or psi fails before the folder is made
    generator.check_psi(request.psi)
    check_disk(generator, folder, request.n)
    written = 0
    for x, y in _batches(generator, request, progress):
        written += images.save_image_files(x, y, folder, fmt, start=written).count
    size = generator.image_size
    return images.Written(Path(folder), written, size, size)


def save_interpolation(
    generator: Any,
    out: str | os.PathLike,
    *,
    steps: int = STEPS,
    walks: int = WALKS,
    labels: Any = None,
    seed: int | None = SEED,
    truncation: float | None = None,
    fps: int = FPS,
    scale: int = SCALE,
    psi: float | None = None,
    path: str = "slerp",
    to_labels: Any = None,
    nrow: int | None = None,
) -> Written:
    """``walks`` latent walks of ``steps`` frames (between two random latents each, along
    ``path``: ``slerp`` or ``lerp``) as an animated ``.gif`` or H.264 ``.mp4`` (``fps`` frames
    per second, the walks in a grid of ``nrow`` per row, default one row) or a ``.png`` strip
    (one row per walk); ``scale`` upscales with nearest neighbours. ``labels`` and
    ``to_labels`` walk a conditional generator from one class to another (see
    :meth:`~gan_zoo.sampling.LoadedGenerator.interpolate`). Returns an
    :class:`~gan_zoo.images.Written` (``count`` frames of ``width`` x ``height`` pixels)."""
    from . import images

    check_walk_path(out)  # before any work
    check_in_memory(generator, steps * walks, "a latent walk", factor=4 * scale**2)
    frames = generator.interpolate(
        steps, walks, labels, seed, truncation, psi, path=path, to_labels=to_labels
    )  # (steps, walks, C, H, W)
    frames = images.to_uint8(frames.flatten(0, 1)).view(steps, walks, *frames.shape[2:])
    return images.save_walk(frames, out, fps=fps, scale=scale, nrow=nrow)


def _batches(generator: Any, request: SampleRequest, progress: bool) -> Any:
    """uint8 batches ``(x (b, C, H, W), labels (b,) | None)`` on the CPU, with an optional bar."""
    from . import images
    from .progress import progress_bar

    bar = progress_bar(request.n, "generate") if progress else nullcontext(lambda k: None)
    with bar as advance:
        for x, y in generator.iter_requested(request):
            yield images.to_uint8(x), (y.cpu() if y is not None else None)
            advance(len(x))
