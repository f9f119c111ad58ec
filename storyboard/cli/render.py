"""`render` and `stitch`: spend (after asking), generate, cut."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from storyboard import pipeline
from storyboard.cli.app import _output_option, _provider_option, cli, say, warn
from storyboard.cli.plan import _money, _plan_data, _print_plan
from storyboard.errors import BudgetError, ConfigError, LockError, StoryboardError

if TYPE_CHECKING:
    from rich.progress import Progress


# render ---------------------------------------------------------------------------------------
class _Reporter:
    """Shows the executor's events: a bar for the shots, a line for each thing worth saying."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress = progress
        self.task = progress.add_task("generating", total=total) if progress else None

    def event(self, kind: str, shot_id: str, **info: Any) -> None:
        if not self.progress:
            return
        detail = {
            "submitted": lambda: f"submitted (task {info.get('task_id', '?')})",
            "resumed": lambda: f"resumed task {info.get('task_id', '?')}",
            "cached": lambda: "already made",
            "retry": lambda: f"retrying: {info.get('reason', '')}",
            "failed": lambda: f"FAILED: {info.get('reason', '')}",
            "forced": lambda: f"regenerated too: {info.get('reason', '')}",
            "lock": lambda: str(info.get("reason", "")),
            "done": lambda: "done",
        }.get(kind)
        if detail:
            who = f"  {shot_id}: " if shot_id else "  "
            self.progress.console.print(f"{who}{detail()}", markup=False, highlight=False)
        # an uncertain shot is also reported "failed", with the same reason: count it once
        if kind in ("done", "cached", "failed") and self.task is not None:
            self.progress.advance(self.task)


@contextmanager
def _progress(quiet: bool) -> Iterator[Progress | None]:
    if quiet:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True, highlight=False, soft_wrap=True),
        transient=False,
    ) as p:
        yield p


def _interactive() -> bool:
    return sys.stdin.isatty()


def _confirm_spend(data: dict[str, Any], yes: bool, budget: float | None, local: bool) -> None:
    cost = data["cost"]
    if budget is not None and cost["shots"]:
        if cost["credits"] is None:
            raise BudgetError(
                f"--budget {budget:g}: the {data['provider']} documents give no price, so the cost "
                "cannot be checked against a budget",
                hint="render without --budget after reading the plan, or use a provider with prices",
            )
        if cost["credits"] > budget:
            raise BudgetError(
                f"the plan costs {cost['credits']:g} credits, more than --budget {budget:g}",
                hint="raise the budget, or render fewer shots (storyboard plan shows each shot's cost)",
            )
    if local or not cost["shots"] or yes:
        return
    if not _interactive():
        raise ConfigError(
            "this render would spend credits and there is no terminal to ask: pass --yes",
            hint="`storyboard plan` shows what it would send and cost",
        )
    if not click.confirm(f"Spend {_money(cost['credits'], cost['usd'], cost['unknown_shots'])}?", err=True):
        raise StoryboardError("cancelled: nothing was sent")


def _refuse_if_locked(sb: Any) -> None:
    """Before asking for money: a render already running would refuse this one anyway."""
    from storyboard.store.lock import read_lock

    info = read_lock(sb.state_dir)
    if info is not None and not info.stale:
        raise LockError(f"{sb.path.name} is being rendered: locked by {info.describe()}")


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@_provider_option
@_output_option
@click.option("--yes", "-y", is_flag=True, help="Spend without asking (required with no terminal).")
@click.option("--budget", type=float, metavar="CREDITS", help="Refuse a render whose plan costs more.")
@click.option(
    "--force", multiple=True, metavar="SHOT", help="Regenerate this shot even if made (repeatable)."
)
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
    help="Resubmissions of a failed generation.",
)
@click.option(
    "--poll-interval",
    type=click.FloatRange(0.01),
    metavar="SECONDS",
    help="Seconds between polls, with jitter (default: the provider's pace, 5-10 s; nanophoto "
    "36 s or more, for its rate limit; or STORYBOARD_POLL_INTERVAL).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def render(
    file: Path,
    provider: str | None,
    output: Path | None,
    yes: bool,
    budget: float | None,
    force: tuple[str, ...],
    concurrency: int,
    retries: int,
    poll_interval: float | None,
    quiet: bool,
) -> None:
    """Generate the shots that are not made yet, then cut the film."""
    from storyboard.run.executor import check_force, generate

    sb = pipeline.load(file)
    p = pipeline.make_plan(sb, provider, need_key=True)
    check_force(p, force)  # before asking for money
    _refuse_if_locked(sb)  # before asking for money that could not be spent
    data = _plan_data(p, force)
    if not quiet:
        _print_plan(data)
    _confirm_spend(data, yes, budget, p.provider.local)
    started = time.monotonic()
    with _progress(quiet) as bar:
        result = generate(
            p,
            force=force,
            concurrency=concurrency,
            poll_interval=poll_interval,
            resubmits=retries,
            reporter=_Reporter(bar, len(p.shots)),
        )
    if result.failed:
        for shot_id, reason in result.failed.items():
            warn(f"error: shot {shot_id!r} failed: {reason}")
        warn(
            f"{len(result.clips)} of {len(p.shots)} shots made; the film was not cut. "
            "Run render again to retry the failed shots (made ones are kept)."
        )
        sys.exit(1)
    _cut(p, result.clips, output, quiet)
    if not quiet:
        warn(f"done in {time.monotonic() - started:.1f} s")


def _cut(plan: pipeline.Plan, clips: dict[str, Path], output: Path | None, quiet: bool) -> None:
    target = pipeline.output_path(plan.storyboard, output)
    with _progress(quiet) as bar:
        task = bar.add_task("stitching", total=1.0) if bar else None
        result = pipeline.stitch(
            plan,
            clips,
            target,
            (lambda f: bar.update(task, completed=f)) if bar and task is not None else None,
        )
    say(f"wrote {result.output!s} ({result.duration:.2f} s, {result.method})")
    say(f"captions {result.srt!s}")


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@_provider_option
@_output_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def stitch(file: Path, provider: str | None, output: Path | None, quiet: bool) -> None:
    """Re-cut the film from clips already made (trims, transitions, captions, music); generates nothing."""
    sb = pipeline.load(file)
    p = pipeline.make_plan(sb, provider)
    clips, stale, missing = pipeline.clips_made(sb, p)
    if missing:
        raise ConfigError(
            f"no clip made yet for shot{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
            hint=f"run `storyboard render {file}` first",
        )
    for shot_id in stale:
        warn(
            f"note: shot {shot_id!r} changed since its clip was made; "
            "using that clip (render to regenerate it)"
        )
    _cut(p, clips, output, quiet)
