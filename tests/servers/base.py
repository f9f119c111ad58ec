"""The machinery every loopback provider shares: HTTP plumbing, tasks, credits, faults.

A `FakeProvider` is a real HTTP server on 127.0.0.1 (a random free port, a daemon thread)
that a provider module teaches one vendor's protocol by listing `Route`s. Everything the
tests look at lives on the instance and is guarded by `lock`:

- `requests`: every request as a `RequestRecord` (the key's headers redacted: Authorization,
  x-goog-api-key);
- `accepted`: one dict `{"task_id", "shot_id", "body"}` per created task;
- `tasks`: task id -> `Task`, whose `status` moves pending -> processing -> completed (or
  failed) by elapsed time: pending for the first quarter of the job, done at `ready_at`;
- `credits`: the balance; a task is charged when created and refunded when it is first seen
  failed (every document says failed jobs are refunded);
- `hold(on, until)`: requests to `on` wait for their answer until `until` of them have come
  (how many a concurrent client had in flight together, whatever the machine's speed);
- `fault(kind, on=..., times=1, **params)`: queued faults. A request consumes at most one
  fault: the earliest queued one that applies to it. `fail_job` is consumed by the next
  created task instead, whatever the endpoint. `drop` closes the connection before doing
  anything; `accept_drop` and `accept_500` do the request (create and charge the task), then
  close the connection without a reply, or answer a bare HTTP 500 (a proxy's page); `echo` is a
  careless proxy's page (HTTP `status`, 400) echoing the request's headers, the key among them,
  after `offset` characters, each value in `form` (tests.servers.echo.FORMS: "php" escapes
  `/` as `\\/`, "percent", "html-hex", "base64", "mixed"...; default "raw"). `no_link` (on
  "poll") takes the link out of one "completed" status of a reply (or sets it to `value`): it
  is consumed only by a reply that had one to take, so `times=1` strips exactly one status,
  and a large `times` every status.

Clips are served at `/files/<task_id>.mp4` without auth (they stand for CDN links).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

import jsonschema

from tests.servers.echo import FORMS

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "provider_schemas"

FAULT_KINDS = (
    "429",
    "500",
    "503",
    "drop",
    "accept_drop",
    "accept_500",
    "fail_job",
    "truncate",
    "corrupt",
    "trickle",
    "slow",
    "echo",
    "no_link",
)
_AFTER = ("accept_drop", "accept_500")  # faults that strike once the request is done
FAULT_PLACES = ("submit", "poll", "download", "upload", "any")
_DOWNLOAD_ONLY = ("truncate", "corrupt", "trickle")

SECRET_HEADERS = ("authorization", "x-goog-api-key")  # kept out of `requests` (the key's headers)

# the word that content checks refuse, as a whole word in a prompt
FORBIDDEN = re.compile(r"\bFORBIDDEN\b")


@dataclass
class RequestRecord:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # Authorization is "REDACTED"
    body: Any  # parsed JSON, or None; uploads: {field: {filename, contentType, size, format}}
    status: int | None = None  # None: no reply was sent (a dropped connection)


@dataclass
class Fault:
    kind: str
    on: str
    times: int
    params: dict[str, Any]


@dataclass
class Task:
    task_id: str
    created_at: float  # the server's clock (time.time() unless a test moves it by hand)
    ready_at: float  # when it completes (or fails)
    body: dict[str, Any]  # what it was made from (nanophoto: the shot's object)
    request: dict[str, Any]  # the whole request body
    cost: int
    shot_id: str | None = None
    fail_reason: str | None = None  # set: the task ends failed with these words
    fail_params: dict[str, Any] = field(default_factory=dict)
    parent: str | None = None  # extensions: the task extended
    refunded: bool = False
    info: dict[str, Any] = field(default_factory=dict)  # provider specifics (model, aspect...)
    result_url: str = ""  # the clip, once completed
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)

    def state(self, now: float | None = None) -> str:
        now = self.clock() if now is None else now
        if now >= self.ready_at:
            return "failed" if self.fail_reason is not None else "completed"
        if now < self.created_at + (self.ready_at - self.created_at) * 0.25:
            return "pending"
        return "processing"

    @property
    def status(self) -> str:
        """pending | processing | completed | failed (the provider maps it to its own words)."""
        return self.state()

    def progress(self, now: float | None = None) -> int:
        now = self.clock() if now is None else now
        span = self.ready_at - self.created_at
        if span <= 0 or now >= self.ready_at:
            return 100
        return max(0, min(99, int(100 * (now - self.created_at) / span)))

    def remaining(self, now: float | None = None) -> float:
        now = self.clock() if now is None else now
        return max(0.0, self.ready_at - now)


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON-able, or bytes (then content_type says what)
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    truncate: bool = False  # send Content-Length of the whole body, then half, then close
    trickle: bool = False  # send the body a few bytes at a time, 0.05 s apart (a stuck CDN)


class Refusal(Exception):  # control flow, not an error of ours
    """Raised by a route to answer with `reply` (the provider's documented error)."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


@dataclass
class Incoming:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    raw: bytes
    record: RequestRecord
    fault: Fault | None = None  # a download fault (truncate/corrupt) for this request

    def json(self) -> Any:
        """The body as JSON; raises ValueError when it is not JSON."""
        return json.loads(self.raw.decode("utf-8"))


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str  # a regex for the whole path; named groups become keyword arguments
    endpoint: str  # submit | poll | upload | download | other: where faults apply
    handler: Callable[..., Reply]
    auth: bool = True


@cache
def load_schema(name: str) -> dict[str, Any]:
    """tests/provider_schemas/<name>.schema.json as a dict."""
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text("utf-8"))


@cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = load_schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def schema_errors(name: str, instance: Any) -> list[str]:
    """Every way `instance` breaks schema `name`, as "path: message", most relevant first."""
    validator = _validator(name)
    best = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if best is None:
        return []
    rest = sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    out = [_describe(best)]
    out += [d for d in map(_describe, rest) if d not in out]
    return out


def _describe(err: jsonschema.ValidationError) -> str:
    path = ""
    for part in err.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return f"{path or '(body)'}: {err.message}"


def is_http_url(value: Any) -> bool:
    return isinstance(value, str) and re.match(r"^https?://[^\s/]+", value) is not None


def set_link(holder: dict[str, Any], key: str, value: Any, remove: bool) -> bool:
    """A status's link taken out (`remove`) or set to `value` (the no_link fault); True."""
    if remove:
        holder.pop(key, None)
    else:
        holder[key] = value
    return True


def sniff_image(data: bytes) -> str | None:
    """jpeg | png | webp by content, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def parse_multipart(content_type: str, raw: bytes) -> list[tuple[str, str | None, str | None, bytes]]:
    """multipart/form-data parts as (name, filename, content type, data); ValueError if bad."""
    m = re.match(r"^\s*multipart/form-data\s*;.*boundary=(\"?)([^\";]+)\1", content_type, re.I)
    if not m:
        raise ValueError("expected multipart/form-data with a boundary")
    delim = b"--" + m.group(2).encode("latin-1")
    sections = raw.split(delim)
    if len(sections) < 3 or not sections[-1].startswith(b"--"):
        raise ValueError("malformed multipart body")
    parts = []
    for sec in sections[1:-1]:
        if not sec.startswith(b"\r\n") or not sec.endswith(b"\r\n"):
            raise ValueError("malformed multipart body")
        head, sep, data = sec[2:-2].partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("malformed multipart part")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        disp = headers.get("content-disposition", "")
        name = re.search(r'\bname="([^"]*)"', disp)
        filename = re.search(r'\bfilename="([^"]*)"', disp)
        if not disp.lower().startswith("form-data") or not name:
            raise ValueError("a part without Content-Disposition: form-data; name=...")
        parts.append(
            (name.group(1), filename.group(1) if filename else None, headers.get("content-type"), data)
        )
    return parts


class FakeProvider:
    """One vendor's service on 127.0.0.1. Subclasses set `name` and define `routes()`."""

    name: ClassVar[str] = ""
    default_api_key: ClassVar[str] = ""

    def __init__(
        self,
        clip: Path | str | None = None,
        api_key: str | None = None,
        job_seconds: float = 0.0,
        credits: int = 10_000,
    ) -> None:
        self.clip: Path | None = Path(clip) if clip is not None else None
        # clip_for(task_id) -> Path picks a different clip per task (end-to-end tests check order)
        self.clip_for: Callable[[str], Path] | None = None
        self.api_key: str = api_key or self.default_api_key
        self.job_seconds = float(job_seconds)
        # what jobs, outages and refunds are timed by: a test that checks timing sets a
        # ManualClock here instead of racing the machine's
        self.clock: Callable[[], float] = time.time
        # jobs end over a spread of time: each lasts job_seconds * (1 - job_spread * u), u uniform
        # in [0, 1) from a seeded generator (benchmarks: not every job ends in the same second)
        self.job_spread = 0.0
        self._job_random = random.Random(7)
        self.lock = threading.RLock()
        self.requests: list[RequestRecord] = []
        self.accepted: list[dict[str, Any]] = []
        self.tasks: dict[str, Task] = {}
        self.errors: list[str] = []  # tracebacks of bugs in the fake itself: should stay empty
        # on_accept(task) runs once a task is created and charged, before the reply is sent
        # (tests kill the client or fill its disk at that moment)
        self.on_accept: Callable[[Task], None] | None = None
        self._outages: list[list[Any]] = []  # [endpoint, until, kind, requests left or None]
        self._chaos: Chaos | None = None
        self.base_url = ""
        self._credits = int(credits)
        self._faults: list[Fault] = []
        self._closing = threading.Event()
        self._held = threading.Condition(self.lock)
        self._holds: list[list[Any]] = []  # [endpoint, requests still awaited]
        self._conns: set[socket.socket] = set()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._routes = [(r, re.compile(r.pattern)) for r in self.routes()]

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeProvider:
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.fake = self
        self._httpd = httpd
        self.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            daemon=True,
            name=f"fake-{self.name}",
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, cut open connections, free the port. Safe to call twice."""
        self._closing.set()
        with self._held:  # held requests go now
            self._held.notify_all()
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        with self.lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=60)  # at once, unless the machine is very busy

    def __enter__(self) -> FakeProvider:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        self.close()
        if kind is None and self.errors:  # a bug in the fake must fail the test that met it
            raise AssertionError(f"the fake {self.name} server failed itself:\n" + "\n".join(self.errors))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.base_url or '(stopped)'}>"

    # -- to be defined by each provider ----------------------------------------------------
    def routes(self) -> list[Route]:
        raise NotImplementedError

    def auth_error(self) -> Reply:
        raise NotImplementedError

    def rate_limited(self) -> Reply:
        raise NotImplementedError

    def server_error(self) -> Reply:
        raise NotImplementedError

    def unavailable(self) -> Reply:
        """HTTP 503 as a load balancer in front of the service sends it."""
        return Reply(503, b"503 Service Unavailable\n", content_type="text/plain; charset=utf-8")

    def not_found(self, path: str = "") -> Reply:
        return Reply(404, b"404 Not Found\n", content_type="text/plain; charset=utf-8")

    def new_task_id(self) -> str:
        return os.urandom(16).hex()

    def strip_link(self, body: Any, value: Any = None, *, remove: bool = True) -> bool:
        """Take the link out of one "completed" status in a reply's JSON `body` (`remove`:
        the field goes; else it is set to `value`). False when the body holds none."""
        raise NotImplementedError

    def servable(self, name: str) -> bool:
        """May /files/<name>.mp4 be downloaded now? By default: the task has completed."""
        with self.lock:
            task = self.tasks.get(name)
        return task is not None and task.status == "completed"

    # -- state -----------------------------------------------------------------------------
    @property
    def credits(self) -> int:
        with self.lock:
            self._settle()
            return self._credits

    @credits.setter
    def credits(self, value: int) -> None:
        with self.lock:
            self._credits = int(value)

    def _settle(self) -> None:
        """Refund failed tasks once (all four documents promise refunds on failure)."""
        now = self.clock()
        for task in self.tasks.values():
            if not task.refunded and task.fail_reason is not None and task.state(now) == "failed":
                task.refunded = True
                self._credits += task.cost

    def balance_for(self, cost: int) -> tuple[bool, int]:
        """(enough?, current balance) with failed tasks refunded first."""
        with self.lock:
            self._settle()
            return self._credits >= cost, self._credits

    def create_task(
        self,
        body: dict[str, Any],
        request: dict[str, Any],
        cost: int,
        *,
        shot_id: str | None = None,
        fail_reason: str | None = None,
        parent: str | None = None,
        info: dict[str, Any] | None = None,
    ) -> Task:
        """Charge `cost` (the caller has checked the balance) and make a task."""
        with self.lock:
            now = self.clock()
            task_id = self.new_task_id()
            task = Task(
                task_id=task_id,
                created_at=now,
                ready_at=now + self.job_length(),
                body=body,
                request=request,
                cost=cost,
                shot_id=shot_id,
                parent=parent,
                info=dict(info or {}),
                result_url=f"{self.base_url}/files/{task_id}.mp4",
                clock=lambda: self.clock(),
            )
            fault = self._take_fault(None, ("fail_job",))
            if fault is None and self._chaos is not None and self._chaos.hit("fail_job"):
                fault = Fault("fail_job", "any", 1, {"reason": "Video generation failed (chaos)"})
            if fault is not None:
                task.fail_reason = str(fault.params.get("reason", "Video generation failed"))
                task.fail_params = dict(fault.params)
            elif fail_reason is not None:
                task.fail_reason = fail_reason
            self._credits -= cost
            self.tasks[task_id] = task
            self.accepted.append({"task_id": task_id, "shot_id": shot_id, "body": request})
        if self.on_accept is not None:
            self.on_accept(task)
        return task

    def job_length(self) -> float:
        """How long the next job takes (see job_spread)."""
        with self.lock:
            u = self._job_random.random() if self.job_spread else 0.0
        return max(0.0, self.job_seconds * (1.0 - self.job_spread * u))

    def finish(self, task_id: str | None = None) -> None:
        """Make one task (or every task) reach its end now, whatever job_seconds said."""
        with self.lock:
            now = self.clock()
            for task in self.tasks.values():
                if task_id is None or task.task_id == task_id:
                    task.ready_at = min(task.ready_at, now)

    def task(self, task_id: str) -> Task | None:
        with self.lock:
            return self.tasks.get(task_id)

    # -- faults ----------------------------------------------------------------------------
    def fault(self, kind: str, on: str | None = None, times: int = 1, **params: Any) -> None:
        """Queue `times` faults of `kind` for requests to `on` (see the module docstring).

        `on` defaults to "download" for truncate/corrupt, "poll" for no_link and "submit"
        otherwise; fail_job ignores it (the next created task fails). params: retry_after (429,
        seconds, default 1), seconds (slow, default 1), reason (fail_job), value (no_link: the
        link's value instead of none), and what a provider documents.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {', '.join(FAULT_KINDS)}")
        if on is None:
            on = "download" if kind in _DOWNLOAD_ONLY else "poll" if kind == "no_link" else "submit"
        if on not in FAULT_PLACES:
            raise ValueError(f"unknown place {on!r}; one of {', '.join(FAULT_PLACES)}")
        if kind in _DOWNLOAD_ONLY and on not in ("download", "any"):
            raise ValueError(f"{kind} applies to downloads only")
        if times < 1:
            raise ValueError("times must be at least 1")
        with self.lock:
            self._faults.append(Fault(kind, on, int(times), dict(params)))

    def outage(
        self, seconds: float = float("inf"), on: str = "poll", kind: str = "html404", requests: int = 0
    ) -> None:
        """For the next `seconds` (or, given `requests`, for that many requests), every request
        to `on` gets a proxy's answer instead of the service's: `html404` (an HTML 404 page),
        `html400`, `bare502`, or `drop`. By count, an outage is met however slow the machine."""
        with self.lock:
            self._outages.append([on, self.clock() + seconds, kind, requests or None])

    def chaos(self, seed: int, **rates: float) -> Chaos:
        """Faults at random, each with its rate: see `Chaos`."""
        with self.lock:
            self._chaos = Chaos(seed, rates)
            return self._chaos

    def hold(self, on: str = "submit", until: int = 2) -> None:
        """Requests to `on` get no answer until `until` of them have arrived: a test of
        concurrent clients then knows how many were in flight together, however slow the
        machine. A client that never sends that many is answered after 60 s (it fails its
        count, it does not hang)."""
        if on not in FAULT_PLACES:
            raise ValueError(f"unknown place {on!r}; one of {', '.join(FAULT_PLACES)}")
        with self.lock:
            self._holds.append([on, int(until)])

    def _hold(self, endpoint: str) -> None:
        with self._held:
            holds = [h for h in self._holds if h[0] in (endpoint, "any")]
            for h in holds:
                h[1] -= 1
            self._held.notify_all()
            self._held.wait_for(lambda: all(h[1] <= 0 for h in holds) or self._closing.is_set(), 60)
            self._holds = [h for h in self._holds if h[1] > 0]

    def clear_outages(self) -> None:
        with self.lock:
            self._outages.clear()

    def paid_for(self) -> dict[str, int]:
        """Tasks charged and not refunded, by prompt: the money a client spent on each shot."""
        with self.lock:
            self._settle()
            out: dict[str, int] = {}
            for task in self.tasks.values():
                if not task.refunded:
                    prompt = str(task.body.get("prompt") or task.body.get("input", {}).get("prompt", ""))
                    out[prompt] = out.get(prompt, 0) + 1
            return out

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()

    @property
    def pending_faults(self) -> list[Fault]:
        with self.lock:
            return list(self._faults)

    def _take_fault(self, endpoint: str | None, kinds: tuple[str, ...]) -> Fault | None:
        with self.lock:
            for fault in self._faults:
                if fault.kind not in kinds:
                    continue
                if endpoint is not None and fault.on not in (endpoint, "any"):
                    continue
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _fault_reply(self, fault: Fault) -> Reply:
        if fault.kind == "429":
            reply = self.rate_limited()
            retry = fault.params.get("retry_after", 1)
            reply.headers["Retry-After"] = f"{retry:g}" if isinstance(retry, float) else str(retry)
            return reply
        if fault.kind == "500":
            return self.server_error()
        return self.unavailable()

    def echo(self, req: Incoming, fault: Fault) -> Reply:
        """A careless proxy's error page: `offset` characters, then the request's headers as
        sent, each value in `form`: those that carry the key first (a 300-character snippet
        of the page holds it in any form)."""
        form = FORMS[fault.params.get("form", "raw")]
        headers = sorted(req.headers.items(), key=lambda kv: self.api_key not in kv[1])
        shown = "".join(f"{k}: {form(v)}\r\n" for k, v in headers)
        text = "x" * int(fault.params.get("offset", 0)) + shown
        status = int(fault.params.get("status", 400))
        return Reply(status, text.encode(), content_type="text/plain; charset=utf-8")

    # -- helpers for routes ----------------------------------------------------------------
    def authorized(self, req: Incoming) -> bool:
        return req.headers.get("authorization", "") == f"Bearer {self.api_key}"

    def download(self, req: Incoming, name: str) -> Reply:
        if not self.servable(name) or (self.clip is None and self.clip_for is None):
            return self.not_found(req.path)
        data = (self.clip_for(name) if self.clip_for else self.clip).read_bytes()  # type: ignore[union-attr]
        fault = req.fault
        if fault is not None and fault.kind == "corrupt":
            data = _garbage(len(data), data)
        reply = Reply(200, data, content_type="video/mp4")
        reply.truncate = fault is not None and fault.kind == "truncate"
        reply.trickle = fault is not None and fault.kind == "trickle"
        return reply

    def download_route(self) -> Route:
        return Route("GET", r"/files/(?P<name>[A-Za-z0-9_.-]+?)\.mp4", "download", self.download, auth=False)

    # -- dispatch (called from the handler thread) -----------------------------------------
    def _dispatch(self, req: Incoming) -> Reply | None:
        """The reply to send, or None to drop the connection."""
        matched = None
        allowed = False
        for route, rx in self._routes:
            m = rx.fullmatch(req.path)
            if m is None:
                continue
            allowed = True
            if route.method == req.method or (route.method == "GET" and req.method == "HEAD"):
                matched = (route, m.groupdict())
                break
        if matched is None:
            if allowed:
                return Reply(405, {"error": "method not allowed"})
            return self.not_found(req.path)
        route, args = matched
        self._hold(route.endpoint)
        outage = self._outage(route.endpoint)
        if outage == "drop":
            return None
        if outage is not None:
            return _proxy_page(outage)
        kinds = ("429", "500", "503", "drop", "slow", "echo", *_AFTER)
        if route.endpoint == "download":
            kinds += _DOWNLOAD_ONLY
        fault = self._take_fault(route.endpoint, kinds)
        if fault is None and self._chaos is not None:
            fault = self._chaos.fault(route.endpoint)
        if fault is not None:
            if fault.kind == "drop":
                return None
            if fault.kind == "echo":
                return self.echo(req, fault)
            if fault.kind == "slow":
                self._closing.wait(float(fault.params.get("seconds", 1.0)))
            elif fault.kind in _DOWNLOAD_ONLY:
                req.fault = fault
            elif fault.kind not in _AFTER:
                return self._fault_reply(fault)
        if route.auth and not self.authorized(req):
            return self.auth_error()
        try:
            reply = route.handler(req, **args)
        except Refusal as r:
            reply = r.reply
        if fault is not None and fault.kind == "accept_drop":
            return None  # done (and charged), but the answer never leaves
        if fault is not None and fault.kind == "accept_500":
            return Reply(500, b"500 Internal Server Error\n", content_type="text/plain; charset=utf-8")
        if fault is None and route.endpoint == "poll":
            self._no_link(reply)
        return reply

    def _no_link(self, reply: Reply) -> None:
        """The first queued no_link fault, spent only if this reply had a link to take."""
        with self.lock:
            fault = next((f for f in self._faults if f.kind == "no_link" and f.on in ("poll", "any")), None)
            if fault is None or not isinstance(reply.body, dict):
                return
            if "value" in fault.params:
                stripped = self.strip_link(reply.body, fault.params["value"], remove=False)
            else:
                stripped = self.strip_link(reply.body)
            if stripped:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)

    def _outage(self, endpoint: str) -> str | None:
        now = self.clock()
        with self.lock:
            self._outages = [o for o in self._outages if o[1] > now and o[3] != 0]
            for outage in self._outages:
                on, _, kind, left = outage
                if on in (endpoint, "any"):
                    if left is not None:
                        outage[3] = left - 1
                    return kind
            return None


class ManualClock:
    """A clock that moves only when a test says so: `srv.clock = clock = ManualClock()`, then
    `clock.advance(0.2)`. Timing is tested by moving it, never by sleeping."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Chaos:
    """Random faults, reproducible by seed. Rates (0-1) by name:

    submit_429, submit_500 (the service's own error body: not taken), submit_drop (before the
    request is read: not taken), submit_accept_drop (taken and charged, the answer lost),
    poll_503, poll_drop, fail_job (a created task ends failed, refunded), truncate, corrupt.
    """

    def __init__(self, seed: int, rates: dict[str, float]) -> None:
        import random

        self.random = random.Random(seed)
        self.rates = dict(rates)
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}

    def hit(self, name: str) -> bool:
        rate = self.rates.get(name, 0.0)
        with self.lock:
            if rate and self.random.random() < rate:
                self.counts[name] = self.counts.get(name, 0) + 1
                return True
        return False

    def fault(self, endpoint: str) -> Fault | None:
        table = {
            "submit": (
                ("submit_429", "429"),
                ("submit_500", "500"),
                ("submit_drop", "drop"),
                ("submit_accept_drop", "accept_drop"),
            ),
            "poll": (("poll_503", "503"), ("poll_drop", "drop")),
            "download": (("truncate", "truncate"), ("corrupt", "corrupt")),
        }
        for name, kind in table.get(endpoint, ()):
            if self.hit(name):
                return Fault(kind, endpoint, 1, {"retry_after": 0})
        return None


def _proxy_page(kind: str) -> Reply:
    """What a proxy or load balancer in front of a service answers: not the service's JSON."""
    status = {"html404": 404, "html400": 400, "bare502": 502}[kind]
    page = f"<html><head><title>{status}</title></head><body><h1>{status}</h1>nginx</body></html>"
    return Reply(status, page.encode(), content_type="text/html")


def _garbage(n: int, avoid: bytes) -> bytes:
    out = os.urandom(n)
    while n and out == avoid:  # astronomically unlikely; keeps the fault honest
        out = os.urandom(n)
    return out


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # socketserver listens with a backlog of 5: 20 clients connecting at once on a loaded
    # machine overflowed it before the accept thread ran, and connections were reset
    request_queue_size = 128
    fake: FakeProvider

    def handle_error(self, request: Any, client_address: Any) -> None:
        # quiet: connection resets are the client's business; anything else is our bug
        exc = traceback.format_exc()
        if not any(s in exc for s in ("ConnectionResetError", "BrokenPipeError", "TimeoutError")):
            with self.fake.lock:
                self.fake.errors.append(exc)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-provider/1"
    sys_version = ""
    timeout = 60  # an idle keep-alive connection frees its thread eventually
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        # replies go out in one write, but without this a client's delayed ACK can still
        # cost 40 ms a request
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.fake.lock:
            self.server.fake._conns.add(self.connection)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        with self.server.fake.lock:
            self.server.fake._conns.discard(self.connection)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        fake = self.server.fake
        split = urlsplit(self.path)
        raw = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        shown = {k: ("REDACTED" if k.lower() in SECRET_HEADERS else v) for k, v in self.headers.items()}
        body: Any = None
        if raw:
            with contextlib.suppress(ValueError, UnicodeDecodeError):
                body = json.loads(raw.decode("utf-8"))
        record = RequestRecord(self.command, split.path, dict(parse_qsl(split.query)), shown, body)
        with fake.lock:
            fake.requests.append(record)
        req = Incoming(self.command, split.path, record.query, headers, raw, record)
        try:
            reply = fake._dispatch(req)
        except Exception:
            with fake.lock:
                fake.errors.append(traceback.format_exc())
            reply = fake.server_error()
        if reply is None:  # drop: no reply at all (accept_drop: after the work was done)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        record.status = reply.status
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        if isinstance(reply.body, bytes):
            data = reply.body
        else:
            data = json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in reply.headers.items():
            self.send_header(k, v)
        if reply.truncate:
            self.send_header("Connection", "close")
        self._headers_buffer.append(b"\r\n")  # end_headers() without its flush
        head = b"".join(self._headers_buffer)
        self._headers_buffer = []
        if self.command == "HEAD":
            self.wfile.write(head)
            return
        if reply.trickle:  # until the client gives up (or, after minutes, the whole body)
            self.wfile.write(head)
            for i in range(0, len(data), 16):
                try:
                    self.wfile.write(data[i : i + 16])
                    self.wfile.flush()
                except OSError:
                    return
                if self.server.fake._closing.wait(0.05):  # the server is stopping: so do we
                    return
            return
        if reply.truncate:
            self.wfile.write(head + data[: len(data) // 2])
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(head + data)
