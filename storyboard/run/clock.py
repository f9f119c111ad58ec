"""Time as a render sees it: the executor, its poller and its workers read the time, and the
loop waits for its workers, only through a `Clock`. The real one is the system's; a test
hands `generate` one of its own, so hours of deadlines, Retry-After and backoff run in fake
time, never waited for for real."""

from __future__ import annotations

import queue
import time
from typing import TypeVar

T = TypeVar("T")


class Clock:
    def monotonic(self) -> float:
        """For waits and deadlines within this render."""
        return time.monotonic()

    def time(self) -> float:
        """Wall time: what is saved (a task's submission) and compared across renders."""
        return time.time()

    def wait(self, results: queue.Queue[T], timeout: float, busy: bool) -> T | None:
        """The next of `results`, or None once `timeout` seconds passed without one. `busy`:
        work is in flight, so a result may come (a fake clock waits for it instead of moving)."""
        try:
            return results.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
