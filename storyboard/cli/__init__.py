"""The command line: the only place that prints and picks exit codes (see cli.app).

One module per family of commands, each registering on the group as it is imported: spec
(validate, init, select), plan, render (render, stitch), state (status, adopt, unlock),
export (report, diff), serve (lsp, mcp). The group imports a module only when one of its
commands is asked for (cli.app.COMMANDS), so that --help and completion stay quick.
"""

from __future__ import annotations

from storyboard.cli.app import cli


def main() -> None:
    cli(prog_name="storyboard")


__all__ = ["cli", "main"]
