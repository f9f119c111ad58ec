"""A known API key appears in no output, no exception text, no event and no file: checked in
process (events, exceptions) and through the real CLI (stdout, stderr, every file written)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from storyboard.errors import AuthError, CreditsError
from storyboard.run.events import Retry
from storyboard.run.executor import generate
from tests.clips import make_clip
from tests.run.boards import Events, make_plan, three, write_board
from tests.servers import start_server

KEY = "sk-KNOWN-secret-4f9a2c7e1b"
PROVIDERS = ("veo3o1", "nanophoto", "aivideoapi", "kie")


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOARD_POLL_INTERVAL", "0.05")
    monkeypatch.setenv("STORYBOARD_RETRY_BASE", "0.01")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", seconds=8.0, size=(64, 36), fps=10)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _texts(events: Events, *more: Any) -> str:
    return repr(events.seen) + "".join(repr(m) + str(m) for m in more)


@pytest.mark.parametrize("name", ["aivideoapi", "kie"])
def test_the_key_is_never_in_events_exceptions_or_files(
    tmp_path: Path, clip: Path, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    board = write_board(tmp_path / "film", name, three())
    with start_server(name, clip=clip, api_key=KEY, credits=10_000) as srv:
        plan = make_plan(board, srv)
        # the service fails a job twice, echoing the key in its reason; a rate limit and an
        # outage on the way; then the credits run out
        srv.fault("fail_job", times=2, reason=f"upstream refused Bearer {KEY}")
        srv.fault("429", on="submit", retry_after=0)
        srv.fault("500", on="poll")
        events = Events()
        result = generate(plan, reporter=events, concurrency=1, resubmits=1)
        assert len(srv.accepted) >= 4
        srv.credits = 0
        credits = generate(plan, force=["a"], reporter=events)
        assert isinstance(credits.fatal, CreditsError)
        auth = generate(make_plan(board, srv, api_key=KEY + "-wrong"), force=["b"], reporter=events)
        assert isinstance(auth.fatal, AuthError)

    for path, data in _files(plan.storyboard.state_dir).items():
        assert KEY.encode() not in data, path
    shown = _texts(events, result, credits, auth, credits.fatal, auth.fatal)
    assert KEY not in shown + caplog.text
    # the echoing reasons did go through: they were blotted out, not avoided
    echoed = [e.reason for e in events.all(Retry) if "upstream" in e.reason]
    assert len(echoed) == 2 and all("Bearer ***" in r or "[redacted]" in r for r in echoed)


def _cli(folder: Path, srv: Any, *args: str, key: str = KEY) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    var = srv.name.upper()
    env.update({f"{var}_API_KEY": key, f"{var}_BASE_URL": srv.base_url})
    return subprocess.run(
        [sys.executable, "-m", "storyboard", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=folder,
        timeout=120,
    )


@pytest.mark.parametrize("name", PROVIDERS)
def test_the_cli_never_shows_or_stores_the_key(tmp_path: Path, clip: Path, name: str) -> None:
    folder = tmp_path / "film"
    shots = three()[:2]
    board = write_board(folder, name, shots)
    runs: list[subprocess.CompletedProcess[str]] = []
    with start_server(name, clip=clip, api_key=KEY) as srv:

        def cli(*args: str, key: str = KEY) -> subprocess.CompletedProcess[str]:
            runs.append(_cli(folder, srv, *args, key=key))
            return runs[-1]

        assert cli("plan", str(board), "--json").returncode == 0
        # a job fails once, its reason echoing the key; it is resubmitted and the film made
        srv.fault("fail_job", reason=f"upstream refused Bearer {KEY}")
        made = cli("render", str(board), "--yes")
        assert made.returncode == 0, made.stderr
        assert (folder / "renders" / "board.mp4").is_file()
        assert "Bearer ***" in made.stderr or "[redacted]" in made.stderr  # shown, blotted out
        assert cli("status", str(board)).returncode == 0

        wrong = cli("render", str(board), "--yes", "--force", "a", key=KEY + "-wrong")
        assert wrong.returncode != 0 and f"{name.upper()}_API_KEY" in wrong.stderr
        srv.credits = 0
        broke = cli("render", str(board), "--yes", "--force", "a")
        assert broke.returncode != 0 and "credits" in broke.stderr
        srv.credits = 10_000
        shots[1]["prompt"] = "a FORBIDDEN door"  # refused at submission, or its job fails
        write_board(folder, name, shots)
        srv.fault("fail_job", reason=f"content filter saw Bearer {KEY}")
        refused = cli("render", str(board), "--yes", "--retries", "0")
        assert refused.returncode != 0 and "'b'" in refused.stderr
        assert cli("status", str(board)).returncode == 0
        assert len(srv.accepted) >= 3  # the renders did reach the service

    for run in runs:
        assert KEY not in run.stdout + run.stderr, run.args
    files = _files(folder)
    assert any(".storyboard" in p for p in files)
    for path, data in files.items():
        assert KEY.encode() not in data, path
