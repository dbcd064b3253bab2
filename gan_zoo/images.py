"""Images in and out: floats in [-1, 1] to uint8, grids, PIL images and PNG files.

One module for every picture gan-zoo writes (training samples, checkpoints' ``samples.png``,
``gan-zoo generate`` and ``interpolate``). Grids come from :func:`torchvision.utils.make_grid`;
what torchvision lacks is added here: a square default layout, single-channel grids that stay
single-channel, class names in a left margin, and atomic PNG writes. Tensors are uint8
(C, H, W) so the same grid goes to a PNG, to a checkpoint and to TensorBoard.

The writers at the end take uint8 batches and write the files of ``gan-zoo generate`` and
``interpolate``: a PNG grid, an ``.npz`` (NumPy's format, read with ``allow_pickle=False``), one
file per image, and a latent walk as an animated GIF, an H.264 MP4 (through PyAV, the optional
``video`` extra) or a PNG strip.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from .errors import ConfigError
from .safe_io import atomic_file, atomic_write_bytes, make_dirs

_LABEL_WIDTH = 84  # pixels of margin for class names, enough for "Ankle boot" in the default font


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) floats in [-1, 1] -> uint8 in [0, 255] on the CPU."""
    return images.detach().float().clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8).cpu()


def make_grid(images: torch.Tensor, nrow: int | None = None, padding: int = 2) -> torch.Tensor:
    """(B, C, H, W) uint8 -> one (C, H', W') uint8 grid, ``nrow`` images per row (default: square).

    Every image gets ``padding`` pixels of black around it, also a single one; one-channel
    images give a one-channel grid (torchvision's would have three).
    """
    from torchvision.utils import make_grid as tv_make_grid

    b, c = images.shape[:2]
    if b == 1 and padding == 0:
        return images[0]
    ncol = nrow or max(1, math.ceil(math.sqrt(b)))
    if b == 1:  # torchvision returns a lone image unpadded
        h, w = images.shape[2:]
        grid = torch.zeros(c, h + 2 * padding, w + 2 * padding, dtype=images.dtype)
        grid[:, padding : padding + h, padding : padding + w] = images[0]
        return grid
    grid = tv_make_grid(images, nrow=ncol, padding=padding, pad_value=0)  # (3 or C, H', W')
    return grid[:1] if c == 1 else grid


def sample_grid(
    images: torch.Tensor, nrow: int, row_names: list[str] | None = None, padding: int = 2
) -> torch.Tensor:
    """Images in [-1, 1] (N, C, H, W) -> one uint8 grid (C, H', W'), ``nrow`` images per row;
    with ``row_names`` each row gets its name in a left margin (Pillow's built-in font)."""
    grid = make_grid(to_uint8(images), nrow=nrow, padding=padding)
    if not row_names:
        return grid
    import numpy as np
    from PIL import ImageDraw

    c, h, w = grid.shape
    canvas = torch.zeros(c, h, w + _LABEL_WIDTH, dtype=torch.uint8)
    canvas[:, :, _LABEL_WIDTH:] = grid
    picture = pil_image(canvas)
    draw = ImageDraw.Draw(picture)
    rows = math.ceil(images.shape[0] / nrow)
    cell = (h - padding) / rows
    white = 255 if c == 1 else (255, 255, 255)
    for i, name in enumerate(row_names[:rows]):
        draw.text((3, padding + i * cell + cell / 2 - 5), str(name)[:14], fill=white)
    out = torch.from_numpy(np.asarray(picture).copy())
    return out.unsqueeze(0) if c == 1 else out.permute(2, 0, 1).contiguous()


def pil_image(image: torch.Tensor, scale: int = 1):
    """One uint8 (C, H, W) tensor -> a PIL image ("L" for 1 channel, "RGB" for 3)."""
    from PIL import Image

    array = image.cpu().permute(1, 2, 0).contiguous().numpy()  # (H, W, C)
    pil = Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array)
    if scale > 1:
        pil = pil.resize((pil.width * scale, pil.height * scale), Image.NEAREST)
    return pil


def png_bytes(image: torch.Tensor) -> bytes:
    """A uint8 (C, H, W) tensor (e.g. a grid) encoded as PNG."""
    buffer = io.BytesIO()
    pil_image(image).save(buffer, format="PNG")
    return buffer.getvalue()


def save_png(grid: torch.Tensor, path: str | os.PathLike) -> Path:
    """Write a uint8 (C, H, W) grid as a PNG atomically (temp file, then rename), e.g. a
    training's ``RUN/samples/step-NNNNNNN.png``: never through a link, never out of the run."""
    data = png_bytes(grid)
    return atomic_write_bytes(path, data, run=True)


def _replace(path: str | os.PathLike, write) -> Path:
    """Create ``path`` through ``write(file)`` on a temp file, then rename: never half a file,
    never written through a symlink; an OSError is a one-line WriteError naming ``path``."""
    with atomic_file(path) as f:  # a file object: numpy would otherwise append ".npz"
        write(f)
    return Path(path)


# Writers of sampled images.
@dataclass(frozen=True)
class Written:
    """What a writer wrote: the file (or folder), how many images or frames it holds, and the
    size in pixels of one picture in it (the grid, a GIF frame, or one image)."""

    path: Path
    count: int
    width: int
    height: int


def _labels_or_unconditional(labels: torch.Tensor | None, n: int) -> torch.Tensor:
    """(n,) int64 labels on the CPU; -1 for every image of an unconditional model."""
    if labels is None:
        return torch.full((n,), -1, dtype=torch.long)
    return labels.detach().to("cpu", torch.long)


def save_grid(
    images: torch.Tensor, path: str | os.PathLike, nrow: int | None = None, scale: int = 1
) -> Written:
    """uint8 images (N, C, H, W) as one PNG grid, ``nrow`` per row (default: square)."""
    picture = pil_image(make_grid(images, nrow), scale)
    path = _replace(path, lambda f: picture.save(f, format="PNG"))
    return Written(path, len(images), picture.width, picture.height)


def save_npz(images: torch.Tensor, labels: torch.Tensor | None, path: str | os.PathLike) -> Written:
    """uint8 images (N, C, H, W) as an ``.npz`` of ``images`` uint8 (N, H, W, C) and ``labels``
    int64 (N,), -1 for an unconditional model."""
    import numpy as np

    array = images.cpu().permute(0, 2, 3, 1).numpy()  # (N, H, W, C), the layout image tools expect
    ys = _labels_or_unconditional(labels, len(images)).numpy()
    path = _replace(path, lambda f: np.savez_compressed(f, images=array, labels=ys))
    return Written(path, len(images), images.shape[3], images.shape[2])


def save_image_files(
    images: torch.Tensor,
    labels: torch.Tensor | None,
    folder: str | os.PathLike,
    fmt: str = "png",
    start: int = 0,
) -> Written:
    """One file per uint8 image (N, C, H, W) in ``folder``, named ``000000.png`` on from
    ``start``; with ``fmt="npz"`` each file is an ``.npz`` of one image and its label."""
    if fmt not in ("png", "npz"):
        raise ConfigError(f"unknown image file format '{fmt}'; use png or npz")
    folder = make_dirs(folder)
    ys = _labels_or_unconditional(labels, len(images))
    for i, (image, label) in enumerate(zip(images, ys, strict=True)):
        name = folder / f"{start + i:06d}.{fmt}"
        if fmt == "png":
            _replace(name, lambda f, image=image: pil_image(image).save(f, format="PNG"))
        else:
            save_npz(image[None], label[None], name)
    return Written(folder, len(images), images.shape[3], images.shape[2])


def save_walk(
    frames: torch.Tensor,
    path: str | os.PathLike,
    fps: int = 8,
    scale: int = 1,
    nrow: int | None = None,
) -> Written:
    """uint8 latent walks (steps, walks, C, H, W) as an animated GIF or an H.264 ``.mp4`` (one
    frame per step, the walks in a grid of ``nrow`` per row, default all in one row) or, for a
    ``.png``, a strip with one row per walk."""
    path = Path(path)
    steps, walks = frames.shape[:2]
    if path.suffix.lower() == ".png":
        strip = frames.transpose(0, 1).flatten(0, 1)  # (walks * steps, C, H, W), row by walk
        written = save_grid(strip, path, nrow=steps, scale=scale)
        return Written(path, steps, written.width, written.height)
    padding = 0 if walks == 1 else 2  # a lone walk fills the frame
    pictures = [pil_image(make_grid(f, nrow=nrow or walks, padding=padding), scale) for f in frames]
    if path.suffix.lower() == ".mp4":
        return save_video(pictures, path, fps)
    _replace(
        path,
        lambda f: pictures[0].save(
            f,
            format="GIF",
            save_all=True,
            append_images=pictures[1:],
            duration=round(1000 / fps),
            loop=0,
        ),
    )
    return Written(path, steps, pictures[0].width, pictures[0].height)


def save_video(pictures: list, path: str | os.PathLike, fps: int = 8) -> Written:
    """PIL images (all of one size) as an H.264 ``.mp4`` (yuv420p, which every browser plays),
    written atomically. H.264 needs even sizes: an odd width or height gets one black line.
    Needs PyAV (``pip install 'gan-zoo[video]'``), whose wheels ship the encoder."""
    try:
        import av
    except ImportError:
        raise ConfigError(
            "writing an .mp4 needs PyAV; pip install 'gan-zoo[video]' (or write a .gif)"
        ) from None
    from PIL import Image

    width, height = pictures[0].width, pictures[0].height
    even = (width + width % 2, height + height % 2)

    def write(f) -> None:
        with av.open(f, mode="w", format="mp4") as out:
            stream = out.add_stream("libx264", rate=fps)
            stream.width, stream.height = even
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": "18", "preset": "medium"}
            for picture in pictures:
                frame = Image.new("RGB", even)
                frame.paste(picture.convert("RGB"))
                out.mux(stream.encode(av.VideoFrame.from_image(frame)))
            out.mux(stream.encode())  # flush the encoder

    path = _replace(path, write)
    return Written(path, len(pictures), even[0], even[1])
