"""`--budget`: whether the decision (plan.decide) may be paid for, in the budget's own unit.

It reads the decision and decides nothing: the shots it prices are the ones the render sends
(Decisions.paid). A budget in credits is held against credits, one in dollars against dollars;
a plan not priced in the budget's unit is refused with what to do (declare a price, or give
the budget in the unit the plan is priced in), never guessed at.
"""

from __future__ import annotations

from storyboard.errors import BudgetError
from storyboard.money import Amount, Unit
from storyboard.plan.decide import Decisions


def check_budget(decisions: Decisions, budget: Amount) -> None:
    """BudgetError (exit 2, before anything is sent) when the paid shots cost more than
    `budget`, or when some of them have no price in its unit."""
    cost = decisions.cost()
    if not cost.shots:
        return  # nothing is paid for: any budget holds
    name = decisions.plan.provider.name
    unit = budget.unit
    if cost.cost.of(unit) is None:
        raise BudgetError(_unpriced(decisions, budget), hint=_declare(name, unit, cost.cost.of(_other(unit))))
    if budget.exceeded_by(cost.cost):
        spent = cost.cost.of(unit)
        assert spent is not None
        raise BudgetError(
            f"the plan costs {Amount(spent, unit).text()}, more than --budget {budget.text()}",
            hint="raise the budget, or render fewer shots (storyboard plan shows each shot's cost)",
        )


def _other(unit: Unit) -> Unit:
    return Unit.USD if unit is Unit.CREDITS else Unit.CREDITS


def _unpriced(decisions: Decisions, budget: Amount) -> str:
    cost = decisions.cost()
    unit, name = budget.unit, decisions.plan.provider.name
    missing = cost.unpriced[unit]
    of = f"{missing} of the {cost.shots}" if missing != cost.shots else f"the {cost.shots}"
    shots = f"{of} shot{'s' if cost.shots != 1 else ''} to pay for"
    if cost.unknown == cost.shots:
        why = f"{name}'s documents give no price and the storyboard declares none"
    else:
        other = cost.cost.of(_other(unit))
        priced = f" (the plan costs {Amount(other, _other(unit)).text()})" if other is not None else ""
        why = f"{shots} {'have' if missing != 1 else 'has'} no price in {unit.words}{priced}"
        return f"--budget {budget.text()} is in {unit.words}, but {why}: it cannot be checked"
    return f"--budget {budget.text()}: {why}, so {shots} cannot be held to a budget"


def _declare(name: str, unit: Unit, other: float | None) -> str:
    example = "'$0.40'" if unit is Unit.USD else "80"
    declare = (
        f"declare what a shot costs in {unit.words} in the storyboard, e.g. "
        f"`providers: {{{name}: {{price: {example}}}}}` (plan then says where each price came from)"
    )
    if other is not None:
        instead = Amount(other, _other(unit))
        form = f"'{instead.text()}'" if instead.unit is Unit.USD else f"{instead.value:g}"
        costs = f"the plan costs {instead.text()}: --budget {form}"
        return f"give the budget in {instead.unit.words} ({costs}), or {declare}"
    return f"{declare}; or render without --budget after reading the plan"
