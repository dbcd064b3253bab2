"""Re-measure pretrained tags and compare with their model cards.

For every tag (default: all registered ``pretrained`` entries, e.g. those of gan-zoo-pretrained)
the metrics recorded in the tag folder's ``metrics.json`` are computed again from the installed
weights, each with the protocol's own number of samples and reference split, and compared with
the recorded value. A value more than ``--tolerance`` (default 2%) away fails the check (exit 1).
Sampling is seeded, so on the same software the numbers come back equal; the tolerance allows
for other CPUs and BLAS libraries.

Run (Inception metrics need gan-zoo-fid; the standard FID protocol takes 20-40 minutes per tag
on a 2-core CPU, the classifier metrics seconds)::

    python benchmarks/check_pretrained.py                       # every tag, every metric
    python benchmarks/check_pretrained.py dcgan.fashion-mnist --metrics classifier-fd
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any


def recorded_metrics(tag: str) -> dict[str, dict[str, Any]]:
    """``{metric: {"value", "protocol", ...}}`` from the tag folder's metrics.json."""
    from gan_zoo.checkpoint import METRICS_FILE
    from gan_zoo.checkpoint.schema import check_metrics
    from gan_zoo.checkpoint.sources import open_source
    from gan_zoo.safe_io import read_json, shown

    path = open_source(tag) / METRICS_FILE
    if not path.is_file():
        return {}
    data = check_metrics(read_json(path), shown(path))
    return {k: v for k, v in data.items() if isinstance(v, dict) and "value" in v}


def check_tag(tag: str, only: Sequence[str] | None, tolerance: float) -> list[dict[str, Any]]:
    """One row per metric: recorded, measured, relative difference, ok.

    Metrics recorded under the same number of samples and reference split are measured by one
    ``gan_zoo.evaluate`` call, so FID, KID, precision and recall share one feature pass."""
    import gan_zoo

    groups: dict[tuple[int, str], dict[str, dict[str, Any]]] = {}
    for name, entry in sorted(recorded_metrics(tag).items()):
        if only and name not in only:
            continue
        protocol = entry.get("protocol") or {}
        key = (
            int(protocol.get("num_samples", 10000)),
            str(protocol.get("reference_split", "test")),
        )
        groups.setdefault(key, {})[name] = entry
    rows = []
    for (n, split), entries in groups.items():
        start = time.perf_counter()
        measured = gan_zoo.evaluate(tag, list(entries), num_samples=n, split=split, record=False)
        seconds = round(time.perf_counter() - start, 1)
        for name, entry in entries.items():
            recorded, value = float(entry["value"]), float(measured[name]["value"])
            diff = abs(value - recorded) / max(abs(recorded), 1e-12)
            rows.append(
                {
                    "tag": tag,
                    "metric": name,
                    "n": n,
                    "recorded": recorded,
                    "measured": value,
                    "relative_difference": diff,
                    "ok": diff <= tolerance,
                    "seconds": seconds,
                }
            )
            print(
                f"{tag}  {name} (N={n}): card {recorded:.6g}, measured {value:.6g}, "
                f"{100 * diff:.3f}% {'ok' if diff <= tolerance else 'DIFFERS'}",
                flush=True,
            )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tags", nargs="*", help="Tags (default: every registered one).")
    parser.add_argument("--metrics", nargs="+", help="Only these metrics of each card.")
    parser.add_argument("--tolerance", type=float, default=0.02, help="Relative (default 0.02).")
    parser.add_argument("--json", action="store_true", help="Print the rows as JSON at the end.")
    args = parser.parse_args(argv)

    from gan_zoo import plugins
    from gan_zoo.errors import GanZooError

    try:
        tags = args.tags or plugins.registry("pretrained").names()
        if not tags:
            print("Error: no pretrained tags are installed (pip install gan-zoo[pretrained])")
            return 2
        rows = [row for tag in tags for row in check_tag(tag, args.metrics, args.tolerance)]
    except GanZooError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(rows, indent=1))
    if not rows:
        print("Error: the cards record none of the metrics asked for", file=sys.stderr)
        return 2
    return 0 if all(row["ok"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
