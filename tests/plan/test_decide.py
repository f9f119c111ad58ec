"""decide on failures: a job the service failed is made again on its own only where the
service refunds it; a request it provably did not take was charged nothing anywhere."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from storyboard import providers
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
