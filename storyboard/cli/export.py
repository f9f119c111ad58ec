"""What leaves the tool for other hands: `--timeline` for render and stitch (a cut an editor
can finish), and `report` (a contact sheet of every shot)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from storyboard import pipeline
from storyboard.cli.app import _provider_option, cli, say


# --timeline (on render and stitch) --------------------------------------------------------------
def _check_timeline(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """Refuse a bad timeline path while the options are read: before anything is spent."""
    if value is None:
        return None
    from storyboard.export.write import check_destination

    return check_destination(value)


def timeline_option(f: Any) -> Any:
    return click.option(
        "--timeline",
        type=click.Path(path_type=Path, dir_okay=False),
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
    from storyboard.export.source import read_cut
    from storyboard.export.write import write_timeline as write

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
def report(file: Path, provider: str | None, output: Path | None) -> None:
    """Write a contact sheet beside the film: one HTML page with the film, and every shot's
    first, middle and last frames, prompt as sent, type, provider, cost, task and state, and
    clip. Generates nothing; sends nothing."""
    from storyboard.export.write import write_shared
    from storyboard.report.gather import gather
    from storyboard.report.page import check_page, render_page

    sb = pipeline.load(file)
    plan = pipeline.make_plan(sb, provider)
    film = pipeline.output_path(sb, output)
    page = check_page(film.with_suffix(".report.html"))
    sheet = gather(plan, film, page)
    page.parent.mkdir(parents=True, exist_ok=True)
    write_shared(page, render_page(sheet))
    made = sum(1 for s in sheet.shots if s.selected is not None and s.selected.video is not None)
    cut = "the film" if sheet.film else "no film yet (render cuts it)"
    say(f"wrote {page} ({len(sheet.shots)} shots, {made} with clips, {cut})")
