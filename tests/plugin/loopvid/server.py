"""loopvid on 127.0.0.1: its whole (invented) protocol, for the plugin's end-to-end tests.

    with LoopvidServer(clip=path, key="lv-...").start() as srv:
        srv.base_url, srv.requests, srv.accepted, srv.tokens, srv.fault("lose")

A clip is queued for the first quarter of `job_seconds`, rendering until it is done, then
ready (or broken, when its job was made to fail). 7 tokens a clip, charged when accepted and
given back when it breaks. Faults, each met by the next request it applies to:

    lose      (submit) the clip is made and charged, and the answer never leaves
    overloaded  (any) 503 with loopvid's own trouble body: nothing was done
    bare404   (poll)  a proxy's plain 404 page: says nothing about the clip
    break     (the next clip made) its job fails, with `why`
    echo      (any)   a 400 whose plain-text body echoes the request's headers after
                      `offset` characters of padding (a careless proxy)
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import threading
import time
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PRICE = 7


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]  # Authorization, when sent, is "REDACTED"
    body: Any


@dataclass
class Clip:
    id: str
    body: dict[str, Any]
    made: float
    ready: float
    why: str | None = None
    refunded: bool = False

    def phase(self, now: float) -> str:
        if now >= self.ready:
            return "broken" if self.why else "ready"
        return "queued" if now < self.made + (self.ready - self.made) / 4 else "rendering"


@dataclass
class Fault:
    kind: str
    params: dict[str, Any] = field(default_factory=dict)


class LoopvidServer:
    def __init__(
        self, clip: Path | None = None, key: str = "lv-Tq8Wm3Zr6Yp1Kc5Nd9", job_seconds: float = 0.0
    ):
        self.clip = clip
        self.key = key
        self.job_seconds = job_seconds
        self.tokens = 1000
        self.lock = threading.RLock()
        self.requests: list[Seen] = []
        self.accepted: list[dict[str, Any]] = []
        self.clips: dict[str, Clip] = {}
        self.errors: list[str] = []  # the server's own bugs: a test asserts there are none
        self._faults: list[Fault] = []
        self._httpd: ThreadingHTTPServer | None = None
        self.base_url = ""

    # lifecycle ---------------------------------------------------------------------------------
    def start(self) -> LoopvidServer:
        outer = self

        class Handler(_Handler):
            server_side = outer

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def close(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> LoopvidServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fault(self, kind: str, **params: Any) -> None:
        with self.lock:
            self._faults.append(Fault(kind, params))

    def finish(self) -> None:
        with self.lock:
            for clip in self.clips.values():
                clip.ready = min(clip.ready, time.time())

    def downloads(self) -> list[Seen]:
        with self.lock:
            return [r for r in self.requests if r.path.startswith("/media/")]

    # the protocol ------------------------------------------------------------------------------
    def _take(self, *kinds: str) -> Fault | None:
        with self.lock:
            for f in self._faults:
                if f.kind in kinds:
                    self._faults.remove(f)
                    return f
        return None

    def answer(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any] | None:
        """(status, JSON or bytes) to send, or None to drop the connection."""
        if method == "GET" and (m := re.fullmatch(r"/media/(\w+)\.mp4", path)):
            clip = self.clips.get(m.group(1))
            if clip is None or clip.phase(time.time()) != "ready" or self.clip is None:
                return 404, b"not found"
            return 200, self.clip.read_bytes()
        echo = self._take("echo")
        if echo is not None:
            shown = "".join(f"{k}: {v}\n" for k, v in headers.items())
            return 400, ("x" * int(echo.params.get("offset", 0)) + shown).encode()
        if self._take("overloaded"):
            return 503, _trouble("OVERLOADED", "too busy, try later")
        if headers.get("authorization") != f"Bearer {self.key}":
            return 401, _trouble("KEY_UNKNOWN", "unknown key")
        if method == "POST" and path == "/v2/clips":
            return self._submit(body)
        if method == "GET" and (m := re.fullmatch(r"/v2/clips/(\w+)", path)):
            if self._take("bare404"):
                return 404, b"<html><body>404 Not Found (proxy)</body></html>"
            clip = self.clips.get(m.group(1))
            if clip is None:
                return 404, _trouble("NO_SUCH_CLIP", f"no clip {m.group(1)}")
            now = time.time()
            phase = clip.phase(now)
            out: dict[str, Any] = {"id": clip.id, "phase": phase}
            out["progress"] = (
                100
                if phase in ("ready", "broken")
                else int(100 * (now - clip.made) / max(1e-9, clip.ready - clip.made))
            )
            if phase == "ready":
                out["href"] = f"{self.base_url}/media/{clip.id}.mp4"
            if phase == "broken":
                out["why"] = clip.why
                if not clip.refunded:
                    clip.refunded = True
                    self.tokens += PRICE
            return 200, {"clip": out}
        return 404, b"no such endpoint"

    def _submit(self, body: Any) -> tuple[int, Any] | None:
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("scene"), str)
            or body.get("frame") != "16:9"
        ):
            return 422, _trouble("NOT_ALLOWED", "a scene and frame 16:9 are required")
        if "FORBIDDEN" in body["scene"]:
            return 422, _trouble("NOT_ALLOWED", "the scene breaks the rules")
        with self.lock:
            if self.tokens < PRICE:
                return 402, _trouble("OUT_OF_TOKENS", "not enough tokens", need=PRICE, have=self.tokens)
            self.tokens -= PRICE
            now = time.time()
            broken = self._take("break")
            clip = Clip(
                os.urandom(6).hex(),
                body,
                now,
                now + self.job_seconds,
                broken and broken.params.get("why", "it broke"),
            )
            self.clips[clip.id] = clip
            self.accepted.append({"clip": clip.id, "body": body})
        if self._take("lose"):
            return None  # made and charged; the answer never leaves
        return 202, {"clip": {"id": clip.id, "phase": "queued"}}


def _trouble(kind: str, say: str, **more: Any) -> dict[str, Any]:
    return {"trouble": {"kind": kind, "say": say, **more}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_side: LoopvidServer

    def log_message(self, *args: Any) -> None:
        pass

    def _any(self) -> None:
        srv = self.server_side
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        body: Any = None
        with contextlib.suppress(ValueError):
            body = json.loads(raw) if raw else None
        headers = {k.lower(): v for k, v in self.headers.items()}
        shown = {k: ("REDACTED" if k == "authorization" else v) for k, v in headers.items()}
        path = self.path.split("?", 1)[0]
        with srv.lock:
            srv.requests.append(Seen(self.command, path, shown, body))
        try:
            answer = srv.answer(self.command, path, headers, body)
        except Exception:
            with srv.lock:
                srv.errors.append(traceback.format_exc())
            answer = (500, b"server bug")
        if answer is None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        status, payload = answer
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        kind = "application/json" if not isinstance(payload, bytes) else "application/octet-stream"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _any
