"""One error hierarchy for the whole tool; the CLI turns these into messages and exit codes.

StoryboardError                  anything the tool reports instead of a traceback
 ├── InputError        (exit 2)  the user's files or options are wrong; nothing was sent
 │    ├── ValidationError        every problem found in a storyboard, each with a location
 │    ├── TemplateError          a prompt template failed to render
 │    ├── UnsupportedError       a provider cannot do what a shot asks
 │    ├── ConfigError            a missing key, an unknown provider, a bad option
 │    └── BudgetError            the plan costs more than --budget allows
 ├── LockError         (exit 3)  another render holds the storyboard's lock
 ├── ProviderError     (exit 1)  a service refused or failed
 │    ├── AuthError              bad or missing key: names the variable to set
 │    ├── CreditsError           not enough credits: how many needed, how many there are
 │    ├── RejectedError          the service rejected a shot's prompt or images
 │    ├── RateLimitError         retryable after a wait (Retry-After honoured)
 │    ├── TransientError         5xx or a dropped connection: retryable
 │    ├── GenerationFailed       the job ran and failed: resubmittable
 │    └── TaskNotFound           the service has no such task (its documented answer)
 ├── JournalError      (exit 1)  the state could not be written: the render stopped paying
 ├── DownloadError     (exit 1)  a clip could not be fetched or failed verification
 └── StitchError       (exit 1)  ffmpeg could not make the cut
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """A place in a file: 1-based line and column."""

    file: str
    line: int
    column: int
    source_line: str | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the user's input: where, which field, what and how to fix it."""

    message: str
    path: str = ""  # e.g. "shots[2].trim"
    location: Location | None = None
    hint: str | None = None

    def format(self) -> str:
        where = f"{self.location}: " if self.location else ""
        field_ = f"{self.path}: " if self.path else ""
        text = f"{where}error: {field_}{self.message}"
        if self.hint:
            text += f" ({self.hint})"
        loc = self.location
        if loc and loc.source_line is not None:
            line = loc.source_line.rstrip("\n").expandtabs(1)
            caret = " " * (max(loc.column, 1) - 1) + "^"
            text += f"\n  {line}\n  {caret}"
        return text


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

    def __init__(self, problems: list[Problem]) -> None:
        n = len(problems)
        super().__init__(f"{n} problem{'s' if n != 1 else ''} found")
        self.problems = problems

    def format(self) -> str:
        return "\n".join(p.format() for p in self.problems)

    def __str__(self) -> str:
        return self.format()


class TemplateError(InputError):
    pass


class UnsupportedError(ValidationError):
    """A provider cannot do what some shots ask; a ValidationError so all are listed."""


class ConfigError(InputError):
    pass


class BudgetError(InputError):
    pass


class LockError(StoryboardError):
    exit_code = 3


class ProviderError(StoryboardError):
    """A service said no. `retryable` errors are retried by the executor with backoff."""

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


class GenerationFailed(ProviderError):
    pass


class TaskNotFound(ProviderError):
    """The service says, in its own documented words, that it has no such task."""


class DownloadError(StoryboardError):
    pass


class StitchError(StoryboardError):
    pass


class StateError(StoryboardError):
    """A programming error: render state written without holding the storyboard's lock."""


class JournalError(StoryboardError):
    """The render's state could not be written (a full disk, a read-only folder): it stops
    paying at once, and names every task id that came back unrecorded."""
