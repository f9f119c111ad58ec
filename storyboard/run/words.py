"""What a render says about a shot that did not end with a clip: each message names the one
way on that helps it (adopt or force, render again later, regenerate at its price), with the
command to type. Every text passes the redactor: services echo what they were sent."""

from __future__ import annotations

from dataclasses import dataclass

from storyboard.errors import ProviderError, StoryboardError, TaskNotFound
from storyboard.plan.compiler import Plan
from storyboard.run.jobs import Job
from storyboard.secrets import Redactor

SAVED = "the task is saved: render again later to collect it (no new charge)"


@dataclass(frozen=True)
class Words:
    plan: Plan
    redactor: Redactor

    @property
    def _option(self) -> str:
        name = self.plan.provider.name
        routed = self.plan.routed  # a film on several providers: its own routing, no -p
        return f" -p {name}" if name != self.plan.storyboard.provider and not routed else ""

    def _maker(self, shot: str) -> str:
        """The provider of the shot (by key), as planned."""
        try:
            return self.plan.shot(shot).maker.name
        except KeyError:
            return self.plan.provider.name

    def reason(self, exc: BaseException | None) -> str:
        """An error in a few words, redacted."""
        return self.redactor.redact(describe(exc)) if exc is not None else ""

    def uncertain(self, shot: str, cause: str, provider: str | None = None) -> str:
        """A request that went out and whose answer was lost: its two ways on. `provider`:
        where it went (a shot passed on: not where it was planned)."""
        path, option, name = self.plan.storyboard.path, self._option, provider or self._maker(shot)
        return (
            f"{cause}; {name} may have started (and charged for) it. Check its dashboard: "
            f"`storyboard adopt {path}{option} {shot} TASK_ID` fetches it at no new charge, "
            f"`storyboard render {path}{option} --force {shot}` pays for a new one"
        )

    def not_now(self, exc: ProviderError) -> str:
        """A request the service refused for now, in words: what it asked, and that nothing
        was charged."""
        asked = ""
        if exc.retry_after is not None:
            asked = f"{self.plan.provider.name} asks to be called again in {duration(exc.retry_after)}: "
        return f"{asked}{self.reason(exc)} (nothing was charged)"

    def damaged(self, job: Job, why: str) -> str:
        """A cached clip damaged since, that could not be fetched again: what it costs to make."""
        cost = job.sp.cost if job.sp else None
        price = cost.text() if cost and cost.known else "its price"
        path, option = self.plan.storyboard.path, self._option
        return (
            f"its cached clip is damaged and could not be fetched again ({why}): "
            f"`storyboard render {path}{option} --force {job.leader}` regenerates it ({price})"
        )

    def not_found(self, job: Job, task_id: str, exc: BaseException) -> str:
        """The service says it has no such task, for a task id it gave us."""
        said = (
            self.redactor.redact(exc.reason_for(task_id))
            if isinstance(exc, TaskNotFound)
            else self.reason(exc)
        )
        return (
            f"{self.plan.provider.name} says it has no task {task_id} ({said}); the task "
            f"id is kept. Check its dashboard: `storyboard adopt --force` attaches the right task "
            f"id, `storyboard render --force {job.leader}` pays for a new one"
        )


def describe(exc: BaseException) -> str:
    if isinstance(exc, ProviderError):
        return exc.reason
    if isinstance(exc, StoryboardError):
        return exc.message
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}" + (f": {exc.filename}" if exc.filename else "")
    return f"{type(exc).__name__}: {exc}"


def duration(seconds: float) -> str:
    if seconds >= 90 * 60:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"
