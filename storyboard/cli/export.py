"""What leaves the tool for other hands: `--timeline` for render and stitch (a cut an editor
can finish), and `report` (a contact sheet of every shot)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from storyboard import pipeline
from storyboard.cli.app import say


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
