"""Waiting between tries: the one backoff policy (exponential, full jitter, Retry-After
honoured) and the one polling pace, for every retry and poll the tool makes.

- `Backoff.delay(n)`: before retry n (0-based), a uniform wait in [0, min(cap, base * 2**n)]
  ("full jitter": clients that failed together do not come back together); a Retry-After the
  service sent wins, capped. A `Backoff` is also a tenacity wait strategy, so `tenacity`'s
  `Retrying` loops (provider requests, clip downloads) use exactly this policy.
- `Pace`: how long to wait between two polls of a service's tasks, and how much longer after
  polls that failed (the executor's loop asks it; see `Provider.pace`).

Whether a try may be made again at all (a paid submission only when the service provably did
not take it) is not decided here but by the caller (providers.http).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from storyboard import env

MAX_DELAY = 60.0  # no single wait is longer, whatever Retry-After says


@dataclass(frozen=True)
class Backoff:
    base: float = env.DEFAULT_RETRY_BASE  # seconds: the ceiling of the first wait
    cap: float = MAX_DELAY

    @classmethod
    def from_env(cls, base: float | None = None, cap: float = MAX_DELAY) -> Backoff:
        """The policy with STORYBOARD_RETRY_BASE (checked: a ConfigError names it) unless given."""
        return cls(env.retry_base() if base is None else base, cap)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(max(0.0, retry_after), self.cap)
        ceiling = min(self.cap, self.base * (2 ** max(0, attempt)))
        return random.uniform(0, ceiling)

    def __call__(self, retry_state: Any) -> float:
        """tenacity's wait protocol: the last failure's `retry_after` if it has one."""
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        return self.delay(retry_state.attempt_number - 1, getattr(error, "retry_after", None))


@dataclass(frozen=True)
class Pace:
    """Polling: `every` is the provider's own pace (a wait is uniform in [every/2, every], so
    renders do not poll in step); `requested` a user's interval (a wait in [requested,
    1.2 * requested]); never less than `floor`, the shortest gap a documented rate limit
    allows. After failed polls the wait doubles each time, up to `cap` (or the pace itself,
    if that is longer)."""

    every: float = 10.0
    floor: float = 0.0
    requested: float | None = None
    cap: float = MAX_DELAY

    def wait(self) -> float:
        if self.requested is not None:
            return max(self.floor, self.requested * random.uniform(1.0, 1.2))
        return max(self.floor, random.uniform(self.every / 2, self.every))

    def after_failures(self, failures: int) -> float:
        """The wait before the next poll when the last `failures` polls in a row failed."""
        grown = self.wait() * 2 ** max(0, failures)
        return max(self.floor, min(max(self.cap, self.every, self.requested or 0.0), grown))
