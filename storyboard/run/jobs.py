"""The job table: one job per fingerprint to make, built from the plan's decisions, and the
table of transitions every job moves by (TRANSITIONS): the executor changes a job's state only
through `Job.move` (and `Job.end`), so what may follow what, and how often a paid or free
move may be made again, reads in one place:

    WAITING --send--> SENDING --taken--> POLLING --fetch--> DOWNLOADING --> DONE (made)
       |  ^              |  |               |  ^                |
       |  +--resend------+  |               |  +----refresh-----+   (a fresh link; free)
       |  +--resubmit-------+---------------+  (the job failed; only where it is refunded)
       +--resume--> POLLING  (paid already)     +--fetch (a known link) from WAITING
    any unsettled state --end--> DONE / ENDED (an outcome: made, cached, failed, stalled...)

Shots with identical requests share one job (and one clip). Only the loop thread changes a
job; workers report back with results.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum

from storyboard.errors import TransitionError
from storyboard.plan.compiler import ShotPlan
from storyboard.plan.decide import Action, Decision, Decisions
from storyboard.providers.base import Task
from storyboard.store.stand import Move, Stand


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


NOT_TAKEN_RETRIES = 4  # a request refused for now (rate limit, outage) is sent again this often


@dataclass(frozen=True)
class Rule:
    to: JobState
    budget: str | None = None  # the Job's counter the move spends: refused once it is 0


W, S, P, D, E = JobState.WAITING, JobState.SENDING, JobState.POLLING, JobState.DOWNLOADING, JobState.ENDED
TRANSITIONS: dict[tuple[JobState, Move], Rule] = {
    (W, Move.SEND): Rule(S),
    (W, Move.RESUME): Rule(P),
    (W, Move.FETCH): Rule(D),  # a clip paid for, missing or damaged: its known link (free)
    (W, Move.PASS_ON): Rule(W),  # its provider refused another shot's key or credits
    (S, Move.PASS_ON): Rule(W),  # refused before taken: the next listed provider, nothing paid
    (S, Move.TAKEN): Rule(P),
    (S, Move.SKIPPED): Rule(W),  # launch() ends it with the reason
    (S, Move.RESEND): Rule(W, "resends_left"),  # not taken: nothing charged
    (S, Move.RESUBMIT): Rule(W, "resubmits_left"),  # the service failed it at once
    (P, Move.RESUBMIT): Rule(W, "resubmits_left"),
    (P, Move.FETCH): Rule(D),
    (D, Move.REFRESH): Rule(P, "refreshes_left"),
    (D, Move.DROP): Rule(E),
}


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
    resubmits_left: int = 1  # 0 where the service does not refund failed jobs (Decisions.refunded)
    refreshes_left: int = 1  # a failed download asks for a fresh link this many times
    resends_left: int = NOT_TAKEN_RETRIES  # a request not taken for now is sent again this often
    not_before: float = 0.0  # monotonic: not sent again before
    watch_from: float = 0.0  # time.time() from which this render's task deadline runs
    last_contact: float = 0.0  # time.time() of the last status the service gave
    failures: int = 0  # status requests failed in a row
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

    @property
    def not_taken(self) -> int:
        """Submissions refused for now (rate limit, outage) so far: nothing charged."""
        return NOT_TAKEN_RETRIES - self.resends_left

    def can(self, move: Move) -> bool:
        rule = TRANSITIONS.get((self.state, move))
        return rule is not None and (rule.budget is None or getattr(self, rule.budget) > 0)

    def move(self, move: Move) -> None:
        """Make `move` as the table says: its state, and the budget it spends."""
        if not self.can(move):
            raise TransitionError(f"job {self.leader!r}: no move {move.value!r} from {self.state.value!r}")
        rule = TRANSITIONS[(self.state, move)]
        if rule.budget is not None:
            setattr(self, rule.budget, getattr(self, rule.budget) - 1)
        self.state = rule.to

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
