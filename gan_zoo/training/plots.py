"""Pictures of a run: sample grids (with class names for conditional models) and the loss and
D-accuracy curves drawn from ``metrics.jsonl`` at the end.

Grids are uint8 tensors (C, H, W) so the same object goes to a PNG, to the checkpoint and to
TensorBoard. Class names are drawn with Pillow's built-in font (Pillow comes with torchvision);
the curves need matplotlib, an optional extra (``pip install 'gan-zoo[plots]'``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch

_LABEL_WIDTH = 84  # pixels of margin for class names, enough for "Ankle boot" in the default font


def sample_grid(
    images: torch.Tensor, nrow: int, row_names: list[str] | None = None, padding: int = 2
) -> torch.Tensor:
    """Images in [-1, 1] (N, C, H, W) -> one uint8 RGB-or-gray grid (C, H', W').

    ``nrow`` images per row; with ``row_names`` each row gets its name in a left margin.
    """
    from torchvision.utils import make_grid

    x = images.detach().float().cpu().clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8)
    grid = make_grid(x, nrow=nrow, padding=padding, pad_value=0)  # (3, H', W') uint8
    if images.shape[1] == 1:
        grid = grid[:1]
    if not row_names:
        return grid
    import numpy as np
    from PIL import Image, ImageDraw

    c, h, w = grid.shape
    canvas = torch.zeros(c, h, w + _LABEL_WIDTH, dtype=torch.uint8)
    canvas[:, :, _LABEL_WIDTH:] = grid
    mode = "L" if c == 1 else "RGB"
    array = canvas[0].numpy() if c == 1 else canvas.permute(1, 2, 0).numpy()
    picture = Image.fromarray(array.copy(), mode=mode)
    draw = ImageDraw.Draw(picture)
    rows = math.ceil(images.shape[0] / nrow)
    cell = (h - padding) / rows
    white = 255 if c == 1 else (255, 255, 255)
    for i, name in enumerate(row_names[:rows]):
        draw.text((3, padding + i * cell + cell / 2 - 5), str(name)[:14], fill=white)
    out = torch.from_numpy(np.asarray(picture).copy())
    return out.unsqueeze(0) if c == 1 else out.permute(2, 0, 1).contiguous()


def save_png(grid: torch.Tensor, path: Path) -> Path:
    """Write a uint8 (C, H, W) grid as a PNG (atomically: temp file, then rename)."""
    import os

    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    array = grid[0].numpy() if grid.shape[0] == 1 else grid.permute(1, 2, 0).numpy()
    tmp = path.with_name(path.name + ".tmp")
    Image.fromarray(array).save(tmp, format="PNG")
    os.replace(tmp, path)
    return path


def diversity(images: torch.Tensor) -> float:
    """Mean per-pixel standard deviation across a batch of samples in [-1, 1]; ~0 = collapse."""
    return float(images.detach().float().std(dim=0).mean())


def read_metrics(path: Path) -> list[dict[str, Any]]:
    records = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


def plot_curves(metrics_path: Path, out_dir: Path) -> list[Path]:
    """``losses.png`` and ``accuracy.png`` from ``metrics.jsonl``; [] without matplotlib or data."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    if not Path(metrics_path).exists():
        return []
    records = read_metrics(metrics_path)
    if not records:
        return []
    written = []
    for filename, keys, ylabel in (
        ("losses.png", ("loss/d", "loss/g"), "loss"),
        ("accuracy.png", ("d/real_acc", "d/fake_acc"), "D accuracy"),
    ):
        fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
        for key in keys:
            points = [(r["step"], r[key]) for r in records if key in r]
            if points:
                steps, values = zip(*points, strict=True)
                ax.plot(steps, values, label=key)
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel)
        if ylabel == "D accuracy":
            ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        path = Path(out_dir) / filename
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    return written
