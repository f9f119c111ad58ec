"""Where each shot stands, for the page: the one place that reads plan/decide, so that when
its interface changes only this module follows it."""

from __future__ import annotations

from dataclasses import dataclass

from storyboard import pipeline
from storyboard.money import Totals
from storyboard.plan.decide import Why
from storyboard.report.model import Status


@dataclass(frozen=True)
class Standing:
    shots: dict[str, Status]  # by shot id
    cost: Totals  # what a render would spend now


def standing(plan: pipeline.Plan) -> Standing:
    """Each shot's state and what a render would do about it (plan.decide; no network)."""
    decisions = pipeline.decide(plan)
    shots = {}
    for d in decisions:
        rec = d.record
        reason = None
        if d.state in ("failed", "uncertain"):
            reason = rec.reason if rec and rec.reason else d.reason
        elif d.why not in (Why.MADE, Why.NEW, Why.POLL) or d.shares:
            reason = d.reason
        shots[d.shot_id] = Status(
            state=d.state,
            action=d.action.value,
            symbol=d.action.symbol,
            task_id=rec.task_id if rec else None,
            reason=reason,
            paid=d.paid,
        )
    return Standing(shots=shots, cost=decisions.cost())
