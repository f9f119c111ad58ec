"""storyboard.providers.http against a scripted HTTP server on 127.0.0.1."""

from __future__ import annotations

import contextlib
import email.utils
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from storyboard.errors import (
    AuthError,
    ConfigError,
    ProviderError,
    RateLimitError,
    TransientError,
)
from storyboard.providers.http import SUBMIT_RETRIES, Http, ReplyLost, parse_retry_after, retry_base
from tests.providers.conftest import KEY, Sleeps, assert_no_key

Step = tuple[int, dict[str, str], bytes] | str  # (status, headers, body) or "drop"


class Scripted:
    """Answers each request with the next scripted step; records what it was sent."""

    def __init__(self, steps: list[Step]) -> None:
        self.steps = list(steps)
        self.seen: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _any(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                outer.seen.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
                )
                step = outer.steps.pop(0) if outer.steps else (200, {}, b"{}")
                if step == "drop":
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                status, headers, data = step
                self.send_response(status)
                for k, v in {"Content-Length": str(len(data)), **headers}.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _any

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def scripted() -> Iterator[Any]:
    servers: list[Scripted] = []

    def make(*steps: Step) -> Scripted:
        s = Scripted(list(steps))
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.close()


def http(srv: Scripted, sleeps: Sleeps, key: str | None = KEY, **kw: Any) -> Http:
    return Http(srv.url, key, provider="demo", env="DEMO", sleep=sleeps, **kw)


def test_bearer_header_and_success(scripted: Any, sleeps: Sleeps) -> None:
    srv = scripted((200, {"Content-Type": "application/json"}, b'{"ok": 1}'))
    r = http(srv, sleeps).request("POST", "/x", json={"a": 1}, params={"q": "1"})
    assert r.json() == {"ok": 1}
    assert srv.seen[0]["headers"]["Authorization"] == f"Bearer {KEY}"
    assert srv.seen[0]["path"] == "/x?q=1"
    assert srv.seen[0]["body"] == b'{"a":1}'
    assert sleeps.calls == []


def test_absolute_url_is_used_as_is(scripted: Any, sleeps: Sleeps) -> None:
    srv = scripted((200, {}, b"{}"))
    client = Http("http://127.0.0.1:1", KEY, sleep=sleeps)
    client.request("GET", f"{srv.url}/abs")
    assert srv.seen[0]["path"] == "/abs"


def test_429_honours_retry_after(scripted: Any, sleeps: Sleeps) -> None:
    srv = scripted((429, {"Retry-After": "7"}, b"slow down"), (200, {}, b"{}"))
    http(srv, sleeps).request("GET", "/x")
    assert sleeps.calls == [7.0]
    assert len(srv.seen) == 2


def test_a_retry_after_beyond_the_cap_is_not_waited_for(scripted: Any, sleeps: Sleeps) -> None:
    """Calling again sooner than the service asked only earns another refusal: the caller
    hears it at once, with what was asked (the executor decides what follows)."""
    srv = scripted((429, {"Retry-After": "3600"}, b""), (200, {}, b"{}"))
    with pytest.raises(RateLimitError) as info:
        http(srv, sleeps, max_delay=30).request("GET", "/x")
    assert sleeps.calls == [] and len(srv.seen) == 1 and info.value.retry_after == 3600.0
    srv = scripted((429, {"Retry-After": "30"}, b""), (200, {}, b"{}"))
    http(srv, sleeps, max_delay=30).request("GET", "/x")  # at the cap: waited for
    assert sleeps.calls == [30.0]


def test_retry_after_http_date() -> None:
    when = email.utils.formatdate(time.time() + 100, usegmt=True)
    assert 95 <= (parse_retry_after(when) or 0) <= 101
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_retried_with_jittered_backoff(scripted: Any, sleeps: Sleeps, status: int) -> None:
    srv = scripted((status, {}, b"oops"), (status, {}, b"oops"), (200, {}, b"{}"))
    http(srv, sleeps, backoff=0.5).request("GET", "/x")
    assert len(sleeps.calls) == 2
    assert 0 <= sleeps.calls[0] <= 0.5 and 0 <= sleeps.calls[1] <= 1.0


def test_dropped_connection_retried(scripted: Any, sleeps: Sleeps) -> None:
    srv = scripted("drop", (200, {}, b'{"ok": true}'))
    assert http(srv, sleeps).request("POST", "/x", json={}).json() == {"ok": True}
    assert len(srv.seen) == 2 and len(sleeps.calls) == 1


def test_exhausted_retries_raise_transient(scripted: Any, sleeps: Sleeps) -> None:
    srv = scripted(*[(503, {}, b"down")] * 4)
    with pytest.raises(TransientError) as info:
        http(srv, sleeps, retries=3).request("GET", "/x")
    assert len(srv.seen) == 4 and len(sleeps.calls) == 3
    assert "503" in str(info.value) and info.value.retryable
    assert_no_key(info.value)


def test_exhausted_rate_limit_raises_rate_limit(scripted: Any, sleeps: Sleeps) -> None:
    srv = scripted(*[(429, {"Retry-After": "1"}, b"")] * 3)
    with pytest.raises(RateLimitError) as info:
        http(srv, sleeps, retries=2).request("GET", "/x")
    assert info.value.retry_after == 1.0 and len(srv.seen) == 3


def test_no_retry_when_asked(scripted: Any, sleeps: Sleeps) -> None:
    srv = scripted((500, {}, b""), (200, {}, b"{}"))
    with pytest.raises(TransientError):
        http(srv, sleeps).request("GET", "/x", retry=False)
    assert len(srv.seen) == 1


def test_connection_refused_is_transient(sleeps: Sleeps) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TransientError) as info:
        Http(f"http://127.0.0.1:{port}", KEY, sleep=sleeps, retries=1).request("GET", "/x")
    assert len(sleeps.calls) == 1
    assert_no_key(info.value)


def test_missing_key_names_the_variable_and_sends_nothing(scripted: Any, sleeps: Sleeps) -> None:
    srv = scripted()
    with pytest.raises(AuthError) as info:
        http(srv, sleeps, key=None).request("GET", "/x")
    assert "set DEMO_API_KEY" in str(info.value)
    assert srv.seen == []


@pytest.mark.parametrize("status", [401, 403])
def test_auth_refused_names_variable_not_key(scripted: Any, sleeps: Sleeps, status: int) -> None:
    # a service that echoes the key back must not get it into our message
    srv = scripted((status, {}, f"bad key {KEY}".encode()))
    with pytest.raises(AuthError) as info:
        http(srv, sleeps).request("GET", "/x")
    assert "DEMO_API_KEY" in str(info.value)
    assert_no_key(info.value)
    assert len(srv.seen) == 1  # not retried


def test_other_4xx_is_a_provider_error_not_retried(scripted: Any, sleeps: Sleeps) -> None:
    srv = scripted((418, {}, f"teapot {KEY}".encode()))
    with pytest.raises(ProviderError) as info:
        http(srv, sleeps).request("GET", "/x")
    assert not info.value.retryable and "418" in str(info.value)
    assert_no_key(info.value)


def test_custom_check_decides(scripted: Any, sleeps: Sleeps) -> None:
    srv = scripted((200, {}, b'{"code": 5000}'), (200, {}, b'{"code": 0}'))

    def check(r: Any) -> ProviderError | None:
        return TransientError("body says 5000") if r.json()["code"] else None

    assert http(srv, sleeps).request("GET", "/x", check=check).json() == {"code": 0}
    assert len(sleeps.calls) == 1


def test_retry_base_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOARD_RETRY_BASE", "0.25")
    assert retry_base() == 0.25
    assert Http("http://x", KEY).backoff == 0.25
    monkeypatch.delenv("STORYBOARD_RETRY_BASE")
    assert retry_base() == 1.0
    for bad in ("nonsense", "0", "-1", "nan"):
        monkeypatch.setenv("STORYBOARD_RETRY_BASE", bad)
        with pytest.raises(ConfigError, match=r"STORYBOARD_RETRY_BASE=.* greater than 0"):
            retry_base()


def test_repr_hides_key() -> None:
    h = Http("http://x", KEY, provider="demo")
    assert KEY not in repr(h) and KEY not in str(vars(h).get("base_url"))


# -- every provider's error paths, with a known key: it must show up in no error -------------


def _provider_errors(name: str, srv: Any) -> list[BaseException]:
    from storyboard.providers.aivideoapi import AivideoapiProvider
    from storyboard.providers.kie import KieProvider
    from storyboard.providers.nanophoto import NanophotoProvider
    from storyboard.providers.veo3o1 import Veo3o1Provider
    from tests.providers.conftest import compiled, task

    cls = {
        "veo3o1": Veo3o1Provider,
        "nanophoto": NanophotoProvider,
        "aivideoapi": AivideoapiProvider,
        "kie": KieProvider,
    }[name]

    def make(key: str | None = KEY) -> Any:
        return cls(base_url=srv.base_url, api_key=key, sleep=Sleeps(), retries=1)

    def attempt(fn: Any) -> None:
        try:
            fn()
        except Exception as exc:
            out.append(exc)
        else:
            raise AssertionError(f"{name}: no error raised")

    out: list[BaseException] = []
    p = make()
    (request,) = p.requests([compiled()])
    attempt(lambda: make(KEY + "-wrong").submit(request))
    attempt(lambda: make(None).submit(request))
    for kind in ("429", "500", "503", "drop"):
        srv.fault(kind, on="submit", times=2, retry_after=0)
        attempt(lambda: p.submit(request))
        srv.fault(kind, on="poll", times=2, retry_after=0)
        attempt(lambda: p.poll([task("s1", "t-1", name)]))
    srv.credits = 0
    attempt(lambda: p.submit(request))
    attempt(lambda: p.poll([task("s1", "no-such-task", name)]))
    return out


@pytest.mark.parametrize("name", ["veo3o1", "nanophoto", "aivideoapi", "kie"])
def test_no_error_carries_the_key(server: Any, name: str) -> None:
    srv = server(name)
    errors = _provider_errors(name, srv)
    assert len(errors) == 12
    for exc in errors:
        from storyboard.errors import StoryboardError

        assert isinstance(exc, StoryboardError), repr(exc)  # never a raw httpx error
        assert_no_key(exc)
        assert KEY not in exc.format()


# -- submissions: never paid twice by our own retries ------------------------------------------
@pytest.mark.parametrize(
    "step",
    ["drop", (502, {}, b"<html>Bad Gateway</html>"), (503, {}, b""), (500, {}, b"oops")],
)
def test_a_submission_whose_answer_is_lost_is_not_sent_again(
    scripted: Any, sleeps: Sleeps, step: Step
) -> None:
    srv = scripted(step, (200, {}, b"{}"))
    client = http(srv, sleeps)
    with client.submission(), pytest.raises(ReplyLost) as info:
        client.request("POST", "/generate", json={"prompt": "p"})
    assert len(srv.seen) == 1 and sleeps.calls == []
    assert not info.value.retryable and "may have started (and charged for) it" in str(info.value)
    assert info.value.cause.startswith(("the connection dropped", "the request was sent"))
    assert_no_key(info.value)
    # outside a submission (a poll) the same failure is retried
    assert client.request("GET", "/status").json() == {}


def test_a_submission_is_retried_when_the_service_did_not_take_it(scripted: Any, sleeps: Sleeps) -> None:
    def check(r: Any) -> ProviderError | None:  # the service's own error body: it failed
        if r.content == b'{"code": 5000}':
            return TransientError("body says 5000")
        return client.status_error(r)

    srv = scripted((429, {"Retry-After": "2"}, b""), (500, {}, b'{"code": 5000}'), (200, {}, b'{"id": 1}'))
    client = http(srv, sleeps)
    with client.submission():
        assert client.request("POST", "/generate", json={}, check=check).json() == {"id": 1}
    assert len(srv.seen) == 3 and len(sleeps.calls) == 2 and sleeps.calls[0] == 2.0


def test_submission_retries_are_few(scripted: Any, sleeps: Sleeps) -> None:
    srv = scripted(*[(429, {"Retry-After": "0"}, b"")] * 10)
    client = http(srv, sleeps, retries=5)
    with client.submission(), pytest.raises(RateLimitError):
        client.request("POST", "/generate", json={})
    assert len(srv.seen) == SUBMIT_RETRIES + 1


def test_a_refused_connection_is_retried_even_for_a_submission(sleeps: Sleeps) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = Http(f"http://127.0.0.1:{port}", KEY, sleep=sleeps, retries=2)
    with client.submission(), pytest.raises(TransientError) as info:
        client.request("POST", "/generate", json={})
    assert len(sleeps.calls) == 2 and not isinstance(info.value, ReplyLost)  # nothing was sent


def test_a_stopping_render_ends_a_submissions_backoff(scripted: Any) -> None:
    srv = scripted(*[(429, {"Retry-After": "30"}, b"")] * 3)
    client = Http(srv.url, KEY, provider="demo")  # real sleeps: the event must cut them short
    client.cancel = threading.Event()
    threading.Timer(0.2, client.cancel.set).start()
    t0 = time.monotonic()
    with client.submission(), pytest.raises(RateLimitError):
        client.request("POST", "/generate", json={})
    # asked once: the 30 s backoff was cut short (else it would have asked again after it)
    assert len(srv.seen) == 1 and time.monotonic() - t0 < 30


def test_every_hosted_plugins_submit_runs_as_a_submission(scripted: Any) -> None:
    from storyboard.providers.hosted import HostedProvider

    class Demo(HostedProvider):
        name = "demo"
        env = "DEMO"
        default_base_url = "http://127.0.0.1:1"

        def shot_body(self, shot: Any) -> Any:
            return {}, ()

        def cost(self, shot: Any) -> Any:
            return None

        def submit(self, request: Any) -> dict[str, str]:
            self.http.request("POST", "/generate", json={})
            return {"s": "t"}

        def poll(self, tasks: Any) -> Any:
            return self.http.request("GET", "/status").json()

    srv = scripted("drop", "drop", (200, {}, b'{"ok": 1}'))
    p = Demo(base_url=srv.url, api_key=KEY, sleep=Sleeps())
    with pytest.raises(ReplyLost):
        p.submit(None)
    assert p.poll([]) == {"ok": 1}  # the poll's dropped connection was retried
    assert len(srv.seen) == 3


# -- a service that takes the request and never answers -----------------------------------------
@pytest.fixture
def silent() -> Iterator[tuple[str, list[socket.socket]]]:
    """A server that accepts connections, reads what comes, and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    taken: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            taken.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", taken
    stop.set()
    thread.join()
    for conn in taken:
        conn.close()
    listener.close()


def test_no_answer_to_a_submission_says_it_timed_out_and_after_how_long(silent: Any, sleeps: Sleeps) -> None:
    url, taken = silent
    client = Http(url, KEY, provider="demo", sleep=sleeps, timeout=0.3)
    with client.submission(), pytest.raises(ReplyLost) as info:
        client.request("POST", "/generate", json={})
    assert "timed out" in info.value.cause and "within 0.3 s" in info.value.cause
    assert "dropped" not in str(info.value)
    assert len(taken) == 1 and sleeps.calls == []  # sent once: it may have been taken


def test_no_answer_to_a_poll_is_a_retried_time_out(silent: Any, sleeps: Sleeps) -> None:
    url, taken = silent
    client = Http(url, KEY, provider="demo", sleep=sleeps, timeout=0.3, retries=1)
    with pytest.raises(TransientError) as info:
        client.request("GET", "/status")
    assert "timed out" in str(info.value) and "within 0.3 s" in str(info.value)
    assert len(taken) == 2 and len(sleeps.calls) == 1


def test_replies_reach_the_caller_redacted(scripted: Any, sleeps: Sleeps) -> None:
    srv = scripted((200, {"X-Echo": KEY}, f'{{"id": "t1", "note": "{KEY[3:20]}"}}'.encode()))
    reply = http(srv, sleeps).request("GET", "/x")
    assert reply.json() == {"id": "t1", "note": "[redacted]"}
    assert KEY not in reply.text and reply.headers["x-echo"] == "[redacted]"


@pytest.mark.parametrize(
    ("task_id", "sent"),
    [
        ("veo_task_ab12", "veo_task_ab12"),
        ("../../v1/admin", "..%2F..%2Fv1%2Fadmin"),
        ("x?y=1#z", "x%3Fy%3D1%23z"),
        ("..", "%2E%2E"),
        ("a b", "a%20b"),
    ],
)
def test_a_task_id_is_one_path_segment(task_id: str, sent: str) -> None:
    from storyboard.providers.http import segment

    assert segment(task_id) == sent


def test_the_key_goes_only_to_the_services_own_origin(server: Any) -> None:
    """A reply may name an absolute URL on another host: it is sent no key. The key travels as
    the provider's `auth` says (a header of its own, or a query parameter)."""
    from storyboard.providers.base import Auth

    own, other = server("aivideoapi"), server("kie")
    http = Http(own.base_url, KEY, sleep=Sleeps(), retries=0)
    http.request(
        "GET", f"{other.base_url}/api/v1/veo/record-info", params={"taskId": "x"}, check=lambda r: None
    )
    (elsewhere,) = other.requests
    assert "Authorization" not in elsewhere.headers and KEY not in repr(elsewhere)
    http.request("GET", "/v1/tasks/nope", check=lambda r: None)
    assert own.requests[-1].headers["Authorization"] == "REDACTED"  # Bearer, on its own host

    keyed = Http(own.base_url, KEY, sleep=Sleeps(), retries=0, auth=Auth(header="x-goog-api-key", scheme=""))
    keyed.request("GET", "/v1/tasks/nope", check=lambda r: None)
    assert "Authorization" not in own.requests[-1].headers
    assert own.requests[-1].headers.get("x-goog-api-key") == "REDACTED"
    query = Http(own.base_url, KEY, sleep=Sleeps(), retries=0, auth=Auth(query="key"))
    query.request("GET", "/v1/tasks/nope", check=lambda r: None)
    assert own.requests[-1].query == {"key": KEY} and "Authorization" not in own.requests[-1].headers
