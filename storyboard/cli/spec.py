"""`validate` and `init`: the storyboard file itself."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import click

from storyboard import pipeline
from storyboard.cli.app import (
    _provider_option,
    cli,
    complete_shots,
    emit_json,
    json_mode,
    json_option,
    note,
    plural,
    problem_json,
    say,
    show_detail,
    verbosity_options,
    warn,
)
from storyboard.cli.complete import TakeNumber
from storyboard.errors import Severity, ValidationError
from storyboard.plan.compiler import plan_warnings


# validate -------------------------------------------------------------------------------------
@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@_provider_option
@json_option
@verbosity_options
def validate(files: tuple[Path, ...], provider: str | None, as_json: bool) -> None:
    """Check storyboards against the format; list every problem with its line and column.

    Each file is read, checked against the schema and beyond (files it names, transitions,
    lengths), its prompts and captions are rendered, and its shots are checked against what
    its provider (or -p PROVIDER) can do: all its problems in one pass. Nothing is sent
    anywhere, and no key is needed.
    """
    reports: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for path in files:
        try:
            sb = pipeline.load(path, provider)
            plan = pipeline.make_plan(sb, provider)
        except ValidationError as e:
            told = sum(1 for p in e.problems if p.severity is Severity.WARNING)
            n = len(e.problems) - told
            notes = [problem_json(p) for p in e.problems if p.severity is Severity.WARNING]
            reports.append(
                {"file": str(path), "ok": False, "problems": n, **({"warnings": notes} if notes else {})}
            )
            errors += [problem_json(p) for p in e.problems if p.severity is not Severity.WARNING]
            if not json_mode():
                warn(e.format())
                warn(f"{path!s}: {plural(n, 'problem')}" + (f", {plural(told, 'warning')}" if told else ""))
            continue
        warnings = plan_warnings(plan)
        reports.append(
            {
                "file": str(path),
                "ok": True,
                "title": sb.title,
                "shots": len(sb.shots),
                "seconds": round(sb.length, 3),
                "provider": plan.provider.name,
                "warnings": [problem_json(w) for w in warnings],
            }
        )
        for w in warnings:
            warn(w.format())
        say(
            f"{path!s}: ok: {sb.title!r}, {plural(len(sb.shots), 'shot')}, "
            f"{sb.length:.1f} s, provider {plan.provider.name}"
        )
        _show_prompts(sb)
    ok = all(r["ok"] for r in reports)
    if as_json:
        emit_json({"ok": ok, "files": reports, "errors": errors})
    if not ok:
        raise click.exceptions.Exit(2)


def _show_prompts(sb: pipeline.Storyboard) -> None:
    """-v: each shot's prompt as the provider will get it (templates applied): the command's
    data, on stdout."""
    from storyboard.prompts.templating import render_caption, render_prompt  # lazy: start-up

    for shot in sb.shots:
        show_detail(f"  {shot.id}: {render_prompt(sb, shot)}")
        caption = render_caption(sb, shot)
        if caption:
            show_detail(f"  {' ' * len(shot.id)}  caption: {caption}")


# init -----------------------------------------------------------------------------------------
@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@verbosity_options
def init(directory: Path) -> None:
    """Start a new storyboard in DIRECTORY, with its own images and music.

    The storyboard validates and renders offline at once; its comments show the format.
    DIRECTORY may exist if it is empty of what init writes: init never overwrites a file.
    """
    from storyboard.scaffold import init_project  # lazy: start-up

    path = init_project(directory)
    for rel in sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()):
        show_detail(f"  wrote {directory / rel}")  # as `cp -v`: on stdout
    say(f"created {path!s}, with its images, music, the format's schema (for editors) and a .gitignore")
    from storyboard.providers import example_hosted  # lazy: start-up

    quoted = shlex.quote(str(path))
    hosted = example_hosted()[0]
    width = len(f"storyboard plan {quoted} -p {hosted}")
    note("next:")
    for command, why in (
        (f"storyboard validate {quoted}", "check it: every problem at once"),
        (f"storyboard render {quoted}", "an animatic, offline and free"),
        (f"storyboard plan {quoted} -p {hosted}", "what a hosted service would be sent, and the cost"),
    ):
        note(f"  {command.ljust(width)}   {why}")


# select ---------------------------------------------------------------------------------------
@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.argument("shot", shell_complete=complete_shots)
@click.argument("take", type=TakeNumber())
@verbosity_options
def select(file: Path, shot: str, take: int) -> None:
    """Pick which take of SHOT the cut uses: writes `select: TAKE` into the storyboard, in
    place (comments and layout kept). A take made already re-cuts without paying."""
    from storyboard.board.edit import set_select  # lazy: start-up

    sb = pipeline.load(file)
    current = next((s.select for s in sb.shots if s.id == shot), None)
    if current == take:  # as `git checkout` of the branch you are on: said, nothing written
        say(f"shot {shot!r} already uses take {take}: {file} is unchanged")
        return
    set_select(sb, shot, take)
    say(f"shot {shot!r} uses take {take} (select: {take} in {file})")
    p = pipeline.make_plan(pipeline.load(file))
    from storyboard.plan.decide import Action  # lazy: start-up

    chosen = pipeline.decide(p)[shot]
    if chosen.action is Action.CACHED:
        note(f"next: storyboard stitch {file} (take {take} is made: nothing to pay)")
    else:
        note(f"next: storyboard render {file} (take {take} is not made yet: storyboard plan shows its cost)")
