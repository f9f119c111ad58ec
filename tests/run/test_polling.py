"""A status request is bounded by the poll's own deadline: the client's retries of it (429s
with a Retry-After, 5xx) stop where its task would be left stalled, on the render's clock,
instead of holding the render past it. All in fake time (tests/run/fakeclock.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.retry import MAX_DELAY
from storyboard.run.executor import generate
from storyboard.store.stand import Stand
from tests.run.boards import write_board
from tests.run.fakeclock import FakeClock, clocked_plan
from tests.run.test_no_link import FOUR, submissions
from tests.servers import start_server

CONTACT = 120.0


@pytest.mark.parametrize("kind", ["429", "503"])
def test_a_poll_retried_by_the_client_ends_at_its_contact_deadline(
    kind: str, clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every status request is refused for now; each client retry waits 50 s (Retry-After, or
    a backoff of 50 s's base). Unbounded, one poll's five retries would wait up to 250 s and
    leave the task stalled at 4 min; bounded, no wait reaches past 120 s of silence, and the
    task is left stalled then, its task id kept, paid once."""
    monkeypatch.setenv("STORYBOARD_CONTACT_TIMEOUT", str(CONTACT))
    monkeypatch.setenv("STORYBOARD_RETRY_BASE", "50")
    clock = FakeClock()
    board = write_board(tmp_path / "film", "kie", FOUR[:1])
    with start_server("kie", clip=clip) as srv:
        srv.fault(kind, on="poll", times=10**6, retry_after=50)
        began = clock.monotonic()
        result = generate(clocked_plan(board, srv, clock), clock=clock)
        took = clock.monotonic() - began
        polls = [r for r in srv.requests if r.method == "GET" and "record-info" in r.path]
        assert submissions(srv) == 1 and len(srv.accepted) == 1
    # the client's waits all fall before the deadline; after it, one poll (the poller's own
    # wait, at most a minute) finds the task out of contact
    assert sum(clock.sleeps) < CONTACT and took < CONTACT + MAX_DELAY, (took, clock.sleeps)
    assert len(polls) >= 3
    (shot,) = result.shots.values()
    assert shot.outcome is Stand.STALLED and shot.task_id == srv.accepted[0]["task_id"]
    assert shot.reason is not None and "no answer from kie about it for 2 min" in shot.reason
