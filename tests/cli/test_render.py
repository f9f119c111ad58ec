"""`render` as a user meets it when the service is not there: told once, truthfully."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from tests.run.boards import three, write_board


def closed_port() -> int:
    with socket.socket() as s:  # bound and closed again: nothing listens there
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_dead_host_fails_each_shot_once_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYBOARD_RETRY_BASE", "0.01")
    monkeypatch.setenv("KIE_API_KEY", "kie-Zp3Lm7Qx9Vr2Tw5Nb8Hc")
    monkeypatch.setenv("KIE_BASE_URL", f"http://127.0.0.1:{closed_port()}")
    board = write_board(tmp_path / "film", "kie", three())
    result = CliRunner().invoke(cli, ["render", str(board), "--yes"])
    assert result.exit_code == 1
    out = result.output
    for shot in ("a", "b", "c"):
        said = [ln for ln in out.splitlines() if f"shot '{shot}' failed" in ln]
        assert len(said) == 1, out  # each failure told once
        assert "not submitted" in said[0] and "nothing was charged" in said[0]
    assert "0 of 3 shots made" in out and "0/3" in out  # the bar counts clips made, not shots ended
    assert "Render again to retry the failed shots" in out
    status = CliRunner().invoke(cli, ["status", str(board), "--json"])
    rows = json.loads(status.stdout)["shots"]
    assert [r["state"] for r in rows] == ["failed"] * 3
    assert all(
        "could not reach http://127.0.0.1:" in r["reason"] and "KIE_BASE_URL" in r["reason"] for r in rows
    )
    assert all(r["reason"].startswith("not submitted (nothing was charged): ") for r in rows)


def test_a_refused_key_is_said_once_with_its_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What stops the whole render is told once, after the count, not again as every shot's
    failure; and no "render again" that cannot help until the key is fixed."""
    from tests.clips import make_clip
    from tests.run.boards import use
    from tests.servers import start_server

    monkeypatch.setenv("STORYBOARD_RETRY_BASE", "0.01")
    clip = make_clip(tmp_path / "clip.mp4", seconds=8.0, size=(64, 36), fps=10)
    shots = three()
    shots[2]["takes"] = 2
    board = write_board(tmp_path / "film", "kie", shots)
    with start_server("kie", clip=clip) as srv:
        use(monkeypatch, srv)
        monkeypatch.setenv("KIE_API_KEY", "kie-not-the-key-0000")
        result = CliRunner().invoke(cli, ["render", str(board), "--yes", "-q"])
        assert srv.paid_for() == {}
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert sum("the API key was refused" in line for line in lines) == 1, result.stderr
    assert "0 of 3 shots made (0 of 1 other takes); the film was not cut." in result.stderr
    assert "4 requests not taken because of the error below (nothing was charged)." in result.stderr
    assert "render again" not in result.stderr.lower()
    assert "set KIE_API_KEY to a valid key" in lines[-2] or "KIE_API_KEY" in lines[-1]


def test_a_service_s_control_characters_never_reach_the_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A title change, a clipboard write (OSC 52), text turned around: shown as escapes in
    text output, and as \\u escapes in JSON (which stays JSON)."""
    from tests.clips import make_clip
    from tests.run.boards import use
    from tests.servers import start_server

    monkeypatch.setenv("STORYBOARD_RETRY_BASE", "0.01")
    monkeypatch.setenv("STORYBOARD_POLL_INTERVAL", "0.02")
    clip = make_clip(tmp_path / "clip.mp4", seconds=8.0, size=(64, 36), fps=10)
    board = write_board(tmp_path / "film", "kie", three()[:1])
    hostile = "bad \x1b]0;PWNED\x07 \x1b]52;c;aGk=\x07 \x08\x08 \u202eRTL \x9b31m\n1 of 1 shots made. OK"
    with start_server("kie", clip=clip) as srv:
        use(monkeypatch, srv)
        srv.fault("fail_job", times=5, reason=hostile)
        outputs = [CliRunner().invoke(cli, ["render", str(board), "--yes", "--retries", "0"]).output]
    outputs.append(CliRunner().invoke(cli, ["status", str(board)]).output)
    shown = CliRunner().invoke(cli, ["status", str(board), "--json"]).output
    for out in outputs:
        assert "PWNED" in out, out  # the words are there...
        assert not any(c in out for c in "\x1b\x07\x08\u202e\x9b"), repr(out)  # ...inert
        assert "\\x1b]0;PWNED\\x07" in out
        assert not any(line.startswith("1 of 1 shots made") for line in out.splitlines()), (
            out
        )  # no forged line
    assert not any(c in shown for c in "\x1b\x07\x08\u202e\x9b")
    (row,) = json.loads(shown)["shots"]
    assert "\x1b]0;PWNED\x07" in row["reason"]  # as data, the text is what the service said
    assert "\n" not in row["reason"] and "\\n1 of 1 shots made" in row["reason"]  # on one line


def test_a_task_id_that_could_not_be_saved_ends_with_its_way_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills between the intent and the task id: the id is printed with its adopt
    command, and the closing line says so (it had ended "the film was not cut. .")."""
    import errno

    from storyboard.store import state as state_module
    from tests.clips import make_clip
    from tests.run.boards import use
    from tests.servers import start_server

    real = state_module.write_atomic

    def full_after_the_intent(path: Path, text: str, **kw: object) -> None:
        if '"status": "submitted"' in text:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, text, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(state_module, "write_atomic", full_after_the_intent)
    monkeypatch.setenv("STORYBOARD_RETRY_BASE", "0.01")
    clip = make_clip(tmp_path / "clip.mp4", seconds=8.0, size=(64, 36), fps=10)
    board = write_board(tmp_path / "film", "kie", three()[:1])
    with start_server("kie", clip=clip) as srv:
        use(monkeypatch, srv)
        result = CliRunner().invoke(cli, ["render", str(board), "--yes", "-q"])
        (taken,) = [a["task_id"] for a in srv.accepted]
    assert result.exit_code == 1, result.output
    assert f"storyboard adopt {board} a {taken}" in result.stderr
    assert result.stderr.count(". .") == 0
    assert (
        "0 of 1 shots made; the film was not cut. Attach the task ids above with the adopt "
        "commands shown (paid already: no new charge)." in result.stderr
    ), result.stderr
