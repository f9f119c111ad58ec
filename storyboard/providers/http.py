"""HTTP shared by the hosted providers: bearer auth, retries with backoff, no key in any text.

`Http.request` sends one request and, on a rate limit (429, Retry-After honoured), a server
error (5xx) or a dropped connection, tries again with exponential backoff and full jitter;
after the last attempt it raises `RateLimitError` or `TransientError`. What counts as an
error is decided by a `check` callable (response -> ProviderError | None), because two of the
services report errors in the body's `code` with an undocumented HTTP status.

A submission (a generation or an extension: money) is retried only when the service provably
did not accept it: a rate limit, a connection that never opened (nothing was sent), or a
server error in the service's own documented error body (it answered that it failed, and
failed jobs are refunded). When the request went out and its answer is lost (the connection
dropped, a read timed out, a bare 5xx from a proxy) the service may have started and charged
for the job: that raises `ReplyLost`, never a second submission. `HostedProvider` runs every
plugin's `submit` under this policy, so no plugin can forget it.

`HostedProvider` is the base of the four hosted plugins: it creates its `Http` lazily (plan
time never opens a connection) and answers `check` from `capabilities`.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import json as jsonlib
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx

from storyboard import env, errors
from storyboard.errors import (
    AuthError,
    BareServerError,
    Problem,
    ProviderError,
    RateLimitError,
    ReplyLost,
    TransientError,
)
from storyboard.providers import capabilities
from storyboard.providers.base import CompiledShot, HttpRequest, Provider

DEFAULT_TIMEOUT = 60.0
MAX_DELAY = 60.0  # no single wait is longer, whatever Retry-After says
SNIPPET = 300  # characters of an unexpected reply quoted in a message
SUBMIT_RETRIES = 3  # at most this many retries of a submission the service did not accept

# Failures that happen before a byte of the request is sent: safe to send again.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

Check = Callable[[httpx.Response], "ProviderError | None"]

__all__ = ["BareServerError", "HostedProvider", "Http", "ReplyLost"]


def retry_base() -> float:
    """The backoff base in seconds (STORYBOARD_RETRY_BASE, default 1)."""
    return env.retry_base()


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
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def json_body(response: httpx.Response) -> Any:
    """The reply as JSON, or None when it is not JSON (a proxy's HTML page, a cut reply)."""
    try:
        return jsonlib.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None


def as_dict(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one (replies are read defensively)."""
    return value if isinstance(value, dict) else {}


def key_variable(env: str) -> str:
    return f"{env}_API_KEY"


class Http:
    """A small client for one service: `request` retries what is worth retrying."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = 5,
        backoff: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        provider: str = "",
        env: str = "",
        max_delay: float = MAX_DELAY,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = api_key or ""
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = retry_base() if backoff is None else backoff
        self.sleep = sleep
        self.provider = provider
        self.env = env
        self.max_delay = max_delay
        # set by the executor: a render that stops (Ctrl-C, no credits) ends a submission's
        # backoff at once instead of sending it again
        self.cancel: threading.Event | None = None
        self._client: httpx.Client | None = None
        self._local = threading.local()  # which thread is submitting: polls run beside it

    def __repr__(self) -> str:  # never the key
        return f"Http({self.base_url!r}, provider={self.provider!r})"

    # text hygiene ----------------------------------------------------------------------------
    def redact(self, text: str) -> str:
        """`text` with the key blotted out: services sometimes echo what they were sent."""
        if self._key and len(self._key) >= 4:
            text = text.replace(self._key, "***")
        return text

    def snippet(self, response: httpx.Response) -> str:
        text = response.content[:SNIPPET].decode("utf-8", "replace").strip()
        return self.redact(text) or "(empty reply)"

    def auth_error(self, words: str) -> AuthError:
        var = key_variable(self.env) if self.env else "the API key variable"
        return AuthError(
            self.redact(f"the API key was refused ({words}): set {var} to a valid key"),
            provider=self.provider,
            hint=f"check the key in {var}",
            status=401,
        )

    # requests --------------------------------------------------------------------------------
    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 20.0)),
                headers={"Authorization": f"Bearer {self._key}"},
                follow_redirects=False,  # a redirect would carry the key elsewhere
            )
        return self._client

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return f"{self.base_url}/{path_or_url.lstrip('/')}"

    @contextlib.contextmanager
    def submission(self) -> Iterator[None]:
        """Requests made in this block, on this thread, start paid jobs (see the module
        docstring): retried only when the service provably did not accept them."""
        before = getattr(self._local, "submitting", False)
        self._local.submitting = True
        try:
            yield
        finally:
            self._local.submitting = before

    @property
    def submitting(self) -> bool:
        return bool(getattr(self._local, "submitting", False))

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        json: Any = None,
        files: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        retry: bool = True,
        check: Check | None = None,
    ) -> httpx.Response:
        """Send, retrying 429/5xx/dropped connections; raise the mapped error otherwise.
        Inside `submission()`, only what the service provably did not accept is retried."""
        if not self._key:
            var = key_variable(self.env) if self.env else "the API key variable"
            raise AuthError(f"no API key: set {var}", provider=self.provider, hint=f"export {var}=...")
        check = check or self.status_error
        paid = self.submitting
        retries = min(self.retries, SUBMIT_RETRIES) if paid else self.retries
        attempts = retries + 1 if retry else 1
        url = self.url(path_or_url)
        last: ProviderError | None = None
        for attempt in range(attempts):
            if attempt and not self._pause(self._delay(attempt - 1, last), paid):
                break
            try:
                response = self.client.request(method, url, json=json, files=files, params=params)
            except httpx.TransportError as exc:
                # httpx's own text names the URL at most; redact anyway
                words = self.redact(f"{type(exc).__name__}: {exc}")
                if paid and not isinstance(exc, NOT_SENT):
                    cause = "the connection dropped after the request was sent"
                    raise self.reply_lost(cause, words) from None
                last = TransientError(f"connection failed ({words})", provider=self.provider)
                continue
            error = check(response)
            if error is None:
                return response
            if paid and isinstance(error, BareServerError):
                cause = f"the request was sent and only a bare HTTP {error.status} came back"
                raise self.reply_lost(cause, error.reason, status=error.status)
            if not error.retryable:
                raise error
            last = error
        assert last is not None
        raise last

    def reply_lost(self, cause: str, detail: str, status: int | None = None) -> ReplyLost:
        who = self.provider or "the service"
        return ReplyLost(
            self.redact(f"{cause} ({detail}), so {who} may have started (and charged for) it"),
            provider=self.provider,
            status=status,
            cause=self.redact(cause),
        )

    def _pause(self, seconds: float, paid: bool) -> bool:
        """Wait before a retry; False when a submission's render is stopping (send no more)."""
        cancel = self.cancel if paid else None
        if cancel is None:
            self.sleep(seconds)
            return True
        if cancel.is_set():
            return False
        if self.sleep is time.sleep:
            return not cancel.wait(seconds)
        self.sleep(seconds)  # a test's recorded sleep
        return not cancel.is_set()

    def _delay(self, attempt: int, error: ProviderError | None) -> float:
        if error is not None and error.retry_after is not None:
            return min(error.retry_after, self.max_delay)
        ceiling = min(self.max_delay, self.backoff * (2**attempt))
        return random.uniform(0, ceiling)  # full jitter

    def status_error(self, response: httpx.Response, shot: str | None = None) -> ProviderError | None:
        """The error an HTTP status means when the body says nothing more specific."""
        status = response.status_code
        if response.is_success:
            return None
        words = f"HTTP {status}: {self.snippet(response)}"
        if status in (401, 403):
            return self.auth_error(words)
        if status == 429:
            return RateLimitError(
                self.redact(f"rate limited ({words})"),
                provider=self.provider,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                status=status,
            )
        if status >= 500:  # the service's own error bodies are mapped by each plugin's check
            return BareServerError(
                self.redact(f"server error ({words})"), provider=self.provider, status=status
            )
        return ProviderError(self.redact(words), provider=self.provider, shot=shot, status=status)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def protocol_error(http: Http, what: str, response: httpx.Response, shot: str | None = None) -> ProviderError:
    """A reply that does not look like the document says: name what was missing. To a
    submission the service said yes in a way we cannot read: it may be running (ReplyLost)."""
    words = f"unexpected reply: {what} (HTTP {response.status_code}: {http.snippet(response)})"
    if http.submitting and response.is_success:
        cause = "the request was accepted but its reply could not be read"
        return http.reply_lost(cause, words, status=response.status_code)
    return ProviderError(http.redact(words), provider=http.provider, shot=shot, status=response.status_code)


def shots_label(shots: tuple[str, ...] | list[str]) -> str | None:
    """How a request's shots are named in an error: one id, or several joined."""
    if not shots:
        return None
    return shots[0] if len(shots) == 1 else ", ".join(shots)


class HostedProvider(Provider):
    """A service reached over HTTP with a key; `Http` is made on first use."""

    poll_interval: ClassVar[float] = 10.0  # seconds between polls the documents ask for
    # the shortest wait between polls a documented rate limit allows (0: no limit known)
    min_poll_interval: ClassVar[float] = 0.0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        submit = cls.__dict__.get("submit")
        if submit is not None and not getattr(submit, "_paid", False):
            cls.submit = _as_submission(submit)  # type: ignore[method-assign]

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = 5,
        backoff: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(base_url, api_key)
        self._http_options: dict[str, Any] = {
            "timeout": timeout,
            "retries": retries,
            "backoff": backoff,
            "sleep": sleep,
        }
        self._http: Http | None = None

    def __repr__(self) -> str:  # never the key
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    @property
    def http(self) -> Http:
        if self._http is None:
            self._http = Http(
                self.base_url, self.api_key, provider=self.name, env=self.env, **self._http_options
            )
        return self._http

    def check(self, shot: CompiledShot) -> list[Problem]:
        return capabilities.problems(self.name, shot)

    def require(self, shot: CompiledShot) -> None:
        """Refuse to build a request for a shot this provider cannot make."""
        problems = self.check(shot)
        if problems:
            raise errors.UnsupportedError(problems)

    def task_extra(self, shot: CompiledShot) -> dict[str, Any]:
        """What `poll` needs to know about a shot beyond its task id (kept in Task.extra)."""
        return {}

    def close(self) -> None:
        if self._http is not None:
            self._http.close()


def _as_submission(submit: Callable[[Any, HttpRequest], dict[str, str]]) -> Any:
    """`submit` run under the submission policy of `Http.submission`."""

    @functools.wraps(submit)
    def paid(self: HostedProvider, request: HttpRequest) -> dict[str, str]:
        with self.http.submission():
            return submit(self, request)

    paid._paid = True  # type: ignore[attr-defined]
    return paid


def read_image(path: Path) -> tuple[str, bytes, str]:
    """(file name, bytes, MIME type) for a multipart upload; bytes so a retry can resend."""
    mime = {
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
        ".png": "image/png",
        ".webp": "image/webp",
    }.get(path.suffix.lower(), "application/octet-stream")
    return path.name, path.read_bytes(), mime
