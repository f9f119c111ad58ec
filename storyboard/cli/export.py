"""What leaves the tool for other hands: `--timeline` for render and stitch (a cut an editor
can finish), and `report` (a contact sheet of every shot)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from storyboard import pipeline
from storyboard.cli.app import _provider_option, cli, emit_json, json_option, say, show, verbosity_options
from storyboard.errors import ConfigError

if TYPE_CHECKING:
    from storyboard.money import Totals
    from storyboard.report.diff import Diff


# --timeline (on render and stitch) --------------------------------------------------------------
def _check_timeline(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """Refuse a bad timeline path while the options are read: before anything is spent."""
    if value is None:
        return None
    from storyboard.export.write import check_destination  # lazy: start-up

    return check_destination(value)


def timeline_option(f: Any) -> Any:
    return click.option(
        "--timeline",
        type=click.Path(path_type=Path),  # a folder is told with a file to give (check_destination)
        callback=_check_timeline,
        metavar="FILE",
        help="Also write the cut as a timeline for an editor: .otio (OpenTimelineIO), .edl "
        "(CMX 3600) or .xml (FCP 7 XML, for Premiere and DaVinci Resolve); subtitles beside it.",
    )(f)


def write_timeline(
    plan: pipeline.Plan, clips: dict[str, Path], output: Path | None, timeline: Path | None
) -> None:
    """After the cut: the same layout, as a timeline (nothing when no --timeline)."""
    if timeline is None:
        return
    from storyboard.export.source import read_cut  # lazy: start-up
    from storyboard.export.write import write_timeline as write  # lazy: start-up

    film = pipeline.output_path(plan.storyboard, output)
    written = write(read_cut(plan, clips, film), timeline)
    joins = "".join(
        f", {n} {word}{'s' if n != 1 else ''}"
        for n, word in ((written.crossfades, "crossfade"), (written.fades, "fade"))
        if n
    )
    say(f"timeline {written.path!s} ({written.format.label}: {written.clips} clips{joins})")
    if written.subtitles is not None:
        say(f"subtitles {written.subtitles!s}")


# report ---------------------------------------------------------------------------------------
@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@_provider_option
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="The film the page goes beside and plays (default: the storyboard's `output:`).",
)
@verbosity_options
def report(file: Path, provider: str | None, output: Path | None) -> None:
    """Write a contact sheet beside the film: one HTML page with the film, and every shot's
    first, middle and last frames, prompt as sent, type, provider, cost, task and state, and
    clip. Generates nothing; sends nothing."""
    from storyboard.export.write import write_shared  # lazy: start-up
    from storyboard.report.gather import gather  # lazy: start-up
    from storyboard.report.page import check_page, render_page  # lazy: start-up

    sb = pipeline.load(file, provider)
    plan = pipeline.make_plan(sb, provider)
    film = pipeline.output_path(sb, output)
    # another provider's sheet beside the file's own, never over it
    other = "" if plan.routed or plan.provider.name == sb.provider else f".{plan.provider.name}"
    page = check_page(film.with_suffix(f"{other}.report.html"))
    sheet = gather(plan, film, page)
    page.parent.mkdir(parents=True, exist_ok=True)
    write_shared(page, render_page(sheet))
    made = sum(1 for s in sheet.shots if s.selected is not None and s.selected.video is not None)
    if sheet.film:
        cut = "the film"
    elif sheet.film_other:
        cut = "no film yet of these clips (the one there was cut from others)"
    else:
        cut = "no film yet (render cuts it)"
    say(f"wrote {page} ({len(sheet.shots)} shots, {made} with clips, {cut})")


# diff -----------------------------------------------------------------------------------------
def _storyboard_here() -> Path:
    """The storyboard in the current folder when FILE is not given: the only YAML file there
    with a top-level `storyboard:`."""
    found = []
    for p in sorted([*Path.cwd().glob("*.yaml"), *Path.cwd().glob("*.yml")]):
        try:
            head = p.read_text(encoding="utf-8", errors="replace")[:65536]
        except OSError:
            continue
        if any(line.startswith("storyboard:") for line in head.splitlines()):
            found.append(p)
    if len(found) != 1:
        where = f"found {', '.join(p.name for p in found)}" if found else "found none"
        raise ConfigError(
            f"name the storyboard to compare: {where} in {Path.cwd()}", hint="storyboard diff [REV] FILE"
        )
    return found[0]


def _rev_and_file(args: tuple[str, ...]) -> tuple[str, Path]:
    if len(args) > 2:
        raise click.UsageError("at most a revision and a file: storyboard diff [REV] [FILE]")
    if len(args) == 2:
        return args[0], Path(args[1])
    if len(args) == 1 and Path(args[0]).suffix.lower() in (".yaml", ".yml"):
        return "HEAD", Path(args[0])
    return (args[0] if args else "HEAD"), _storyboard_here()


def _cost(t: Totals) -> dict[str, Any]:
    return t.json()


def diff_data(d: Diff, storyboard: Path) -> dict[str, Any]:
    from storyboard.report.diff import Change  # lazy: start-up

    return {
        "storyboard": str(storyboard),
        "revision": {"rev": d.rev, "commit": d.commit, "path": d.path, "existed": d.old_provider is not None},
        "provider": {"old": d.old_provider, "new": d.new_provider, "free": d.free},
        "changed": d.changed,
        "shots": [
            {
                "id": s.id,
                "change": s.change.value,
                "symbol": s.change.symbol,
                "aspects": list(s.aspects),
                "notes": list(s.notes),
                "fingerprint": {"old": s.old_fingerprint, "new": s.new_fingerprint},
                "cost": {"credits": s.cost.credits, "usd": s.cost.usd} if s.paid else None,
                "render": {"action": s.render.value, "symbol": s.render_symbol} if s.render else None,
            }
            for s in d.shots
        ],
        "film": list(d.film),
        "counts": {c.value: d.count(c) for c in Change},
        "cost": _cost(d.cost),
        "render": {"cost": _cost(d.render_cost)},
    }


def _print_diff(d: Diff, storyboard: Path) -> None:
    from storyboard.plan.decide import Action  # lazy: start-up
    from storyboard.report.diff import Change  # lazy: start-up

    since = f"{d.rev} ({d.commit[:7]})" if d.commit else d.rev
    provider = (
        d.new_provider
        if d.old_provider in (None, d.new_provider)
        else f"{d.old_provider} -> {d.new_provider}"
    )
    say(f"Changes to {storyboard} since {since}, on {provider}:")
    if d.old_provider is None:
        say(f"  (not in {d.rev}: every shot is new)")
    listed = [s for s in d.shots if s.change is not Change.SAME]
    width = max((len(s.id) for s in listed), default=4)
    for s in listed:
        what = {
            Change.ADDED: "added",
            Change.REMOVED: "removed",
            Change.CHANGED: ", ".join(s.aspects),
            # only the cut changed, or what changed is not sent (then a note says so)
            Change.CUT: ", ".join(s.aspects) if s.notes else "cut only: " + ", ".join(s.aspects),
        }[s.change]
        if s.paid and not s.pays:
            cost = "its clip is made already" if s.render is Action.CACHED else "nothing new to pay"
        elif s.paid:
            cost = "free" if d.free else s.cost.text()
            cost = f"regenerate, {cost}" if s.change is Change.CHANGED else f"generate, {cost}"
        elif s.change is Change.CUT:
            cost = "its clip serves"
        else:
            cost = ""
        show(f"  {s.change.symbol} {s.id.ljust(width)}  {what}" + (f"  ({cost})" if cost else ""))
        for note in s.notes:
            show(f"    {' ' * width}  note: {note}")
    if d.film:
        show(f"  the film: {', '.join(d.film)}")
    if not d.changed:
        say("  nothing changed")
    counts = {c: d.count(c) for c in Change}
    parts = [
        f"{counts[Change.ADDED]} to add",
        f"{counts[Change.CHANGED]} to regenerate",
        f"{counts[Change.CUT]} cut only",
        f"{counts[Change.REMOVED]} removed",
        f"{counts[Change.SAME]} unchanged",
    ]
    c = d.cost
    money = "nothing" if not c.shots or d.free else c.text(d.new_provider)
    say(f"Diff: {', '.join(parts)}. Cost of the change: {money}.")
    r = d.render_cost
    here = "nothing" if not r.shots or d.free else r.text(d.new_provider)
    say(f"A render here now: {r.shots} shot{'s' if r.shots != 1 else ''} to generate, costing {here}.")


@cli.command()
@click.argument("args", nargs=-1, metavar="[REV] [FILE]")
@_provider_option
@json_option
@click.option(
    "--exit-code",
    is_flag=True,
    help="Exit 1 when anything changed, 0 when nothing did (as git diff --exit-code).",
)
@verbosity_options
def diff(args: tuple[str, ...], provider: str | None, as_json: bool, exit_code: bool) -> None:
    """Compare the storyboard at a git revision (default HEAD) with the working copy: which
    shots changed and how, which a render would regenerate, and what the change costs.
    Reads the revision with git (no checkout); sends nothing."""
    from storyboard.report.diff import compare  # lazy: start-up
    from storyboard.report.revision import storyboard_at  # lazy: start-up

    rev, file = _rev_and_file(args)
    sb = pipeline.load(file, provider)
    new = pipeline.decide(pipeline.make_plan(sb, provider))
    with storyboard_at(file, rev) as then:
        # the revision decided by this folder's state: what it would have paid here
        old = (
            pipeline.decide(pipeline.make_plan(then.storyboard, provider), here=sb)
            if then.storyboard
            else None
        )
        result = compare(old, new, rev=rev, commit=then.commit, path=then.path)
    if as_json:
        emit_json(diff_data(result, file))
    else:
        _print_diff(result, file)
    if exit_code and result.changed:
        raise click.exceptions.Exit(1)
