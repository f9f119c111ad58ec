"""`plan`: every request a render would send and what it would cost. Nothing is sent.

What it shows is the decision render itself follows (plan.decide), forced shots and the shots
continuing them included, so the price is the price.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from storyboard import pipeline
from storyboard.cli.app import (
    _provider_option,
    cli,
    emit_json,
    json_option,
    plural,
    problem_json,
    say,
    show,
    show_detail,
    verbose,
    verbosity_options,
    warn,
)
from storyboard.cli.complete import ShotKey
from storyboard.errors import ConfigError, Problem, Severity
from storyboard.money import Unit
from storyboard.plan.compiler import Plan, by_provider, plan_warnings
from storyboard.plan.decide import Action, Decision, Decisions, Why
from storyboard.plan.route import Route
from storyboard.providers import config
from storyboard.providers import get as type_of_provider


def price_sources(decisions: Decisions) -> list[str]:
    """Where the prices of the shots to pay for came from, each source once: "credits and
    dollars from <the provider's document, its date>", "dollars from <file:line: the
    storyboard's price>", and the shots with none, with how to declare one."""
    found: dict[tuple[str, str], list[str]] = {}  # (units, source) -> shots
    for d in decisions.paid:
        by_source: dict[str, list[str]] = {}
        for unit in Unit:
            source = d.shot.cost.source(unit)
            if source is not None:
                by_source.setdefault(source.text(), []).append(unit.words)
        for text, units in by_source.items():
            found.setdefault((" and ".join(units), text), []).append(d.shot_id)
    lines = []
    for (words, text), shots in found.items():
        every = len(shots) == len(decisions.paid)
        named = ", ".join(shots[:4]) + (" ..." if len(shots) > 4 else "")
        which = "" if every else f" ({plural(len(shots), 'shot')}: {named})"
        lines.append(f"{words} from {text}{which}")
    unpriced_at: dict[str, list[str]] = {}  # by provider: a film may go to several
    for d in decisions.paid:
        if not d.shot.cost.known:
            unpriced_at.setdefault(d.shot.maker.name, []).append(d.shot_id)
    for name, unpriced in unpriced_at.items():
        lines.append(
            f"none for {plural(len(unpriced), 'shot')} ({name}'s documents give none): declare one with "
            f"`providers: {{{name}: {{price: '$0.40'}}}}` (a shot; '$0.05/s' a second; 80 for credits)"
        )
    return lines


def _takes_option(f: Any) -> Any:
    return click.option(
        "--takes",
        type=click.IntRange(1, 8),
        default=1,
        show_default=True,
        metavar="N",
        help="Make at least N takes of every shot (variations; `select:` picks the one the cut uses).",
    )(f)


def _force_option(f: Any) -> Any:
    return click.option(
        "--force",
        multiple=True,
        type=ShotKey(),
        metavar="SHOT",
        help="Regenerate this shot even if made, and the shots continuing it (repeatable; "
        "SHOT@K: its take K).",
    )(f)


def plan_data(decisions: Decisions) -> dict[str, Any]:
    """The plan as data: what `plan --json` prints and what render asks the user to pay."""
    plan = decisions.plan
    paid = [d.shot_id for d in decisions.paid]
    requests = plan.requests(paid)
    uploads = []
    makers = {sp.key: sp.maker for sp in plan.entries}
    for req in requests:
        for need in req.needs:
            if need.kind == "upload":
                uploads.append(
                    {
                        "method": "POST",
                        "url": makers[req.names[0]].upload_url(),
                        "multipart": {"file": need.source},
                        "shots": list(req.shots),
                        "fills": need.placeholder,
                    }
                )
    cost = decisions.cost()
    return {
        "storyboard": str(plan.storyboard.path),
        "title": plan.storyboard.title,
        "provider": plan.provider.name,
        "base_url": plan.provider.base_url,
        "free": plan.provider.free,
        "shots": [
            {
                "id": d.shot_id,
                "shot": d.shot.id,
                "take": d.shot.take,
                "seed": d.shot.seed,
                "selected": d.shot.selected,
                "action": d.action.value,
                "symbol": d.action.symbol,
                "why": d.why.value,
                "reason": d.reason,
                "type": d.shot.compiled.shot.kind,
                "fingerprint": d.fingerprint,
                "paid": d.paid,
                "cost": d.shot.cost.json(),
                "provider": d.shot.maker.name,
                **(_route_json(d.shot.route) if d.shot.route else {}),
                **({"shares": d.shares} if d.shares else {}),
                **({"task_id": d.record.task_id} if d.record and d.record.task_id else {}),
            }
            for d in decisions
        ],
        "requests": uploads + [r.to_json() for r in requests],
        # tasks of earlier versions of shots, still running: polled by the render, free
        "orphans": [
            {"shot": t.shot_id, "task_id": t.task_id, "fingerprint": t.fingerprint} for t in decisions.orphans
        ],
        "cost": cost.json(),
        "providers": {name: t.json() for name, t in by_provider(d.shot for d in decisions.paid).items()},
        "warnings": [problem_json(w) for w in plan_warnings(plan)],
    }


def _route_json(route: Route) -> dict[str, Any]:
    """Why a shot of a film on several providers goes where it goes."""
    return {
        "route": {
            "passed": [
                {"provider": r.provider, "cannot": r.word, "reasons": list(r.reasons)} for r in route.passed
            ],
            "then": [p.name for p in route.then],
            "kept": route.kept,
            "own": route.own,
            "cheapest": route.cheapest,
            "why": route.why,
        }
    }


def missing_key(plan: Plan) -> Problem | None:
    """The key `render` will need, when it is not set: a plan needs none, a render stops."""

    try:
        for provider in plan.providers:  # a film on several: routing chose only those with keys
            config.require_key(provider, plan.storyboard.root)
    except ConfigError as e:
        return Problem(
            f"{e.message}: render stops there, before anything is sent",
            hint=e.hint,
            severity=Severity.WARNING,
        )
    return None


_NOT_PAID = {
    Action.RESUME: "resume (paid already)",
    Action.CACHED: "",
    Action.UNCERTAIN: "uncertain: adopt its task id, or --force it",
    Action.BLOCKED: "waits",
    Action.FAILED: "failed",
}
_TOTALS = (
    (Action.GENERATE, "to generate"),
    (Action.REGENERATE, "to regenerate"),
    (Action.CACHED, "already made"),
    (Action.RESUME, "to resume"),
    (Action.UNCERTAIN, "uncertain"),
    (Action.BLOCKED, "waiting"),
    (Action.FAILED, "failed"),
)


def print_plan(decisions: Decisions, row: Callable[[str], None] = show) -> None:
    """The plan as a table between its title and its totals. `row` prints a shot's line: the
    plan's data (`plan -q` keeps it), or, for render, a preamble that -q drops (say)."""
    plan = decisions.plan
    data = plan_data(decisions)
    for w in plan_warnings(plan):
        warn(w.format())
    on = ", ".join(p.name for p in plan.providers)
    say(f"Plan for {plan.storyboard.title!s} ({plan.storyboard.path}) on {on}:")
    width = max((len(d.shot_id) for d in decisions), default=4)
    free = all(p.free for p in plan.providers)
    counted = Counter(sp.id for sp in plan.entries)
    several = {shot for shot, n in counted.items() if n > 1}
    for d in decisions:
        if d.paid:
            cost = "free" if free else d.shot.cost.text()
        elif d.shares:
            cost = f"same clip as {d.shares}"
        elif d.action is Action.FAILED:  # what the --force that makes it again costs
            cost = f"failed; --force: {d.shot.cost.text()}"
        else:
            cost = _NOT_PAID[d.action]
        note = ""
        stalled = d.why is Why.POLL and d.record is not None and d.record.reason
        if (
            d.action is Action.REGENERATE
            or d.action in (Action.UNCERTAIN, Action.BLOCKED, Action.FAILED)
            or stalled
        ):
            note = f"  ({d.reason})"
        note += _take_note(d, several)
        if d.shot.route is not None and d.shot.route.why:  # why this provider: the earlier ones cannot
            note += f"  [{d.shot.route.why}]"
        kind = d.shot.compiled.shot.kind
        shot = f"{d.action.symbol} {d.shot_id.ljust(width)}  {d.shot.maker.name:<10} {kind:<9}"
        row(f"  {shot}  {cost}{note}".rstrip())
    counts = decisions.counts()
    parts = [f"{counts[a]} {words}" for a, words in _TOTALS[:3]]
    parts += [f"{counts[a]} {words}" for a, words in _TOTALS[3:] if counts[a]]
    money = f"nothing ({plan.provider.name} is free)" if free else decisions.cost().text(plan.provider.name)
    say(f"Plan: {', '.join(parts)}. Cost: {money}.")
    each = by_provider(d.shot for d in decisions.paid)
    if len(plan.providers) > 1 and each:  # credits are each service's own: by provider
        said = [
            f"{n} {t.cost.text() if t.cost.known else 'unknown'} ({plural(t.shots, 'shot')})"
            for n, t in each.items()
        ]
        say(f"Cost by provider: {'; '.join(said)}.")
    sources = [] if free else price_sources(decisions)
    if len(sources) == 1:
        say(f"Prices: {sources[0]}.")
    elif sources:
        say("Prices:")
        for line in sources:
            say(f"  {line}")
    if verbose():  # -v: what would be sent, as `plan --json` has it (no key in it: none is sent here)
        for req in data["requests"]:
            body = req.get("body", req.get("multipart"))
            show_detail(f"  {req['method']} {req['url']}  [{', '.join(req['shots'])}]")
            show_detail("    " + json.dumps(body, ensure_ascii=False, sort_keys=True))
    default = type_of_provider(plan.provider.name).default_base_url
    if default and plan.provider.base_url != default.rstrip("/"):
        say(f"Requests go to {plan.provider.base_url} (not {default}).")


def _take_note(d: Decision, several: set[str]) -> str:
    """What a take is: which the cut uses, and how it differs (its seed, or a repeat)."""
    sp = d.shot
    if sp.id not in several:
        return ""
    words = [f"take {sp.take}" + (", the cut's" if sp.selected else "")]
    if sp.seed is not None:  # the seed its own request carries
        words.append(f"seed {sp.seed}")
    elif sp.take > 1:
        words.append("the same request again (no seed to vary)")
    return f"  [{'; '.join(words)}]"


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@_provider_option
@_force_option
@_takes_option
@json_option
@verbosity_options
def plan(file: Path, provider: str | None, force: tuple[str, ...], takes: int, as_json: bool) -> None:
    """Show every request a render would send and what it would cost. Sends nothing.

    The plan is the decision render follows: `+` generate, `~` regenerate, `=` made, `>`
    resume (paid already), `?` uncertain (adopt or force it), `!` waits for a shot it continues,
    `x` failed at a service that may charge for failures (--force makes it again).
    """
    sb = pipeline.load(file, provider)
    p = pipeline.make_plan(sb, provider, takes=takes)
    decisions = pipeline.decide(p, force)
    unkeyed = missing_key(p)
    if as_json:
        data = plan_data(decisions)
        if unkeyed is not None:
            data["warnings"].append(problem_json(unkeyed))
        emit_json(data)
    else:
        print_plan(decisions)
        if unkeyed is not None:
            warn(unkeyed.format())
