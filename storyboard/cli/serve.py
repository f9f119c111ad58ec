"""`lsp` and `mcp`: the tool served over stdio to editors and assistants. Their packages
(pygls, mcp) are optional extras, imported only when the command runs."""

from __future__ import annotations

from pathlib import Path

import click

from storyboard.cli.app import cli, verbosity_options
from storyboard.errors import ConfigError


def _needs(extra: str, package: str) -> ConfigError:
    return ConfigError(
        f"storyboard {extra} needs {package}, which is not installed",
        hint=f"pip install 'storyboard[{extra}]'",
    )


@cli.command()
@verbosity_options
def lsp() -> None:
    """A language server over stdio for editors: the validator's problems as you type,
    completion of shot ids, images, characters, vars and providers, hover with each shot's
    prompt and price, go to definition. The README shows VS Code, Neovim and Helix."""
    try:
        from storyboard.serve.lsp import serve  # lazy: start-up
    except ImportError as e:
        raise _needs("lsp", "pygls") from e
    serve()


@cli.command()
@click.option(
    "--root",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=".",
    show_default=True,
    help="The folder whose storyboards the assistant may use.",
)
@verbosity_options
def mcp(root: Path) -> None:
    """A Model Context Protocol server over stdio for assistants: validate, plan, status,
    render (only within an explicit budget), adopt and report, with the same JSON as --json."""
    try:
        from storyboard.serve.mcp import serve  # lazy: start-up
    except ImportError as e:
        raise _needs("mcp", "mcp") from e
    serve(root)
