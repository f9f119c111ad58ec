"""HTTP shared by the hosted providers: bearer auth, retries with backoff, no key in any text.

`Http.request` sends one request and, on a rate limit (429, Retry-After honoured), a server
error (5xx) or a dropped connection, tries again with exponential backoff and full jitter;
after the last attempt it raises `RateLimitError` or `TransientError`. What counts as an
error is decided by a `check` callable (response -> ProviderError | None), because two of the
services report errors in the body's `code` with an undocumented HTTP status.

Retrying a submit whose connection dropped after it was sent may start a second job; it is
still the right call: a job whose task id we never saw cannot be polled or downloaded, so
the only way to get the shot is to submit again, which is what a re-run would do anyway.

`HostedProvider` is the base of the four hosted plugins: it creates its `Http` lazily (plan
time never opens a connection) and answers `check` from `capabilities`.
"""

from __future__ import annotations

import email.utils
import json as jsonlib
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import httpx

from storyboard import errors
from storyboard.errors import (
    AuthError,
    Problem,
    ProviderError,
    RateLimitError,
    TransientError,
)
from storyboard.providers import capabilities
from storyboard.providers.base import CompiledShot, Provider

RETRY_BASE_ENV = "STORYBOARD_RETRY_BASE"  # seconds; tests set it tiny
DEFAULT_TIMEOUT = 60.0
MAX_DELAY = 60.0  # no single wait is longer, whatever Retry-After says
SNIPPET = 300  # characters of an unexpected reply quoted in a message

Check = Callable[[httpx.Response], "ProviderError | None"]


def retry_base(default: float = 1.0) -> float:
    """The backoff base in seconds: STORYBOARD_RETRY_BASE if set to a number >= 0."""
    raw = os.environ.get(RETRY_BASE_ENV, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        return default
    return value if value >= 0 else default


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
        self._client: httpx.Client | None = None

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
        """Send, retrying 429/5xx/dropped connections; raise the mapped error otherwise."""
        if not self._key:
            var = key_variable(self.env) if self.env else "the API key variable"
            raise AuthError(f"no API key: set {var}", provider=self.provider, hint=f"export {var}=...")
        check = check or self.status_error
        attempts = self.retries + 1 if retry else 1
        url = self.url(path_or_url)
        last: ProviderError | None = None
        for attempt in range(attempts):
            if attempt:
                self.sleep(self._delay(attempt - 1, last))
            try:
                response = self.client.request(method, url, json=json, files=files, params=params)
            except httpx.TransportError as exc:
                # httpx's own text names the URL at most; redact anyway
                last = TransientError(
                    self.redact(f"connection failed ({type(exc).__name__}: {exc})"),
                    provider=self.provider,
                )
                continue
            error = check(response)
            if error is None:
                return response
            if not error.retryable:
                raise error
            last = error
        assert last is not None
        raise last

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
        if status >= 500:
            return TransientError(
                self.redact(f"server error ({words})"), provider=self.provider, status=status
            )
        return ProviderError(self.redact(words), provider=self.provider, shot=shot, status=status)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def protocol_error(http: Http, what: str, response: httpx.Response, shot: str | None = None) -> ProviderError:
    """A reply that does not look like the document says: name what was missing."""
    return ProviderError(
        http.redact(f"unexpected reply: {what} (HTTP {response.status_code}: {http.snippet(response)})"),
        provider=http.provider,
        shot=shot,
        status=response.status_code,
    )


def shots_label(shots: tuple[str, ...] | list[str]) -> str | None:
    """How a request's shots are named in an error: one id, or several joined."""
    if not shots:
        return None
    return shots[0] if len(shots) == 1 else ", ".join(shots)


class HostedProvider(Provider):
    """A service reached over HTTP with a key; `Http` is made on first use."""

    poll_interval: ClassVar[float] = 10.0  # seconds between polls the documents ask for

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


def read_image(path: Path) -> tuple[str, bytes, str]:
    """(file name, bytes, MIME type) for a multipart upload; bytes so a retry can resend."""
    mime = {
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
        ".png": "image/png",
        ".webp": "image/webp",
    }.get(path.suffix.lower(), "application/octet-stream")
    return path.name, path.read_bytes(), mime
