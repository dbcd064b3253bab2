"""Evaluate a trained generator with registered metrics and record the result in its card.

Metrics are plugins like everything else; gan-zoo's own FID and KID live in the separately
installable ``gan-zoo-fid`` distribution. The reference images come from the dataset the run
was trained on (its ``test`` split by default), built with the run's own image size; the data
is looked for where training would look, or in ``data_dir``, never where the run says.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .checkpoint import missing_part, part_entry
from .contracts import METRIC
from .errors import GanZooError
from .factory import create_metric, open_split

_RESOURCE = re.compile(r"dir|path|file|root|worker|thread|memory|download|cache", re.IGNORECASE)


def split_options(options: Any) -> dict[str, Any]:
    """The dataset options of a run that say which images form a split (e.g. image-folder's
    ``test_fraction`` and ``seed``), without paths, worker counts or memory limits, and only
    plain values: what evaluating a downloaded run may take from its ``config.json``."""
    if not isinstance(options, dict):
        return {}
    return {
        key: value
        for key, value in options.items()
        if isinstance(key, str) and not _RESOURCE.search(key) and _plain(value)
    }


def _plain(value: Any) -> bool:
    if isinstance(value, (bool, int, float)):
        return True
    return isinstance(value, str) and len(value) <= 64 and not any(c in value for c in "/\\")


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
    ref_stats: str | Path | None = None,
    record: bool = True,
) -> dict[str, dict[str, Any]]:
    """Compute ``metrics`` for the generator at ``path`` (a run, a checkpoint or weights).

    Returns ``{name: {"value": float, "protocol": {...}, ...}}`` (side results such as KID's
    ``kid_std`` next to the value); with ``record`` the values are added to the checkpoint's
    ``metrics.json`` and model card (``model-index``). ``ref_stats`` is an ``.npz`` with ``mu``
    and ``sigma`` (the pytorch-fid / clean-fid layout, e.g. from :func:`write_reference_stats`)
    to compare with instead of the run's dataset; Fréchet-distance metrics accept it.

    ``path`` may also be a pretrained tag or ``hf-hub:owner/name``: those are not the user's
    runs (an installed package, a download cache), so nothing is recorded; the results are
    only returned.

    ``num_samples`` generated images are compared with split ``split`` of the run's dataset
    (found under ``data_dir``, or where the dataset looks by default), ``batch_size`` at a time
    on ``device`` (``auto``, ``cpu``, ``cuda``, ...), with latents drawn from ``seed``.
    """
    from .checkpoint.sources import find_source
    from .sampling import load, resolve_device

    if num_samples < 2:
        raise GanZooError(f"--n must be at least 2 to compare distributions, not {num_samples}")
    dev = str(resolve_device(device))
    stats = {"ref_stats": str(ref_stats)} if ref_stats is not None else {}
    built = [
        create_metric(m, num_samples=num_samples, batch_size=batch_size, device=dev, **stats)
        for m in metrics
    ]
    source = find_source(path)
    generator = load(source.path, device=dev)
    config = generator.config
    missing = missing_part(config, ("dataset",))
    if missing is not None:
        raise missing
    # A run directory may come from anywhere: its data paths and resource settings (workers,
    # memory) are never used; the data is found as for training, or where --data-dir says.
    dataset = open_split(
        part_entry(config, "dataset").key,
        split,
        data_dir=data_dir,
        image_size=config.get("image_size"),
        channels=config.get("channels"),
        options=split_options(config.get("dataset_options")),
    )
    for metric in built:  # every metric can run before any computes (FID alone takes minutes)
        METRIC.get(metric, "check_dataset")(dataset)
        METRIC.get(metric, "check_generator")(generator)
    results = {}
    for name, metric in zip(metrics, built, strict=True):
        value = float(metric.compute(generator, dataset, seed=seed))
        extra = {k: float(v) for k, v in (METRIC.get(metric, "extra") or {}).items()}
        results[name] = {"value": value, **extra, "protocol": metric.protocol(dataset)}
    if record and source.writable and generator.source.is_dir():
        from .checkpoint import record_metrics

        record_metrics(generator.source, results)
    return results


def write_reference_stats(
    dataset: str,
    path: str | Path,
    *,
    metric: str = "fid",
    split: str = "test",
    num_samples: int = 10000,
    batch_size: int = 50,
    device: str = "auto",
    data_dir: str | None = None,
    image_size: int | None = None,
    channels: int | None = None,
) -> Path:
    """Write the reference statistics (``mu``, ``sigma`` and the protocol) of ``split`` of a
    registered dataset, in the feature space of ``metric`` (``fid``: TF-Inception pool3;
    ``classifier-fd``: the shipped classifier), as an ``.npz`` that pytorch-fid and clean-fid
    read too and that ``evaluate(..., ref_stats=path)`` compares with."""
    from .sampling import resolve_device

    built = create_metric(
        metric, num_samples=num_samples, batch_size=batch_size, device=str(resolve_device(device))
    )
    writer = METRIC.get(built, "write_reference_stats")
    if writer is None:
        raise GanZooError(
            f"metric '{metric}' has no reference statistics; use fid or classifier-fd"
        )
    reference = open_split(
        dataset, split, data_dir=data_dir, image_size=image_size, channels=channels
    )
    return Path(writer(reference, path))
