"""What a service answered, and what its errors mean: one reading for every provider.

`Reply.read` is the only way a service's answer reaches a provider's code: the body is
decoded and redacted (the key, and any 8-character piece of it, in any encoding a service may
echo it: storyboard.secrets) before anything can cut, quote or store it, and every string of
its JSON and every header is redacted too. A body is read up to `MAX_BODY` bytes as JSON and
`MAX_TEXT` characters as text: redaction stays quick on a page of any size (a snippet quotes
300 characters of it).

A provider's error table maps its own codes to a `Rule` (the kind of error, in our words);
the plugin only says where its code lives (`HostedProvider.read_error` returns a
`ServiceError`), and `error_for` builds the same exceptions for every provider, built-in
or plugin:

    AUTH -> AuthError        CREDITS -> CreditsError       RATE_LIMIT -> RateLimitError
    UNAVAILABLE -> TransientError (its own error body: it did not take the request)
    REJECTED -> RejectedError       FAILED -> GenerationFailed
    NOT_FOUND -> TaskNotFound on a poll (its documented "no such task"), else RejectedError
    OTHER -> ProviderError

A reply with no error of the service's own (a proxy's page, a load balancer's 503) is judged
by its HTTP status alone (`status_error`): 401/403 the key, 429 a rate limit, 5xx a
BareServerError (the service behind may or may not have acted), anything else a plain
ProviderError. A bare 404 is never a TaskNotFound: it says nothing about the task.
"""

from __future__ import annotations

import json as jsonlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from storyboard.errors import (
    AuthError,
    BareServerError,
    CreditsError,
    GenerationFailed,
    ProviderError,
    RateLimitError,
    RejectedError,
    TaskNotFound,
    TransientError,
)
from storyboard.secrets import Redactor, one_line

if TYPE_CHECKING:  # httpx is loaded at render time only: plans and validation stay light
    import httpx

SNIPPET = 300  # characters of an unexpected reply quoted in a message (after redaction)
MAX_TEXT = 64 * 1024  # characters of a body kept as text (for a snippet), redacted as kept
MAX_BODY = 4 * 1024 * 1024  # bytes of a body read as JSON: a status is a few kilobytes


class Stage(str, Enum):
    """What a request is for: it decides what a lost answer or a "not found" means."""

    SUBMIT = "submit"  # starts a paid job
    POLL = "poll"  # asks how tasks are going
    CALL = "call"  # anything else (an upload)


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date (seconds from now)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        import email.utils  # lazy: start-up (a Retry-After date is rare; email is 8 ms)

        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def as_dict(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one (replies are read defensively)."""
    return value if isinstance(value, dict) else {}


def first(value: Any) -> Any:
    """The first item of a JSON list (a reply's list of links), else None."""
    return value[0] if isinstance(value, list) and value else None


def link(value: Any, schemes: tuple[str, ...] = ("http", "https")) -> str | None:
    """`value` if it is a link a clip can be fetched from (an absolute http(s) URL, or a
    file:// one where the provider declares that scheme: Provider.clip_schemes), else None.

    A status that says "done" with no such link (missing, empty, null, a path) is no failure
    of the job: the poller asks again (run.polling), so a shot is never paid for twice
    because a reply left its link out."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    if parts.scheme not in schemes:
        return None
    if parts.scheme == "file":  # a file on this machine
        return value.strip() if parts.netloc in ("", "localhost") and parts.path else None
    return value.strip() if parts.scheme in ("http", "https") and parts.netloc else None


@dataclass(frozen=True)
class Reply:
    """A service's answer, redacted. Reads like httpx's response where it can."""

    status_code: int
    text: str  # the whole body, decoded and redacted
    data: Any = None  # the body as JSON, every string in it redacted; None when not JSON
    headers: Mapping[str, str] = field(default_factory=dict)  # names lower-case, values redacted

    @classmethod
    def read(cls, response: httpx.Response, redactor: Redactor) -> Reply:
        raw = response.content
        # what is kept is redacted whole, and cut (a snippet) only after; a run of the key at
        # the end of what is kept is found as far as it goes (a cut escape decodes to nothing)
        text = redactor.redact(raw[: MAX_TEXT * 4].decode("utf-8", "replace")[:MAX_TEXT])
        data = None
        if len(raw) <= MAX_BODY:
            try:  # the values providers quote (messages, reasons, ids) on one line each
                data = one_line(redactor.redact_tree(jsonlib.loads(raw)))
            except (ValueError, UnicodeDecodeError, RecursionError):
                data = None
        headers = {k.lower(): redactor.redact(v) for k, v in response.headers.items()}
        return cls(response.status_code, text, data, headers)

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def content(self) -> bytes:
        return self.text.encode("utf-8")

    def json(self) -> Any:
        return self.data

    @property
    def body(self) -> dict[str, Any]:
        """The JSON body if it is an object, else {}."""
        return as_dict(self.data)

    @property
    def retry_after(self) -> float | None:
        return parse_retry_after(self.headers.get("retry-after"))

    def snippet(self, limit: int = SNIPPET) -> str:
        """The start of the (already redacted) body, for a message."""
        text = one_line(self.text.strip())
        if len(text) > limit:
            text = text[:limit].rstrip() + "..."
        return text or "(empty reply)"


class ErrorKind(str, Enum):
    AUTH = "auth"
    CREDITS = "credits"
    RATE_LIMIT = "rate_limit"
    UNAVAILABLE = "unavailable"
    REJECTED = "rejected"
    FAILED = "failed"
    NOT_FOUND = "not_found"
    OTHER = "other"


@dataclass(frozen=True)
class Rule:
    """What one of a service's error codes means. `words` say it for the user; `hint` (may
    name `{var}`, the key's variable) says what to do."""

    kind: ErrorKind
    words: str = ""
    hint: str | None = None


@dataclass(frozen=True)
class ServiceError:
    """An error as the service's own body states it, read by its plugin: the key of its error
    table, its words, and (for credits) the numbers it gave."""

    code: str | int
    message: str = ""
    needed: Any = None
    available: Any = None

    @property
    def detail(self) -> str:
        return f"{self.code}: {self.message}" if self.message else str(self.code)


ErrorTable = Mapping[Any, Rule]

# the service's own error body with a code its table does not name: judged by the HTTP status
STATUS_RULES: dict[int, Rule] = {
    400: Rule(ErrorKind.REJECTED, "the request was refused"),
    401: Rule(ErrorKind.AUTH),
    402: Rule(ErrorKind.CREDITS),
    403: Rule(ErrorKind.AUTH),
    429: Rule(ErrorKind.RATE_LIMIT),
}
DEFAULT_WORDS = {
    ErrorKind.AUTH: "the API key was refused",
    ErrorKind.CREDITS: "not enough credits",
    ErrorKind.RATE_LIMIT: "rate limited",
    ErrorKind.UNAVAILABLE: "server error",
    ErrorKind.REJECTED: "the request was refused",
    ErrorKind.FAILED: "generation failed",
    ErrorKind.NOT_FOUND: "no such task",
    ErrorKind.OTHER: "error",
}


@dataclass(frozen=True)
class Context:
    """Who is asking: for the words and the class of the error."""

    provider: str = ""
    key_variable: str = ""  # NAME_API_KEY
    stage: Stage = Stage.CALL
    shot: str | None = None


def rule_for(table: ErrorTable, found: ServiceError, status: int) -> Rule:
    rule = table.get(found.code)
    if rule is not None:
        return rule
    if isinstance(found.code, int) and 400 <= found.code < 600:
        status = found.code  # a service whose codes are HTTP's (kie): its code is the status
    if status >= 500:
        return Rule(ErrorKind.UNAVAILABLE)
    return STATUS_RULES.get(status, Rule(ErrorKind.OTHER))


def error_for(table: ErrorTable, found: ServiceError, reply: Reply, ctx: Context) -> ProviderError:
    """The exception a service's own error means, the same way for every provider."""
    rule = rule_for(table, found, reply.status_code)
    words = rule.words or DEFAULT_WORDS[rule.kind]
    var = ctx.key_variable or "the API key variable"
    hint = rule.hint.format(var=var) if rule.hint else None
    common: dict[str, Any] = {"provider": ctx.provider, "status": reply.status_code}
    kind = rule.kind
    if kind is ErrorKind.AUTH:
        fix = "" if rule.hint else f": set {var} to a valid key"
        return AuthError(f"{words} ({found.detail}){fix}", hint=hint or f"check the key in {var}", **common)
    if kind is ErrorKind.CREDITS:
        numbers = ""
        if found.needed is not None:
            numbers += f": {found.needed} needed"
            if found.available is not None:
                numbers += f", {found.available} available"
        elif found.available is not None:
            numbers += f": {found.available} available"
        return CreditsError(f"{words}{numbers} ({found.detail})", shot=ctx.shot, hint=hint, **common)
    if kind is ErrorKind.RATE_LIMIT:
        return RateLimitError(f"{words} ({found.detail})", retry_after=reply.retry_after, hint=hint, **common)
    if kind is ErrorKind.UNAVAILABLE:
        return TransientError(f"{words} ({found.detail})", hint=hint, **common)
    if kind is ErrorKind.FAILED:
        return GenerationFailed(f"{words} ({found.detail})", shot=ctx.shot, hint=hint, **common)
    if kind is ErrorKind.NOT_FOUND and ctx.stage is Stage.POLL:
        return TaskNotFound(f"{words} ({found.detail})", shot=ctx.shot, hint=hint, **common)
    if kind in (ErrorKind.REJECTED, ErrorKind.NOT_FOUND):
        return RejectedError(f"{words} ({found.detail})", shot=ctx.shot, hint=hint, **common)
    text = f"{rule.words} ({found.detail})" if rule.words else f"error {found.detail}"
    return ProviderError(text, shot=ctx.shot, hint=hint, **common)


def status_error(reply: Reply, ctx: Context) -> ProviderError | None:
    """The error an HTTP status means when the body is not the service's own error."""
    status = reply.status_code
    if reply.is_success:
        return None
    words = f"HTTP {status}: {reply.snippet()}"
    common: dict[str, Any] = {"provider": ctx.provider, "status": status}
    if status in (401, 403):
        var = ctx.key_variable or "the API key variable"
        return AuthError(
            f"the API key was refused ({words}): set {var} to a valid key",
            hint=f"check the key in {var}",
            **common,
        )
    if status == 429:
        return RateLimitError(f"rate limited ({words})", retry_after=reply.retry_after, **common)
    if status >= 500:
        return BareServerError(f"server error ({words})", **common)
    return ProviderError(words, shot=ctx.shot, **common)
