"""When to ask a service about its tasks, and when to stop asking for now: the policy
(`Polling`) and the poller that follows it (`Poller`).

A status request that fails (an HTML 404 from a proxy, a 5xx, a dropped or timed-out
connection, a body that is not the provider's) says nothing about the job, and nor does a
status that says "done" without a usable link to the clip: it is asked again with growing,
jittered waits, and neither counts as an answer. A task the service has not answered for
`contact_timeout`, or that is still running after `task_timeout`, is *stalled*: its task id
stays in the journal and the next render polls it again. It is never failed, and never
submitted again, for that. Only the service saying the job failed fails it.

    STORYBOARD_POLL_INTERVAL     seconds between polls (default: the provider's own pace)
    STORYBOARD_CONTACT_TIMEOUT   seconds without a status answer before a task is left
                                 stalled (default 900)
    STORYBOARD_TASK_TIMEOUT      seconds a render waits for one task (default 1800)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from storyboard import env
from storyboard.errors import AuthError, TaskNotFound
from storyboard.providers.base import Provider, TaskState, TaskStatus
from storyboard.providers.replies import link
from storyboard.retry import Pace
from storyboard.run.clock import Clock
from storyboard.run.events import ContactLost, Event, Progress
from storyboard.run.jobs import Job, JobState, JobTable
from storyboard.run.words import SAVED, Words, duration

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


class Outcomes(Protocol):
    """What the poller tells the render about a job; the render decides what follows."""

    def finished(self, job: Job, url: str) -> None:
        """The service has the clip: download it."""

    def failed(self, job: Job, reason: str) -> None:
        """The service says the job failed (its own word, refunded)."""

    def stalled(self, job: Job, reason: str) -> None:
        """No word this render (out of contact, still running, unknown to it): kept saved."""

    def key_refused(self, error: AuthError) -> None:
        """The key was refused while polling: no request can succeed now."""


class Poller:
    """Asks the service about every task in flight, as one request where it can, and turns
    what it hears (or does not) into outcomes. Only the loop thread calls it."""

    def __init__(
        self,
        provider: Provider,
        table: JobTable,
        policy: Polling,
        outcomes: Outcomes,
        words: Words,
        tell: Callable[[Event], None],
        clock: Clock | None = None,
        providers: Iterable[Provider] = (),
    ) -> None:
        self.clock = clock or Clock()
        self.provider = provider
        self.providers = {p.name: p for p in (provider, *providers)}  # by name: a film's several
        self.table = table
        self.policy = policy
        self.outcomes = outcomes
        self.words = words
        self.tell = tell
        self.next_poll: float | None = None  # monotonic; None: nothing to ask about

    def soon(self, at_once: bool = False) -> None:
        """New tasks to ask about: within one interval (or now)."""
        when = self.clock.monotonic() + (0.0 if at_once else self.policy.interval())
        if self.next_poll is None or self.next_poll > when:
            self.next_poll = when

    def wait(self) -> float | None:
        """Seconds to the next poll, if one is due at all."""
        if self.next_poll is None or not self.table.in_state(JobState.POLLING):
            return None
        return self.next_poll - self.clock.monotonic()

    def poll_if_due(self) -> None:
        if self.next_poll is not None and self.clock.monotonic() >= self.next_poll:
            self.poll()

    def poll(self) -> None:
        due = [j for j in self.table.in_state(JobState.POLLING) if j.task is not None]
        if not due:
            self.next_poll = None
            return
        groups: dict[str, list[Job]] = {}  # each service is asked about its own tasks
        for job in due:
            groups.setdefault(self.of(job).name, []).append(job)
        for name, group in groups.items():
            self._poll(self.providers.get(name, self.provider), group)
        self.reschedule(due)

    def of(self, job: Job) -> Provider:
        """The provider that has the job's task (a film's shots may go to several)."""
        name = job.sp.maker.name if job.sp is not None else job.task.provider if job.task else ""
        return self.providers.get(name, self.provider)

    def _poll(self, provider: Provider, due: list[Job]) -> None:
        try:
            with self.bounded(due):
                statuses = provider.poll([j.task for j in due if j.task is not None])
        except AuthError as e:
            self.key_refused(due, e)
            return
        except TaskNotFound as e:  # its own word on some tasks; the others' statuses came with it
            unknown = set(e.task_ids)
            for job in due:
                if job.task is not None and job.task.task_id in unknown:
                    self.not_found(job, e)
            self.heard([j for j in due if j.state is JobState.POLLING], e.found)
            return
        except Exception as e:  # a status request failed: it says nothing about the jobs
            if len(due) > 1:
                self.poll_each(
                    provider, due
                )  # one task the service will not answer for must not stall the rest
            else:
                self.failed_to_ask(due[0], e)
            return
        self.heard(due, statuses)

    def poll_each(self, provider: Provider, due: list[Job]) -> None:
        for job in due:
            assert job.task is not None
            try:
                with self.bounded([job]):
                    statuses = provider.poll([job.task])
            except AuthError as e:
                self.key_refused([j for j in due if j.state is JobState.POLLING], e)
                return
            except Exception as e:
                self.failed_to_ask(job, e)
                continue
            self.heard([job], statuses)

    def bounded(self, jobs: list[Job]) -> contextlib.AbstractContextManager[None]:
        """The poll's own deadline: the first moment one of its tasks is left stalled (out of
        contact, or overdue). The client's retries of the status request end there, on the
        render's clock, instead of holding the loop past it."""
        http = self.of(jobs[0]).http if jobs else self.provider.http  # the jobs' own service
        if http is None:
            return contextlib.nullcontext()
        p = self.policy
        ends = min(min(j.last_contact + p.contact_timeout, j.watch_from + p.task_timeout) for j in jobs)
        left = max(0.0, ends - self.clock.time())
        return http.until(self.clock.monotonic() + left, self.clock.monotonic)

    def heard(self, due: list[Job], statuses: Mapping[str, TaskStatus]) -> None:
        now = self.clock.time()
        for job in due:
            assert job.task is not None
            status = statuses.get(job.task.task_id)
            if status is None:
                continue
            url = link(status.url, self.of(job).clip_schemes)
            if status.state is TaskState.DONE and url is None:
                # "done" without a link to fetch says nothing usable: not an answer, and never
                # a failure (the job is paid for: failing it would pay for it again)
                self.unanswered(job, f"{self.of(job).name} says it is done but gives no link to the clip")
                continue
            job.last_contact = now
            job.failures = 0
            self.on_status(job, status, url)

    def on_status(self, job: Job, status: TaskStatus, url: str | None) -> None:
        state = status.state
        if state is TaskState.DONE and url is not None:
            self.outcomes.finished(job, url)
        elif state is TaskState.FAILED:  # the service's own word: the only failure of a job
            self.outcomes.failed(job, status.reason or "the service gave no reason")
        else:
            seen = (state.value, status.progress)
            if seen != job.last_progress and not job.orphan:
                job.last_progress = seen
                for sid in job.shot_ids:
                    self.tell(Progress(sid, state.value, status.progress, status.eta_seconds))

    def reschedule(self, due: list[Job]) -> None:
        self.expire(due)
        failing = [j.failures for j in self.table.in_state(JobState.POLLING) if j.failures]
        wait = self.policy.after_failure(max(failing)) if failing else self.policy.interval()
        self.next_poll = self.clock.monotonic() + wait

    def key_refused(self, due: list[Job], e: AuthError) -> None:
        """The key was refused: the tasks stay saved for a render with a working key."""
        self.outcomes.key_refused(e)
        for job in due:
            self.outcomes.stalled(job, f"could not check on it: {self.words.reason(e)}; {SAVED}")

    def failed_to_ask(self, job: Job, e: BaseException) -> None:
        """The service could not tell us about this task: ask again later, with growing waits.
        Only its own word that the job failed fails it; silence past the deadline stalls it."""
        if isinstance(e, TaskNotFound):
            self.not_found(job, e)
            return
        self.unanswered(job, f"checking progress failed: {self.words.reason(e)}")

    def unanswered(self, job: Job, reason: str) -> None:
        """No usable answer about this task this time (`reason` says what came instead): asked
        again with growing waits until the contact deadline, then stalled, its task id kept."""
        job.failures += 1
        now = self.clock.time()
        if self.policy.out_of_contact(now - job.last_contact):
            silent = duration(now - job.last_contact)
            self.outcomes.stalled(
                job, f"no answer from {self.of(job).name} about it for {silent} (last: {reason}); {SAVED}"
            )
        elif job.failures in (1, 3) or job.failures % 10 == 0:  # said now and then, not at every try
            wait = self.policy.after_failure(job.failures)
            self.tell(ContactLost(job.leader, reason, wait))

    def not_found(self, job: Job, e: TaskNotFound) -> None:
        """The service says it has no such task, for a task id it gave us: resubmitting could
        pay twice, so the shot is left for the user to look into."""
        assert job.task is not None
        self.outcomes.stalled(job, self.words.not_found(job, job.task.task_id, e))

    def expire(self, due: list[Job]) -> None:
        """Tasks still running after the deadline are left to a later render, still saved."""
        now = self.clock.time()
        for job in due:
            if job.state is JobState.POLLING and self.policy.overdue(now - job.watch_from):
                assert job.task is not None
                age = duration(now - job.task.submitted_at)
                self.outcomes.stalled(job, f"still running at {self.of(job).name} after {age}; {SAVED}")
