"""`plan`: every request a render would send and what it would cost. Nothing is sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from storyboard import pipeline
from storyboard.cli.app import _provider_option, cli, say
from storyboard.plan.compiler import totals
from storyboard.providers import get as type_of_provider


# plan -----------------------------------------------------------------------------------------
def _money(credits: float | None, usd: float | None, unknown: int = 0) -> str:
    if credits is None:
        return "unknown" if not unknown else f"unknown ({unknown} shot{'s' if unknown != 1 else ''} unpriced)"
    text = f"{credits:g} credits"
    if usd is not None:
        text += f" (${usd:.2f})"
    return text


def _plan_data(plan: pipeline.Plan, force: tuple[str, ...] = ()) -> dict[str, Any]:
    view = pipeline.plan_view(plan, force)
    todo = [v.id for v in view if v.symbol in pipeline.PAID]
    requests = plan.requests(todo)
    uploads = []
    upload_url = getattr(plan.provider, "upload_url", None)
    for req in requests:
        for need in req.needs:
            if need.kind == "upload" and callable(upload_url):
                uploads.append(
                    {
                        "method": "POST",
                        "url": upload_url(),
                        "multipart": {"file": need.source},
                        "shots": list(req.shots),
                        "fills": need.placeholder,
                    }
                )
    cost = totals(plan.shot(i) for i in todo)
    actions = {"+": "generate", "~": "regenerate", "=": "made", ">": "resume", "?": "uncertain"}
    return {
        "storyboard": str(plan.storyboard.path),
        "title": plan.storyboard.title,
        "provider": plan.provider.name,
        "base_url": plan.provider.base_url,
        "local": plan.provider.local,
        "shots": [
            {
                "id": v.id,
                "action": actions[v.symbol],
                "symbol": v.symbol,
                "type": v.kind,
                "fingerprint": v.fingerprint,
                "cost": {"credits": v.credits, "usd": v.usd},
            }
            for v in view
        ],
        "requests": uploads + [r.to_json() for r in requests],
        "cost": {
            "shots": cost.shots,
            "credits": cost.credits,
            "usd": cost.usd,
            "unknown_shots": cost.unknown,
        },
    }


def _print_plan(data: dict[str, Any]) -> None:
    say(f"Plan for {data['title']!s} ({data['storyboard']}) on {data['provider']}:")
    width = max((len(s["id"]) for s in data["shots"]), default=4)
    for s in data["shots"]:
        c = s["cost"]
        if s["symbol"] not in pipeline.PAID:
            cost = {">": "resume (paid already)", "?": "uncertain: not sent again without --force"}.get(
                s["symbol"], ""
            )
        else:
            cost = "free" if data["local"] else _money(c["credits"], c["usd"])
        say(f"  {s['symbol']} {s['id'].ljust(width)}  {data['provider']:<10} {s['type']:<9}  {cost}")
    counts = {sym: sum(1 for s in data["shots"] if s["symbol"] == sym) for sym in "+~=>?"}
    cost = data["cost"]
    if data["local"]:
        money = f"nothing ({data['provider']} renders on this machine)"
    elif cost["shots"]:
        money = _money(cost["credits"], cost["usd"], cost["unknown_shots"])
    else:
        money = "nothing"
    extra = "".join(
        f", {counts[sym]} {words}" for sym, words in ((">", "to resume"), ("?", "uncertain")) if counts[sym]
    )
    say(
        f"Plan: {counts['+']} to generate, {counts['~']} to regenerate, {counts['=']} already made{extra}. "
        f"Cost: {money}."
    )
    default = getattr(type_of_provider(data["provider"]), "default_base_url", None)
    if not data["local"] and default and data["base_url"] != default.rstrip("/"):
        say(f"Requests go to {data['base_url']} (not {default}).")


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@_provider_option
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the plan as JSON: every request exactly, and the cost.",
)
def plan(file: Path, provider: str | None, as_json: bool) -> None:
    """Show every request a render would send and what it would cost. Sends nothing."""
    sb = pipeline.load(file)
    p = pipeline.make_plan(sb, provider)
    data = _plan_data(p)
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        _print_plan(data)
