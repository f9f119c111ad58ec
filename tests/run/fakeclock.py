"""A render's clock that moves only when the render waits: hours of deadlines, Retry-After and
backoff pass at once, and a test reads how much (fake) time a render took."""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path
from typing import TypeVar

from storyboard import providers
from storyboard.plan.compiler import Plan, compile_plan
from storyboard.run.clock import Clock
from storyboard.validate.checks import load_storyboard
from tests.servers import FakeProvider

T = TypeVar("T")
STUCK = 300.0  # real seconds a busy render may wait for a worker before the test calls it stuck


class FakeClock(Clock):
    def __init__(self) -> None:
        self.now = 1000.0  # monotonic, in fake seconds
        self.epoch = time.time() - self.now  # wall time = epoch + now
        self.sleeps: list[float] = []  # the client's waits (its `sleep`)
        self.lock = threading.Lock()

    def monotonic(self) -> float:
        with self.lock:
            return self.now

    def time(self) -> float:
        with self.lock:
            return self.epoch + self.now

    def sleep(self, seconds: float) -> None:
        """The client's `sleep`: time passes, nobody waits."""
        with self.lock:
            self.sleeps.append(seconds)
            self.now += max(0.0, seconds)

    def wait(self, results: queue.Queue[T], timeout: float, busy: bool) -> T | None:
        if busy:  # a worker is answering for real: time stands still until it does
            try:
                return results.get(timeout=STUCK)
            except queue.Empty:
                raise AssertionError(f"no worker answered within {STUCK:g} s") from None
        with self.lock:
            self.now += max(0.0, timeout)
        try:
            return results.get_nowait()
        except queue.Empty:
            return None


def clocked_plan(board: Path, srv: FakeProvider, clock: FakeClock) -> Plan:
    """The plan of `board` against `srv`, its client sleeping on `clock`."""
    sb = load_storyboard(board)
    provider = providers.get(srv.name)(
        base_url=srv.base_url,
        api_key=srv.api_key,
        options=sb.provider_options.get(srv.name),
        sleep=clock.sleep,
    )
    return compile_plan(sb, provider)
