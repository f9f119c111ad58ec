"""A plain LSP client over a child's stdin and stdout: Content-Length framed JSON-RPC, as an
editor speaks it (no client library: what the server must understand is the protocol)."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from typing import Any

WAIT = 60.0  # seconds for one answer: a hung server fails the test rather than the suite


class Editor:
    def __init__(self, *args: str, cwd: str | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "storyboard", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
        )
        self.inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self.next_id = 0
        self.pending: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            headers: dict[str, str] = {}
            while True:
                line = out.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                headers[name.strip().lower()] = value.strip()
            body = out.read(int(headers["content-length"]))
            self.inbox.put(json.loads(body))

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    def request(self, method: str, params: Any) -> Any:
        self.next_id += 1
        mine = self.next_id
        self._send({"id": mine, "method": method, "params": params})
        msg = self.wait(lambda m: m.get("id") == mine and "method" not in m)
        assert "error" not in msg, msg
        return msg.get("result")

    def wait(self, match: Any) -> dict[str, Any]:
        """The first message (already received, or next) that `match` accepts."""
        for k, m in enumerate(self.pending):
            if match(m):
                return self.pending.pop(k)
        while True:
            try:
                m = self.inbox.get(timeout=WAIT)
            except queue.Empty:
                raise AssertionError(f"no such message from the server in {WAIT} s") from None
            if m.get("method") in ("window/logMessage", "window/showMessage") or not match(m):
                self.pending.append(m)
                continue
            return m

    def diagnostics(self, uri: str) -> list[dict[str, Any]]:
        msg = self.wait(
            lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
        )
        return list(msg["params"]["diagnostics"])

    def close(self) -> None:
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.proc.wait(timeout=WAIT)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            for s in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                if s is not None:
                    s.close()
