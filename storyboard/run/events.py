"""What a render tells as it goes (events) and how each shot ended (outcomes): typed values.

The executor reports events to a `Reporter` (the CLI draws them); nothing in run/ prints.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from storyboard.errors import StoryboardError
from storyboard.secrets import Redactor
from storyboard.store.stand import Move, Stand


@dataclass(frozen=True)
class Event:
    shot_id: str  # "" for an event about the whole render


@dataclass(frozen=True)
class Rendering(Event):
    """A local provider renders the shot on this machine."""


@dataclass(frozen=True)
class Uploading(Event):
    file: str


@dataclass(frozen=True)
class Sending(Event):
    """The intent is on disk; the paid request goes out now."""


@dataclass(frozen=True)
class Submitted(Event):
    task_id: str


@dataclass(frozen=True)
class Resumed(Event):
    task_id: str
    age_seconds: float


@dataclass(frozen=True)
class Orphan(Event):
    """A task of an earlier version of the shot, still running: its clip is kept if it ends."""

    task_id: str


@dataclass(frozen=True)
class Progress(Event):
    state: str  # the provider's word: pending, running
    percent: float | None = None
    eta_seconds: float | None = None


@dataclass(frozen=True)
class Downloading(Event):
    url: str  # without its query (signed links carry tokens)


@dataclass(frozen=True)
class Retry(Event):
    """A move that sends or asks again (RESEND, RESUBMIT, REFRESH), with why."""

    reason: str
    move: Move = Move.RESEND
    wait: float | None = None

    @property
    def resubmit(self) -> bool:
        """The job failed and is submitted again (the service refunds it)."""
        return self.move is Move.RESUBMIT


@dataclass(frozen=True)
class PassedOn(Event):
    """A provider refused the shot before taking it: it goes to the next listed that can."""

    source: str  # the provider that refused it
    target: str  # the one it goes to
    reason: str  # the refusal, in the service's words


@dataclass(frozen=True)
class ContactLost(Event):
    """A status request failed: retried with backoff; the task is not failed."""

    reason: str
    wait: float


@dataclass(frozen=True)
class Forced(Event):
    reason: str
    parent: str | None = None


@dataclass(frozen=True)
class LockTakenOver(Event):
    pid: int
    reason: str


@dataclass(frozen=True)
class Interrupted(Event):
    waiting: int  # submissions in flight, waited for so their task ids are saved


@dataclass(frozen=True)
class Ended(Event):
    """A shot's last word in this render, once per shot (also in the result)."""

    outcome: Stand
    reason: str | None = None
    clip: Path | None = None


class Reporter(Protocol):
    def on(self, event: Event) -> None: ...


@dataclass(frozen=True)
class ShotResult:
    shot_id: str
    outcome: Stand
    reason: str | None = None
    clip: Path | None = None
    task_id: str | None = None
    provider: str = ""  # where the shot was made (or sent)


@dataclass
class GenerateResult:
    shots: dict[str, ShotResult] = field(default_factory=dict)  # the cut's, in storyboard order
    takes: dict[str, ShotResult] = field(default_factory=dict)  # other takes, by key (`id@K`)
    submitted: list[str] = field(default_factory=list)  # each paid submission, by shot
    unrecorded: dict[str, str] = field(default_factory=dict)  # shot -> task id not saved
    fatal: StoryboardError | None = None  # what stopped the render early (a refused key...)
    moved: dict[str, PassedOn] = field(default_factory=dict)  # shot -> where it was passed on, and why

    @property
    def clips(self) -> dict[str, Path]:
        return {s: r.clip for s, r in self.shots.items() if r.clip is not None and r.outcome.has_clip}

    def of(self, *outcomes: Stand) -> list[ShotResult]:
        return [r for r in self.shots.values() if r.outcome in outcomes]

    @property
    def complete(self) -> bool:
        return all(r.outcome.has_clip for r in self.shots.values())

    @property
    def cached(self) -> list[str]:
        return [r.shot_id for r in self.of(Stand.CACHED)]

    @property
    def failed(self) -> dict[str, str]:
        """Every shot without a clip, with its reason."""
        return {r.shot_id: r.reason or r.outcome.value for r in self.shots.values() if not r.outcome.has_clip}


class Teller:
    """Events to the reporter, redacted, from any thread; a display glitch never breaks the books."""

    def __init__(self, reporter: Reporter | None, redactor: Redactor) -> None:
        self.reporter = reporter
        self.redactor = redactor
        self._mutex = threading.Lock()

    def __call__(self, event: Event) -> None:
        if self.reporter is None:
            return
        clean = {k: self.redactor.redact(v) if type(v) is str else v for k, v in vars(event).items()}
        with self._mutex, contextlib.suppress(Exception):
            self.reporter.on(type(event)(**clean))
