"""HTTP shared by the hosted providers: the key as the service takes it (`Auth`: a Bearer
header by default), sent only to the service's own origin; retries with backoff; no key in
any text.

`Http.request` sends one request and, on a rate limit (429, Retry-After honoured unless it
asks for more than a wait's cap: then at once), a server error (5xx) or a connection that
failed, tries again (storyboard.retry's backoff, through
tenacity); after the last attempt it raises `RateLimitError` or `TransientError`. What counts
as an error is decided by a `check` callable (Reply -> ProviderError | None), because the
services report errors in their bodies in four different ways (providers.replies). Every
answer comes back as a redacted `Reply`: no text of a service reaches us unredacted.

A submission (a generation or an extension: money) is retried, its waits together at most
`retry.SUBMIT_WAIT`, only when the service provably did not accept it: a rate limit, a
connection that never opened (nothing was sent), or a server error in the service's own
documented error body (it answered that it failed: it did not take the job). When the
request went out and its answer is lost (the connection dropped, no answer came before the
timeout, a bare 5xx from a proxy) the service may have started and charged for the job:
that raises `ReplyLost`, never a second submission. `HostedProvider` (providers.hosted) runs
every plugin's `submit` as a submission and its `poll` as a poll, so no plugin can forget
which is which.

httpx and tenacity are imported on first use: a plan never loads them.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from storyboard import env
from storyboard.errors import AuthError, BareServerError, ProviderError, ReplyLost, TransientError
from storyboard.providers.replies import (
    Context,
    Reply,
    Stage,
    as_dict,
    parse_retry_after,
    status_error,
)
from storyboard.providers.values import Auth, key_for
from storyboard.retry import MAX_DELAY, SUBMIT_WAIT, Backoff, within
from storyboard.secrets import Redactor

if TYPE_CHECKING:
    import httpx

DEFAULT_TIMEOUT = 60.0  # seconds without a byte of the answer before a request is given up
MIN_ANSWER_WAIT = 10.0  # a request near its deadline still gets this long for its answer
SUBMIT_RETRIES = 3  # at most this many retries of a submission the service did not accept

Check = Callable[[Reply], "ProviderError | None"]

__all__ = [
    "DEFAULT_TIMEOUT",
    "SUBMIT_RETRIES",
    "Http",
    "ReplyLost",
    "as_dict",
    "key_variable",
    "parse_retry_after",
    "path_segments",
    "protocol_error",
    "read_image",
    "retry_base",
    "shots_label",
]


def retry_base() -> float:
    """The backoff base in seconds (STORYBOARD_RETRY_BASE, default 1)."""
    return env.retry_base()


def key_variable(env_name: str) -> str:
    return f"{env_name}_API_KEY"


class _Stopped(Exception):  # control flow inside `request`: a stopping render ends a backoff
    pass


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
        redactor: Redactor | None = None,
        check: Check | None = None,
        auth: Auth | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = api_key or ""
        self.auth = auth or Auth()
        self.timeout = timeout
        self.retries = max(0, retries)
        self.policy = Backoff.from_env(backoff, max_delay)
        self.sleep = sleep
        self.provider = provider
        self.env = env
        self.redactor = redactor if redactor is not None else Redactor([self._key])
        self._check = check
        # set by the executor: a render that stops (Ctrl-C, no credits) ends a submission's
        # backoff at once instead of sending it again
        self.cancel: threading.Event | None = None
        self._client: httpx.Client | None = None
        self._local = threading.local()  # what this thread is doing: polls run beside submissions

    def __repr__(self) -> str:  # never the key
        return f"Http({self.base_url!r}, provider={self.provider!r})"

    @property
    def backoff(self) -> float:
        return self.policy.base

    @property
    def key_variable(self) -> str:
        return key_variable(self.env) if self.env else "the API key variable"

    # what a request is for ---------------------------------------------------------------------
    @contextlib.contextmanager
    def stage(self, stage: Stage) -> Iterator[None]:
        before = getattr(self._local, "stage", Stage.CALL)
        self._local.stage = stage
        try:
            yield
        finally:
            self._local.stage = before

    @contextlib.contextmanager
    def until(self, deadline: float, now: Callable[[], float]) -> Iterator[None]:
        """Requests made in this block, on this thread, end by `deadline` as `now` reads the
        time (the render's clock): no retry whose wait would reach past it, and no answer
        waited for past it (though at least MIN_ANSWER_WAIT). A poll is bounded so: past its
        deadline its tasks are left stalled anyway, and the render's loop waits on it."""
        before = getattr(self._local, "until", None)
        self._local.until = (deadline, now)
        try:
            yield
        finally:
            self._local.until = before

    def _left(self) -> float | None:
        bound = getattr(self._local, "until", None)
        return None if bound is None else bound[0] - bound[1]()

    def submission(self) -> contextlib.AbstractContextManager[None]:
        """Requests made in this block, on this thread, start paid jobs (see the module
        docstring): retried only when the service provably did not accept them."""
        return self.stage(Stage.SUBMIT)

    @property
    def current_stage(self) -> Stage:
        return getattr(self._local, "stage", Stage.CALL)

    @property
    def submitting(self) -> bool:
        return self.current_stage is Stage.SUBMIT

    def context(self, shot: str | None = None) -> Context:
        return Context(self.provider, self.key_variable, self.current_stage, shot)

    # text hygiene ----------------------------------------------------------------------------
    def redact(self, text: str) -> str:
        return self.redactor.redact(text)

    def status_error(self, reply: Reply, shot: str | None = None) -> ProviderError | None:
        """The error an HTTP status means when the body says nothing more specific."""
        return status_error(reply, self.context(shot))

    def check(self, reply: Reply) -> ProviderError | None:
        return self._check(reply) if self._check is not None else self.status_error(reply)

    # requests --------------------------------------------------------------------------------
    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            import httpx  # lazy: start-up

            self._client = httpx.Client(
                timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 20.0)),
                follow_redirects=False,  # a redirect would carry the key elsewhere
            )
        return self._client

    def credentials(self, url: str) -> tuple[dict[str, str], dict[str, str]]:
        """(headers, query parameters) with the key, for a URL on the service's own origin;
        nothing for any other (an absolute link a reply gave)."""
        return key_for(self.auth, self._key, self.base_url, url)

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
    ) -> Reply:
        """Send, retrying 429/5xx/failed connections; raise the mapped error otherwise.
        Inside `submission()`, only what the service provably did not accept is retried."""
        import tenacity  # lazy: start-up

        if not self._key:
            var = self.key_variable
            raise AuthError(f"no API key: set {var}", provider=self.provider, hint=f"export {var}=...")
        paid = self.submitting
        retries = min(self.retries, SUBMIT_RETRIES) if paid else self.retries
        last: list[BaseException] = []

        def remember(state: tenacity.RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome is not None else None
            if error is not None:
                last[:] = [error]

        attempts = tenacity.stop_after_attempt(retries + 1 if retry else 1)
        in_time = within(SUBMIT_WAIT)  # a submission's waits: the executor's patience counts on it

        def stop(state: tenacity.RetryCallState) -> bool:
            if attempts(state) or (paid and in_time(state)):
                return True
            left = self._left()  # a deadline of the caller's (a poll's): no wait past it
            return left is not None and (state.upcoming_sleep or 0.0) >= left

        retrying = tenacity.Retrying(
            stop=stop,
            wait=self.policy,
            retry=tenacity.retry_if_exception(self._worth_retrying),
            before_sleep=remember,
            sleep=self._pause if paid else self.sleep,
            reraise=True,
        )
        send = check or self.check
        try:
            return retrying(self._once, method, self.url(path_or_url), json, files, params, send, paid)
        except _Stopped:
            raise last[0] from None

    def _worth_retrying(self, error: BaseException) -> bool:
        return (
            isinstance(error, ProviderError) and error.retryable and self.policy.waits_for(error.retry_after)
        )

    def _once(
        self,
        method: str,
        url: str,
        json: Any,
        files: dict[str, Any] | None,
        params: dict[str, Any] | None,
        check: Check,
        paid: bool,
    ) -> Reply:
        import httpx  # lazy: start-up

        headers, keyed = self.credentials(url)
        if keyed:
            params = {**(params or {}), **keyed}
        timeout: Any = httpx.USE_CLIENT_DEFAULT
        left = self._left()
        if left is not None and left < self.timeout:  # the caller's deadline comes first
            wait = max(left, MIN_ANSWER_WAIT)
            timeout = httpx.Timeout(wait, connect=min(wait, 20.0))
        try:
            response = self.client.request(
                method, url, json=json, files=files, params=params, headers=headers, timeout=timeout
            )
        except httpx.TransportError as exc:
            not_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
            words = self.redact(f"{type(exc).__name__}: {exc}")
            if isinstance(exc, httpx.TimeoutException) and not not_sent:
                cause = f"no answer came within {self.timeout:g} s of sending the request (timed out)"
                if paid:
                    raise self.reply_lost(cause, words) from None
                raise TransientError(f"the request timed out: {cause}", provider=self.provider) from None
            if paid and not not_sent:
                raise self.reply_lost("the connection dropped after the request was sent", words) from None
            where = f" ({self.env}_BASE_URL)" if self.env else ""
            raise TransientError(
                f"could not reach {self.base_url} ({words}): is the service up, and is its "
                f"address{where} right?",
                provider=self.provider,
            ) from None
        reply = Reply.read(response, self.redactor)
        error = check(reply)
        if error is None:
            return reply
        if paid and isinstance(error, BareServerError):
            cause = f"the request was sent and only a bare HTTP {error.status} came back"
            raise self.reply_lost(cause, error.reason, status=error.status)
        raise error

    def reply_lost(self, cause: str, detail: str, status: int | None = None) -> ReplyLost:
        who = self.provider or "the service"
        return ReplyLost(
            self.redact(f"{cause} ({detail}), so {who} may have started (and charged for) it"),
            provider=self.provider,
            status=status,
            cause=self.redact(cause),
        )

    def _pause(self, seconds: float) -> None:
        """Wait before retrying a submission; a stopping render sends no more (_Stopped)."""
        cancel = self.cancel
        if cancel is None:
            self.sleep(seconds)
            return
        if cancel.is_set():
            raise _Stopped
        if self.sleep is time.sleep:
            if cancel.wait(seconds):
                raise _Stopped
            return
        self.sleep(seconds)  # a test's recorded sleep
        if cancel.is_set():
            raise _Stopped

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def segment(value: str) -> str:
    """A value (a task id) as one URL path segment: `/`, `?`, `#` and `..` cannot steer the
    request to another endpoint of the service."""
    quoted = quote(value, safe="")
    return quoted.replace(".", "%2E") if set(value) <= {"."} else quoted


def path_segments(value: str) -> str:
    """A value that is a path (Google's `models/M/operations/ID`) with each segment encoded
    as `segment` does: it stays that path, and can steer the request nowhere else."""
    return "/".join(segment(part) for part in value.split("/"))


def protocol_error(http: Http, what: str, reply: Reply, shot: str | None = None) -> ProviderError:
    """A reply that does not look like the document says: name what was missing. To a
    submission the service said yes in a way we cannot read: it may be running (ReplyLost)."""
    words = f"unexpected reply: {what} (HTTP {reply.status_code}: {reply.snippet()})"
    if http.submitting and reply.is_success:
        cause = "the request was accepted but its reply could not be read"
        return http.reply_lost(cause, words, status=reply.status_code)
    return ProviderError(words, provider=http.provider, shot=shot, status=reply.status_code)


def shots_label(shots: tuple[str, ...] | list[str]) -> str | None:
    """How a request's shots are named in an error: one id, or several joined."""
    if not shots:
        return None
    return shots[0] if len(shots) == 1 else ", ".join(shots)


def read_image(path: Path) -> tuple[str, bytes, str]:
    """(file name, bytes, MIME type) for a multipart upload; bytes so a retry can resend."""
    mime = {
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
        ".png": "image/png",
        ".webp": "image/webp",
    }.get(path.suffix.lower(), "application/octet-stream")
    return path.name, path.read_bytes(), mime
