"""`render` and `stitch`: spend (after asking), generate, cut.

render shows the plan (plan.decide: the decision it then follows exactly), asks before
spending, generates, tells each shot's outcome with its way on, and cuts the film.

Over 400 lines on purpose: the two commands that spend and cut share the progress display,
the spend prompt and the cut; this is the one module that talks to the user while money is
spent, and it reads best as one.
"""

from __future__ import annotations

import shlex
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from storyboard import pipeline
from storyboard.cli.app import (
    _output_option,
    _provider_option,
    cli,
    detail,
    emit_json,
    json_option,
    note,
    plural,
    printable,
    quiet,
    say,
    verbosity_options,
    warn,
)
from storyboard.cli.export import timeline_option, write_timeline
from storyboard.cli.plan import _force_option, _takes_option, print_plan
from storyboard.errors import (
    ConfigError,
    LockError,
    ProviderError,
    StoryboardError,
    ValidationError,
)
from storyboard.money import Amount, parse_amount
from storyboard.plan.decide import Action, Decisions
from storyboard.run import events as ev
from storyboard.store.layout import Layout
from storyboard.store.stand import Stand
from storyboard.validate.checks import placeholder_urls

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from storyboard.stitch.spec import StitchResult


# render ---------------------------------------------------------------------------------------
class _Reporter:
    """Shows the executor's events: a bar for the shots (with the shots in flight and the
    services' own estimate of the time left), a line for each thing worth saying."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress = progress
        self.task = progress.add_task("generating", total=total) if progress else None
        self.busy: dict[str, str] = {}  # shot -> what it is doing
        self.eta: dict[str, float] = {}

    def line(self, shot_id: str, text: str) -> None:
        if self.progress is not None:
            who = f"  {shot_id}: " if shot_id else "  "
            self.progress.console.print(printable(f"{who}{text}"), markup=False, highlight=False)

    def on(self, event: ev.Event) -> None:
        if self.progress is None or self.task is None:
            return
        sid = event.shot_id
        if isinstance(event, ev.Submitted):
            self.line(sid, f"submitted (task {event.task_id})")
            self.busy[sid] = "queued"
        elif isinstance(event, ev.Resumed):
            self.line(sid, f"resumed task {event.task_id} (paid already)")
            self.busy[sid] = "running"
        elif isinstance(event, ev.Rendering | ev.Sending):
            self.busy[sid] = "rendering" if isinstance(event, ev.Rendering) else "sending"
        elif isinstance(event, ev.Uploading):
            self.line(sid, f"uploading {event.file}")
        elif isinstance(event, ev.Progress):
            pct = f" {event.percent:.0f}%" if event.percent is not None else ""
            self.busy[sid] = f"{event.state}{pct}"
            if event.eta_seconds is not None:
                self.eta[sid] = time.monotonic() + event.eta_seconds
        elif isinstance(event, ev.Downloading):
            self.busy[sid] = "downloading"
        elif isinstance(event, ev.Retry):
            self.line(sid, f"{'submitting again' if event.resubmit else 'retrying'}: {event.reason}")
        elif isinstance(event, ev.ContactLost):
            self.line(sid, f"{event.reason} (asking again in {event.wait:.0f} s; the task is safe)")
        elif isinstance(event, ev.Forced):
            self.line(sid, f"regenerated too: {event.reason}")
        elif isinstance(event, ev.LockTakenOver):
            self.line("", event.reason)
        elif isinstance(event, ev.Ended):
            self.busy.pop(sid, None)
            self.eta.pop(sid, None)
            if event.outcome.has_clip:  # the bar counts clips made; the rest are told once, at the end
                self.line(sid, "done" if event.outcome is Stand.MADE else "already made")
                self.progress.advance(self.task)
            else:
                self.line(sid, f"{event.outcome.value} (see below)")
        self.progress.update(self.task, description=self.describe())

    def describe(self) -> str:
        if not self.busy:
            return "generating"
        shown = ", ".join(f"{s} {w}" for s, w in list(self.busy.items())[:4])
        more = f" +{len(self.busy) - 4}" if len(self.busy) > 4 else ""
        left = max((t - time.monotonic() for t in self.eta.values()), default=None)
        eta = f", ~{_minutes(left)} left" if left is not None and left > 0 else ""
        return printable(f"generating [{shown}{more}{eta}]")


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


@contextmanager
def _progress(quiet: bool) -> Iterator[Progress | None]:
    if quiet:
        yield None
        return
    # lazy: start-up (rich draws only a render's progress)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True, highlight=False, soft_wrap=True),
        transient=False,
    ) as p:
        yield p


def _interactive() -> bool:
    return sys.stdin.isatty()


def _confirm_spend(decisions: Decisions, yes: bool, budget: Amount | None) -> None:
    from storyboard.plan.budget import check_budget  # lazy: start-up

    cost = decisions.cost()
    plan = decisions.plan
    if budget is not None:
        check_budget(decisions, budget)
    if plan.provider.free or not cost.shots or yes:
        return
    if not _interactive():
        raise ConfigError(
            "this render would spend money and there is no terminal to ask: pass --yes",
            hint="`storyboard plan` shows what it would send and cost",
        )
    if not cost.cost.known:
        why = cost.why_unknown(plan.provider.name)
        question = f"Spend an unknown amount on {plural(cost.shots, 'shot')} ({why})?"
    else:
        question = f"Spend {cost.text()}?"
    if not click.confirm(question, err=True):
        raise StoryboardError("cancelled: nothing was sent")


class _Budget(click.ParamType):
    """--budget 100 (credits), '$5', 5USD, $5.00 (US dollars): a bad one is a usage error (exit 2)."""

    name = "amount"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Amount:
        if isinstance(value, Amount):
            return value
        try:
            return parse_amount(value)
        except ValueError as e:
            self.fail(str(e), param, ctx)


def _refuse_if_locked(sb: Any) -> None:
    """Before asking for money: a render already running would refuse this one anyway."""
    from storyboard.store.lock import read_lock  # lazy: start-up

    info = read_lock(sb.state_dir)
    if info is not None and not info.stale:
        raise LockError(f"{sb.path.name} is being rendered: locked by {info.describe()}")


def _tell_outcomes(plan: pipeline.Plan, result: ev.GenerateResult) -> None:
    """Each shot (and take) without a clip, with the one way on that can help it. What stopped
    the whole render (a refused key, no credits) is said once, after, not as every shot's."""
    every = [*result.shots.items(), *result.takes.items()]  # by key: a take is `id@K`
    left = [(key, r) for key, r in every if not r.outcome.has_clip]
    fatal = result.fatal.reason if isinstance(result.fatal, ProviderError) else None

    def stopped_by_fatal(r: ev.ShotResult) -> bool:  # refused, no task, for what stopped the render
        untaken = r.outcome is Stand.FAILED and r.task_id is None
        return bool(untaken and fatal and r.reason and fatal in r.reason)

    stopped = [r for _, r in left if stopped_by_fatal(r)]
    for key, r in left:
        if r not in stopped:
            warn(f"error: shot {key!r} {r.outcome.value}: {r.reason or ''}".rstrip(": "))
    if result.unrecorded:
        sb = plan.storyboard
        option = f" -p {plan.provider.name}" if plan.provider.name != sb.provider else ""
        warn(
            f"The state could not be saved, so these task ids exist only here. {plan.provider.name} "
            "took (and charged for) them: once there is room, attach each with:"
        )
        for shot_id, task_id in result.unrecorded.items():
            warn(f"  storyboard adopt {sb.path}{option} {shot_id} {task_id}")
    made = sum(1 for r in result.shots.values() if r.outcome.has_clip)
    ways = []
    kinds = {r.outcome for _, r in left if r not in stopped}
    if stopped:
        ways.append(
            f"{plural(len(stopped), 'request')} not taken because of the error below (nothing was charged)"
        )
    if Stand.FAILED in kinds and all(h.refunds_failures is True for h in plan.providers):
        ways.append("render again to retry the failed shots (made ones are kept)")
    elif Stand.FAILED in kinds:  # a failed job may have been paid for: the user decides
        ways.append("--force each failed shot to make it again (plan --force prices it first)")
    if Stand.STALLED in kinds:
        ways.append("render again later to collect the stalled shots (paid already: no new charge)")
    if Stand.UNCERTAIN in kinds:
        ways.append("for each uncertain shot, adopt its task id from the dashboard or --force it")
    if Stand.BLOCKED in kinds:
        ways.append("the waiting shots follow once the shots they continue are made")
    if Stand.UNRECORDED in kinds:
        ways.append("attach the task ids above with the adopt commands shown (paid already: no new charge)")
    takes = len(result.takes)
    counted = f"{made} of {len(result.shots)} shots made" + (
        f" ({sum(1 for r in result.takes.values() if r.outcome.has_clip)} of {takes} other takes)"
        if takes
        else ""
    )
    said = "; ".join(ways)
    warn(f"{counted}; the film was not cut." + (f" {said[:1].upper()}{said[1:]}." if said else ""))


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@_provider_option
@_output_option
@click.option("--yes", "-y", is_flag=True, help="Spend without asking (required with no terminal).")
@click.option(
    "--budget",
    type=_Budget(),
    metavar="AMOUNT",
    help="Refuse a render whose plan costs more: 100 (credits) or '$5' (US dollars); a plan not "
    "priced in that unit is refused too (declare a price: `providers: {NAME: {price: ...}}`).",
)
@_force_option
@click.option(
    "--concurrency",
    type=click.IntRange(1, 21),
    default=4,
    show_default=True,
    help="Requests in flight at once.",
)
@click.option(
    "--retries",
    type=click.IntRange(0, 5),
    default=1,
    show_default=True,
    help="Resubmissions of a generation the service failed, where it refunds failures.",
)
@click.option(
    "--poll-interval",
    type=click.FloatRange(0.01),
    metavar="SECONDS",
    help="Seconds between polls, with jitter (default: each provider's own pace, never faster "
    "than its documented rate limit allows; or STORYBOARD_POLL_INTERVAL).",
)
@_takes_option
@timeline_option
@json_option
@verbosity_options
def render(
    file: Path,
    provider: str | None,
    output: Path | None,
    yes: bool,
    budget: Amount | None,
    force: tuple[str, ...],
    concurrency: int,
    retries: int,
    poll_interval: float | None,
    takes: int,
    timeline: Path | None,
    as_json: bool,
) -> None:
    """Generate the shots that are not made yet, then cut the film.

    It shows the plan and its cost and asks before spending; a submission whose answer is
    lost is never sent again on its own (adopt its task id, or --force it).
    """
    from storyboard.run.executor import generate  # lazy: start-up

    sb = pipeline.load(file, provider)
    p = pipeline.make_plan(sb, provider, need_key=True, takes=takes)
    target = pipeline.output_path(sb, output)  # before any work: the film must have somewhere to go
    hosted = [h for h in p.providers if not h.free]
    if hosted:  # a render that pays would pay for shots of images that do not exist
        placeholders = placeholder_urls(sb, lambda asset: any(h.sends_url(asset) for h in hosted))
        if placeholders:
            raise ValidationError(placeholders)
    decisions = pipeline.decide(p, force)  # the decision shown is the decision followed
    _refuse_if_locked(sb)  # before asking for money that could not be spent
    Layout(sb.state_dir).check()  # nor for clips that would have nowhere to go
    print_plan(decisions, say)  # the plan is data of `plan`; here it is what -q drops
    _confirm_spend(decisions, yes, budget)
    started = time.monotonic()
    # every clip already made: no bar for work that is not there (the plan said so above)
    idle = all(d.action is Action.CACHED for d in decisions)
    with _progress(quiet() or as_json or idle) as bar:
        result = generate(
            p,
            force=force,
            concurrency=concurrency,
            poll_interval=poll_interval,
            resubmits=retries,
            reporter=_Reporter(bar, len(p.entries)),
            agreed=decisions,
            budget=budget,
        )
    for moved in result.moved.values():  # a provider refused them before taking them
        say(f"shot {moved.shot_id!r} passed on from {moved.source} to {moved.target}: {moved.reason}")
    if not result.complete:
        if as_json:
            emit_json(_result_json(p, result, None))
        _tell_outcomes(p, result)
        code = result.fatal.exit_code if result.fatal is not None else 1
        if result.fatal is not None:
            warn(result.fatal.format())
        raise click.exceptions.Exit(code)
    film = _cut(p, result.clips, target, quiet() or as_json)
    write_timeline(p, result.clips, target, timeline)
    if as_json:
        emit_json(_result_json(p, result, film))
    note(f"done in {time.monotonic() - started:.1f} s: the film is {target}")
    note(f"next: storyboard report {shlex.quote(str(file))}   (a contact sheet of every shot and the film)")


def _result_json(plan: pipeline.Plan, result: ev.GenerateResult, film: Any) -> dict[str, Any]:
    """What `render --json` prints: each shot's outcome, and the film if it was cut."""
    return {
        "ok": film is not None,
        "storyboard": str(plan.storyboard.path),
        "provider": plan.provider.name,
        "shots": [
            {
                "id": r.shot_id,
                "outcome": r.outcome.value,
                "reason": r.reason,
                "task_id": r.task_id,
                "clip": str(r.clip) if r.clip else None,
                "provider": r.provider,
                **(
                    {"passed_on": {"from": m.source, "to": m.target, "why": m.reason}}
                    if (m := result.moved.get(r.shot_id))
                    else {}
                ),
            }
            for r in result.shots.values()
        ],
        "submitted": result.submitted,
        "unrecorded": result.unrecorded,
        "film": None
        if film is None
        else {"path": str(film.output), "seconds": round(film.duration, 3), "method": film.method},
    }


def _cut(
    plan: pipeline.Plan, clips: dict[str, Path], output: Path | None, quiet: bool, engine: str = "ffmpeg"
) -> StitchResult:
    target = pipeline.output_path(plan.storyboard, output)
    with ExitStack() as drawn:
        bars: list[tuple[Progress, TaskID]] = []

        def advance(done: float) -> None:
            if not bars:  # the bar appears with the first work: an up-to-date film draws nothing
                bar = drawn.enter_context(_progress(False))
                assert bar is not None  # _progress(False) draws
                bars.append((bar, bar.add_task("stitching", total=1.0)))
            bars[0][0].update(bars[0][1], completed=done)

        result = pipeline.stitch(plan, clips, target, None if quiet else advance, engine=engine)
    for warning in result.warnings:
        warn(f"warning: {warning}")
    if result.up_to_date:
        say(f"{result.output!s} is up to date ({result.duration:.2f} s, {result.method}): nothing to do")
        return result
    say(f"wrote {result.output!s} ({result.duration:.2f} s, {result.method})")
    if result.why:
        detail(f"  (not faster because {'; '.join(result.why[:3])}{' ...' if len(result.why) > 3 else ''})")
    say(f"captions {result.srt!s}")
    return result


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@_provider_option
@_output_option
@click.option(
    "--engine",
    type=click.Choice(["ffmpeg", "reencode", "moviepy"]),
    default="ffmpeg",
    show_default=True,
    help="ffmpeg: the fastest safe way (copies what needs no change); reencode: every frame "
    "encoded (for a player that refuses a spliced film); moviepy: composed by moviepy, as "
    "storyboard.film() returns it.",
)
@timeline_option
@verbosity_options
def stitch(file: Path, provider: str | None, output: Path | None, engine: str, timeline: Path | None) -> None:
    """Re-cut the film from clips already made (trims, transitions, captions, music); generates nothing.

    Says so and writes nothing when the film is up to date with its clips and settings."""
    sb = pipeline.load(file, provider)
    p = pipeline.make_plan(sb, provider)
    made = pipeline.clips_made(p)
    clips, stale, missing = made.clips, made.stale, made.missing
    if missing:
        raise made.refusal(file)
    for shot_id in stale:
        parent = made.parents.get(shot_id)
        if parent is not None:  # its own request is as it was: the shot it continues changed
            note(
                f"note: shot {shot_id!r} continues shot {parent!r}, which changed since; using its "
                "last clip (render remakes it)"
            )
        else:
            note(
                f"note: shot {shot_id!r} changed since its clip was made; using that clip (render remakes it)"
            )
    _cut(p, clips, output, quiet(), engine)
    write_timeline(p, clips, output, timeline)
