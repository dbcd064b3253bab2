"""Stopping a training cleanly: SIGINT / SIGTERM finish the step, checkpoint and return."""

from __future__ import annotations

import signal
import threading
from typing import Any


class StopRequest:
    """SIGINT / SIGTERM set a flag; the loop finishes its step, saves and returns.

    A second SIGINT restores Python's default handling, so it interrupts at once.
    """

    def __init__(self) -> None:
        self.signal: int | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.signal = signum
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def __exit__(self, *exc: Any) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)

    @property
    def requested(self) -> bool:
        return self.signal is not None
