"""A service that refuses submissions for now (a rate limit) is waited for within bounds: each
wait at most 60 s, every shot left unsent at most 150 s after its first try, and a service
asking to be called again later than that ends the render at once, saying when. All in fake
time (tests/run/fakeclock.py): nothing here waits for real; requests are counted."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.errors import RateLimitError
from storyboard.run import executor
from storyboard.run.executor import generate
from storyboard.store.stand import Stand
from tests.run.boards import use, write_board
from tests.run.fakeclock import FakeClock, clocked_plan
from tests.run.test_no_link import FOUR, submissions
from tests.servers import start_server

DAY = 86400


@pytest.mark.parametrize("provider", ["veo3o1", "nanophoto", "aivideoapi", "kie"])
def test_a_day_long_retry_after_on_every_submission_ends_the_render_saying_when(
    provider: str, clip: Path, tmp_path: Path
) -> None:
    clock = FakeClock()
    board = write_board(tmp_path / "film", provider, FOUR)
    with start_server(provider, clip=clip) as srv:
        srv.fault("429", on="submit", times=10**6, retry_after=DAY)
        srv.hold("submit", until=4)  # all 4 are in flight before the first refusal is read
        began = clock.monotonic()
        result = generate(clocked_plan(board, srv, clock), clock=clock, concurrency=4)
        assert clock.monotonic() - began <= 150
        assert clock.sleeps == []  # nobody waited for an answer that was a day away
        assert submissions(srv) == 4 and srv.accepted == []  # each shot asked once, none twice
        assert len(srv.requests) == 4  # and nothing else (no polls: no task)
    assert isinstance(result.fatal, RateLimitError)
    assert result.fatal.hint is not None and "render again in 24 h" in result.fatal.hint
    for shot in result.shots.values():
        assert shot.outcome is Stand.FAILED and shot.task_id is None
        assert shot.reason is not None and f"{provider} asks to be called again in 24 h" in shot.reason
        assert "nothing was charged" in shot.reason


@pytest.mark.parametrize("concurrency", [1, 2, 3])
def test_after_a_day_long_retry_after_the_other_shots_are_not_sent(
    clip: Path, tmp_path: Path, concurrency: int
) -> None:
    """What a render promises: at most `concurrency` submissions are out when the first
    refusal is read (those already in flight), and none is sent after it."""
    clock = FakeClock()
    board = write_board(tmp_path / "film", "kie", FOUR)
    with start_server("kie", clip=clip) as srv:
        srv.fault("429", on="submit", times=10**6, retry_after=DAY)
        srv.hold("submit", until=concurrency)  # the most in flight together, on any machine
        result = generate(clocked_plan(board, srv, clock), clock=clock, concurrency=concurrency)
        assert submissions(srv) == concurrency and len(srv.requests) == concurrency
    assert all(r.outcome is Stand.FAILED for r in result.shots.values())
    assert all("asks to be called again in 24 h" in (r.reason or "") for r in result.shots.values())


def test_a_short_retry_after_is_honoured_within_the_render_s_patience(clip: Path, tmp_path: Path) -> None:
    """Retry-After: 30 on every submission: the client tries 3 times (60 s of waits, its most),
    the render once more after 30 s (3 tries again), then leaves the shot unsent at 150 s."""
    clock = FakeClock()
    board = write_board(tmp_path / "film", "kie", FOUR[:1])
    with start_server("kie", clip=clip) as srv:
        srv.fault("429", on="submit", times=10**6, retry_after=30)
        began = clock.monotonic()
        result = generate(clocked_plan(board, srv, clock), clock=clock)
        assert clock.monotonic() - began <= 150
        assert clock.sleeps == [30.0] * 4 and submissions(srv) == 6 and srv.accepted == []
    assert result.fatal is None  # 30 s is no reason to stop the render: this shot waited its share
    (shot,) = result.shots.values()
    assert shot.outcome is Stand.FAILED and shot.reason is not None
    assert "kie asks to be called again in 30 s" in shot.reason and "nothing was charged" in shot.reason
    assert "left unsent 2 min after it was first sent" in shot.reason


def test_a_rate_limit_that_lifts_costs_one_job(clip: Path, tmp_path: Path) -> None:
    clock = FakeClock()
    board = write_board(tmp_path / "film", "kie", FOUR[:1])
    with start_server("kie", clip=clip) as srv:
        srv.fault("429", on="submit", times=5, retry_after=20)  # 3 to the client, 2 to the render's resend
        result = generate(clocked_plan(board, srv, clock), clock=clock)
        assert result.shots["a"].outcome is Stand.MADE
        assert submissions(srv) == 6 and len(srv.accepted) == 1 and srv.paid_for() == {FOUR[0]["prompt"]: 1}
        assert max(clock.sleeps) <= 60


def test_the_cli_ends_with_the_day_and_nothing_charged(
    clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    monkeypatch.setattr(executor, "Clock", lambda: clock)
    board = write_board(tmp_path / "film", "kie", FOUR)
    with start_server("kie", clip=clip) as srv:
        use(monkeypatch, srv)
        srv.fault("429", on="submit", times=10**6, retry_after=DAY)
        srv.hold("submit", until=4)  # render's 4 at once are all out before the first refusal
        result = CliRunner().invoke(cli, ["render", str(board), "--yes", "-q"])
        assert submissions(srv) == 4 and srv.paid_for() == {}
    assert result.exit_code == 1, result.output
    err = result.stderr
    assert "0 of 4 shots made; the film was not cut." in err
    assert "4 requests not taken because of the error below (nothing was charged)" in err
    assert "error: kie asks to be called again in 24 h" in err and "render again in 24 h" in err
    assert sum("asks to be called again" in line for line in err.splitlines()) == 1, err  # said once
    assert clock.monotonic() - 1000.0 <= 150
