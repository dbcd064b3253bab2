"""Write ``gan_zoo/measured.json``: the results records, as ``gan-zoo list`` and ``info`` read them.

One item per record of ``benchmarks/results/`` (see :mod:`gan_zoo.measured`): the preset and the
distribution that registers it (the row's ``plugin``), what the row added to the train command,
every metric value, img/s, training time, precision and hardware. ``benchmarks/results.py``
writes it whenever it renders docs/results.md; a test holds the shipped file equal to
:func:`build` of the records.

    python benchmarks/results_measured.py          # rewrite gan_zoo/measured.json
    python benchmarks/results_measured.py --check  # exit 1 if it differs from the records
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the helpers next to this file

from results_render import hardware_text, load_records  # noqa: E402
from results_rows import (  # noqa: E402
    REPO,
    RESULTS_DIR,
    ROWS_FILE,
    RUNNER_OPTIONS,
    STANDARD_N,
    load_rows,
    write_text,
)

from gan_zoo.measured import MEASURED_FILE  # noqa: E402

OUT = REPO / "gan_zoo" / MEASURED_FILE


def row_args(train_command: str) -> list[str]:
    """What ``gan-zoo train PRESET DATASET ...`` added, without the runner's own options."""
    argv = shlex.split(train_command)[4:]
    args: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg.split("=", 1)[0] in RUNNER_OPTIONS:
            skip = "=" not in arg
        else:
            args.append(arg)
    return args


def standard(record: dict[str, Any]) -> bool:
    fid = record["metrics"].get("fid", {})
    return (
        record.get("standard") is True
        and record.get("num_samples") == STANDARD_N
        and isinstance(fid, dict)
        and fid.get("protocol", {}).get("standard") is True
    )


def item(record: dict[str, Any], distribution: str, verified: bool = True) -> dict[str, Any]:
    training = record.get("training", {})
    return {
        "verified": verified,
        "record": f"{record['row']}-s{record['seed']}",
        "row": record["row"],
        "seed": record["seed"],
        "preset": record["preset"],
        "distribution": distribution,
        "dataset": record["dataset"],
        "note": record.get("note", ""),
        "args": row_args(record["commands"]["train"]),
        "standard": standard(record),
        "metrics": {
            name: m["value"]
            for name, m in record["metrics"].items()
            if isinstance(m, dict) and isinstance(m.get("value"), (int, float))
        },
        "img_s": training.get("img_s"),
        "train_seconds": training.get("seconds"),
        "precision": training.get("precision"),
        "hardware": hardware_text(record),
        "date": record.get("date", ""),
    }


def build(results_dir: Path = RESULTS_DIR, rows_path: Path = ROWS_FILE) -> dict[str, Any]:
    """The content of ``measured.json``: the records in the order of the rows file."""
    rows = load_rows(rows_path).rows
    records = load_records(results_dir)
    # Records that fail the provenance check (benchmarks/results/unverified/) ship too, marked:
    # the listings show their figures with a '*' until a re-run replaces them.
    unverified_dir = Path(results_dir) / "unverified"
    unverified = load_records(unverified_dir) if unverified_dir.is_dir() else {}
    items = []
    for row in rows:
        for seed in row.seeds:
            name = f"{row.name}-s{seed}"
            if name in records:
                items.append(item(records[name], row.plugin or "gan-zoo"))
            elif name in unverified:
                items.append(item(unverified[name], row.plugin or "gan-zoo", verified=False))
    return {
        "schema": 2,
        "source": "benchmarks/results/*.json, written by benchmarks/results_measured.py",
        "records": items,
    }


def text(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1) + "\n"


def write(results_dir: Path = RESULTS_DIR, rows_path: Path = ROWS_FILE, out: Path = OUT) -> bool:
    """Rewrite ``out`` from the records; True when it changed."""
    new = text(build(results_dir, rows_path))
    if out.exists() and out.read_text(encoding="utf-8") == new:
        return False
    write_text(out, new)
    return True


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--check"]:
        same = OUT.exists() and OUT.read_text(encoding="utf-8") == text(build())
        print(f"{OUT}: {'current' if same else 'differs from the records; rerun without --check'}")
        return 0 if same else 1
    if argv:
        print("Error: usage: python benchmarks/results_measured.py [--check]", file=sys.stderr)
        return 2
    print(f"{'wrote' if write() else 'unchanged:'} {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
