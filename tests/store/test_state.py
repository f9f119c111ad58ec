"""State: written at once, atomically, only under the lock; a damaged file is a clear message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storyboard.errors import InputError
from storyboard.providers.base import Task
from storyboard.store.lock import acquire
from storyboard.store.state import State, StateError

REPO = Path(__file__).resolve().parents[2]
FP1, FP2 = "a" * 64, "b" * 64


def _task(fp: str = FP1, shot: str = "s1", provider: str = "kie") -> Task:
    return Task(shot, f"task-{shot}", provider, fp, time.time(), {"resolution": "720p"})


def test_a_submission_is_on_disk_at_once(tmp_path: Path) -> None:
    sd = tmp_path / ".storyboard"
    with acquire(sd) as lock:
        state = State.load(sd, lock=lock)
        state.record_many_submitted([_task()])
        on_disk = json.loads((sd / "state.json").read_text())
        rec = on_disk["tasks"][FP1]
        assert rec["task_id"] == "task-s1" and rec["status"] == "submitted"
        assert rec["attempts"] == 1 and rec["extra"] == {"resolution": "720p"}
        assert on_disk["version"] == 1 and on_disk["serial"] == 1
        lineage = on_disk["lineage"]

        again = State.load(sd)
        assert [t.task_id for t in again.pending()] == ["task-s1"]
        assert again.pending("veo3o1") == []
        state.record_failed(FP1, "it failed")
        state.record_many_submitted([_task()])  # a resubmission
        state.record_done(FP1, sd / "clips" / f"{FP1}.mp4")
        data = json.loads((sd / "state.json").read_text())
        assert data["tasks"][FP1]["attempts"] == 2 and data["tasks"][FP1]["status"] == "done"
        assert data["tasks"][FP1]["clip"] == f"clips/{FP1}.mp4"
        assert data["made"] == {"s1": FP1} and data["lineage"] == lineage
        assert data["serial"] == 4
        assert State.load(sd).last_made("s1") == FP1 and State.load(sd).pending() == []


def test_writing_without_the_lock_is_refused(tmp_path: Path) -> None:
    state = State.load(tmp_path / ".storyboard")
    with pytest.raises(StateError):
        state.record_many_submitted([_task()])
    assert not (tmp_path / ".storyboard" / "state.json").exists()


def test_an_interrupted_write_leaves_the_old_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sd = tmp_path / ".storyboard"
    with acquire(sd) as lock:
        state = State.load(sd, lock=lock)
        state.record_many_submitted([_task()])
        before = (sd / "state.json").read_bytes()

        def crash(src: str, dst: str) -> None:
            raise OSError("power cut")

        monkeypatch.setattr("storyboard.store.atomic.os.replace", crash)
        with pytest.raises(OSError, match="power cut"):
            state.record_many_submitted([_task(FP2, "s2")])
        assert (sd / "state.json").read_bytes() == before
        assert {p.name for p in sd.iterdir()} == {"lock", "state.json"}  # no temp left


CRASH_BEFORE_RENAME = """
import os, sys, time
from storyboard.store.lock import acquire
from storyboard.providers.base import Task
from storyboard.store.state import State
sd = sys.argv[1]
lock = acquire(sd)
state = State.load(sd, lock=lock)
state.record_many_submitted([Task("s1", "t1", "kie", "a" * 64, time.time())])
os.replace = lambda src, dst: os._exit(9)  # the process dies between temp write and rename
state.record_many_submitted([Task("s2", "t2", "kie", "b" * 64, time.time())])
"""


def test_a_process_killed_between_temp_write_and_rename_keeps_the_old_state(
    tmp_path: Path,
) -> None:
    sd = tmp_path / ".storyboard"
    proc = subprocess.run(
        [sys.executable, "-c", CRASH_BEFORE_RENAME, str(sd)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 9, proc.stderr
    leftovers = [p.name for p in sd.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1  # the new state reached only its temp file
    state = State.load(sd)
    assert [t.task_id for t in state.pending()] == ["t1"]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("{not json", "not valid JSON"),
        ('["a list"]', "not a storyboard state file"),
        ('{"version": 1, "tasks": []}', "'tasks' is not a mapping"),
        ('{"version": 1, "tasks": {"ab": {"shot_id": "x"}}}', "incomplete"),
    ],
)
def test_a_damaged_state_file_is_a_clear_message(tmp_path: Path, text: str, why: str) -> None:
    sd = tmp_path / ".storyboard"
    sd.mkdir()
    (sd / "state.json").write_text(text)
    with pytest.raises(InputError) as err:
        State.load(sd)
    assert why in err.value.message and "state.json is damaged" in err.value.message
    assert err.value.hint is not None and "mv " in err.value.hint


def test_a_newer_state_version_is_refused(tmp_path: Path) -> None:
    sd = tmp_path / ".storyboard"
    sd.mkdir()
    (sd / "state.json").write_text('{"version": 7, "tasks": {}}')
    with pytest.raises(InputError, match="newer storyboard"):
        State.load(sd)


def test_secrets_never_reach_the_file(tmp_path: Path) -> None:
    sd = tmp_path / ".storyboard"
    key = "sk-very-secret-key-42"
    with acquire(sd) as lock:
        state = State.load(sd, lock=lock)
        state.secrets = [key]
        state.record_many_submitted([_task()])
        state.record_failed(FP1, f"the service echoed Bearer {key}")
    text = (sd / "state.json").read_text()
    assert key not in text and "[redacted]" in text
