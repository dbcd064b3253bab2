"""The HTML report of a run (``gan-zoo report RUN``): one self-contained file to look at.

Example::

    from gan_zoo.report import write_report

    write_report(["runs/dcgan-fashion-mnist-20250101-120000"])   # RUN/report.html
    write_report(["runs/a", "runs/b"], "compare.html")           # two runs side by side

The page holds the run's summary and metrics under their protocol, the sample grid of every
saved step on a slider (class names under conditional grids), curves of the losses, of D's
accuracy on real and fake, of the learning rates, of img/s and of each evaluated metric (inline
SVG), the config as a table, the hardware and versions, and the warnings the run raised (NaN
stops, resumes). A training writes ``RUN/report.html`` at each checkpoint and at its end.

A run is read as untrusted input (:mod:`gan_zoo.report.gather`) and every value is escaped
where it is placed (:mod:`gan_zoo.report.page`). Importing this package does not import torch.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..checkpoint.layout import REPORT_FILE
from ..errors import ConfigError
from ..safe_io import atomic_write_bytes
from .gather import RunView, read_run
from .page import render

__all__ = ["RunView", "read_run", "render", "render_report", "write_report"]


def render_report(runs: list[str | os.PathLike]) -> str:
    """The HTML text of the report of ``runs`` (one run directory, or several compared side by
    side); a path that is not a run is a one-line :class:`~gan_zoo.errors.CheckpointError`."""
    if not runs:
        raise ConfigError("give at least one run directory to report on")
    return render([read_run(run) for run in runs])


def write_report(
    runs: list[str | os.PathLike], out: str | os.PathLike | None = None, *, run: bool = False
) -> Path:
    """Write the report of ``runs`` to ``out`` (default: ``RUN/report.html`` for one run,
    ``report.html`` for several) and return its path. The file is replaced atomically and never
    written through a link; ``run=True`` (the training's own write) also refuses an ``out``
    whose folder leads out of its run."""
    text = render_report(runs)
    if out is None:
        out = Path(runs[0]) / REPORT_FILE if len(runs) == 1 else Path(REPORT_FILE)
    # A run folder whose name is not UTF-8 reaches the page as surrogate escapes: shown as
    # \udcff-style text rather than refused (the page is for reading, not for parsing paths).
    return atomic_write_bytes(out, text.encode("utf-8", "backslashreplace"), run=run)
