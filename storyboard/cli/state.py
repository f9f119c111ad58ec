"""`status`, `adopt` and `unlock`: the saved state of a storyboard.

status reads the same decision as plan and render (plan.decide), so "uncertain" in status
is the shot render will not send again, and "submitted" the one it will poll.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from storyboard import pipeline
from storyboard.cli.app import (
    _provider_option,
    cli,
    complete_shots,
    emit_json,
    json_option,
    note,
    plural,
    say,
    show,
    show_detail,
    verbosity_options,
)
from storyboard.plan.decide import Decisions, Why
from storyboard.store.stand import Stand


def _age(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def status_data(decisions: Decisions) -> dict[str, Any]:
    plan = decisions.plan
    now = time.time()
    shots = []
    for d in decisions:
        rec = d.record
        state = d.state
        reason = None
        if state in (Stand.FAILED, Stand.UNCERTAIN):
            reason = rec.reason if rec and rec.reason else d.reason
        if (
            state is Stand.FAILED
            and not (rec and rec.task_id)
            and not (reason or "").startswith("not submitted")
        ):
            reason = f"not submitted (nothing was charged): {reason}"  # the service provably did not take it
        if state is Stand.UNCERTAIN:
            sb = plan.storyboard
            maker = d.shot.maker.name
            option = f" -p {maker}" if maker != sb.provider and not plan.routed else ""
            reason = (
                f"{reason}; {maker} may have it: `storyboard adopt {sb.path}{option} "
                f"{d.shot_id} TASK_ID` with the task id from its dashboard, or `storyboard render "
                f"{sb.path}{option} --force {d.shot_id}` to pay for a new one"
            )
        elif (state is Stand.NEW and d.why is not Why.NEW) or (
            state is Stand.SUBMITTED and d.why is Why.REFETCH
        ):
            reason = d.reason
        elif state is Stand.SUBMITTED and rec is not None and rec.reason:  # a render left it stalled
            reason = f"left stalled last time: {rec.reason}"
        shots.append(
            {
                "id": d.shot_id,
                "state": state.value,
                "action": d.action.value,
                "symbol": d.action.symbol,
                "task_id": rec.task_id if rec else None,
                "provider": d.shot.maker.name,  # a film's shots may go to several
                "reason": reason,
                "age_seconds": round(now - rec.at, 1) if rec and rec.at else None,
                "attempts": rec.attempts if rec else 0,
                "adopted": bool(rec and rec.adopted),
                "fingerprint": d.fingerprint,
                # how renders moved its request on: sent again, a fresh link, left stalled
                "moves": [
                    {"move": m.move.value, "age_seconds": round(now - m.at, 1), "reason": m.reason}
                    for m in (rec.moves if rec else ())
                ],
            }
        )
    return {
        "storyboard": str(plan.storyboard.path),
        "provider": plan.provider.name,
        "shots": shots,
        "cost": decisions.cost().json(),  # what a render would pay for now
        # tasks of earlier versions of shots, still running: a render polls them (free)
        "orphans": [
            {"shot": t.shot_id, "task_id": t.task_id, "fingerprint": t.fingerprint} for t in decisions.orphans
        ],
    }


def _more(shot: dict[str, Any]) -> str:
    """-v: what `status --json` adds to a row: what render would do, its request's attempts, and
    the fingerprint that names its clip."""
    words = [f"render: {shot['action']}"]
    if shot["attempts"]:  # requests sent for this clip (a clip made before has no record)
        words.append(plural(shot["attempts"], "attempt"))
    if shot["adopted"]:
        words.append("adopted")
    return "; ".join([*words, f"fingerprint {shot['fingerprint'][:16]}"])


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@_provider_option
@json_option
@verbosity_options
def status(file: Path, provider: str | None, as_json: bool) -> None:
    """Each shot's state: new, submitted (task id, age), made, failed (reason), or uncertain
    (its request's answer was lost: adopt or --force it)."""
    sb = pipeline.load(file, provider)
    p = pipeline.make_plan(sb, provider)
    decisions = pipeline.decide(p)
    data = status_data(decisions)
    if as_json:
        emit_json(data)
        return
    shots = data["shots"]
    width = max(len(s["id"]) for s in shots)
    # columns line up like `git status` or `kubectl get`: id, state, task and its age, reason
    tasks = [f"task {s['task_id']} {_age(s['age_seconds'])}".rstrip() if s["task_id"] else "" for s in shots]
    task_width = max(map(len, tasks), default=0)
    # a film on several services names each shot's: where its task is, where adopt must ask
    makers = [s["provider"] for s in shots]
    maker_width = max(map(len, makers)) if p.routed or any(m != data["provider"] for m in makers) else 0
    for s, task in zip(shots, tasks, strict=True):
        line = f"  {s['id'].ljust(width)}  "
        if maker_width:
            line += f"{s['provider'].ljust(maker_width)}  "
        line += f"{s['state']:<9}"
        if task_width:
            line += f" {task.ljust(task_width)}"
        if s["reason"]:
            line += f" reason: {s['reason']}"
        if s["moves"]:
            last = s["moves"][-1]
            line += f" (last move: {last['move']} {_age(last['age_seconds'])}"
            line += f"; {len(s['moves'])} moves)" if len(s["moves"]) > 1 else ")"
        show(line.rstrip())
        show_detail(f"  {' ' * width}  {_more(s)}")
    for o in data["orphans"]:
        show(
            f"  (an earlier version of shot {o['shot']!r} is still running as task {o['task_id']}: "
            "a render saves its clip, free)"
        )
    cost = decisions.cost()
    if cost.shots and not all(h.free for h in p.providers):
        say(f"A render now pays for {plural(cost.shots, 'shot')}: {cost.text(p.provider.name)}.")


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.argument("shot", shell_complete=complete_shots)
@click.argument("task_id")
@_provider_option
@click.option("--force", is_flag=True, help="Attach it even to a shot that is not uncertain.")
@verbosity_options
def adopt(file: Path, shot: str, task_id: str, provider: str | None, force: bool) -> None:
    """Attach TASK_ID, found on the provider's dashboard, to SHOT, whose request's answer was
    lost: the next render downloads it instead of paying again. The task id is checked with
    one status request first. Where one request carried many shots, give that shot's own task id."""
    from storyboard.run.adopt import adopt as adopt_task  # lazy: start-up

    sb = pipeline.load(file, provider)
    p = pipeline.make_plan(sb, provider, need_key=True)
    done = adopt_task(p, shot, task_id, force=force)
    state = done.status.state.value
    maker = p.shot(shot).maker.name
    say(f"adopted task {done.task.task_id} for shot {shot!r} ({maker} says: {state})")
    option = f" -p {maker}" if maker != sb.provider and not p.routed else ""
    note(f"next: storyboard render {file}{option} downloads it at no new charge")


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Remove a lock of another host, or one that cannot be read.")
@verbosity_options
def unlock(file: Path, force: bool) -> None:
    """Clear a stale lock left by a render that died."""
    from storyboard.store.lock import clear_lock  # lazy: start-up

    sb = pipeline.load(file)
    info = clear_lock(sb.state_dir, force=force)
    if info is None:
        say(f"{file!s} was not locked")
    else:
        say(f"unlocked {file!s} (the lock of {info.describe()})")
