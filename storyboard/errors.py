"""One error hierarchy for the whole tool; the CLI turns these into messages and exit codes.

StoryboardError                   anything the tool reports instead of a traceback
 ├── InputError         (exit 2)  the user's files or options are wrong; nothing was sent
 │    ├── ValidationError         every problem found in a storyboard, each with a location
 │    │    └── UnsupportedError   a provider cannot do what some shots ask
 │    ├── TemplateError           a prompt template failed to render
 │    ├── ConfigError             a missing key, an unknown provider, a bad option
 │    └── BudgetError             the plan costs more than --budget allows
 ├── LockError          (exit 3)  another render holds the storyboard's lock
 ├── ProviderError      (exit 1)  a service refused or failed
 │    ├── AuthError               bad or missing key: names the variable to set
 │    ├── CreditsError            not enough credits: how many needed, how many there are
 │    ├── RejectedError           the service rejected a shot's prompt or images
 │    ├── RateLimitError          retryable after a wait (Retry-After honoured)
 │    ├── TransientError          the service's own 5xx, or a connection that failed: retryable
 │    │    └── BareServerError    a 5xx without the service's own body (a proxy answered)
 │    ├── GenerationFailed        the job ran and failed: resubmittable
 │    ├── TaskNotFound            a poll's documented "no such task" answer, for these task ids
 │    └── ReplyLost               a submission went out and its answer was lost: uncertain
 ├── JournalError       (exit 1)  the state could not be written: the render stopped paying
 ├── DownloadError      (exit 1)  a clip could not be fetched or failed verification
 │    └── VerifyError             the file is not a whole, readable clip
 ├── StitchError        (exit 1)  ffmpeg could not make the cut
 ├── StateError         (exit 1)  render state written without holding the lock (a bug of ours)
 └── Cancelled        (exit 130)  work stopped from outside (Ctrl-C); nothing was kept
TransitionError        (exit 70)  the executor asked for a move its table does not allow (a bug:
                                  not a StoryboardError, so the CLI says "internal error")

Every piece of context is a constructor argument: nothing adds attributes to an exception
after it is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any


@dataclass(frozen=True)
class Location:
    """A place in a file: 1-based line and column."""

    file: str
    line: int
    column: int
    source_line: str | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class Severity(str, Enum):
    ERROR = "error"  # the input cannot be used: exit 2, nothing sent
    WARNING = "warning"  # it can, but not quite as written (a seed a provider ignores)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the user's input: where, which field, what and how to fix it."""

    message: str
    path: str = ""  # e.g. "shots[2].trim"
    location: Location | None = None
    hint: str | None = None
    severity: Severity = Severity.ERROR

    def format(self) -> str:
        where = f"{self.location}: " if self.location else ""
        field_ = f"{self.path}: " if self.path else ""
        text = f"{where}{self.severity.value}: {field_}{self.message}"
        if self.hint:
            text += f" ({self.hint})"
        loc = self.location
        if loc and loc.source_line is not None:
            line = loc.source_line.rstrip("\n").expandtabs(1)
            col = max(loc.column, 1) - 1
            if len(line) > EXCERPT:  # a window around the column, not a 200 KB line
                start = max(0, min(col - EXCERPT // 2, len(line) - EXCERPT))
                cut = line[start : start + EXCERPT]
                line = ("..." if start else "") + cut + ("..." if start + EXCERPT < len(line) else "")
                col = col - start + (3 if start else 0)
            text += f"\n  {line}\n  {' ' * col}^"
        return text


EXCERPT = 100  # characters of a source line shown under a message


def format_path(path: tuple[str | int, ...] | list[str | int]) -> str:
    """("shots", 2, "trim") -> "shots[2].trim"."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class StoryboardError(Exception):
    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def format(self) -> str:
        text = f"error: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class InputError(StoryboardError):
    exit_code = 2


class ValidationError(InputError):
    """All the problems of one or more files, reported together."""

    def __init__(self, problems: list[Problem], partial: Any = None) -> None:
        n = len(problems)
        super().__init__(f"{n} problem{'s' if n != 1 else ''} found")
        self.problems = problems
        # a best-effort model of the file, its broken parts left out (board.model.Partial), so
        # that a later stage (what a provider can do) can add its problems in the same pass
        self.partial = partial

    def format(self) -> str:
        return "\n".join(p.format() for p in self.problems)

    def __str__(self) -> str:
        return self.format()


class UnsupportedError(ValidationError):
    """A provider cannot do what some shots ask; a ValidationError so all are listed."""


class TemplateError(InputError):
    pass


class ConfigError(InputError):
    pass


class BudgetError(InputError):
    pass


class LockError(StoryboardError):
    exit_code = 3


class ProviderError(StoryboardError):
    """A service said no. `retryable` errors are retried by the client with backoff.

    `reason` is the message without its "provider: shot 'x': " prefix; `status` the HTTP status
    or the service's own code where it has one."""

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        shot: str | None = None,
        hint: str | None = None,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        prefix = f"{provider}: " if provider else ""
        if shot:
            prefix += f"shot {shot!r}: "
        super().__init__(prefix + message, hint=hint)
        self.provider = provider
        self.shot = shot
        self.reason = message
        self.retry_after = retry_after
        self.status = status


class AuthError(ProviderError):
    pass


class CreditsError(ProviderError):
    pass


class RejectedError(ProviderError):
    pass


class RateLimitError(ProviderError):
    retryable = True


class TransientError(ProviderError):
    retryable = True


class BareServerError(TransientError):
    """A 5xx without the service's own error body (a proxy or load balancer answered): the
    service behind it may or may not have acted on the request."""


class GenerationFailed(ProviderError):
    pass


class TaskNotFound(ProviderError):
    """A poll's answer, in the service's own documented words, that it knows no such task
    (never a bare 404 page: that says nothing about the task). `task_ids` are the tasks it
    does not know; `found` the statuses it gave for the other tasks of the same poll;
    `reasons` its words for each unknown task, where they differ (else `reason` serves)."""

    def __init__(
        self,
        message: str,
        *,
        task_ids: tuple[str, ...] = (),
        found: Mapping[str, Any] | None = None,
        reasons: Mapping[str, str] | None = None,
        **context: Any,
    ) -> None:
        super().__init__(message, **context)
        self.task_ids = tuple(task_ids)
        self.found: dict[str, Any] = dict(found or {})
        self.reasons: dict[str, str] = dict(reasons or {})

    def reason_for(self, task_id: str) -> str:
        return self.reasons.get(task_id, self.reason)


class ReplyLost(ProviderError):
    """A submission went out and its answer was lost: the service may have started (and
    charged for) the job. Never retried; the executor records the shots as uncertain.
    `cause` says what happened in a few words, for the user's message."""

    def __init__(self, message: str, *, cause: str = "", **context: Any) -> None:
        super().__init__(message, **context)
        self.cause = cause


class JournalError(StoryboardError):
    """The render's state could not be written (a full disk, a read-only folder): it stops
    paying at once, and names every task id that came back unrecorded."""


class DownloadError(StoryboardError):
    """A clip could not be fetched. `status`: the HTTP status that refused it; `fatal`: asking
    again cannot help (the file is over the size limit)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        fatal: bool = False,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.fatal = fatal


class VerifyError(DownloadError):
    """The file is not a whole, readable clip. `decode_only`: its structure and probe were
    fine and only decoding complained (the same bytes twice are what the service made)."""

    def __init__(self, message: str, *, decode_only: bool = False, **context: Any) -> None:
        super().__init__(message, **context)
        self.decode_only = decode_only


class StitchError(StoryboardError):
    pass


class StateError(StoryboardError):
    """A programming error: render state written without holding the storyboard's lock."""


class Cancelled(StoryboardError):
    """Work stopped from outside (Ctrl-C, a render stopping); nothing half-done was kept."""

    exit_code = 130

    def __init__(self, message: str = "cancelled", **context: Any) -> None:
        super().__init__(message, **context)


class TransitionError(Exception):
    """The executor asked for a move its table of transitions does not allow from a job's
    state, or whose budget is spent (run/jobs.py): a bug of ours, never the user's."""
