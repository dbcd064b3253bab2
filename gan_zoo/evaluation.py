"""Evaluate a trained generator with registered metrics and record the result in its card.

Metrics are plugins like everything else; gan-zoo's own FID and KID live in the separately
installable ``gan-zoo-fid`` distribution. The reference images come from the dataset the run
was trained on (its ``test`` split by default), built with the run's own image size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import GanZooError
from .factory import create_metric, open_split


def evaluate(
    path: str | Path,
    metrics: tuple[str, ...] | list[str] = ("fid",),
    *,
    num_samples: int = 10000,
    split: str = "test",
    batch_size: int = 50,
    device: str = "auto",
    seed: int = 0,
    data_dir: str | None = None,
    record: bool = True,
) -> dict[str, dict[str, Any]]:
    """Compute ``metrics`` for the generator at ``path`` (a run, a checkpoint or weights).

    Returns ``{name: {"value": float, "protocol": {...}}}``; with ``record`` the values are
    added to the checkpoint's ``metrics.json`` and model card (``model-index``).
    """
    from .sampling import load, resolve_device

    if num_samples < 2:
        raise GanZooError(f"--n must be at least 2 to compare distributions, not {num_samples}")
    dev = str(resolve_device(device))
    built = [
        create_metric(m, num_samples=num_samples, batch_size=batch_size, device=dev)
        for m in metrics
    ]
    generator = load(path, device=dev)
    config = generator.config
    dataset = open_split(
        config["dataset"], split, data_dir=data_dir or config.get("data_dir"),
        image_size=config.get("image_size"), channels=config.get("channels"),
        options=config.get("dataset_options"),
    )  # fmt: skip
    results = {}
    for name, metric in zip(metrics, built, strict=True):
        value = float(metric.compute(generator, dataset, seed=seed))
        results[name] = {"value": value, "protocol": metric.protocol(dataset)}
    if record and generator.source.is_dir():
        from .checkpoint import record_metrics

        record_metrics(generator.source, results)
    return results
