"""The command line: the only place that prints and picks exit codes.

Exit codes: 0 done; 1 a service or ffmpeg failed, or some shots failed; 2 bad input (nothing
was sent); 3 the storyboard is locked by another render; 130 interrupted.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from storyboard import __version__, pipeline
from storyboard.compiler import totals
from storyboard.errors import BudgetError, ConfigError, LockError, StoryboardError, ValidationError
from storyboard.providers import get as type_of_provider
from storyboard.templating import check_all

if TYPE_CHECKING:
    from rich.progress import Progress


def say(text: str) -> None:
    """Results, on stdout. Plain text: rich is loaded only for progress bars."""
    click.echo(text)


def warn(text: str) -> None:
    """Messages and errors, on stderr."""
    click.echo(text, err=True)


class _Group(click.Group):
    """Turn our errors into messages and exit codes; users never see a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except StoryboardError as e:
            warn(e.format())
            ctx.exit(e.exit_code)
        except KeyboardInterrupt:
            warn("interrupted: submitted tasks are saved; run the same command to resume")
            ctx.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except OSError as e:  # a full disk, a read-only folder: the machine's word, plainly
            where = f" ({e.filename})" if e.filename else ""
            warn(f"error: {e.strerror or e}{where}")
            ctx.exit(1)
        except Exception as e:  # a bug of ours: say so briefly; STORYBOARD_DEBUG shows it all
            if os.environ.get("STORYBOARD_DEBUG"):
                raise
            warn(f"internal error: {type(e).__name__}: {e!s}")
            warn("please report it with the command you ran (STORYBOARD_DEBUG=1 shows the traceback)")
            ctx.exit(70)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="storyboard")
def cli() -> None:
    """Compile a YAML storyboard into Veo 3.1 shots and a final cut.

    \b
    storyboard validate FILE      check a storyboard, every problem at once
    storyboard plan FILE          every request and what it costs; nothing is sent
    storyboard render FILE        generate what is missing, then cut the film
    storyboard stitch FILE        re-cut from the clips already made
    """


def _output_option(f: Any) -> Any:
    return click.option(
        "-o", "--output", type=click.Path(path_type=Path), help="Write the film here instead of `output:`."
    )(f)


def _provider_option(f: Any) -> Any:
    return click.option(
        "--provider",
        "-p",
        metavar="NAME",
        help="Override the storyboard's provider: preview, veo3o1, nanophoto, aivideoapi, kie.",
    )(f)


# validate -------------------------------------------------------------------------------------
@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check storyboards against the format; list every problem with its line and column."""
    bad = 0
    for path in files:
        try:
            sb = pipeline.load(path)
            template_problems = check_all(sb)
            if template_problems:
                raise ValidationError(template_problems)
        except ValidationError as e:
            bad += 1
            warn(e.format())
            n = len(e.problems)
            warn(f"{path!s}: {n} problem{'s' if n != 1 else ''}")
            continue
        n = len(sb.shots)
        say(
            f"{path!s}: ok: {sb.title!r}, {n} shot{'s' if n != 1 else ''}, "
            f"{sb.length:.1f} s, provider {sb.provider}"
        )
    if bad:
        sys.exit(2)


# init -----------------------------------------------------------------------------------------
@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
def init(directory: Path) -> None:
    """Start a new storyboard in DIRECTORY, with its own images and music."""
    from storyboard.scaffold import init_project

    path = init_project(directory)
    say(f"created {path!s}")
    say(f"next: storyboard render {path!s}")


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
    from storyboard.lock import read_lock

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
    from storyboard.executor import check_force, generate

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


# status / unlock ------------------------------------------------------------------------------
def _age(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@_provider_option
def status(file: Path, provider: str | None) -> None:
    """Each shot's state: made, submitted (task id and age), failed (reason), or not yet made."""
    from storyboard.status import shot_states

    sb = pipeline.load(file)
    p = pipeline.make_plan(sb, provider)
    width = max(len(s.id) for s in sb.shots)
    for st in shot_states(p):
        line = f"  {st.shot_id.ljust(width)}  {st.state:<9}"
        if st.task_id:
            line += f" task {st.task_id} {_age(st.age_seconds)}"
        if st.reason:
            line += f" reason: {st.reason}"
        say(line)


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Remove the lock even if its owner seems alive.")
def unlock(file: Path, force: bool) -> None:
    """Clear a stale lock left by a render that died."""
    from storyboard.lock import clear_lock

    sb = pipeline.load(file)
    info = clear_lock(sb.state_dir, force=force)
    if info is None:
        say(f"{file!s} was not locked")
    else:
        say(f"unlocked {file!s} (the lock of {info.describe()})")


def main() -> None:
    cli(prog_name="storyboard")


if __name__ == "__main__":
    main()
