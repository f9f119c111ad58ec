"""What --help says beyond each command's options: examples, exit codes, the environment.

One voice for every command's help, and one table of exit codes that the CLI, its help and
the README share (a test keeps the README's table equal to EXIT_CODES).
"""

from __future__ import annotations

import click

EXIT_CODES: dict[int, str] = {
    0: "done (or nothing to do)",
    1: "a service, the network or ffmpeg failed, or some shots failed (those made are kept)",
    2: "bad input: the storyboard, an option, a key; nothing was sent",
    3: "the storyboard is locked by another render",
    70: "a bug in storyboard (please report it; -v shows the traceback)",
    130: "interrupted (Ctrl-C): nothing half-written; run the same command to resume",
    141: "its output was closed early (`| head`): it stops quietly, nothing half-written",
    143: "terminated (SIGTERM): as Ctrl-C",
}

# Examples shown under each command's --help, by command name (the commands live in their
# own modules; their help is assembled here, in one voice).
EXAMPLES: dict[str, list[tuple[str, str]]] = {
    "validate": [
        ("storyboard validate film/storyboard.yaml", "check one storyboard"),
        ("storyboard validate examples/*/*.yaml", "check many; exit 2 if any has a problem"),
        ("storyboard validate --json film/storyboard.yaml | jq .errors", "problems as JSON"),
        ("storyboard validate -v film/storyboard.yaml", "also print each shot's final prompt"),
    ],
    "init": [
        ("storyboard init my-film", "a new storyboard in my-film/, with images and music"),
        ("storyboard render my-film/storyboard.yaml", "then render it offline"),
    ],
    "plan": [
        ("storyboard plan film/storyboard.yaml", "on the storyboard's own provider"),
        ("storyboard plan film/storyboard.yaml -p {hosted}", "what {hosted} would be sent, and the cost"),
        ("storyboard plan film/storyboard.yaml --json", "every request exactly, as JSON"),
        ("storyboard plan film/storyboard.yaml --force opening", "what forcing a shot would cost"),
    ],
    "render": [
        ("storyboard render film/storyboard.yaml", "offline preview (the default provider)"),
        ("{key}=... storyboard render film/storyboard.yaml -p {hosted}", "on {hosted}, asking first"),
        ("storyboard render film/storyboard.yaml -p {hosted} --yes --budget 500", "no question; capped"),
        ("storyboard render film/storyboard.yaml --force opening", "make one shot again"),
        ("storyboard render film/storyboard.yaml --timeline renders/film.otio", "and a timeline to edit"),
    ],
    "stitch": [
        ("storyboard stitch film/storyboard.yaml", "re-cut after editing trims or captions"),
        ("storyboard stitch film/storyboard.yaml -o renders/cut-2.mp4", "to another file"),
    ],
    "status": [
        ("storyboard status film/storyboard.yaml", "each shot: new, submitted, made, failed, uncertain"),
        ("storyboard status film/storyboard.yaml --json", "the same, for scripts and CI"),
    ],
    "diff": [
        ("storyboard diff film/storyboard.yaml", "what changed since the last commit, and its cost"),
        (
            "storyboard diff HEAD~3 film/storyboard.yaml -p {hosted}",
            "since three commits ago, priced on {hosted}",
        ),
        ("storyboard diff HEAD film/storyboard.yaml --json", "as JSON, for a CI check"),
    ],
    "report": [("storyboard report film/storyboard.yaml", "a contact sheet (HTML) beside the film")],
    "adopt": [
        ("storyboard adopt film/storyboard.yaml opening 7f3c9a", "a task id found on the dashboard"),
    ],
    "unlock": [("storyboard unlock film/storyboard.yaml", "after a render died on another machine")],
    "select": [
        ("storyboard select film/storyboard.yaml opening 2", "the cut uses take 2 of shot opening"),
    ],
    "completion": [
        ('eval "$(storyboard completion bash)"', "in ~/.bashrc"),
        ('eval "$(storyboard completion zsh)"', "in ~/.zshrc"),
        ("storyboard completion fish > ~/.config/fish/completions/storyboard.fish", "fish"),
    ],
    "lsp": [
        ("storyboard lsp", "what an editor starts (it speaks LSP on stdin and stdout)"),
    ],
    "mcp": [
        ("storyboard mcp --root ~/films", "what an assistant starts, for the storyboards under ~/films"),
    ],
}

OTHER_VARIABLES = [
    ("STORYBOARD_PREVIEW_SCALE", "draw preview clips smaller, e.g. 0.25 (0-1)"),
    ("STORYBOARD_POLL_INTERVAL", "seconds between polls of a service"),
    ("STORYBOARD_POLL_FLOOR", "shortest wait between polls, in place of a documented rate limit"),
    ("STORYBOARD_TASK_TIMEOUT", "seconds a render waits for one task (default 1800)"),
    ("STORYBOARD_CONTACT_TIMEOUT", "seconds without a status answer before a task is left stalled (900)"),
    ("STORYBOARD_DOWNLOAD_TIMEOUT", "seconds a clip's download may take, retries included (600)"),
    ("STORYBOARD_DEBUG", "1: show tracebacks of internal errors (as -v)"),
]


def write_examples(formatter: click.HelpFormatter, examples: list[tuple[str, str]]) -> None:
    """`# why` over each command, lines as they are: a command to copy is never re-wrapped.
    A hosted provider's name and key variable come from the registry (`{hosted}`, `{key}`)."""
    from storyboard.providers import example_hosted  # lazy: start-up

    hosted, key = example_hosted()
    pad = " " * formatter.current_indent
    for i, (command, why) in enumerate(examples):
        command, why = (s.replace("{hosted}", hosted).replace("{key}", key) for s in (command, why))
        formatter.write(f"{pad}# {why}\n{pad}{command}\n" + ("\n" if i < len(examples) - 1 else ""))


def short_code(code: int) -> str:
    return {
        0: "done",
        1: "failed",
        2: "bad input",
        3: "locked",
        70: "bug",
        130: "Ctrl-C",
        141: "SIGPIPE",
        143: "SIGTERM",
    }[code]


def variables() -> list[tuple[str, str]]:
    """Each provider's key variable, asked of the provider registry, then ours."""
    from storyboard.providers import registry  # lazy: start-up

    rows = []
    for name, env in registry.ask(lambda cls: cls.env if cls.needs_key else None, "naming its key"):
        if env:  # a broken plugin is left out: it must not break --help
            rows.append((f"{env}_API_KEY", f"the {name} API key"))
    rows.append(("<NAME>_BASE_URL", "send a provider's requests elsewhere (https, or http to this machine)"))
    rows.append((".env", "NAME=value lines in a .env file beside the storyboard (the environment wins)"))
    return rows + OTHER_VARIABLES
