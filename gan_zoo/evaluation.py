"""Evaluate a trained generator with registered metrics and record the result in its card.

Metrics are plugins like everything else; gan-zoo's own FID and KID live in the separately
installable ``gan-zoo-fid`` distribution. The reference images come from the dataset the run
was trained on (its ``test`` split by default), built with the run's own image size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import plugins
from .errors import GanZooError


def _metric(name: str, **options: Any) -> Any:
    registry = plugins.registry("metrics")
    if name not in registry and name in ("fid", "kid"):
        raise GanZooError(
            f"metric '{name}' is not installed; install it with 'pip install gan-zoo-fid' "
            "(see 'gan-zoo list metrics')"
        )
    return registry.create(name, **options)


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
    built = [_metric(m, num_samples=num_samples, batch_size=batch_size, device=dev) for m in metrics]
    generator = load(path, device=dev)
    config = generator.config
    entry = plugins.registry("datasets").get(config["dataset"])
    options: dict[str, Any] = {"split": split, "data_dir": data_dir or config.get("data_dir")}
    accepted = entry.options()
    for key in ("image_size", "channels"):
        if key in accepted and config.get(key):
            options[key] = config[key]
    dataset = entry.create(**{k: v for k, v in options.items() if k in accepted})
    results = {}
    for name, metric in zip(metrics, built, strict=True):
        value = float(metric.compute(generator, dataset, seed=seed))
        results[name] = {"value": value, "protocol": metric.protocol(dataset)}
    if record and generator.source.is_dir():
        from .card import record_metrics

        record_metrics(generator.source, results)
    return results
