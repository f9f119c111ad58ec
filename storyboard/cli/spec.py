"""`validate` and `init`: the storyboard file itself."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from storyboard import pipeline
from storyboard.cli.app import cli, say, warn
from storyboard.errors import ValidationError


# validate -------------------------------------------------------------------------------------
@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check storyboards against the format; list every problem with its line and column."""
    bad = 0
    for path in files:
        try:
            sb = pipeline.load(path)
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
