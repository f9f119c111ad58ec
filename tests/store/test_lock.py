"""One render at a time: the lock names its owner; a dead owner's lock is taken over."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storyboard.errors import LockError
from storyboard.store.lock import LockInfo, acquire, clear_lock, lock_path, read_lock

REPO = Path(__file__).resolve().parents[2]

HOLDER = """
import sys, time
from storyboard.store.lock import acquire
lock = acquire(sys.argv[1], "storyboard render")
print("ready", flush=True)
time.sleep(60)
"""


def _holder(state_dir: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(state_dir)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def _dead_holder(state_dir: Path) -> int:
    """The pid of a render that took the lock and was killed outright."""
    proc = _holder(state_dir)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return proc.pid


def test_acquire_writes_the_owner_and_release_removes_it(tmp_path: Path) -> None:
    sd = tmp_path / ".storyboard"
    with acquire(sd, "storyboard render") as lock:
        assert lock.held
        info = read_lock(sd)
        assert info is not None
        assert (info.pid, info.host, info.command) == (
            os.getpid(),
            socket.gethostname(),
            "storyboard render",
        )
        assert not info.stale
        with pytest.raises(LockError) as err:
            acquire(sd, "storyboard render", storyboard=tmp_path / "board.yaml")
        text = str(err.value)
        assert f"pid {os.getpid()} on host {socket.gethostname()} since " in text
        assert "(storyboard render)" in text and "still running: wait for it" in text
        assert f"stop it with `kill {os.getpid()}`" in text
    assert not lock_path(sd).exists() and not lock.held
    acquire(sd).release()  # free again


def test_a_live_owner_in_another_process_is_named_and_not_cleared(tmp_path: Path) -> None:
    sd = tmp_path / ".storyboard"
    proc = _holder(sd)
    try:
        with pytest.raises(LockError, match=rf"locked by pid {proc.pid} on host "):
            acquire(sd)
        with pytest.raises(LockError, match="running now"):
            clear_lock(sd)
        with pytest.raises(LockError, match="not removed, even with --force"):
            clear_lock(sd, force=True)  # two renders must never write one state file
        assert lock_path(sd).exists()
        proc.kill()
        proc.wait()
        assert clear_lock(sd) is not None  # once it is gone, its lock goes
        assert not lock_path(sd).exists()
    finally:
        proc.kill()
        proc.wait()


def test_a_dead_owner_on_this_host_is_taken_over_and_said(tmp_path: Path) -> None:
    sd = tmp_path / ".storyboard"
    pid = _dead_holder(sd)
    info = read_lock(sd)
    assert info is not None and info.stale and info.pid == pid
    gone: list[LockInfo] = []
    with acquire(sd, "storyboard render", on_takeover=gone.append) as lock:
        assert gone == [info]
        now = read_lock(sd)
        assert now is not None and now.pid == os.getpid()
        # and it is a real lock: held against the next one
        with pytest.raises(LockError, match="still running"):
            acquire(sd)
    assert not lock_path(sd).exists() and not lock.held
    acquire(sd, on_takeover=gone.append).release()
    assert len(gone) == 1  # a fresh lock is nobody's takeover


def test_the_generate_of_a_dead_render_takes_the_lock_over_and_reports_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storyboard import providers
    from storyboard.plan.compiler import compile_plan
    from storyboard.run.events import LockTakenOver
    from storyboard.run.executor import generate
    from storyboard.validate.checks import load_storyboard
    from tests.run.boards import Events, write_board

    board = write_board(tmp_path / "film", "preview", [{"id": "a", "prompt": "a door"}])
    plan = compile_plan(load_storyboard(board), providers.get("preview")())
    pid = _dead_holder(plan.storyboard.state_dir)
    events = Events()
    monkeypatch.setenv("STORYBOARD_PREVIEW_SCALE", "0.125")  # 160x90 panels: fast
    result = generate(plan, reporter=events)
    assert result.failed == {} and set(result.clips) == {"a"}
    (taken,) = events.all(LockTakenOver)
    assert taken.shot_id == "" and taken.pid == pid
    assert taken.reason == f"took over the lock of pid {pid}, which is gone"
    assert read_lock(plan.storyboard.state_dir) is None


def _foreign_lock(sd: Path, host: str = "another-host.example") -> LockInfo:
    sd.mkdir(parents=True, exist_ok=True)
    info = LockInfo(12345, host, "storyboard render", time.time())
    lock_path(sd).write_text(json.dumps(info.__dict__))
    return info


def test_a_lock_from_another_host_is_refused_naming_it(tmp_path: Path) -> None:
    sd = tmp_path / ".storyboard"
    info = _foreign_lock(sd)
    gone: list[LockInfo] = []
    with pytest.raises(LockError) as err:
        acquire(sd, on_takeover=gone.append, storyboard=tmp_path / "b.yaml")
    text = str(err.value)
    assert "pid 12345 on host another-host.example" in text and "another host" in text
    assert f"storyboard unlock --force {tmp_path / 'b.yaml'}" in text
    assert gone == [] and read_lock(sd) == info  # untouched
    with pytest.raises(LockError, match="another host"):
        clear_lock(sd)
    assert clear_lock(sd, force=True) == info
    acquire(sd).release()


def test_clear_lock_removes_a_dead_owners_lock(tmp_path: Path) -> None:
    sd = tmp_path / ".storyboard"
    _dead_holder(sd)
    info = read_lock(sd)
    assert info is not None and info.stale
    assert clear_lock(sd) == info
    assert clear_lock(sd) is None  # nothing left to clear
    acquire(sd).release()


def test_release_leaves_a_lock_that_is_no_longer_ours(tmp_path: Path) -> None:
    sd = tmp_path / ".storyboard"
    first = acquire(sd)
    lock_path(sd).unlink()  # removed by hand behind its back (unlock refuses a live lock)
    second = acquire(sd)
    first.release()
    assert lock_path(sd).exists()  # the second render's lock survives
    second.release()
    assert not lock_path(sd).exists()


def test_an_unreadable_lock_still_refuses(tmp_path: Path) -> None:
    sd = tmp_path / ".storyboard"
    sd.mkdir()
    lock_path(sd).write_text("garbage")
    with pytest.raises(LockError, match="unreadable lock file"):
        acquire(sd)
    assert clear_lock(sd, force=True) is not None


def test_a_render_refuses_while_another_holds_the_lock(tmp_path: Path) -> None:
    from storyboard import providers
    from storyboard.plan.compiler import compile_plan
    from storyboard.run.executor import generate
    from storyboard.validate.checks import load_storyboard
    from tests.run.boards import write_board

    board = write_board(tmp_path / "film", "preview", [{"id": "a", "prompt": "a door"}])
    plan = compile_plan(load_storyboard(board), providers.get("preview")())
    proc = _holder(plan.storyboard.state_dir)
    try:
        with pytest.raises(LockError, match=rf"pid {proc.pid} .*storyboard render"):
            generate(plan)
        assert not (plan.storyboard.state_dir / "state.json").exists()
        assert not (plan.storyboard.state_dir / "clips").exists()
    finally:
        proc.kill()
        proc.wait()
