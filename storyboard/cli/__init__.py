"""The command line: the only place that prints and picks exit codes (see cli.app).

One module per family of commands, each registering on the group: spec (validate, init),
plan, render (render, stitch), state (status, unlock), serve (lsp, mcp).
"""

from __future__ import annotations

from storyboard.cli import export, plan, render, serve, spec, state  # noqa: F401 - they register the commands
from storyboard.cli.app import cli


def main() -> None:
    cli(prog_name="storyboard")


__all__ = ["cli", "main"]
