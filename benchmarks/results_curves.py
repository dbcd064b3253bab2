"""Store the training curve of recorded seeds: the metric each run scored at its checkpoints.

A row's run (``benchmarks/results/runs/ROW-sSEED``, ignored by git) scores its generator at
every checkpoint with its ``eval_metric`` (classifier-FD on 2,000 samples by default on the CPU)
and logs it in ``metrics.jsonl``. The run folder is not committed; this script keeps that curve
as a small JSON file beside the record, ``benchmarks/results/curves/ROW-sSEED.json``, tied to
the record by its commit and train command, and prints it. Docs quote curves from these files.

Run::

    python benchmarks/results_curves.py dcgan-s0 dcgan-s1 dcgan-s2
    python benchmarks/results_curves.py dcgan-s0 --check     # the stored file matches the run
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the helpers next to this file

from results_rows import RESULTS_DIR, display_path, write_text  # noqa: E402
from results_runner import read_json  # noqa: E402

from gan_zoo.errors import GanZooError  # noqa: E402

#: Version of the curve file's layout.
SCHEMA = 1


class CurveError(GanZooError):
    """A run or record that gives no curve."""


def eval_points(run_dir: Path, metric: str) -> list[dict[str, Any]]:
    """``{"step", "epoch", "value"}`` of each ``eval/METRIC`` a run logged in ``metrics.jsonl``
    (none when it has no such file yet)."""
    points = []
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return points
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                item = json.loads(line)
            except ValueError:  # a line being written as it is read
                continue
            value = item.get(f"eval/{metric}") if isinstance(item, dict) else None
            if isinstance(value, (int, float)) and math.isfinite(value):
                points.append(
                    {"step": item.get("step"), "epoch": item.get("epoch"), "value": float(value)}
                )
    return points


def curve(key: str, results_dir: Path = RESULTS_DIR) -> dict[str, Any]:
    """The curve of the recorded seed ``key`` (``ROW-sSEED``) from its run's ``metrics.jsonl``.

    The run must be the record's: the segments the runner listed for it are those the record
    lists (each with the commit it started at), and its ``config.json`` has the record's seed."""
    record_path = results_dir / f"{key}.json"
    run_dir = results_dir / "runs" / key
    record = read_json(record_path)
    if not isinstance(record, dict) or not isinstance(record.get("provenance"), dict):
        raise CurveError(f"{display_path(record_path)} is not a record of the current runner")
    segments = read_json(run_dir.with_name(key + ".segments.json"))
    # The run's segments are the record's (a resume across commits lists each commit).
    listed = [s.get("commit") for s in record["provenance"].get("segments") or []]
    commits = [s.get("commit") for s in segments] if isinstance(segments, list) else []
    if not commits or commits != listed:
        raise CurveError(
            f"the run in {display_path(run_dir)} was not trained at the commit its record "
            "names; train it again with benchmarks/results.py"
        )
    config = read_json(run_dir / "config.json")
    if not isinstance(config, dict) or config.get("seed") != record.get("seed"):
        raise CurveError(f"{display_path(run_dir)} is not the run of {display_path(record_path)}")
    metric = config.get("eval_metric")
    if not isinstance(metric, str) or metric in ("none", "auto"):
        raise CurveError(f"{display_path(run_dir)} scored no metric during training")
    points = eval_points(run_dir, metric)
    if not points:
        raise CurveError(f"{display_path(run_dir)}/metrics.jsonl holds no eval/{metric} value")
    return {
        "schema": SCHEMA,
        "command": f"python benchmarks/results_curves.py {key}",
        "record": display_path(record_path),
        "commit": record["provenance"]["commit"],
        "train": record.get("commands", {}).get("train"),
        "metric": metric,
        "eval_samples": config.get("eval_samples"),
        "eval_split": config.get("eval_split"),
        "points": points,
    }


def text(data: dict[str, Any]) -> str:
    """The curve as a small table, one checkpoint a line."""
    head = (
        f"{data['record']}: {data['metric']} ({data['eval_samples']} samples, "
        f"'{data['eval_split']}' split) at each checkpoint"
    )
    lines = [head, f"{'epoch':>5} {'step':>7} {data['metric']:>14}"]
    lines += [f"{p['epoch']:>5} {p['step']:>7} {p['value']:>14.2f}" for p in data["points"]]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/results_curves.py", description=__doc__.splitlines()[0]
    )
    parser.add_argument("keys", nargs="+", metavar="ROW-sSEED", help="Recorded seeds.")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument(
        "--check", action="store_true", help="Compare with the stored files; write nothing."
    )
    args = parser.parse_args(argv)
    try:
        for key in args.keys:
            data = curve(key, args.results_dir)
            path = args.results_dir / "curves" / f"{key}.json"
            if args.check:
                if not path.is_file() or read_json(path) != data:
                    raise CurveError(f"{display_path(path)} differs from the run's curve")
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                write_text(path, json.dumps(data, indent=1) + "\n")
            print(text(data))
    except (GanZooError, OSError) as e:
        print(f"Error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
