"""The command group: how our errors become messages and exit codes, and the options that
several commands share. Every command module registers itself on `cli`.

Exit codes: 0 done; 1 a service or ffmpeg failed, or some shots failed; 2 bad input (nothing
was sent); 3 the storyboard is locked by another render; 130 interrupted.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from storyboard import __version__
from storyboard.errors import StoryboardError


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
        help="Override the storyboard's provider: any installed provider (a wrong name lists them).",
    )(f)
