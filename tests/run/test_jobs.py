"""The executor's table of transitions (run.jobs.TRANSITIONS): what may follow what, and the
budget of every move that asks again; a paid resubmit has one only where it is refunded."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard import providers
from storyboard.errors import TransitionError
from storyboard.plan.compiler import compile_plan
from storyboard.plan.decide import decide
from storyboard.run.jobs import NOT_TAKEN_RETRIES, TRANSITIONS, Job, JobState, JobTable
from storyboard.store.stand import Move
from storyboard.validate.checks import load_storyboard
from tests.run.boards import three, write_board


def job(**kw: object) -> Job:
    return Job("0" * 64, ["a"], None, None, **kw)  # type: ignore[arg-type]


def test_a_job_goes_from_waiting_to_its_clip_by_the_table() -> None:
    j = job()
    for move, state in [
        (Move.SEND, JobState.SENDING),
        (Move.TAKEN, JobState.POLLING),
        (Move.FETCH, JobState.DOWNLOADING),
        (Move.REFRESH, JobState.POLLING),
        (Move.FETCH, JobState.DOWNLOADING),
    ]:
        j.move(move)
        assert j.state is state
    assert j.refreshes_left == 0 and not j.can(Move.REFRESH)  # one fresh link, then it stalls
    with pytest.raises(TransitionError, match="no move 'refresh' from 'downloading'"):
        j.move(Move.REFRESH)


def test_no_move_leaves_a_settled_job_and_none_skips_the_intent() -> None:
    for state in JobState:
        allowed = {m for (s, m) in TRANSITIONS if s is state}
        if state.settled:
            assert allowed == set()
    assert {s for (s, m) in TRANSITIONS if m is Move.TAKEN} == {JobState.SENDING}  # taken only once sent
    assert {r.to for (s, m), r in TRANSITIONS.items() if s is JobState.WAITING} == {
        JobState.WAITING,  # passed on to the next listed provider, nothing sent
        JobState.SENDING,
        JobState.POLLING,
        JobState.DOWNLOADING,
    }
    with pytest.raises(TransitionError):
        job().move(Move.TAKEN)  # a task id never arrives for a request not handed to be sent


def test_resends_are_counted_and_bounded() -> None:
    j = job()
    for n in range(NOT_TAKEN_RETRIES):
        j.move(Move.SEND)
        assert j.not_taken == n
        j.move(Move.RESEND)
    j.move(Move.SEND)
    assert j.not_taken == NOT_TAKEN_RETRIES and not j.can(Move.RESEND)


@pytest.mark.parametrize(("provider", "budget"), [("aivideoapi", 1), ("gemini", 0), ("kie", 1)])
def test_a_resubmit_has_a_budget_only_where_refunded(tmp_path: Path, provider: str, budget: int) -> None:
    """As decided (Decisions.refunded): gemini does not say it refunds, so its jobs get none."""
    plan = compile_plan(load_storyboard(write_board(tmp_path, provider, three())), providers.get(provider)())
    decisions = decide(plan)
    assert decisions.refunded is (budget > 0)
    table = JobTable.from_decisions(decisions, 1 if decisions.refunded else 0)
    for j in table:
        assert j.resubmits_left == budget
        j.move(Move.SEND)
        j.move(Move.TAKEN)
        assert j.can(Move.RESUBMIT) is (budget > 0)
