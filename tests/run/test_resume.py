"""A render killed outright (SIGKILL) is resumed by the next one, which pays for nothing again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storyboard.run.events import LockTakenOver, Resumed
from storyboard.run.executor import generate
from storyboard.store.lock import read_lock
from tests.run.boards import Events, make_plan, three, write_board
from tests.servers import start_server

REPO = Path(__file__).resolve().parents[2]

# The render in a child process, exactly as the CLI would drive it.
CHILD = """
import sys
from pathlib import Path
from storyboard.plan.compiler import compile_plan
from storyboard.run.executor import generate
from storyboard import providers
from storyboard.validate.checks import load_storyboard
board, base_url, key = sys.argv[1:4]
plan = compile_plan(load_storyboard(Path(board)), providers.get("kie")(base_url=base_url, api_key=key))
generate(plan)
"""


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Child renders, killed however the test ends: a failing test leaves no process behind."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def _child(board: Path, srv: Any, children: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(board), srv.base_url, srv.api_key],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    children.append(proc)
    return proc


def _wait_for_tasks(state_file: Path, n: int, proc: subprocess.Popen[bytes]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1].decode()
        try:
            data = json.loads(state_file.read_text())
        except (FileNotFoundError, ValueError):
            data = {}
        submitted = [r for r in data.get("tasks", {}).values() if r.get("status") == "submitted"]
        if len(submitted) == n:
            return data
        time.sleep(0.05)
    raise AssertionError("the child render never recorded its tasks")


def test_sigkill_after_submitting_then_resume_pays_nothing_again(
    tmp_path: Path, clip: Path, children: list[subprocess.Popen[bytes]]
) -> None:
    board = write_board(tmp_path / "film", "kie", three())
    with start_server("kie", clip=clip, job_seconds=120) as srv:
        plan = make_plan(board, srv)
        sd = plan.storyboard.state_dir
        proc = _child(board, srv, children)
        saved = _wait_for_tasks(sd / "state.json", 3, proc)
        assert len(srv.accepted) == 3
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        assert proc.returncode == -signal.SIGKILL

        # every task id the service handed out is on disk
        on_disk = sorted(rec["task_id"] for rec in saved["tasks"].values() if rec["task_id"])
        assert on_disk == sorted(a["task_id"] for a in srv.accepted)

        # the dead render's lock is still there; the next render takes it over and says so
        owner = read_lock(sd)
        assert owner is not None and owner.pid == proc.pid and owner.stale
        srv.finish()
        events = Events()
        result = generate(plan, reporter=events)
        assert [(e.shot_id, e.pid) for e in events.all(LockTakenOver)] == [("", proc.pid)]
        assert len(srv.accepted) == 3  # no second submission
        assert sorted(events.of(Resumed)) == ["a", "b", "c"]
        assert result.submitted == [] and set(result.clips) == {"a", "b", "c"}
        assert read_lock(sd) is None


def test_sigterm_stops_like_ctrl_c_and_frees_the_lock(
    tmp_path: Path, clip: Path, children: list[subprocess.Popen[bytes]]
) -> None:
    """A shutdown's SIGTERM to `storyboard render`: exit 143 with a message, the task ids on
    disk, the lock released; the next render pays for nothing again."""
    board = write_board(tmp_path / "film", "kie", three())
    with start_server("kie", clip=clip, job_seconds=120) as srv:
        plan = make_plan(board, srv)
        sd = plan.storyboard.state_dir
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "KIE_API_KEY": srv.api_key,
            "KIE_BASE_URL": srv.base_url,
            "STORYBOARD_POLL_INTERVAL": "0.05",
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "storyboard", "render", str(board), "--yes", "-q"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        children.append(proc)
        _wait_for_tasks(sd / "state.json", 3, proc)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 143, stderr.decode()
        assert b"terminated" in stderr and b"Traceback" not in stderr
        assert read_lock(sd) is None  # released on the way out
        srv.finish()
        result = generate(plan)
        assert len(srv.accepted) == 3 and set(result.clips) == {"a", "b", "c"}


# The preview in a child process whose drawings never end: killed while it draws.
PREVIEW_CHILD = """
import sys, threading
from pathlib import Path
import storyboard.providers.preview.animatic as animatic
from storyboard.plan.compiler import compile_plan
from storyboard.run.executor import generate
from storyboard import providers
from storyboard.validate.checks import load_storyboard
animatic.render_preview = lambda *args, **kw: threading.Event().wait()  # still drawing when killed
generate(compile_plan(load_storyboard(Path(sys.argv[1])), providers.get("preview")()))
"""


def test_the_preview_killed_mid_drawing_resumes_its_tasks(
    tmp_path: Path, children: list[subprocess.Popen[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The preview goes the providers' way: killed while drawing, its shots are submitted
    tasks (status says so, with their task ids), and the next render polls them and draws
    them from the requests they left: no new submission."""
    from storyboard.run.events import Submitted
    from tests.run.boards import preview_plan, states

    monkeypatch.setenv("STORYBOARD_PREVIEW_SCALE", "0.125")
    shots = [{"id": "a", "prompt": "a red door"}, {"id": "b", "prompt": "it opens", "continues": "a"}]
    board = write_board(tmp_path / "film", "preview", shots)
    sd = board.parent / ".storyboard"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", PREVIEW_CHILD, str(board)], cwd=REPO, env=env, stderr=subprocess.PIPE
    )
    children.append(proc)
    saved = _wait_for_tasks(sd / "state.json", 1, proc)  # b waits for a's clip: one task
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    [task_id] = [r["task_id"] for r in saved["tasks"].values()]
    assert (sd / "providers" / "preview" / f"{task_id}.json").is_file()  # the request it left

    shown = subprocess.run(
        [sys.executable, "-m", "storyboard", "status", str(board), "--json"], capture_output=True, text=True
    )
    rows = {r["id"]: r for r in json.loads(shown.stdout)["shots"]}
    assert (rows["a"]["state"], rows["a"]["task_id"], rows["b"]["state"]) == ("submitted", task_id, "new")
    plan = preview_plan(board)
    assert states(plan) == ["submitted", "new"]
    events = Events()
    result = generate(plan, reporter=events)
    assert events.of(Resumed) == ["a"] and events.of(Submitted) == ["b"]  # a is not sent again
    assert set(result.clips) == {"a", "b"} and states(plan) == ["made", "made"]
    assert list((sd / "providers" / "preview").iterdir()) == []  # fetched: its queue is empty
