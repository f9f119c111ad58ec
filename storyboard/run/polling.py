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

from dataclasses import dataclass

from storyboard import env
from storyboard.providers.base import Provider
from storyboard.retry import Pace

CONTACT_TIMEOUT = "STORYBOARD_CONTACT_TIMEOUT"
DEFAULT_CONTACT_TIMEOUT = 15 * 60.0


@dataclass(frozen=True)
class Polling:
    pace: Pace  # the provider's own (storyboard.retry): its rate limit is its floor
    contact_timeout: float
    task_timeout: float

    @classmethod
    def read(cls, provider: Provider, poll_interval: float | None) -> Polling:
        """From the options and the environment; a bad variable fails before anything starts."""
        env.retry_base()  # checked now: the providers read it once they send
        contact = env.seconds(CONTACT_TIMEOUT)
        return cls(
            provider.pace(poll_interval),
            DEFAULT_CONTACT_TIMEOUT if contact is None else contact,
            env.task_timeout(),
        )

    def interval(self) -> float:
        """The wait before the next poll, jittered so renders do not poll in step."""
        return self.pace.wait()

    def after_failure(self, failures: int) -> float:
        """The wait after `failures` status requests in a row failed: doubling, jittered."""
        return self.pace.after_failures(failures)

    def out_of_contact(self, since_contact: float) -> bool:
        return since_contact >= self.contact_timeout

    def overdue(self, running_for: float) -> bool:
        return running_for >= self.task_timeout
