"""Where each shot stands, for the page, as decided (plan.decide): the one place the page's
model is made from the decisions, so that when their interface changes only this follows."""

from __future__ import annotations

from dataclasses import dataclass

from storyboard.money import Totals
from storyboard.plan.decide import Decisions, Why
from storyboard.report.model import Status
from storyboard.store.stand import Stand


@dataclass(frozen=True)
class Standing:
    shots: dict[str, Status]  # by shot id
    cost: Totals  # what a render would spend now


def standing(decisions: Decisions) -> Standing:
    """Each shot's state and what a render would do about it, as decided (plan.decide)."""
    shots = {}
    for d in decisions:
        rec = d.record
        reason = None
        if d.state in (Stand.FAILED, Stand.UNCERTAIN):
            reason = rec.reason if rec and rec.reason else d.reason
        elif d.why not in (Why.MADE, Why.NEW, Why.POLL) or d.shares:
            reason = d.reason
        shots[d.shot_id] = Status(
            state=d.state,
            action=d.action,
            symbol=d.action.symbol,
            task_id=rec.task_id if rec else None,
            reason=reason,
            paid=d.paid,
        )
    return Standing(shots=shots, cost=decisions.cost())
