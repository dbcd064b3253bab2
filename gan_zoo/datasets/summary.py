"""What ``gan-zoo datasets info`` shows, reachable from Python: a dataset's facts and a grid of
its real images (one class after another)."""

from __future__ import annotations

from typing import Any

from ..errors import GanZooError


def summarize(dataset: Any, name: str | None = None) -> dict[str, Any]:
    """Where a loaded dataset came from, its size, image format and images per class."""
    counts = dataset.class_counts()
    return {
        "name": name or dataset.name,
        "split": dataset.split,
        "source": dataset.source,
        "images": len(dataset),
        "image_size": dataset.image_size,
        "channels": dataset.channels,
        "num_classes": dataset.num_classes,
        "classes": dict(zip(dataset.class_names, counts, strict=True)),
        "kind": type(dataset).__name__,
    }


def save_real_grid(dataset: Any, path: str, n: int = 64, seed: int = 0) -> dict[str, Any]:
    """Write ``n`` real images drawn with ``seed`` as a PNG grid, sorted by class."""
    import torch
    from torchvision.utils import save_image

    x, labels = dataset.sample(n, torch.Generator().manual_seed(seed))  # (n, C, H, W) in [-1, 1]
    order = torch.sort(labels.cpu(), stable=True).indices  # one class after another
    nrow = max(1, round(len(x) ** 0.5))
    try:
        save_image(x.cpu()[order], path, nrow=nrow, normalize=True, value_range=(-1, 1))
    except (OSError, ValueError) as exc:
        raise GanZooError(f"cannot write the grid to {path}: {exc}") from None
    return {"path": path, "images": len(x), "nrow": nrow}
