"""Pictures of a run's statistics: the loss and D-accuracy curves drawn from ``metrics.jsonl``
at the end, and the sample-diversity number the health check uses. The curves need matplotlib,
an optional extra (``pip install 'gan-zoo[plots]'``). Sample grids live in :mod:`gan_zoo.images`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch


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
