"""A status that says "completed" without its link is never a failure: the shot is asked about
again (and, if the glitch persists, left stalled with its task id), never paid for twice.
Counted by the submissions each loopback service received."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.plan.decide import Action, decide
from storyboard.run.executor import generate
from storyboard.store.stand import Stand
from tests.run.boards import states, use, write_board
from tests.run.fakeclock import FakeClock, clocked_plan
from tests.servers import FakeProvider, start_server

SUBMIT_PATHS = {
    "aivideoapi": ("/v1/videos/generations",),
    "kie": ("/api/v1/veo/generate", "/api/v1/veo/extend"),
    "veo3o1": ("/generate-video",),
    "nanophoto": ("/api/veo-3/generate",),
}
FOUR = [
    {"id": "a", "prompt": "a red door in the rain"},
    {"id": "b", "prompt": "a blue door at dawn"},
    {"id": "c", "prompt": "a green door at night"},
    {"id": "d", "prompt": "a white door in the snow"},
]


def submissions(srv: FakeProvider) -> int:
    """The paid requests the service received, answered or not."""
    return sum(1 for r in srv.requests if r.method == "POST" and r.path in SUBMIT_PATHS[srv.name])


@pytest.mark.parametrize(
    ("provider", "top", "sent"),
    [
        ("veo3o1", {}, 4),
        ("nanophoto", {}, 4),
        ("nanophoto", {"providers": {"nanophoto": {"batch": 4}}}, 1),
        ("aivideoapi", {}, 4),
        ("kie", {}, 4),
    ],
    ids=["veo3o1", "nanophoto", "nanophoto-batch", "aivideoapi", "kie"],
)
def test_one_completed_status_without_its_link_pays_for_nothing_again(
    provider: str,
    top: dict[str, Any],
    sent: int,
    clip: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STORYBOARD_CONTACT_TIMEOUT", "60")  # far beyond the next poll
    board = write_board(tmp_path / "film", provider, FOUR, **top)
    with start_server(provider, clip=clip) as srv:
        use(monkeypatch, srv)
        srv.fault("no_link")  # the first "completed" status comes without its link
        result = CliRunner().invoke(cli, ["render", str(board), "--yes", "--quiet"])
        assert result.exit_code == 0, result.output
        assert srv.pending_faults == []  # the glitch was met
        assert submissions(srv) == sent and len(srv.accepted) == 4
        assert srv.paid_for() == {s["prompt"]: 1 for s in FOUR}
    assert (tmp_path / "film" / "renders" / "board.mp4").is_file()


def test_a_glitch_that_persists_stalls_the_shot_with_its_task_and_never_pays_again(
    clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kie, one shot, every status "done" without a link, three renders: one paid job. Each
    render asks for the contact deadline (15 min of fake time at kie's own pace), then leaves
    the shot stalled with its task id; the plan between says so and resumes it for free; once
    the links come back, a render fetches the clip without paying again."""
    monkeypatch.delenv("STORYBOARD_POLL_INTERVAL")  # kie's own pace, in fake time
    monkeypatch.delenv("STORYBOARD_CONTACT_TIMEOUT")  # the default deadline: 15 min
    clock = FakeClock()
    board = write_board(tmp_path / "film", "kie", FOUR[:1])
    with start_server("kie", clip=clip) as srv:
        use(monkeypatch, srv)
        srv.fault("no_link", times=10**6)  # every status
        task_ids = set()
        for _ in range(3):
            plan = clocked_plan(board, srv, clock)
            began, polls = clock.monotonic(), len(srv.requests)
            result = generate(plan, clock=clock)
            shot = result.shots["a"]
            assert shot.outcome is Stand.STALLED, shot
            assert (
                shot.reason is not None and "kie says it is done but gives no link to the clip" in shot.reason
            )
            assert re.search(r"no answer from kie about it for 1[56] min", shot.reason), shot.reason
            assert "no new charge" in shot.reason
            assert 900 <= clock.monotonic() - began <= 965  # the deadline, and one wait (60 s at most) more
            assert len(srv.requests) - polls >= 10  # it kept asking
            task_ids.add(shot.task_id)
            # the plan agrees: the shot is resumed (polled, free), its task and stall named
            (d,) = decide(plan)
            assert d.action is Action.RESUME and not d.paid and shot.task_id in d.reason
            assert "left stalled last time: no answer from kie" in d.reason
            assert states(plan) == ["submitted"]
            shown = CliRunner().invoke(cli, ["plan", str(board)])
            assert "0 to generate" in shown.stdout and "1 to resume" in shown.stdout, shown.stdout
            assert "left stalled last time" in shown.stdout
            status = CliRunner().invoke(cli, ["status", str(board), "--json"])
            (row,) = json.loads(status.stdout)["shots"]
            assert row["state"] == "submitted" and row["task_id"] == shot.task_id
            assert "kie says it is done but gives no link to the clip" in row["reason"]
        assert len(task_ids) == 1 and None not in task_ids
        assert submissions(srv) == 1 and srv.paid_for() == {FOUR[0]["prompt"]: 1}
        srv.clear_faults()
        done = generate(clocked_plan(board, srv, clock), clock=clock)
        assert done.shots["a"].outcome is Stand.MADE and done.submitted == []
        assert submissions(srv) == 1 and srv.credits == 10_000 - 60
    (d,) = decide(clocked_plan(board, srv, clock))
    assert d.action is Action.CACHED
