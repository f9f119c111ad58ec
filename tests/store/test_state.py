"""State: a journal written at once, atomically, only under the lock; a damaged file is a clear
message naming the task and the field."""

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
from storyboard.store.state import ClipRecord, Intent, Stand, State, StateError

REPO = Path(__file__).resolve().parents[2]
FP1, FP2 = "a" * 64, "b" * 64
SB = "board.yaml"  # the storyboard whose shots `made` is about


def _task(fp: str = FP1, shot: str = "s1", provider: str = "kie") -> Task:
    return Task(shot, f"task-{shot}", provider, fp, time.time(), {"resolution": "720p"})


def _intent(fp: str = FP1, shot: str = "s1", provider: str = "kie") -> Intent:
    return Intent(fp, shot, provider, (shot,), {"resolution": "720p"})


def _on_disk(sd: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((sd / "state.json").read_text())


def test_the_intent_is_on_disk_before_the_task_id_replaces_it(tmp_path: Path) -> None:
    sd = tmp_path / ".storyboard"
    with acquire(sd) as lock:
        state = State.load(sd, lock=lock, storyboard=SB)
        state.record_intent([_intent()])
        rec = _on_disk(sd)["tasks"][FP1]
        assert rec["status"] == "sending" and rec["task_id"] is None and rec["intent_at"] > 0
        assert State.load(sd).pending() == []  # an intent is nothing to poll

        state.record_submitted([_task()])
        on_disk = _on_disk(sd)
        rec = on_disk["tasks"][FP1]
        assert rec["task_id"] == "task-s1" and rec["status"] == "submitted"
        assert rec["attempts"] == 1 and rec["extra"] == {"resolution": "720p"}
        assert on_disk["version"] == 3 and on_disk["serial"] == 2
        lineage = on_disk["lineage"]

        again = State.load(sd)
        assert [t.task_id for t in again.pending()] == ["task-s1"]
        assert again.pending("veo3o1") == []
        state.record_failed(FP1, "it failed")
        state.record_intent([_intent()])  # a resubmission
        state.record_submitted([_task()])
        clip = sd / "clips" / f"{FP1}.mp4"
        state.record_done(FP1, ClipRecord(1234, "c" * 64, "https://cdn/x.mp4"), clip)
        data = _on_disk(sd)
        assert data["tasks"][FP1]["attempts"] == 2 and data["tasks"][FP1]["status"] == "done"
        assert data["tasks"][FP1]["clip"] == f"clips/{FP1}.mp4"
        assert data["clips"][FP1]["size"] == 1234 and data["clips"][FP1]["url"] == "https://cdn/x.mp4"
        assert data["made"] == {SB: {"s1": FP1}} and data["lineage"] == lineage
        assert data["serial"] == 6
        loaded = State.load(sd, storyboard=SB)
        assert loaded.last_made("s1") == FP1 and loaded.pending() == []
        assert loaded.clip(FP1) == ClipRecord(1234, "c" * 64, "https://cdn/x.mp4")


def test_intents_left_by_a_dead_render_become_uncertain(tmp_path: Path) -> None:
    sd = tmp_path / ".storyboard"
    with acquire(sd) as lock:
        state = State.load(sd, lock=lock, storyboard=SB)
        state.record_intent([_intent(FP1, "s1"), _intent(FP2, "s2")])
        state.record_submitted([_task(FP2, "s2")])
    with acquire(sd) as lock:
        state = State.load(sd, lock=lock, storyboard=SB)
        assert state.settle_intents("killed while sending") == [FP1]
        one, two = state.task(FP1), state.task(FP2)
        assert one is not None and one.status is Stand.UNCERTAIN and one.reason == "killed while sending"
        assert two is not None and two.status is Stand.SUBMITTED
    assert _on_disk(sd)["tasks"][FP1]["status"] == "uncertain"


def test_an_adopted_task_replaces_an_uncertain_one(tmp_path: Path) -> None:
    sd = tmp_path / ".storyboard"
    with acquire(sd) as lock:
        state = State.load(sd, lock=lock, storyboard=SB)
        state.record_intent([_intent()])
        state.record_uncertain([FP1], "the answer was lost")
        state.record_submitted([_task()], adopted=True)
        rec = state.task(FP1)
        assert rec is not None and rec.status is Stand.SUBMITTED and rec.adopted and rec.reason is None
        assert rec.attempts == 1  # adopting pays for nothing


def test_an_orphan_clip_becomes_the_shots_only_when_it_has_none(tmp_path: Path) -> None:
    sd = tmp_path / ".storyboard"
    with acquire(sd) as lock:
        state = State.load(sd, lock=lock, storyboard=SB)
        for fp in (FP1, FP2):
            state.record_intent([_intent(fp)])
            state.record_submitted([_task(fp)])
        record = ClipRecord(10, "d" * 64, None)
        assert state.record_done(FP1, record, sd / "x.mp4", current=None) is True  # none yet: it is
        assert state.record_done(FP2, record, sd / "y.mp4", current=None) is False  # one already
        assert state.last_made("s1", "kie") == FP1


def test_writing_without_the_lock_is_refused(tmp_path: Path) -> None:
    state = State.load(tmp_path / ".storyboard")
    with pytest.raises(StateError):
        state.record_intent([_intent()])
    assert not (tmp_path / ".storyboard" / "state.json").exists()


def test_an_interrupted_write_leaves_the_old_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sd = tmp_path / ".storyboard"
    with acquire(sd) as lock:
        state = State.load(sd, lock=lock, storyboard=SB)
        state.record_intent([_intent()])
        before = (sd / "state.json").read_bytes()

        def crash(src: str, dst: str) -> None:
            raise OSError("power cut")

        monkeypatch.setattr("storyboard.atomic.os.replace", crash)
        with pytest.raises(OSError, match="power cut"):
            state.record_intent([_intent(FP2, "s2")])
        assert (sd / "state.json").read_bytes() == before
        assert {p.name for p in sd.iterdir()} == {"lock", "state.json"}  # no temp left


CRASH_BEFORE_RENAME = """
import os, sys, time
from storyboard.store.lock import acquire
from storyboard.providers.base import Task
from storyboard.store.state import Intent, State
sd = sys.argv[1]
lock = acquire(sd)
state = State.load(sd, lock=lock)
state.record_intent([Intent("a" * 64, "s1", "kie", ("s1",))])
state.record_submitted([Task("s1", "t1", "kie", "a" * 64, time.time())])
os.replace = lambda src, dst: os._exit(9)  # the process dies between temp write and rename
state.record_intent([Intent("b" * 64, "s2", "kie", ("s2",))])
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


GOOD_TASK = {"shot_id": "s1", "provider": "kie", "status": "submitted", "task_id": "t1", "submitted_at": 1.0}


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("{not json", "not valid JSON"),
        ('["a list"]', "not a storyboard state file"),
        ('{"version": 1, "tasks": []}', "tasks: [] is not of type 'object'"),
        ('{"version": 2, "tasks": {"' + FP1 + '": {"shot_id": "x"}}}', "'status' is a required property"),
        (
            json.dumps({"version": 2, "tasks": {FP1: {**GOOD_TASK, "submitted_at": "abc"}}}),
            f"tasks.{FP1[:12]}.submitted_at: 'abc' is not of type 'number', 'null'",
        ),
        (
            json.dumps({"version": 2, "tasks": {FP1: {**GOOD_TASK, "extra": "str"}}}),
            f"tasks.{FP1[:12]}.extra: 'str' is not of type 'object'",
        ),
        (json.dumps({"version": 2, "made_by": {"kie": []}}), "made_by.kie: [] is not of type 'object'"),
        (
            json.dumps({"version": 2, "made": {"s1": "../../etc/passwd"}}),
            "made.s1: '../../etc/passwd' does not match",
        ),
        (
            json.dumps({"version": 2, "tasks": {FP1: {**GOOD_TASK, "status": "done", "task_id": None}}}),
            "None is not of type 'string'",
        ),
        ('{"version": 2, "z": ' + "[" * 100000 + "]" * 100000 + "}", "nested too deeply"),
        ('{"version": 2, "tasks": {"' + FP1 + '": {"submitted_at": NaN}}}', "NaN is not a number"),
        ('{"version": 2, "tasks": {"' + FP1 + '": {"submitted_at": 1e999}}}', "too large to be one"),
        ('{"version": 2, "tasks": {"' + FP1 + '": {"submitted_at": -Infinity}}}', "-Infinity is not"),
    ],
)
def test_a_damaged_state_file_is_a_clear_message(tmp_path: Path, text: str, why: str) -> None:
    sd = tmp_path / ".storyboard"
    sd.mkdir()
    (sd / "state.json").write_text(text)
    with pytest.raises(InputError) as err:
        State.load(sd)
    assert err.value.exit_code == 2
    assert why in err.value.message and "state.json is damaged" in err.value.message
    assert err.value.hint is not None and "mv " in err.value.hint and "correct the field" in err.value.hint


def test_a_version_1_file_is_read_and_upgraded(tmp_path: Path) -> None:
    sd = tmp_path / ".storyboard"
    sd.mkdir()
    old = {
        "version": 1,
        "tasks": {FP1: {**GOOD_TASK, "status": "done", "attempts": 1, "extra": {}}},
        "made": {"s1": FP1},
        "uploads": {},
    }
    (sd / "state.json").write_text(json.dumps(old))
    state = State.load(sd, storyboard=SB)
    assert state.last_made("s1", "kie") == FP1 and state.clip(FP1) is None
    rec = state.task(FP1)
    assert rec is not None and rec.status is Stand.MADE and rec.task_id == "t1"


def test_storyboards_sharing_a_folder_keep_their_own_clips(tmp_path: Path) -> None:
    sd = tmp_path / ".storyboard"
    with acquire(sd) as lock:
        one = State.load(sd, lock=lock, storyboard="one.yaml")
        one.record_intent([_intent()])
        one.record_submitted([_task()])
        one.record_done(FP1, ClipRecord(10, "d" * 64, None), sd / "x.mp4")
        one.record_made("s2", FP2, "preview")
    other = State.load(sd, storyboard="two.yaml")  # its own shot s1 was never made
    assert other.last_made("s1") is None and other.last_made("s1", "kie") is None and other.made == {}
    assert other.task(FP1) is not None  # the journal is the folder's: a request is one whoever asks
    again = State.load(sd, storyboard="one.yaml")
    assert again.made == {"s1": FP1, "s2": FP2} and again.last_made("s2", "preview") == FP2
    assert _on_disk(sd)["made_by"] == {"one.yaml": {"kie": {"s1": FP1}, "preview": {"s2": FP2}}}
    with pytest.raises(StateError, match="for no storyboard"):
        State.load(sd).last_made("s1")


def test_a_version_2_file_is_the_first_storyboards_to_load_it(tmp_path: Path) -> None:
    sd = tmp_path / ".storyboard"
    sd.mkdir()
    old = {
        "version": 2,
        "tasks": {FP1: {**GOOD_TASK, "status": "done", "attempts": 1, "extra": {}}},
        "clips": {},
        "made": {"s1": FP1, "s2": FP2},
        "made_by": {"kie": {"s1": FP1}},
        "uploads": {},
    }
    (sd / "state.json").write_text(json.dumps(old))
    with acquire(sd) as lock:
        state = State.load(sd, lock=lock, storyboard=SB)
        assert state.made == {"s1": FP1, "s2": FP2} and state.last_made("s1", "kie") == FP1
        state.record_made("s3", FP2, "kie")  # a write keeps them as this storyboard's
    data = _on_disk(sd)
    assert data["version"] == 3
    assert data["made"] == {SB: {"s1": FP1, "s2": FP2, "s3": FP2}}
    assert data["made_by"] == {SB: {"kie": {"s1": FP1, "s3": FP2}}}
    assert State.load(sd, storyboard="other.yaml").made == {}


def test_a_newer_state_version_is_refused(tmp_path: Path) -> None:
    sd = tmp_path / ".storyboard"
    sd.mkdir()
    (sd / "state.json").write_text('{"version": 7, "tasks": {}}')
    with pytest.raises(InputError, match="newer storyboard"):
        State.load(sd)


def test_secrets_never_reach_the_file(tmp_path: Path) -> None:
    from storyboard.secrets import Redactor

    sd = tmp_path / ".storyboard"
    key = "sk-very-secret-key-42"
    with acquire(sd) as lock:
        state = State.load(sd, lock=lock, storyboard=SB)
        state.redactor = Redactor([key])
        state.record_intent([_intent()])
        state.record_submitted([_task()])
        state.record_failed(FP1, f"the service echoed Bearer {key[:-3]}")  # even a piece of it
    text = (sd / "state.json").read_text()
    assert key[:8] not in text and key[-10:-3] not in text and "[redacted]" in text


@pytest.mark.parametrize(
    "what", ["state-fifo", "lock-fifo", "state-zero", "clips-link", "tmp-link", "state-link"]
)
def test_the_state_folder_s_own_files_are_never_special_files_or_links(tmp_path: Path, what: str) -> None:
    """A read of a FIFO blocks for ever, of /dev/zero never ends; a link leads writes out of
    the folder: each is refused by its name, at once (only stat calls), exit 2."""
    import os

    from storyboard.store.lock import acquire, read_lock

    sd = tmp_path / ".storyboard"
    sd.mkdir()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    target = {"state": sd / "state.json", "lock": sd / "lock", "clips": sd / "clips", "tmp": sd / "tmp"}[
        what.split("-")[0]
    ]
    kind = what.split("-")[1]
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "zero":
        target.symlink_to("/dev/zero")
    else:
        target.symlink_to(outside / target.name)
    for attempt in (lambda: State.load(sd), lambda: read_lock(sd), lambda: acquire(sd, "test")):
        with pytest.raises(InputError) as err:
            attempt()
        assert err.value.exit_code == 2 and str(target) in err.value.message, err.value.message
    assert list(outside.iterdir()) == []
