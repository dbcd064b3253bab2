"""One progress bar for long work outside training: sampling thousands of images, evaluating.

A rich bar with the rate and the time left, shown only when it helps: for at least
:data:`MIN_TOTAL` items and only on a terminal, so logs, pipes and tests get no bar and no
stray lines. The training loop has its own (a sink of its reporter); this is for everything else.
Importing this module does not import rich.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

#: Below this many items the work is over before a bar is worth drawing.
MIN_TOTAL = 1024


@contextmanager
def progress_bar(
    total: int,
    description: str,
    *,
    unit: str = "img",
    min_total: int = MIN_TOTAL,
    console: Any = None,
    stderr: bool = False,
) -> Iterator[Callable[[int], None]]:
    """``with progress_bar(n, "generate") as advance: ... advance(k)`` after each k items.

    Shows ``description``, the bar, ``done/total``, ``<rate> <unit>/s`` and the ETA on
    ``console`` (default: a new rich Console on stdout, or stderr with ``stderr=True`` so that
    a command's output stays clean) when that is a terminal and ``total >= min_total``;
    otherwise ``advance`` does nothing.
    """
    if total < min_total:
        yield _ignore
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    console = console or Console(stderr=stderr)
    if not console.is_terminal:
        yield _ignore
        return

    class Rate(ProgressColumn):
        def render(self, task: Any) -> Text:
            return Text(f"{task.speed:.0f} {unit}/s" if task.speed else f"- {unit}/s")

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), Rate())
    with Progress(*columns, TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task(description, total=total)
        yield lambda k: bar.advance(task, k)


def _ignore(k: int) -> None:
    """``advance`` when no bar is shown."""
