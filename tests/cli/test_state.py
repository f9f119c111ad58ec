"""`status --json` and `adopt`, as scripts and users drive them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from tests.run.boards import make_plan, three, use, write_board
from tests.servers import start_server

pytestmark = pytest.mark.usefixtures("fast")  # tests/conftest.py


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def status(board: Path) -> dict[str, Any]:
    shown = run("status", str(board), "--json")
    assert shown.exit_code == 0, shown.output
    return json.loads(shown.stdout)


def test_status_json_says_each_shot_s_state(
    clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shots = three()
    shots[2]["prompt"] = "a FORBIDDEN door"  # its job fails
    board = write_board(tmp_path / "film", "kie", shots)
    with start_server("kie", clip=clip) as srv:
        use(monkeypatch, srv)
        fresh = status(board)
        assert [s["state"] for s in fresh["shots"]] == ["new", "new", "new"]
        assert fresh["provider"] == "kie" and not (tmp_path / "film" / ".storyboard").exists()
        srv.fault("accept_drop", on="submit")
        done = run("render", str(board), "--yes", "--quiet", "--retries", "0", "--concurrency", "1")
        assert done.exit_code == 1
        shown = {s["id"]: s for s in status(board)["shots"]}
        assert shown["a"]["state"] == "uncertain" and shown["a"]["task_id"] is None
        assert "storyboard adopt" in shown["a"]["reason"]
        assert shown["b"]["state"] == "made" and shown["b"]["task_id"]
        assert shown["c"]["state"] == "failed" and shown["c"]["action"] == "generate"
        assert "rejected by content checks" in shown["c"]["reason"]
        assert {s["provider"] for s in shown.values()} == {"kie"}
        text = run("status", str(board)).stdout
        assert " uncertain " in text and " failed " in text and " made " in text
        # the table's columns line up: each reason starts where the others do
        rows = [line for line in text.splitlines() if "reason: " in line]
        assert len(rows) == 2 and len({row.index("reason: ") for row in rows}) == 1, text


def test_adopt_attaches_the_dashboard_task_and_the_next_render_pays_nothing(
    clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    board = write_board(tmp_path / "film", "aivideoapi", three())
    with start_server("aivideoapi", clip=clip) as srv:
        use(monkeypatch, srv)
        srv.fault("accept_drop", on="submit")
        first = run("render", str(board), "--yes", "--quiet", "--concurrency", "1")
        assert first.exit_code == 1 and "uncertain" in first.output
        lost = next(a for a in srv.accepted if a["body"]["input"]["prompt"] == three()[0]["prompt"])

        made = run("adopt", str(board), "b", lost["task_id"])  # b is made: nothing to adopt
        assert made.exit_code == 2 and "shot 'b' is not uncertain (cached" in made.output
        unknown = run("adopt", str(board), "a", "no-such-task-123")
        assert unknown.exit_code != 0
        assert "has no task 'no-such-task-123'" in unknown.output or "nothing was recorded" in unknown.output
        assert status(board)["shots"][0]["state"] == "uncertain"
        nope = run("adopt", str(board), "zzz", lost["task_id"])
        assert nope.exit_code == 2 and "no shot 'zzz'" in nope.output
        asked = len(srv.requests)
        for bad in ("../../v1/admin", "x?y=1#z", "..", "veo_\x1b[31mx", "a" * 201):
            refused = run("adopt", str(board), "a", "--", bad)
            assert refused.exit_code == 2 and "is not a task id" in refused.output, (bad, refused.output)
        assert len(srv.requests) == asked  # nothing was sent for any of them

        adopted = run("adopt", str(board), "a", lost["task_id"])
        assert adopted.exit_code == 0, adopted.output
        assert f"adopted task {lost['task_id']} for shot 'a'" in adopted.stdout
        row = status(board)["shots"][0]
        assert row["state"] == "submitted" and row["task_id"] == lost["task_id"] and row["adopted"]
        paid = len(srv.accepted)
        again = run("render", str(board), "--yes", "--quiet")
        assert again.exit_code == 0, again.output
        assert len(srv.accepted) == paid == 3
        plan = make_plan(board, srv)
        assert (plan.storyboard.state_dir / "clips" / f"{plan.shot('a').fingerprint}.mp4").is_file()


def test_adopt_on_the_offline_preview_asks_it_like_any_provider(tmp_path: Path) -> None:
    """No exception for the preview: a shot that is not uncertain is refused, and a task id it
    never gave is one it does not know (its poll says so); nothing is recorded."""
    board = write_board(tmp_path / "film", "preview", three())
    result = run("adopt", str(board), "a", "preview-" + "0" * 16)
    assert result.exit_code == 2 and "is not uncertain" in result.output, result.output
    result = run("adopt", str(board), "a", "task-1", "--force")
    assert result.exit_code == 2 and "not a task id of preview" in result.output, result.output
    assert status(board)["shots"][0]["state"] == "new"
