"""What a report shows of one run, read the way every untrusted run is read.

A run directory may come from a stranger or still be written by a training. Every file goes
through :mod:`gan_zoo.safe_io` (regular files inside the run, capped sizes, no link followed out,
nothing blocking), JSON is parsed and never evaluated, PNGs are checked to be PNGs before they
are embedded, and a part that cannot be read becomes a line under "Problems" instead of stopping
the page: a report of a run in progress or of a half-copied run still shows what is there.
Nothing here escapes text: :mod:`gan_zoo.report.page` escapes every value it places.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..checkpoint.card import metric_protocol, protocol_text
from ..checkpoint.info import describe
from ..checkpoint.layout import (
    CHECKPOINTS_DIR,
    CONFIG_FILE,
    EVENTS_LOG,
    METRICS_LOG,
    SAMPLES_DIR,
    SAMPLES_FILE,
    STATE_JSON_FILE,
    list_checkpoints,
)
from ..checkpoint.reader import resolve_checkpoint
from ..checkpoint.schema import check_record, check_state
from ..environment import versions
from ..errors import CheckpointError, GanZooError
from ..formatting import duration
from ..runlock import LOCK_FILE, holder
from ..safe_io import read_capped, read_json, shown

#: The largest sample grid embedded, all grids together, and the most grids on one slider.
PNG_CAP = 16 * 2**20
SAMPLES_BUDGET = 96 * 2**20
MAX_GRIDS = 400
#: The largest log read, the most points of one curve (more are thinned evenly), the most curves.
LOG_CAP = 512 * 2**20
MAX_POINTS = 4000
MAX_SERIES = 64
#: Longest text of one value placed in the page (longer values are cut, with a mark).
MAX_TEXT = 400
_PNG = b"\x89PNG\r\n\x1a\n"
_GRID = re.compile(r"^step-(\d{1,12})\.png$")
#: Statistics that are not curves.
_NOT_CURVES = ("step", "epoch", "time")


@dataclass
class Grid:
    """One sample grid: the step it was drawn at and its PNG bytes (checked to be a PNG)."""

    step: int
    png: bytes
    width: int
    height: int


@dataclass
class RunView:
    """Everything a report shows of one run; every text is still raw (the page escapes it)."""

    path: Path
    name: str
    status: str = ""
    step: int | None = None
    total_steps: int | None = None
    summary: list[tuple[str, str]] = field(default_factory=list)
    metrics: list[tuple[str, str, str]] = field(default_factory=list)  # name, value, protocol
    grids: list[Grid] = field(default_factory=list)
    grids_total: int = 0
    class_names: list[str] = field(default_factory=list)
    conditional: bool = False
    series: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    series_total: dict[str, int] = field(default_factory=dict)
    config: list[tuple[str, str]] = field(default_factory=list)
    environment: list[tuple[str, str]] = field(default_factory=list)
    events: list[tuple[str, str, str]] = field(default_factory=list)  # step, level, message
    problems: list[str] = field(default_factory=list)


def text(value: Any) -> str:
    """A value from a run as one line of text, cut at :data:`MAX_TEXT` characters."""
    if isinstance(value, str):
        out = value
    elif isinstance(value, float):
        out = f"{value:.6g}"
    else:
        try:
            out = json.dumps(value, ensure_ascii=False, allow_nan=True)
        except (TypeError, ValueError, RecursionError):
            out = repr(value)
    return out if len(out) <= MAX_TEXT else out[: MAX_TEXT - 1] + "\u2026"


def is_number(value: Any) -> bool:
    """A finite int or float (booleans are not numbers here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def read_run(path: str | os.PathLike) -> RunView:
    """Read what a report shows of the run ``path``; raises a one-line
    :class:`~gan_zoo.errors.CheckpointError` only when ``path`` is not a run at all."""
    run = Path(path)
    if not run.is_dir() or not any(
        os.path.lexists(run / name) for name in (CONFIG_FILE, METRICS_LOG, CHECKPOINTS_DIR)
    ):
        raise CheckpointError(
            f"{shown(run)} is not a gan-zoo run (no {CONFIG_FILE}, {METRICS_LOG} or "
            f"{CHECKPOINTS_DIR}/); pass the folder a training wrote"
        )
    view = RunView(path=run, name=shown(run.resolve().name or run))
    for part in (_config, _checkpoint, _samples, _curves, _events, _status, _here):
        try:
            part(view)
        except GanZooError as exc:
            view.problems.append(str(exc))
    return view


# The parts of a run, each read on its own.
def _config(view: RunView) -> None:
    """config.json: the table as it is, then its schema (a failure is a problem, not a stop)."""
    if not os.path.lexists(view.path / CONFIG_FILE):
        view.problems.append(f"{CONFIG_FILE} is not there yet")
        return
    record = read_json(view.path / CONFIG_FILE)
    view.config = flatten(record)
    names = record.get("class_names")
    if isinstance(names, list):
        view.class_names = [text(n) for n in names[:1000]]
    view.conditional = record.get("conditional") is True
    check_record(record, shown(view.path / CONFIG_FILE))
    versions = [("gan-zoo that trained it", record.get("gan_zoo_version"))]
    plugins = record.get("plugins")
    if isinstance(plugins, dict):
        versions += [(f"plugin of the {k}", v) for k, v in list(plugins.items())[:50]]
    view.environment += [(k, text(v)) for k, v in versions if v not in (None, "")]


def flatten(value: Any, prefix: str = "", depth: int = 0) -> list[tuple[str, str]]:
    """Nested JSON objects as ``(dotted.key, text)`` rows; lists and deep values as JSON text."""
    if not isinstance(value, dict) or depth >= 6:
        return [(prefix, text(value))]
    rows: list[tuple[str, str]] = []
    for key, item in list(value.items())[:2000]:
        rows += flatten(item, f"{prefix}.{key}" if prefix else str(key), depth + 1)
    return rows


def _checkpoint(view: RunView) -> None:
    """The latest checkpoint's summary, metrics (with their protocol), hardware and warnings."""
    checkpoints = list_checkpoints(view.path)
    if not checkpoints:
        view.summary.append(("checkpoint", "none yet (the first is written at an epoch's end)"))
        return
    ckpt = resolve_checkpoint(view.path)
    info = describe(ckpt)
    where = shown(ckpt / STATE_JSON_FILE)
    state = check_state(read_json(ckpt / STATE_JSON_FILE), where).get("state", {})
    total = state.get("total_steps")
    view.step, view.total_steps = state.get("step", info["step"]), total
    rows = [
        (
            "model",
            f"{info['model']} (G {info['generator']}, D {info['discriminator']}, "
            f"loss {info['loss']})",
        ),
        ("dataset", info["dataset"]),
        ("step", f"{info['step']}" + (f" of {total}" if total else "")),
        ("epoch", info["epoch"]),
        ("images seen", f"{info['images_seen']:,}" if is_number(info["images_seen"]) else None),
        (
            "training time",
            duration(info["elapsed_seconds"]) if is_number(info["elapsed_seconds"]) else None,
        ),
        ("EMA weights", "yes" if info["ema"] else "no"),
        ("last losses", ", ".join(f"{k} {text(v)}" for k, v in info["last_losses"].items())),
        ("checkpoints", ", ".join(info["checkpoints"])),
        ("latest", info["latest"]),
        ("best", info["best"]),
    ]
    view.summary += [(k, text(v)) for k, v in rows if v not in (None, "", [])]
    for name, item in info["metrics"].items():
        value = item["value"] if isinstance(item, dict) else item
        view.metrics.append((text(name), text(value), protocol_text(metric_protocol(item))))
    env = [
        ("hardware", info["hardware"]),
        ("world size", state.get("world_size")),
        ("batch per process", state.get("batch_per_process")),
        ("config hash", info["config_hash"]),
    ]
    view.environment[:0] = [(k, text(v)) for k, v in env if v not in (None, "")]
    for warning in (state.get("warnings") or [])[:200]:
        view.events.append(("", "warning", text(warning)))


def _samples(view: RunView) -> None:
    """``samples/step-N.png`` (else each checkpoint's ``samples.png``), checked to be PNGs, all
    of them while they fit :data:`SAMPLES_BUDGET` and :data:`MAX_GRIDS`, else evenly thinned."""
    found: list[tuple[int, Path]] = []
    folder = view.path / SAMPLES_DIR
    if _is_dir(folder):
        found = sorted(
            (int(m.group(1)), folder / p.name)
            for p in _entries(folder)
            if (m := _GRID.match(p.name))
        )
    if not found:
        found = [
            (int(c.name.split("-")[1]), c / SAMPLES_FILE)
            for c in list_checkpoints(view.path)
            if os.path.lexists(c / SAMPLES_FILE)
        ]
    view.grids_total = len(found)
    sizes = {}
    for step, path in found:
        try:
            sizes[step] = os.lstat(path).st_size
        except OSError:
            continue
    total = sum(sizes.values())
    keep = max(1, min(MAX_GRIDS, len(found) * SAMPLES_BUDGET // max(total, 1)))
    for step, path in thin(found, keep):
        try:
            png = read_capped(path, PNG_CAP, "sample grid")
        except GanZooError as exc:
            view.problems.append(str(exc))
            continue
        size = png_size(png)
        if size is None:
            view.problems.append(f"{shown(path)} is not a PNG image; it is left out")
            continue
        view.grids.append(Grid(step, png, *size))


def _is_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)  # a link to a folder elsewhere is not read
    except OSError:
        return False


def _entries(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())[:100_000]
    except OSError:
        return []


def thin(items: list[Any], keep: int) -> list[Any]:
    """At most ``keep`` of ``items``, evenly spaced, the first and the last always kept."""
    if len(items) <= keep:
        return list(items)
    if keep <= 1:
        return items[-1:]
    picks = sorted({round(i * (len(items) - 1) / (keep - 1)) for i in range(keep)})
    return [items[i] for i in picks]


def png_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` from a PNG's header, or None when ``data`` is not a PNG."""
    if len(data) < 33 or not data.startswith(_PNG) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return (width, height) if 0 < width <= 65_535 and 0 < height <= 65_535 else None


def read_log(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a ``.jsonl`` log of a run whose ``step`` is a number (lines cut short
    by a crash are skipped); [] when there is no log yet."""
    if not os.path.lexists(path):
        return []
    records = []
    for line in read_capped(path, LOG_CAP, "log").decode("utf-8", "replace").splitlines():
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(record, dict) and is_number(record.get("step")):
            records.append(record)
    return records


def _curves(view: RunView) -> None:
    """One series per numeric statistic of ``metrics.jsonl`` (non-finite values left out)."""
    series: dict[str, list[tuple[float, float]]] = {}
    for record in read_log(view.path / METRICS_LOG):
        for key, value in record.items():
            if key in _NOT_CURVES or not is_number(value):
                continue
            if key not in series and len(series) >= MAX_SERIES:
                continue
            series.setdefault(str(key)[:100], []).append((float(record["step"]), float(value)))
    for key, points in series.items():
        points.sort(key=lambda p: p[0])
        view.series_total[key] = len(points)
        view.series[key] = thin(points, MAX_POINTS)


def _events(view: RunView) -> None:
    """``events.jsonl``: the warnings and notes of the training, with their step; warnings the
    checkpoint recorded and the log also holds are shown once."""
    logged = []
    for record in read_log(view.path / EVENTS_LOG)[-2000:]:
        level, message = record.get("level"), record.get("message")
        if isinstance(level, str) and isinstance(message, str):
            logged.append((text(int(record["step"])), text(level)[:20], text(message)))
    seen = {message for _, _, message in logged}
    view.events = logged + [e for e in view.events if e[2] not in seen]


def _here(view: RunView) -> None:
    """The versions where the page is written: the training's own machine for the report a
    training writes, the reader's for ``gan-zoo report`` on a run from elsewhere."""
    found = versions()
    where = " (where this page was written)"
    rows = [("python" + where, found["python"]), ("platform" + where, found["platform"])]
    rows += [(name + where, v) for name, v in found["dependencies"].items() if v]
    view.environment += [(k, text(v)) for k, v in rows]


def _status(view: RunView) -> None:
    """Training now (the run's lock is held), finished, or stopped before its last step."""
    lock = view.path / LOCK_FILE
    try:
        regular = stat.S_ISREG(os.lstat(lock).st_mode)
    except OSError:
        regular = False
    training = regular and holder(view.path) is not None
    finished = view.step is not None and view.step == view.total_steps
    if finished:
        view.status = "finished"
    elif training:
        view.status = "training now (this report is refreshed at each checkpoint)"
    elif view.step is not None:
        view.status = f"stopped at step {view.step} of {view.total_steps or '?'}"
    else:
        view.status = "no checkpoint yet"
    if not finished and any(level == "stopped" for _, level, _ in view.events):
        view.status += "; a loss became NaN or Inf (see Events)"
