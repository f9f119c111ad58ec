"""`validate` and `init`: the storyboard file itself."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import click

from storyboard import pipeline
from storyboard.cli.app import (
    cli,
    detail,
    emit_json,
    error_json,
    json_mode,
    json_option,
    note,
    say,
    verbosity_options,
    warn,
)
from storyboard.errors import ValidationError


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


# validate -------------------------------------------------------------------------------------
@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@json_option
@verbosity_options
def validate(files: tuple[Path, ...], as_json: bool) -> None:
    """Check storyboards against the format; list every problem with its line and column.

    Each file is read, checked against the schema and beyond (files it names, transitions,
    lengths), and its prompts and captions are rendered: all its problems in one pass.
    Nothing is sent anywhere.
    """
    reports: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for path in files:
        try:
            sb = pipeline.load(path)
        except ValidationError as e:
            n = len(e.problems)
            reports.append({"file": str(path), "ok": False, "problems": n})
            errors += error_json(e)
            if not json_mode():
                warn(e.format())
                warn(f"{path!s}: {_plural(n, 'problem')}")
            continue
        reports.append(
            {
                "file": str(path),
                "ok": True,
                "title": sb.title,
                "shots": len(sb.shots),
                "seconds": round(sb.length, 3),
                "provider": sb.provider,
            }
        )
        say(
            f"{path!s}: ok: {sb.title!r}, {_plural(len(sb.shots), 'shot')}, "
            f"{sb.length:.1f} s, provider {sb.provider}"
        )
        _show_prompts(sb)
    ok = all(r["ok"] for r in reports)
    if as_json:
        emit_json({"ok": ok, "files": reports, "errors": errors})
    if not ok:
        raise click.exceptions.Exit(2)


def _show_prompts(sb: pipeline.Storyboard) -> None:
    """-v: each shot's prompt as the provider will get it (templates applied)."""
    from storyboard.spec.templating import render_caption, render_prompt

    for shot in sb.shots:
        detail(f"  {shot.id}: {render_prompt(sb, shot)}")
        caption = render_caption(sb, shot)
        if caption:
            detail(f"  {' ' * len(shot.id)}  caption: {caption}")


# init -----------------------------------------------------------------------------------------
@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@verbosity_options
def init(directory: Path) -> None:
    """Start a new storyboard in DIRECTORY, with its own images and music.

    The storyboard validates and renders offline at once; its comments show the format.
    DIRECTORY may exist if it is empty of what init writes: init never overwrites a file.
    """
    from storyboard.scaffold import init_project

    path = init_project(directory)
    for rel in sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()):
        detail(f"  wrote {directory / rel}")
    say(f"created {path!s}, with its images, music and a .gitignore")
    quoted = shlex.quote(str(path))
    width = len(f"storyboard plan {quoted} -p kie")
    note("next:")
    for command, why in (
        (f"storyboard validate {quoted}", "check it: every problem at once"),
        (f"storyboard render {quoted}", "an animatic, offline and free"),
        (f"storyboard plan {quoted} -p kie", "what a hosted service would be sent, and the cost"),
    ):
        note(f"  {command.ljust(width)}   {why}")
