"""The command group: how our errors become messages and exit codes, the options every command
shares (-q, -v, --json), help with examples, shell completion, and signals.

What a command prints goes through show/say/note/detail/warn, so -q and -v mean the same
everywhere: a command's data (a table, a listing, JSON) is always printed, on stdout; -q drops
the summaries, closing lines, progress and hints around it; -v adds detail, on stdout when it
is more of the command's data (the prompts, the requests), on stderr when it is a diagnostic
(and a traceback for a bug of ours). With --json, stdout carries one JSON document and errors
are JSON objects there too (same exit codes): commands print their data with emit_json, and
every error is turned into JSON here.
Examples, exit codes and the environment shown in --help are in helptext.py.

Over 400 lines on purpose: it is the group every command runs through (errors, signals,
output, shared options, lazy loading of the commands); what each piece does depends on the
others' state (-q, --json, the signal seen), which lives here once.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from enum import IntEnum
from pathlib import Path
from typing import Any, NoReturn

import click
from click.shell_completion import CompletionItem, get_completion_class

from storyboard import __version__
from storyboard.cli.helptext import EXAMPLES, EXIT_CODES, short_code, variables, write_examples
from storyboard.errors import Problem, Severity, StoryboardError, ValidationError

PROG = "storyboard"
COMPLETE_VAR = "_STORYBOARD_COMPLETE"


# verbosity and output -------------------------------------------------------------------
class Verbosity(IntEnum):
    QUIET = -1
    NORMAL = 0
    VERBOSE = 1


_VERBOSITY = "storyboard.verbosity"
_JSON = "storyboard.json"


def _meta() -> dict[str, Any]:
    ctx = click.get_current_context(silent=True)
    return ctx.meta if ctx is not None else {}


def verbosity() -> Verbosity:
    return Verbosity(_meta().get(_VERBOSITY, Verbosity.NORMAL))


def quiet() -> bool:
    return verbosity() is Verbosity.QUIET


def verbose() -> bool:
    return verbosity() is Verbosity.VERBOSE


def json_mode() -> bool:
    return bool(_meta().get(_JSON))


# Control characters a service (or a file) put in a text would drive the terminal: a title
# change, the clipboard (OSC 52), text erased or turned around. What is printed shows them.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """The text with every control character but newline and tab shown as an escape."""
    return _CONTROLS.sub(lambda m: repr(m.group())[1:-1], text)


def plural(n: int, word: str) -> str:
    """`3 shots`, `1 shot`."""
    return f"{n} {word}{'s' if n != 1 else ''}"


def show(text: str) -> None:
    """The command's data (a table's row, a listing), on stdout: -q too, so `-q status` is the
    table alone; not with --json (JSON is the data)."""
    if not json_mode():
        click.echo(printable(text))


def say(text: str) -> None:
    """The command's result in a sentence (a summary, a closing line), on stdout; not under -q,
    nor with --json."""
    if not quiet() and not json_mode():
        click.echo(printable(text))


def note(text: str) -> None:
    """What is going on (progress, timings, next steps), on stderr; not under -q."""
    if not quiet():
        click.echo(printable(text), err=True)


def show_detail(text: str) -> None:
    """More of the command's data (the prompts, the requests), on stdout, so `-v > file` keeps
    it: only with -v, never with --json."""
    if verbose() and not json_mode():
        click.echo(printable(text))


def detail(text: str) -> None:
    """A diagnostic most do not want to read (why a cut was not faster), on stderr: only with -v."""
    if verbose():
        click.echo(printable(text), err=True)


def warn(text: str) -> None:
    """Warnings and errors, on stderr, always (with --json too: stdout stays JSON)."""
    click.echo(printable(text), err=True)


def emit_json(data: Any) -> None:
    """The one JSON document of a --json run, on stdout."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    click.echo(_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text))  # still JSON, inert


# errors as JSON ---------------------------------------------------------------------------
def problem_json(p: Problem) -> dict[str, Any]:
    """One error as JSON: where (file, 1-based line and column, or null for a whole file),
    which field, what is wrong and how to fix it."""
    loc = p.location
    return {
        "file": loc.file if loc else None,
        "line": loc.line if loc and loc.line > 0 else None,
        "column": loc.column if loc and loc.line > 0 else None,
        "path": p.path,
        "message": p.message,
        "hint": p.hint,
    }


def error_json(e: BaseException, file: str | None = None) -> list[dict[str, Any]]:
    """Any error as a list of JSON error objects (a ValidationError has one per problem)."""
    if isinstance(e, ValidationError):  # its warnings are told beside, not as errors
        return [problem_json(p) for p in e.problems if p.severity is not Severity.WARNING]
    hint = getattr(e, "hint", None)
    message = getattr(e, "message", None) or str(e)
    return [{"file": file, "line": None, "column": None, "path": "", "message": message, "hint": hint}]


def _output_closed() -> NoReturn:
    """The reader of our output went away (`storyboard plan | head`): stop as a program killed
    by SIGPIPE does, with no message (there is no one to read it) and no traceback at exit."""
    with suppress(OSError, ValueError):  # no real stdout (a test's runner): nothing to flush
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(141)


def _fail(
    code: int,
    errors: list[dict[str, Any]],
    text: str,
    *,
    as_json: bool | None = None,
    warnings: list[dict[str, Any]] | None = None,
) -> NoReturn:
    """End the command with `code`: the errors as JSON on stdout in --json mode, else text."""
    if json_mode() if as_json is None else as_json:
        emit_json(
            {"ok": False, "exit_code": code, "errors": errors, **({"warnings": warnings} if warnings else {})}
        )
    else:
        warn(text)
    raise click.exceptions.Exit(code)


# signals ----------------------------------------------------------------------------------
class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C, so every stage's cleanup runs the same
    way (temp files removed, state saved, lock released); the CLI exits 143 instead of 130."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, raised by the CLI's own SIGINT handler. A plain KeyboardInterrupt that leaves
    any exec() of a string (a dataclass's methods are made so, as a command's module loads
    late) makes CPython 3.11 kill the process by SIGINT as it exits, even once the CLI has
    caught it and exits 130; it counts the exact type only, so a subclass keeps the 130."""


_terminated = threading.Event()  # set once SIGTERM came, even if the exception was replaced


def _on_sigterm(signum: int, frame: object) -> None:
    if _terminated.is_set():
        return  # a second SIGTERM during cleanup: let the cleanup finish
    _terminated.set()
    raise Terminated()


def _on_sigint(signum: int, frame: object) -> None:
    raise Interrupted()


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Install the handlers for one run of the CLI (only the main thread can), then put back.
    SIGINT is taken over only from Python's own handler (an ignored Ctrl-C stays ignored)."""
    _terminated.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
        was = signal.getsignal(signal.SIGINT)
        if was is signal.default_int_handler:
            signal.signal(signal.SIGINT, _on_sigint)
    except (ValueError, OSError):  # pragma: no cover - embedded interpreters
        yield
        return
    try:
        yield
    finally:
        if was is signal.default_int_handler:
            signal.signal(signal.SIGINT, was)
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _interrupted(e: KeyboardInterrupt, as_json: bool | None = None) -> NoReturn:
    """Ctrl-C (130) or SIGTERM (143), at whatever stage: one message, the same everywhere."""
    code = 143 if isinstance(e, Terminated) or _terminated.is_set() else 130
    what = "terminated (SIGTERM)" if code == 143 else "interrupted"
    text = f"{what}: nothing is left half-written; run the same command to resume"
    _fail(code, error_json(RuntimeError(text)), text, as_json=as_json)


def _interrupt_behind(e: BaseException) -> KeyboardInterrupt | None:
    """The Ctrl-C or SIGTERM that `e` stands for, if any: Python hands on one raised while a
    class is made (a dataclass field's __set_name__, as a module loads) as a RuntimeError."""
    seen: set[int] = set()
    found: BaseException | None = e
    while found is not None and id(found) not in seen:
        if isinstance(found, KeyboardInterrupt):
            return found
        seen.add(id(found))
        found = found.__cause__ or found.__context__
    return None


# the group --------------------------------------------------------------------------------
class _Command(click.Command):
    """Every command's help ends with its examples and the exit codes."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        examples = EXAMPLES.get(self.name or "")
        if examples:
            with formatter.section("Examples"):
                write_examples(formatter, examples)
        with formatter.section("Exit codes"):
            formatter.write_text(", ".join(f"{code} {short_code(code)}" for code in EXIT_CODES))


# Every command but `completion`, by the module of cli/ that defines it, with the line it shows
# in `storyboard --help` and on Tab (the first sentence of its docstring: a test keeps the two
# equal). A module is imported when its command runs or its own help or completion is asked
# for, never for `storyboard --help` or a Tab on a command's name: start-up stays a tenth of a
# second, and those load no command's machinery. A new command gets a line here.
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": (
        "spec",
        "Check storyboards against the format; list every problem with its line and column.",
    ),
    "init": ("spec", "Start a new storyboard in DIRECTORY, with its own images and music."),
    "select": (
        "spec",
        "Pick which take of SHOT the cut uses: writes `select: TAKE` into the storyboard, in place "
        "(comments and layout kept).",
    ),
    "plan": ("plan", "Show every request a render would send and what it would cost."),
    "render": ("render", "Generate the shots that are not made yet, then cut the film."),
    "stitch": (
        "render",
        "Re-cut the film from clips already made (trims, transitions, captions, music); generates nothing.",
    ),
    "status": (
        "state",
        "Each shot's state: new, submitted (task id, age), made, failed (reason), or uncertain (its "
        "request's answer was lost: adopt or --force it).",
    ),
    "adopt": (
        "state",
        "Attach TASK_ID, found on the provider's dashboard, to SHOT, whose request's answer was lost: "
        "the next render downloads it instead of paying again.",
    ),
    "unlock": ("state", "Clear a stale lock left by a render that died."),
    "report": (
        "export",
        "Write a contact sheet beside the film: one HTML page with the film, and every shot's first, "
        "middle and last frames, prompt as sent, type, provider, cost, task and state, and clip.",
    ),
    "diff": (
        "export",
        "Compare the storyboard at a git revision (default HEAD) with the working copy: which shots "
        "changed and how, which a render would regenerate, and what the change costs.",
    ),
    "lsp": (
        "serve",
        "A language server over stdio for editors: the validator's problems as you type, completion "
        "of shot ids, images, characters, vars and providers, hover with each shot's prompt and "
        "price, go to definition.",
    ),
    "mcp": (
        "serve",
        "A Model Context Protocol server over stdio for assistants: validate, plan, status, render "
        "(only within an explicit budget), adopt and report, with the same JSON as --json.",
    ),
}


class _Group(click.Group):
    """Turn our errors into messages and exit codes; users never see a traceback. Commands
    are loaded lazily (COMMANDS): listed from the table, imported when one is asked for."""

    command_class = _Command

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            # the module registers its commands on this group as it is imported
            importlib.import_module(f"storyboard.cli.{COMMANDS[cmd_name][0]}")
        return self.commands.get(cmd_name)

    def _summary(self, name: str, limit: int) -> str:
        """A command's line in the listing, without importing it when it is not loaded yet."""
        loaded = self.commands.get(name)
        if loaded is not None:
            return loaded.get_short_help_str(limit)
        return click.Command(name, help=COMMANDS[name][1]).get_short_help_str(limit)  # click's own cut

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = [n for n in self.list_commands(ctx) if not (n in self.commands and self.commands[n].hidden)]
        if names:
            limit = formatter.width - 6 - max(len(n) for n in names)
            with formatter.section("Commands"):
                formatter.write_dl([(n, self._summary(n, limit)) for n in names])

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        # the commands' names and lines from the table; the group's own options as click does
        names = [n for n in self.list_commands(ctx) if n.startswith(incomplete)]
        found = [
            CompletionItem(n, help=self._summary(n, 45))
            for n in names
            if not (n in self.commands and self.commands[n].hidden)
        ]
        return found + click.Command.shell_complete(self, ctx, incomplete)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        with _sigterm_as_interrupt():
            try:
                try:
                    return super().main(*args, **kwargs)
                finally:  # what is still buffered goes now, while a closed pipe can be said so
                    sys.stdout.flush()
            except KeyboardInterrupt as e:  # outside click's own handling: before or after it
                try:
                    _interrupted(e, as_json=False)
                except click.exceptions.Exit as done:
                    sys.exit(done.exit_code)
            except BrokenPipeError:
                _output_closed()

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        # --json anywhere before `--` asks for JSON errors, even for a parse error that comes
        # before the option itself is read
        wanted = "--json" in (args[: args.index("--")] if "--" in args else args)
        try:  # a signal while the arguments are read: the same exit as later (not click's 1)
            ctx = super().make_context(info_name, args, parent, **extra)
        except KeyboardInterrupt as e:
            _interrupted(e, wanted)
        except BrokenPipeError:  # --help into a closed pipe: as any command's output
            _output_closed()
        ctx.meta[_JSON] = wanted
        return ctx

    def invoke(self, ctx: click.Context) -> Any:
        try:  # a signal while the registry is imported (commands load late): the same exit
            from storyboard.providers import registry  # stdlib only: nothing is scanned until asked

            # a broken plugin is said as it is found, once, and the command goes on without it
            with registry.reporting(lambda p: warn(p.format())):
                return self._invoke(ctx)
        except (click.exceptions.Exit, click.Abort, click.ClickException):
            raise
        except BaseException as e:
            interrupt = _interrupt_behind(e)
            if interrupt is None:
                raise
            _interrupted(interrupt)

    def _invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except StoryboardError as e:
            text = e.format()
            told = (
                [p for p in e.problems if p.severity is Severity.WARNING]
                if isinstance(e, ValidationError)
                else []
            )
            errors = len(e.problems) - len(told) if isinstance(e, ValidationError) else 1
            if isinstance(e, ValidationError) and len(e.problems) > 1:  # as validate ends: how many
                text += f"\n{plural(errors, 'problem')}" + (
                    f", {plural(len(told), 'warning')}" if told else ""
                )
            notes = [problem_json(p) for p in told]
            _fail(e.exit_code, error_json(e), text, warnings=notes)
        except KeyboardInterrupt as e:
            _interrupted(e)
        except click.ClickException as e:
            if not json_mode():
                raise
            _fail(e.exit_code, error_json(RuntimeError(e.format_message())), e.format_message())
        except (click.exceptions.Exit, click.Abort):
            raise
        except SystemExit as e:  # code that is not ours (a plugin) called exit: never a silent 0
            text = f"internal error: the command was cut short by a call to exit({e.code!r})"
            _fail(70, error_json(RuntimeError(text)), f"{text} (a provider plugin's?)\nplease report it")
        except BrokenPipeError:
            _output_closed()
        except OSError as e:  # a full disk, a read-only folder: the machine's word, plainly
            where = f" ({e.filename})" if e.filename else ""
            text = f"error: {e.strerror or e}{where}"
            _fail(1, error_json(RuntimeError(text[len("error: ") :]), e.filename), text)
        except Exception as e:  # a bug of ours: say so briefly; -v or STORYBOARD_DEBUG shows it all
            interrupt = _interrupt_behind(e)
            if interrupt is not None:  # not a bug: a signal came while a module was loading
                _interrupted(interrupt)
            if os.environ.get("STORYBOARD_DEBUG"):
                raise
            text = f"internal error: {type(e).__name__}: {e!s}"
            if verbose():
                import traceback  # lazy: start-up (only a bug's -v needs it)

                warn("".join(traceback.format_exception(e)).rstrip())
            _fail(
                70,
                error_json(RuntimeError(text)),
                f"{text}\nplease report it with the command you ran (-v shows the traceback)",
            )

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Exit codes"):
            formatter.write_dl([(str(code), words) for code, words in EXIT_CODES.items()])
        with formatter.section("Environment"):
            formatter.write_dl(variables())
        with formatter.section("Shell completion"):
            formatter.write_text('eval "$(storyboard completion bash)"  (or zsh, fish)')


# shared options ---------------------------------------------------------------------------
def _set_verbosity(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value:
        return
    level = Verbosity.QUIET if param.name == "quiet" else Verbosity.VERBOSE
    current = ctx.meta.get(_VERBOSITY, Verbosity.NORMAL)
    if current not in (Verbosity.NORMAL, level):
        raise click.UsageError("-q and -v ask for opposite things: give one of them", ctx)
    ctx.meta[_VERBOSITY] = level


def verbosity_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """-q/--quiet and -v/--verbose, read anywhere with quiet(), verbose() (or say/note/detail)."""
    f = click.option(
        "-v",
        "--verbose",
        is_flag=True,
        expose_value=False,
        callback=_set_verbosity,
        help="Say more: details (on stdout where they are data), and a traceback if storyboard fails.",
    )(f)
    return click.option(
        "-q",
        "--quiet",
        is_flag=True,
        expose_value=False,
        callback=_set_verbosity,
        help="Only the data (tables, JSON), errors and warnings: no progress, summaries or hints.",
    )(f)


def json_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """--json, passed to the command as `as_json`: print one JSON document on stdout (with
    emit_json); errors then come as {"ok": false, "exit_code", "errors": [...]} there too."""

    def remember(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
        if value:
            ctx.meta[_JSON] = True
        return value

    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        is_eager=True,
        callback=remember,
        help="Print JSON on stdout; errors too, as objects with file, line, column, path, message, hint.",
    )(f)


def complete_providers(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    from storyboard import providers  # lazy: start-up

    return [CompletionItem(n) for n in providers.names() if n.startswith(incomplete)]


def complete_shots(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The shot ids of the storyboard named by the command's FILE argument."""
    from storyboard.load.document import load  # lazy: start-up

    file = ctx.params.get("file") or _file_in_words()
    try:
        shots = load(Path(file)).data.get("shots") if file else None
    except Exception:  # completion must never fail loudly
        return []
    ids = [s["id"] for s in shots or [] if isinstance(s, dict) and isinstance(s.get("id"), str)]
    return [CompletionItem(i) for i in ids if i.startswith(incomplete)]


def _file_in_words() -> str | None:
    """The storyboard on the command line being completed. Completing an option's value
    (`--force <Tab>`), click has not parsed the arguments, so read the words the shell passed
    (every shell click completes sets COMP_WORDS)."""
    import shlex  # lazy: start-up

    try:
        words = shlex.split(os.environ.get("COMP_WORDS", ""))
    except ValueError:  # an unclosed quote mid-typing
        return None
    return next((w for w in words[1:] if w.endswith((".yaml", ".yml")) and Path(w).is_file()), None)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name=PROG)
@verbosity_options
def cli() -> None:
    """Compile a YAML storyboard into Veo 3.1 shots and a final cut.

    \b
    storyboard init DIR           a new storyboard, with its own images and music
    storyboard validate FILE      check a storyboard, every problem at once
    storyboard plan FILE          every request and what it costs; nothing is sent
    storyboard render FILE        generate what is missing, then cut the film
    storyboard stitch FILE        re-cut from the clips already made
    storyboard status FILE        each shot: made, submitted, failed
    storyboard diff [REV] FILE    what changed since a git revision, and its cost
    storyboard report FILE        a contact sheet of every shot, beside the film
    storyboard adopt FILE SHOT ID a task id from the dashboard, for a lost answer
    storyboard select FILE SHOT K which take of a shot the cut uses
    storyboard unlock FILE        clear a lock left by a render that died

    \b
    Start here:
      storyboard init my-film && storyboard render my-film/storyboard.yaml

    `storyboard COMMAND --help` shows a command's options and examples.
    """


@cli.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@verbosity_options
def completion(shell: str) -> None:
    """Print the shell code that completes storyboard's commands, options, files and provider
    names; load it from your shell's startup file."""
    cls = get_completion_class(shell)
    assert cls is not None  # the Choice allows only the shells click knows
    click.echo(cls(cli, {}, PROG, COMPLETE_VAR).source())


def _output_option(f: Any) -> Any:
    return click.option(
        "-o", "--output", type=click.Path(path_type=Path), help="Write the film here instead of `output:`."
    )(f)


def _provider_option(f: Any) -> Any:
    return click.option(
        "--provider",
        "-p",
        metavar="NAME",
        shell_complete=complete_providers,
        help="Override the storyboard's provider: any installed provider (a wrong name lists them).",
    )(f)
