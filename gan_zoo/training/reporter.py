"""The reporter: the loop reports named statistics, sinks decide what to do with them.

As in stylegan2-ada-pytorch's ``torch_utils/training_stats``, the training loop never prints.
It reports ``loss/d``, ``loss/g``, ``d/real``, ``d/fake``, ``d/real_acc``, ``d/fake_acc``,
``lr``, ``lr/d`` and ``img/s`` every ``log_every`` steps, advances a step counter every step,
and sends warnings and notes. Sinks read from it:

* :class:`RichProgress`: a rich progress bar (epoch, step, losses, img/s, ETA) on a terminal;
* :class:`PlainLines`: one plain line per logged step when stdout is not a terminal (CI logs);
* :class:`JSONLines`: ``metrics.jsonl``, one JSON object per logged step;
* the experiment trackers of :mod:`gan_zoo.training.trackers` (TensorBoard, Weights & Biases,
  MLflow; optional dependencies), added by the loop.
* :class:`EventLog`: ``events.jsonl``, the warnings and notes with the step they came at.

Only rank 0 of a distributed job gets sinks; the other ranks report into the void.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..checkpoint.layout import EVENTS_LOG, METRICS_LOG
from ..formatting import duration
from ..safe_io import atomic_write_text, make_dirs, open_append, read_capped, write_error

#: Statistics shown on the progress bar and in plain lines, in this order.
SHOWN = ("loss/d", "loss/g", "d/real", "d/fake", "d/real_acc", "d/fake_acc")


@dataclass
class Progress:
    """Where the run is and where it ends."""

    total_steps: int
    steps_per_epoch: int
    start_step: int = 0

    def epoch_of(self, step: int) -> int:
        """1-based epoch that contains ``step`` (the last step of an epoch belongs to it)."""
        return max(1, -(-step // self.steps_per_epoch))

    @property
    def epochs(self) -> int:
        return -(-self.total_steps // self.steps_per_epoch)


class Sink:
    """Base sink: every method is optional."""

    def start(self, progress: Progress, title: str) -> None: ...

    def step(self, step: int) -> None: ...

    def stats(self, record: dict[str, Any]) -> None: ...

    def image(self, tag: str, grid: Any, step: int) -> None: ...

    def message(self, level: str, text: str) -> None: ...

    def close(self) -> None: ...


class Reporter:
    """Fans statistics, step counts, images and messages out to its sinks."""

    def __init__(self, sinks: list[Sink] | tuple[Sink, ...] = ()):
        self.sinks = list(sinks)
        self.history: list[dict[str, Any]] = []
        self.warnings: list[str] = []

    def start(self, progress: Progress, title: str) -> None:
        for sink in self.sinks:
            sink.start(progress, title)

    def step(self, step: int) -> None:
        for sink in self.sinks:
            sink.step(step)

    def report(self, step: int, epoch: int, stats: dict[str, float]) -> dict[str, Any]:
        record = {"step": step, "epoch": epoch, **stats, "time": round(time.time(), 3)}
        self.history.append(record)
        for sink in self.sinks:
            sink.stats(record)
        return record

    def image(self, tag: str, grid: Any, step: int) -> None:
        for sink in self.sinks:
            sink.image(tag, grid, step)

    def info(self, text: str) -> None:
        for sink in self.sinks:
            sink.message("info", text)

    def warn(self, text: str) -> None:
        self.warnings.append(text)
        for sink in self.sinks:
            sink.message("warning", text)

    def stopped(self, text: str) -> None:
        """Why the training stops early (a loss became NaN): kept by the sinks that keep a
        record (``events.jsonl``); the command line prints the error itself."""
        for sink in self.sinks:
            if isinstance(sink, EventLog):
                sink.message("stopped", text)

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()


def _format(record: dict[str, Any]) -> str:
    parts = [f"{k} {record[k]:.3f}" for k in SHOWN if k in record]
    if "img/s" in record:
        parts.append(f"{record['img/s']:,.0f} img/s")
    return "  ".join(parts)


class RichProgress(Sink):
    """A rich progress bar: epoch, step, the last logged losses, img/s and ETA."""

    def __init__(self, console: Any = None):
        from rich.console import Console

        self.console = console or Console()
        self._bar: Any = None
        self._task: Any = None
        self._progress: Progress | None = None

    def start(self, progress: Progress, title: str) -> None:
        from rich import progress as rp

        self._progress = progress
        self._bar = rp.Progress(
            rp.TextColumn("[bold blue]{task.description}", table_column=rp.Column(no_wrap=True)),
            rp.BarColumn(bar_width=16),
            rp.MofNCompleteColumn(),
            rp.TextColumn("{task.fields[stats]}", table_column=rp.Column(no_wrap=True)),
            rp.TextColumn("eta"),
            rp.TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self._bar.start()
        self.console.print(title)
        self._task = self._bar.add_task(
            self._epoch_text(progress.start_step + 1),
            total=progress.total_steps,
            completed=progress.start_step,
            stats="",
        )

    def _epoch_text(self, step: int) -> str:
        p = self._progress
        assert p is not None
        return f"epoch {min(p.epoch_of(step), p.epochs)}/{p.epochs}"

    def step(self, step: int) -> None:
        self._bar.update(self._task, completed=step, description=self._epoch_text(step))

    def stats(self, record: dict[str, Any]) -> None:
        if "loss/d" not in record:  # an evaluation: shown as a message
            return
        # Compact, to fit an 80-column terminal: losses, D's accuracies, rate.
        text = "loss d {:.3f} g {:.3f}  acc {:.2f}/{:.2f}  {:,.0f} img/s".format(
            record.get("loss/d", float("nan")),
            record.get("loss/g", float("nan")),
            record.get("d/real_acc", float("nan")),
            record.get("d/fake_acc", float("nan")),
            record.get("img/s", 0.0),
        )
        self._bar.update(self._task, stats=text)

    def message(self, level: str, text: str) -> None:
        style = "yellow" if level == "warning" else "dim"
        prefix = "Warning: " if level == "warning" else ""
        self.console.print(f"[{style}]{prefix}{text}[/{style}]", highlight=False)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


class PlainLines(Sink):
    """One line per logged step, for logs that are not a terminal."""

    def __init__(self, stream: IO[str] | None = None):
        self.stream = stream
        self._progress: Progress | None = None
        self._t0 = time.perf_counter()

    def _write(self, line: str) -> None:
        stream = self.stream or sys.stdout
        stream.write(line + "\n")
        stream.flush()

    def start(self, progress: Progress, title: str) -> None:
        self._progress = progress
        self._t0 = time.perf_counter()
        self._write(title)

    def stats(self, record: dict[str, Any]) -> None:
        if "loss/d" not in record:  # an evaluation: shown as a message
            return
        p = self._progress
        assert p is not None
        step = record["step"]
        done = step - p.start_step
        elapsed = time.perf_counter() - self._t0
        eta = elapsed / done * (p.total_steps - step) if done > 0 else 0.0
        self._write(
            f"epoch {record['epoch']}/{p.epochs}  step {step}/{p.total_steps}  "
            f"{_format(record)}  lr {record.get('lr', 0):.2e}  eta {duration(eta)}"
        )

    def message(self, level: str, text: str) -> None:
        self._write(("Warning: " if level == "warning" else "") + text)


class WarningsOnly(Sink):
    """``--quiet``: no progress, but warnings still go to stderr."""

    def message(self, level: str, text: str) -> None:
        if level == "warning":
            sys.stderr.write(f"Warning: {text}\n")
            sys.stderr.flush()


class JSONLines(Sink):
    """``metrics.jsonl``: appends one JSON object per logged step, written at once. The file is
    opened without following a link (:func:`gan_zoo.safe_io.open_append`); a write that fails
    (a full disk) is a one-line WriteError, and the checkpoints already saved stay intact."""

    def __init__(self, path: Path):
        self.path = Path(path)
        make_dirs(self.path.parent)
        self._fd: int | None = open_append(self.path)

    def stats(self, record: dict[str, Any]) -> None:
        data = (json.dumps(record) + "\n").encode("utf-8")
        try:
            while data:
                data = data[os.write(self._fd, data) :]
        except OSError as exc:
            raise write_error(self.path, exc) from None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class EventLog(JSONLines):
    """``events.jsonl``: one ``{"step", "level", "message", "time"}`` object per warning or note
    (a NaN stop, a resume, an evaluation), so ``gan-zoo report`` can show what a run raised."""

    def __init__(self, path: Path):
        super().__init__(path)
        self._step = 0

    def start(self, progress: Progress, title: str) -> None:
        self._step = progress.start_step

    def step(self, step: int) -> None:
        self._step = step

    def stats(self, record: dict[str, Any]) -> None:
        self._step = record.get("step", self._step)

    def message(self, level: str, text: str) -> None:
        event = {"step": self._step, "level": level, "message": text}
        super().stats({**event, "time": round(time.time(), 3)})


#: The largest ``metrics.jsonl`` a resume reads back (a line per logged step is ~200 bytes).
METRICS_CAP = 512 * 2**20


def truncate_jsonl(path: Path, after_step: int) -> None:
    """Drop records logged after ``after_step`` (a resumed run logs those steps again). The
    file is read as untrusted input (a regular file inside the run, capped) and replaced
    atomically, so a link in its place is replaced, never written through."""
    path = Path(path)
    if not os.path.lexists(path):
        return
    kept = []
    for line in (
        read_capped(path, METRICS_CAP, "metrics log").decode("utf-8", "replace").splitlines()
    ):
        try:
            record = json.loads(line)
            step = record.get("step", 0) if isinstance(record, dict) else None
            if isinstance(step, (int, float)) and step <= after_step:
                kept.append(line)
        except (ValueError, RecursionError):
            continue  # a line cut short by a crash
    atomic_write_text(path, "".join(k + "\n" for k in kept), run=True)


def make_reporter(mode: str, *, run_dir: Path | None, enabled: bool = True) -> Reporter:
    """Sinks for ``mode``: ``auto`` (rich on a terminal, else plain), ``rich``, ``plain``,
    ``quiet``."""
    if not enabled:
        return Reporter()
    sinks: list[Sink] = []
    if mode == "auto":
        mode = "rich" if sys.stdout.isatty() else "plain"
    if mode == "rich":
        sinks.append(RichProgress())
    elif mode == "plain":
        sinks.append(PlainLines())
    elif mode == "quiet":
        sinks.append(WarningsOnly())
    else:
        raise ValueError(f"unknown progress mode {mode!r}")
    if run_dir is not None:
        sinks.append(JSONLines(run_dir / METRICS_LOG))
        sinks.append(EventLog(run_dir / EVENTS_LOG))
    return Reporter(sinks)
