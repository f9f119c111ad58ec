"""The job table: one job per fingerprint to make, built from the plan's decisions.

Shots with identical requests share one job (and one clip). A job moves

    WAITING -> SENDING -> POLLING -> DOWNLOADING -> DONE
                  |          |            |
                  |          +-> STALLED (paid, out of contact or still running: kept)
                  +-> FAILED / UNCERTAIN / UNRECORDED

and only the loop thread changes a job; workers report back with results.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum

from storyboard.plan.compiler import ShotPlan
from storyboard.plan.decide import Action, Decision, Decisions
from storyboard.providers.base import Task
from storyboard.store.stand import Stand


class JobState(str, Enum):
    WAITING = "waiting"  # to be sent (or rendered) once its parents are made
    SENDING = "sending"  # handed to a submit (or render) worker
    POLLING = "polling"  # the service has it: polled until done
    DOWNLOADING = "downloading"
    DONE = "done"
    ENDED = "ended"  # without a clip: `outcome` says how

    @property
    def settled(self) -> bool:
        return self in (JobState.DONE, JobState.ENDED)


@dataclass(eq=False)
class Job:
    fp: str
    shot_ids: list[str]
    sp: ShotPlan | None  # None for an orphan: a task of an earlier version of a shot
    decision: Decision | None
    state: JobState = JobState.WAITING
    task: Task | None = None
    parents: list[str] = field(default_factory=list)  # shot ids whose clips it needs
    forced: bool = False
    resubmits_left: int = 1
    refreshes_left: int = 1  # a failed download asks for a fresh link this many times
    not_before: float = 0.0  # monotonic: not sent again before
    watch_from: float = 0.0  # time.time() from which this render's task deadline runs
    last_contact: float = 0.0  # time.time() of the last status the service gave
    failures: int = 0  # status requests failed in a row
    not_taken: int = 0  # submissions refused for now (rate limit, outage): nothing charged
    first_sent: float | None = None  # monotonic: when this request was first handed to be sent
    next_poll: float = 0.0  # monotonic
    outcome: Stand | None = None
    reason: str | None = None
    url: str | None = None  # the clip's link, once done
    last_progress: tuple[str, float | None] | None = None

    @property
    def leader(self) -> str:
        """The first shot's key: how events and messages name the job."""
        return self.shot_ids[0]

    @property
    def shot_id(self) -> str:
        """The storyboard shot's id, as the provider knows it (a take's key is `id@K`)."""
        return self.sp.id if self.sp is not None else self.shot_ids[0]

    @property
    def cut(self) -> bool:
        """Its clip is the one the cut uses (not another take kept beside)."""
        return self.sp is not None and self.sp.selected

    @property
    def orphan(self) -> bool:
        return self.sp is None

    def end(self, outcome: Stand, reason: str | None = None) -> None:
        self.state = JobState.DONE if outcome.has_clip else JobState.ENDED
        self.outcome = outcome
        self.reason = reason


class JobTable:
    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}  # by fingerprint
        self.by_shot: dict[str, Job] = {}

    @classmethod
    def from_decisions(cls, decisions: Decisions, resubmits: int) -> JobTable:
        table = cls()
        for d in decisions:
            if d.shares is not None:
                job = table.by_shot[d.shares]
                job.shot_ids.append(d.shot_id)
                table.by_shot[d.shot_id] = job
                continue
            job = Job(d.fingerprint, [d.shot_id], d.shot, d, resubmits_left=resubmits)
            job.forced = d.action is Action.REGENERATE and d.shot_id in decisions.forced
            table.jobs[d.fingerprint] = job
            table.by_shot[d.shot_id] = job
        return table

    def add_orphan(self, task: Task) -> Job | None:
        if task.fingerprint in self.jobs:
            return None
        job = Job(task.fingerprint, [task.shot_id], None, None, state=JobState.POLLING, task=task)
        self.jobs[task.fingerprint] = job
        return job

    def __iter__(self) -> Iterator[Job]:
        return iter(list(self.jobs.values()))

    def in_state(self, *states: JobState) -> list[Job]:
        return [j for j in self.jobs.values() if j.state in states]

    def settled(self) -> bool:
        return all(j.state.settled for j in self.jobs.values() if not j.orphan)
