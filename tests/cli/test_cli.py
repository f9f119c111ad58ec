"""The CLI as a user drives it: asking before spending, budgets, locks, re-cuts, status,
and refusing to overwrite what is not a film. Exit codes: 2 bad input, 3 locked, 1 cancelled."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.cli import render as cli_render
from storyboard.errors import InputError
from storyboard.media.ffmpeg import probe
from storyboard.store.lock import acquire
from tests.servers import start_server

BOARD = """storyboard: 1
title: Two Shots
shots:
  - id: one
    prompt: A red door in a white wall
    caption: The door
  - id: two
    prompt: The door opens onto the sea
    transition: {type: crossfade, duration: 0.5}
"""


@pytest.fixture
def board(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STORYBOARD_PREVIEW_SCALE", "0.125")
    monkeypatch.setenv("STORYBOARD_POLL_INTERVAL", "0.05")
    monkeypatch.setenv("STORYBOARD_RETRY_BASE", "0.01")
    path = tmp_path / "film" / "board.yaml"
    path.parent.mkdir()
    path.write_text(BOARD)
    return path


def invoke(*args: str, input: str | None = None) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


@pytest.fixture
def kie(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> object:
    from tests.clips import make_clip

    clip = make_clip(tmp_path / "clip.mp4", seconds=8, size=(64, 36))
    with start_server("kie", clip=clip, api_key="kie-cli-key-0123456789") as srv:
        monkeypatch.setenv("KIE_API_KEY", srv.api_key)
        monkeypatch.setenv("KIE_BASE_URL", srv.base_url)
        yield srv


def test_a_paid_render_without_a_terminal_needs_yes(board: Path, kie: object) -> None:
    result = invoke("render", board, "-p", "kie")
    assert result.exit_code == 2 and "pass --yes" in result.output
    assert kie.accepted == [] and not (board.parent / ".storyboard" / "state.json").exists()


def test_declining_sends_nothing_and_accepting_renders(
    board: Path, kie: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_render, "_interactive", lambda: True)
    result = invoke("render", board, "-p", "kie", input="n\n")
    assert result.exit_code == 1 and "nothing was sent" in result.output and kie.accepted == []
    result = invoke("render", board, "-p", "kie", "-q", input="y\n")
    assert result.exit_code == 0, result.output
    assert len(kie.accepted) == 2
    assert abs(probe(board.parent / "renders" / "board.mp4").duration - 15.5) < 0.05


def test_budget_refuses_a_dearer_plan_before_any_request(
    board: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIVIDEOAPI_API_KEY", "sk-budget-key-0123456789")
    monkeypatch.setenv("AIVIDEOAPI_BASE_URL", "http://127.0.0.1:9")  # nothing listens: no request is made
    result = invoke("render", board, "-p", "aivideoapi", "--yes", "--budget", "79")
    assert result.exit_code == 2 and "costs 80 credits, more than --budget 79" in result.output


def test_budget_with_an_unpriced_provider_is_refused(board: Path, kie: object) -> None:
    result = invoke("render", board, "-p", "kie", "--yes", "--budget", "1000")
    assert result.exit_code == 2 and "give no price" in result.output and kie.accepted == []


def test_a_locked_storyboard_is_refused_before_asking(board: Path, kie: object) -> None:
    with acquire(board.parent / ".storyboard", "storyboard render"):
        result = invoke("render", board, "-p", "kie", "--yes")
    assert result.exit_code == 3 and "locked by pid" in result.output and kie.accepted == []


@pytest.mark.parametrize("bad", ["\n", "\u200b", "\r", "\x7f", "\u00e9"])
def test_a_key_that_cannot_go_in_a_header_is_refused_before_anything_is_journaled(
    board: Path, kie: object, monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    """httpx refuses such a header, so nothing is sent, yet a journaled intent would leave
    every shot uncertain: the key is bad input, said before the plan is journaled."""
    key = f"kie-cli-{bad}key-0123456789"
    monkeypatch.setenv("KIE_API_KEY", key)
    result = invoke("render", board, "-p", "kie", "--yes")
    assert result.exit_code == 2, result.output
    assert "KIE_API_KEY (from the environment) cannot be sent in an HTTP header: its character 9 of" in (
        result.output
    )
    assert "kie-cli" not in result.output and "key-0123456789" not in result.output
    assert kie.requests == [] and not (board.parent / ".storyboard").exists()  # type: ignore[attr-defined]
    # from the folder's .env, it is named there
    monkeypatch.delenv("KIE_API_KEY")
    monkeypatch.delenv("KIE_BASE_URL")
    if bad != "\n":  # a .env line cannot hold a line break
        url = kie.base_url  # type: ignore[attr-defined]
        (board.parent / ".env").write_text(f"KIE_API_KEY={key}\r\nKIE_BASE_URL={url}\r\n", newline="")
        result = invoke("render", board, "-p", "kie", "--yes")
        assert result.exit_code == 2 and f"KIE_API_KEY (from {board.parent / '.env'})" in result.output
        assert kie.requests == [] and not (board.parent / ".storyboard").exists()  # type: ignore[attr-defined]


def test_output_never_overwrites_what_is_not_a_film(board: Path) -> None:
    before = board.read_text()
    for target in (board, board.parent / "notes.mp4"):
        if target != board:
            target.write_text("my notes")
        result = invoke("render", board, "-q", "-o", target)
        assert result.exit_code == 2, result.output
    assert board.read_text() == before and (board.parent / "notes.mp4").read_text() == "my notes"
    assert invoke("render", board, "-q", "-o", board.parent / "film.mov").exit_code == 2
    (board.parent / "folder.mp4").mkdir()
    assert invoke("render", board, "-q", "-o", board.parent / "folder.mp4").exit_code == 2
    result = invoke("render", board, "-q", "-o", board / "inside-a-file.mp4")
    assert result.exit_code == 2 and "is a file, not a folder" in result.output


def test_status_render_stitch_unlock(board: Path) -> None:
    result = invoke("status", board)
    assert result.exit_code == 0 and result.output.split().count("new") == 2
    assert invoke("stitch", board).exit_code == 2  # nothing made yet
    assert "was not locked" in invoke("unlock", board).output

    result = invoke("render", board, "-q")
    assert result.exit_code == 0, result.output
    film = board.parent / "renders" / "board.mp4"
    assert abs(probe(film).duration - 15.5) < 0.05
    assert invoke("status", board).output.split().count("made") == 2

    # a re-cut after changing trims and transitions generates nothing
    board.write_text(BOARD.replace("caption: The door", "caption: The door\n    trim: [1, 7]"))
    result = invoke("plan", board)
    assert "Plan: 0 to generate, 0 to regenerate, 2 already made." in result.output
    result = invoke("stitch", board, "-q", "-o", board.parent / "recut.mp4")
    assert result.exit_code == 0, result.output
    assert abs(probe(board.parent / "recut.mp4").duration - 13.5) < 0.05
    assert "The door" in (board.parent / "recut.srt").read_text()


def test_two_storyboards_in_one_folder_keep_their_own_shots(board: Path) -> None:
    """Both have shots `one` and `two`; the second's were never made, whatever the first did."""
    assert invoke("render", board, "-q").exit_code == 0
    other = board.parent / "other.yaml"
    other.write_text(BOARD.replace("A red door", "A green door").replace("onto the sea", "onto a field"))
    result = invoke("plan", other)
    assert "Plan: 2 to generate, 0 to regenerate, 0 already made." in result.output, result.output
    assert invoke("stitch", other).exit_code == 2  # none of its clips is made: never the first's
    assert invoke("status", other).output.split().count("new") == 2
    result = invoke("plan", board)  # and the first keeps its own
    assert "Plan: 0 to generate, 0 to regenerate, 2 already made." in result.output


def test_unknown_force_and_empty_provider_are_input_errors(board: Path) -> None:
    assert invoke("render", board, "--force", "three").exit_code == 2
    assert invoke("plan", board, "-p", "").exit_code == 2
    assert invoke("plan", board, "-p", "kei").exit_code == 2


def test_an_output_folder_that_takes_no_files_is_refused_before_any_work(board: Path) -> None:
    from storyboard import pipeline

    sb = pipeline.load(board)
    for target, fragment in (
        (Path("/proc/film.mp4"), "cannot write the film /proc/film.mp4: /proc does not take new files"),
        (Path("/proc/new/film.mp4"), "/proc does not take new files"),  # a folder still to be made
        (Path("/dev/null/film.mp4"), "the output's folder /dev/null is a character device, not a folder"),
    ):
        with pytest.raises(InputError) as e:
            pipeline.output_path(sb, target)
        assert fragment in e.value.message
    ok = pipeline.output_path(sb, board.parent / "new" / "film.mp4")
    assert ok == board.parent / "new" / "film.mp4" and not ok.parent.exists()  # the test left nothing
    assert sorted(p.name for p in board.parent.iterdir()) == ["board.yaml"]
    # stitch checks it before cutting anything
    assert invoke("render", board, "-q").exit_code == 0
    result = invoke("stitch", board, "-o", "/proc/film.mp4")
    assert result.exit_code == 2 and "/proc does not take new files" in result.output
    assert "choose a folder you can write to" in result.output


def test_an_output_that_is_a_fifo_is_named_so(board: Path) -> None:
    import os

    from storyboard import pipeline

    os.mkfifo(board.parent / "pipe.mp4")
    with pytest.raises(InputError, match=r"pipe.mp4 is a named pipe \(FIFO\)"):
        pipeline.output_path(pipeline.load(board), board.parent / "pipe.mp4")


def test_plan_warns_of_the_key_render_will_need(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json as _json

    from storyboard.scaffold import init_project

    board = init_project(tmp_path / "film")
    monkeypatch.delenv("AIVIDEOAPI_API_KEY", raising=False)
    r = CliRunner().invoke(cli, ["plan", str(board), "-p", "aivideoapi"])
    assert r.exit_code == 0  # a plan needs no key
    said = [ln for ln in r.stderr.splitlines() if "AIVIDEOAPI_API_KEY" in ln]
    assert len(said) == 1 and said[0].startswith("warning: aivideoapi needs an API key"), r.stderr
    data = _json.loads(CliRunner().invoke(cli, ["plan", str(board), "-p", "aivideoapi", "--json"]).stdout)
    assert any("AIVIDEOAPI_API_KEY" in w["message"] for w in data["warnings"])
    monkeypatch.setenv("AIVIDEOAPI_API_KEY", "aiv-k3y-for-the-plan-test")
    r = CliRunner().invoke(cli, ["plan", str(board), "-p", "aivideoapi"])
    assert r.exit_code == 0 and "API_KEY" not in r.output
