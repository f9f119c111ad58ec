"""Waiting between tries: the one backoff policy (exponential, full jitter, Retry-After
honoured) and the one polling pace, for every retry and poll the tool makes.

- `Backoff.delay(n)`: before retry n (0-based), a uniform wait in [0, min(cap, base * 2**n)]
  ("full jitter": clients that failed together do not come back together); a Retry-After the
  service sent wins, capped. A `Backoff` is also a tenacity wait strategy, so `tenacity`'s
  `Retrying` loops (provider requests, clip downloads) use exactly this policy. A Retry-After
  beyond the cap is not waited for at all (`waits_for`): calling sooner than the service
  asked only earns another refusal, so the caller hears the refusal at once.
- `within(total)`: a tenacity stop that keeps a request's waits together under `total` (a
  submission's retries by the client wait at most `SUBMIT_WAIT` in all).
- `Patience`: how long, in all, a render keeps sending again a request the service refused
  for now (a rate limit, its own 5xx) before the shot is left unsent: `PATIENCE` from its
  first try, the client's own retries included.
- `Pace`: how long to wait between two polls of a service's tasks, and how much longer after
  polls that failed (the executor's loop asks it; see `Provider.pace`).

Whether a try may be made again at all (a paid submission only when the service provably did
not take it) is not decided here but by the caller (providers.http).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storyboard import env

MAX_DELAY = 60.0  # no single wait is longer, whatever Retry-After says
SUBMIT_WAIT = MAX_DELAY  # the client's retries of one submission wait this long at most, together
PATIENCE = 150.0  # a request refused for now is left unsent this long after its first try, at most


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

    def waits_for(self, retry_after: float | None) -> bool:
        """Whether a retry is worth its wait: not when the service asks for more than the cap."""
        return retry_after is None or retry_after <= self.cap

    def __call__(self, retry_state: Any) -> float:
        """tenacity's wait protocol: the last failure's `retry_after` if it has one."""
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        return self.delay(retry_state.attempt_number - 1, getattr(error, "retry_after", None))


def within(total: float) -> Callable[[Any], bool]:
    """A tenacity stop: no retry whose wait would take the waits together past `total`."""

    def out_of_time(state: Any) -> bool:
        return bool(state.idle_for + (state.upcoming_sleep or 0.0) > total)

    return out_of_time


@dataclass(frozen=True)
class Patience:
    """A request the service refused for now is sent again after a wait: the one it asks for
    (Retry-After), else `backoff`; each wait at most `cap`, and the last try over (its own
    retries by the client, `client` seconds at most, included) within `total` seconds of the
    first. A service that asks to be called again after that is not."""

    total: float = PATIENCE
    cap: float = MAX_DELAY
    client: float = SUBMIT_WAIT

    def wait(self, spent: float, asked: float | None, backoff: float) -> float | None:
        """The wait before sending again, `spent` seconds after the first try; None: give up."""
        left = self.total - spent - self.client
        want = max(0.0, backoff if asked is None else asked)
        if left <= 0 or (asked is not None and want > left):
            return None
        return min(want, self.cap, left)

    def too_long(self, asked: float | None) -> bool:
        """The service asks to be called again later than any render waits."""
        return asked is not None and asked > self.total


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
