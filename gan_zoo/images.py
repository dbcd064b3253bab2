"""Images in and out: floats in [-1, 1] to uint8, grids, PIL images and PNG files.

One module for every picture gan-zoo writes (training samples, checkpoints' ``samples.png``,
``gan-zoo generate`` and ``interpolate``). Grids come from :func:`torchvision.utils.make_grid`;
what torchvision lacks is added here: a square default layout, single-channel grids that stay
single-channel, class names in a left margin, and atomic PNG writes. Tensors are uint8
(C, H, W) so the same grid goes to a PNG, to a checkpoint and to TensorBoard.
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

import torch

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
    """Write a uint8 (C, H, W) grid as a PNG atomically (temp file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(png_bytes(grid))
    os.replace(tmp, path)
    return path
