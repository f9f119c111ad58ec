"""When to ask a service about its tasks, and when to stop asking for now.

A status request that fails (an HTML 404 from a proxy, a 5xx, a dropped or timed-out
connection, a body that is not the provider's) says nothing about the job: it is asked again
with growing, jittered waits. A task the service has not answered for `contact_timeout`, or
that is still running after `task_timeout`, is *stalled*: its task id stays in the journal and
the next render polls it again. It is never failed, and never submitted again, for that.
Only the service saying the job failed fails it.

    STORYBOARD_POLL_INTERVAL     seconds between polls (default: the provider's own pace)
    STORYBOARD_CONTACT_TIMEOUT   seconds without a status answer before a task is left
                                 stalled (default 900)
    STORYBOARD_TASK_TIMEOUT      seconds a render waits for one task (default 1800)
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from storyboard import env
from storyboard.providers.base import Provider

CONTACT_TIMEOUT = "STORYBOARD_CONTACT_TIMEOUT"
DEFAULT_CONTACT_TIMEOUT = 15 * 60.0
MAX_WAIT = 60.0  # no wait between status requests is longer


def effective_poll_interval(provider: Provider, requested: float | None = None) -> float | None:
    """Seconds between polls: `requested`, else STORYBOARD_POLL_INTERVAL, else None (the
    provider's own pace); never below what a documented rate limit allows, except against a
    service on this machine (tests)."""
    interval = env.poll_interval() if requested is None else requested
    floor = float(provider.min_poll_interval or 0.0)
    if interval is not None and floor and not env.is_loopback(str(provider.base_url)):
        interval = max(interval, floor)  # polling faster would be refused, and cost a request
    return interval


@dataclass(frozen=True)
class Polling:
    interval_override: float | None  # None: the provider's pace
    pace: float  # the provider's own seconds between polls
    contact_timeout: float
    task_timeout: float

    @classmethod
    def read(cls, provider: Provider, poll_interval: float | None) -> Polling:
        """From the options and the environment; a bad variable fails before anything starts."""
        env.retry_base()  # checked now: the providers read it once they send
        contact = env.seconds(CONTACT_TIMEOUT)
        return cls(
            effective_poll_interval(provider, poll_interval),
            float(provider.poll_interval or 10.0),
            DEFAULT_CONTACT_TIMEOUT if contact is None else contact,
            env.task_timeout(),
        )

    def interval(self) -> float:
        """The wait before the next poll, jittered so runs do not align."""
        if self.interval_override is not None:
            return self.interval_override * random.uniform(1.0, 1.2)
        return random.uniform(self.pace / 2, self.pace)  # 5-10 s at a 10 s pace

    def after_failure(self, failures: int) -> float:
        """The wait after `failures` status requests in a row failed: doubling, jittered."""
        base = self.interval_override if self.interval_override is not None else self.pace / 2
        ceiling = min(MAX_WAIT, base * 2 ** min(failures, 16))
        return random.uniform(ceiling / 2, ceiling)

    def out_of_contact(self, since_contact: float) -> bool:
        return since_contact >= self.contact_timeout

    def overdue(self, running_for: float) -> bool:
        return running_for >= self.task_timeout
