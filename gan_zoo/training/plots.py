"""Pictures of a run's statistics: the loss and D-accuracy curves drawn from ``metrics.jsonl``
at the end, and the sample-diversity number the health check uses. The curves need matplotlib,
an optional extra (``pip install 'gan-zoo[plots]'``). Sample grids live in :mod:`gan_zoo.images`.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import torch

from ..safe_io import atomic_write_bytes, read_capped


def diversity(images: torch.Tensor) -> float:
    """Mean per-pixel standard deviation across a batch of samples in [-1, 1]; ~0 = collapse."""
    return float(images.detach().float().std(dim=0).mean())


#: The largest ``metrics.jsonl`` drawn (a line per logged step is ~200 bytes).
METRICS_CAP = 512 * 2**20


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """The records of ``metrics.jsonl`` (a regular file inside the run, capped); lines that are
    not JSON objects (cut short by a crash) are skipped."""
    records = []
    for line in (
        read_capped(path, METRICS_CAP, "metrics log").decode("utf-8", "replace").splitlines()
    ):
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(record, dict) and isinstance(record.get("step"), (int, float)):
            records.append(record)
    return records


def plot_curves(metrics_path: Path, out_dir: Path) -> list[Path]:
    """``losses.png`` and ``accuracy.png`` from ``metrics.jsonl``; [] without matplotlib or data."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    if not os.path.lexists(metrics_path):
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
            points = [(r["step"], r[key]) for r in records if isinstance(r.get(key), (int, float))]
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
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        plt.close(fig)
        written.append(atomic_write_bytes(path, buffer.getvalue(), run=True))  # replaces a link
    return written
