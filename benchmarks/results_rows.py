"""The rows of the results table (``benchmarks/results/rows.json``) and the commands they run.

A row is one recipe on one dataset: a preset, the extra ``gan-zoo train`` arguments of its
recipe, the seeds to run and a note. The file is data, read and checked here; every mistake is a
one-line error that names the row. No torch is imported at module level.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gan_zoo.errors import GanZooError, did_you_mean

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "benchmarks" / "results"
ROWS_FILE = RESULTS_DIR / "rows.json"

#: The standard protocol's sample count (``gan-zoo/inception-10k-test``).
STANDARD_N = 10000
#: Arguments the runner sets itself, per seed and row; a recipe may not set them.
RUNNER_OPTIONS = ("--out", "--seed", "--resume")
_ROW_KEYS = {"name", "preset", "dataset", "args", "seeds", "note", "plugin"}
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class RowsError(GanZooError):
    """A bad rows file or a bad choice of rows."""


@dataclass(frozen=True)
class Row:
    """One line of the table: ``preset`` trained on ``dataset`` with ``args``, once per seed."""

    name: str
    preset: str
    dataset: str
    args: tuple[str, ...] = ()
    seeds: tuple[int, ...] = (0,)
    note: str = ""
    #: The distribution that registers ``preset``, when it is not gan-zoo itself.
    plugin: str | None = None


@dataclass(frozen=True)
class RowsFile:
    """The whole file: the rows in table order, the metrics every row gets, the conditional
    presets' extra metrics and the registered presets left out on purpose (with the reason)."""

    rows: tuple[Row, ...]
    metrics: tuple[str, ...]
    conditional_metrics: tuple[str, ...]
    excluded: dict[str, str]

    def select(self, names: Sequence[str] | None) -> list[Row]:
        """The rows named (all when ``names`` is empty), in the order given; unknown names are a
        one-line error with did-you-mean."""
        if not names:
            return list(self.rows)
        by_name = {row.name: row for row in self.rows}
        chosen = []
        for name in names:
            if name not in by_name:
                hint = did_you_mean(name, by_name) or f" (rows: {', '.join(by_name)})"
                raise RowsError(f"unknown row '{name}'{hint}")
            if by_name[name] not in chosen:
                chosen.append(by_name[name])
        return chosen

    def metrics_for(self, conditional: bool) -> list[str]:
        return list(self.metrics) + (list(self.conditional_metrics) if conditional else [])


def _strings(value: Any, where: str, *, empty: bool = True) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise RowsError(f"{where} must be a list of non-empty strings")
    if not empty and not value:
        raise RowsError(f"{where} must not be empty")
    return tuple(value)


def _row(item: Any, index: int, dataset: str) -> Row:
    if not isinstance(item, dict):
        raise RowsError(f"row {index + 1} must be an object with 'name' and 'preset'")
    name = item.get("name")
    where = f"row '{name}'" if isinstance(name, str) else f"row {index + 1}"
    unknown = sorted(set(item) - _ROW_KEYS)
    if unknown:
        hint = did_you_mean(unknown[0], _ROW_KEYS)
        raise RowsError(
            f"{where}: unknown key '{unknown[0]}'{hint} (keys: {', '.join(sorted(_ROW_KEYS))})"
        )
    if not isinstance(name, str) or not _NAME.match(name):
        raise RowsError(
            f"{where}: 'name' must be lower-case letters, digits, '.', '-' or '_' (a file name)"
        )
    if not isinstance(item.get("preset"), str) or not item["preset"]:
        raise RowsError(f"{where}: 'preset' must name a preset (see 'gan-zoo list models')")
    args = _strings(item.get("args", []), f"{where}: 'args'")
    owned = [a for a in args if a.split("=", 1)[0] in RUNNER_OPTIONS]
    if owned:
        raise RowsError(
            f"{where}: the runner sets {owned[0].split('=', 1)[0]} itself; remove it from 'args'"
        )
    if row_precision(args) == "auto":
        raise RowsError(
            f"{where}: the runner names the precision --precision auto resolves to on the "
            "machine that trains; name one (fp32, bf16, fp16) or leave --precision out"
        )
    seeds = item.get("seeds", [0])
    if (
        not isinstance(seeds, list)
        or not seeds
        or len(set(seeds)) != len(seeds)
        or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)
    ):
        raise RowsError(
            f"{where}: 'seeds' must be a list of distinct integers >= 0, e.g. [0, 1, 2]"
        )
    for key in ("note", "plugin", "dataset"):
        if key in item and not isinstance(item[key], str):
            raise RowsError(f"{where}: '{key}' must be a string")
    return Row(
        name=name,
        preset=item["preset"],
        dataset=item.get("dataset", dataset),
        args=args,
        seeds=tuple(seeds),
        note=item.get("note", ""),
        plugin=item.get("plugin"),
    )


def load_rows(path: str | Path = ROWS_FILE) -> RowsFile:
    """Read and check a rows file; a bad one is a one-line error naming the file and the row."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RowsError(f"rows file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RowsError(f"cannot read rows file {path}: {e}") from None
    try:
        return _rows_file(data)
    except RowsError as e:
        raise RowsError(f"{path}: {e}") from None


def _rows_file(data: Any) -> RowsFile:
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
        raise RowsError("the file must be an object with a 'rows' list")
    dataset = data.get("dataset", "fashion-mnist")
    if not isinstance(dataset, str) or not dataset:
        raise RowsError("'dataset' must name a dataset")
    metrics = _strings(data.get("metrics"), "'metrics'", empty=False)
    conditional = _strings(data.get("conditional_metrics", []), "'conditional_metrics'")
    excluded = data.get("excluded", {})
    if not isinstance(excluded, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in excluded.items()
    ):
        raise RowsError("'excluded' must map preset names to the reason they have no row")
    rows = tuple(_row(item, i, dataset) for i, item in enumerate(data["rows"]))
    names = [row.name for row in rows]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise RowsError(f"row '{twice[0]}' is listed twice; row names must be unique")
    return RowsFile(rows, metrics, conditional, dict(excluded))


def is_conditional(row: Row) -> bool:
    """Whether the row's preset is conditional (False when it is not installed)."""
    import gan_zoo

    return row.preset in gan_zoo.list_models(conditional=True)


def display_path(path: Path) -> str:
    """``path`` relative to the repository when inside it (commands are run from there)."""
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def option_value(args: Sequence[str], name: str) -> str | None:
    """The last value of ``name`` among ``args`` (``--x v`` or ``--x=v``), or None."""
    value = None
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith(name + "="):
            value = arg.split("=", 1)[1]
    return value


def row_precision(args: Sequence[str]) -> str | None:
    """The ``--precision`` a row's ``args`` name (the last one), or None."""
    found = option_value(args, "--precision")
    return found.strip().lower() if found is not None else None


def train_argv(row: Row, seed: int, run_dir: Path, extra: Sequence[str] = ()) -> list[str]:
    """``gan-zoo train ...`` of one seed of ``row``, writing to ``run_dir``."""
    return [
        "gan-zoo",
        "train",
        row.preset,
        row.dataset,
        *row.args,
        *extra,
        "--seed",
        str(seed),
        "--out",
        display_path(run_dir),
    ]


def evaluate_argv(run_dir: Path, metrics: Sequence[str], n: int) -> list[str]:
    """``gan-zoo evaluate ...`` with the same arguments the runner gives ``gan_zoo.evaluate``."""
    argv = ["gan-zoo", "evaluate", display_path(run_dir)]
    for metric in metrics:
        argv += ["--metric", metric]
    return argv + ["--n", str(n), "--json"]


def command(argv: Sequence[str]) -> str:
    """A copy-pasteable shell line."""
    return shlex.join(argv)


def write_text(path: Path, text: str) -> None:
    """Write ``text`` atomically: a temporary file in the same folder, then os.replace (the
    file keeps its permissions; a new one gets 0644, not mkstemp's 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
