"""decide on failures: a job the service failed is made again on its own only where the
service refunds it; a request it provably did not take was charged nothing anywhere."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard import providers
from storyboard.cli import cli
from storyboard.plan.compiler import compile_plan
from storyboard.plan.decide import Action, Why, decide
from storyboard.providers.base import Task
from storyboard.store.lock import acquire
from storyboard.store.state import Intent, State
from storyboard.validate.checks import load_storyboard
from tests.run.boards import three, write_board


def failed(tmp_path: Path, provider: str, taken: bool) -> list[tuple[str, str]]:
    """Each shot's (action, why) after shot a's request failed: its job failed at the service
    (`taken`), or the request was refused and nothing was taken."""
    board = write_board(tmp_path / provider, provider, three())
    sb = load_storyboard(board)
    plan = compile_plan(sb, providers.get(provider)())
    a = plan.shot("a")
    with acquire(sb.state_dir, "test", storyboard=sb.path) as lock:
        state = State.load(sb.state_dir, lock=lock)
        state.record_intent([Intent(a.fingerprint, "a", provider, ("a",))])
        if taken:
            state.record_submitted([Task("a", "task-1", provider, a.fingerprint, time.time())])
            state.record_failed(a.fingerprint, "error 13: it broke")
        else:
            state.record_not_sent([a.fingerprint], "rate limited (nothing was charged)")
    return [(d.action.value, d.why.value) for d in decide(plan)]


@pytest.mark.parametrize("provider", ["aivideoapi", "gemini"])
def test_a_refused_request_is_sent_again_on_every_provider(tmp_path: Path, provider: str) -> None:
    assert failed(tmp_path, provider, taken=False)[0] == ("generate", "retry")


def test_a_failed_job_is_made_again_on_its_own_only_where_it_is_refunded(tmp_path: Path) -> None:
    assert failed(tmp_path, "aivideoapi", taken=True)[0] == ("generate", "retry")  # refunded
    decided = failed(tmp_path, "gemini", taken=True)  # Google does not say: it may be charged
    assert decided[0] == (Action.FAILED.value, Why.CHARGED.value)
    assert decided[1:] == [("generate", "new"), ("generate", "new")]
    board = tmp_path / "gemini" / "board.yaml"
    plan = compile_plan(load_storyboard(board), providers.get("gemini")())
    d = decide(plan)["a"]
    assert not d.paid and d.state == "failed"
    assert d.reason == (
        "its job failed: error 13: it broke; gemini may charge for failed jobs, so it is not sent "
        "again on its own: --force a makes it again"
    )
    forced = decide(plan, force=["a"])["a"]
    assert forced.action is Action.REGENERATE and forced.paid  # --force, which the plan prices


def chain_made(tmp_path: Path) -> Path:
    """A chain a <- b <- c (each continues the one before) whose clips were all made."""
    shots = three()
    shots[1]["continues"], shots[2]["continues"] = "a", "b"
    board = write_board(tmp_path / "chain", "aivideoapi", shots)
    sb = load_storyboard(board)
    plan = compile_plan(sb, providers.get("aivideoapi")())
    with acquire(sb.state_dir, "test", storyboard=sb.path) as lock:
        state = State.of(sb, lock=lock)
        for sp in plan.shots:
            state.record_made(sp.id, sp.fingerprint, "aivideoapi")
    return board


def edit(board: Path, **prompts: str) -> None:
    text = board.read_text(encoding="utf-8")
    for shot, prompt in prompts.items():
        old = {"a": "a red door in the rain", "b": "a blue door at dawn", "c": "a green door at night"}[shot]
        text = text.replace(old, prompt)
    board.write_text(text, encoding="utf-8")


def test_a_follower_of_an_edited_shot_is_made_again_for_its_parent(tmp_path: Path) -> None:
    board = chain_made(tmp_path)
    edit(board, a="a red door in the snow")
    plan = compile_plan(load_storyboard(board), providers.get("aivideoapi")())
    got = {d.shot_id: d for d in decide(plan)}
    assert (got["a"].action, got["a"].why) == (Action.REGENERATE, Why.EDITED)
    assert got["a"].reason == "changed since its clip was made"
    for shot, parent in (("b", "a"), ("c", "b")):  # the whole chain, each naming its own parent
        d = got[shot]
        assert (d.action, d.why, d.parent) == (Action.REGENERATE, Why.PARENT, parent)
        assert d.reason == f"it continues shot {parent!r}, which is regenerated"  # as --force says it
        assert d.paid


def test_a_follower_edited_itself_is_edited_whatever_its_parent(tmp_path: Path) -> None:
    board = chain_made(tmp_path)
    edit(board, a="a red door in the snow", b="a blue door at dusk")
    plan = compile_plan(load_storyboard(board), providers.get("aivideoapi")())
    got = {d.shot_id: (d.action, d.why) for d in decide(plan)}
    assert got == {
        "a": (Action.REGENERATE, Why.EDITED),
        "b": (Action.REGENERATE, Why.EDITED),  # its own prompt changed: that is its reason
        "c": (Action.REGENERATE, Why.PARENT),
    }


def test_plan_words_a_followers_reason_by_its_parent(tmp_path: Path) -> None:
    board = chain_made(tmp_path)
    edit(board, a="a red door in the snow")
    shown = CliRunner().invoke(cli, ["plan", str(board)])
    assert shown.exit_code == 0, shown.output
    lines = {ln.split()[1]: ln for ln in shown.stdout.splitlines()[1:4]}
    assert "(changed since its clip was made)" in lines["a"]
    assert "(it continues shot 'a', which is regenerated)" in lines["b"]
    assert "(it continues shot 'b', which is regenerated)" in lines["c"]
    assert "changed since" not in lines["b"] + lines["c"]


def test_stitch_after_an_edit_names_the_parent_of_a_follower(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYBOARD_PREVIEW_SCALE", "0.125")  # tiny clips, made for real
    shots = three()[:2]
    shots[1]["continues"] = "a"
    board = write_board(tmp_path / "film", "preview", shots)
    made = CliRunner().invoke(cli, ["render", str(board), "--quiet"])
    assert made.exit_code == 0, made.output
    edit(board, a="a red door in the snow")
    shown = CliRunner().invoke(cli, ["plan", str(board)])
    assert "(it continues shot 'a', which is regenerated)" in shown.stdout, shown.stdout
    cut = CliRunner().invoke(cli, ["stitch", str(board)])
    assert cut.exit_code == 0, cut.output
    assert "shot 'a' changed since its clip was made; using that clip" in cut.stderr
    assert "shot 'b' continues shot 'a', which changed since; using its last clip" in cut.stderr
    assert "shot 'b' changed since" not in cut.stderr


def test_the_orphan_tasks_a_render_polls_are_decided_and_shown(tmp_path: Path) -> None:
    """A task of an earlier version of a shot, still running, is in the decision (the executor
    polls what decide says), and plan --json and status --json show it; it costs nothing."""
    import json

    from click.testing import CliRunner

    from storyboard.cli import cli

    board = write_board(tmp_path, "aivideoapi", three())
    sb = load_storyboard(board)
    plan = compile_plan(sb, providers.get("aivideoapi")())
    old = "f" * 64  # the fingerprint of a's earlier prompt
    with acquire(sb.state_dir, "test", storyboard=sb.path) as lock:
        state = State.load(sb.state_dir, lock=lock)
        state.record_intent([Intent(old, "a", "aivideoapi", ("a",))])
        state.record_submitted([Task("a", "task-old", "aivideoapi", old, time.time())])
    decisions = decide(plan)
    assert [(t.shot_id, t.task_id, t.fingerprint) for t in decisions.orphans] == [("a", "task-old", old)]
    assert [d.action for d in decisions] == [Action.GENERATE] * 3  # the orphan is not a's request
    seen = {"shot": "a", "task_id": "task-old", "fingerprint": old}
    for command in ("plan", "status"):
        r = CliRunner().invoke(cli, [command, str(board), "--json"])
        assert r.exit_code == 0, r.output
        data = json.loads(r.stdout)
        assert data["orphans"] == [seen]
        assert data["cost"]["shots"] == 3
    assert "task-old" in CliRunner().invoke(cli, ["status", str(board)]).stdout
    free = compile_plan(sb, providers.get("preview")())
    assert decide(free).orphans == ()  # another provider's task is not the preview's to poll
