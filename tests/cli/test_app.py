"""The conventions every command shares (cli/app.py): errors as JSON with --json, -q and -v,
help with examples, exit codes and key variables, shell completion, and signals: Ctrl-C is
130 and SIGTERM 143, each with a message, at whatever stage they come."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from storyboard import providers
from storyboard.cli import cli
from storyboard.cli.app import COMMANDS, EXAMPLES, EXIT_CODES, Terminated

ROOT = Path(__file__).resolve().parents[2]
GOOD = "storyboard: 1\ntitle: Two\nshots:\n  - id: one\n    prompt: A red door\n  - id: two\n    prompt: The sea\n"  # noqa: E501
BAD = "storyboard: 1\nsettings:\n  resolution: 720\nshots:\n  - id: one\n    prompt: '{{ plase }}'\n"


def invoke(*args: object) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def good(tmp_path: Path) -> Path:
    (tmp_path / "good.yaml").write_text(GOOD)
    return tmp_path / "good.yaml"


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    (tmp_path / "bad.yaml").write_text(BAD)
    return tmp_path / "bad.yaml"


# --json -------------------------------------------------------------------------------------
def test_validate_json_lists_files_and_errors_on_stdout_with_the_same_exit_code(
    good: Path, bad: Path
) -> None:
    result = invoke("validate", "--json", good, bad)
    assert result.exit_code == 2 and result.stderr == ""
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert data["files"] == [
        {
            "file": str(good),
            "ok": True,
            "title": "Two",
            "shots": 2,
            "seconds": 16.0,
            "provider": "preview",
            "warnings": [],
        },
        {"file": str(bad), "ok": False, "problems": 2},
    ]
    assert data["errors"][0] == {
        "file": str(bad),
        "line": 3,
        "column": 15,
        "path": "settings.resolution",
        "message": "the whole number 720 is not allowed here: use one of 720p, 1080p, 4k",
        "hint": None,
    }
    assert (
        data["errors"][1]["path"] == "shots[0].prompt"
        and "'plase' is undefined" in data["errors"][1]["message"]
    )
    result = invoke("validate", "--json", good)
    assert result.exit_code == 0 and json.loads(result.stdout)["ok"] is True


def test_a_missing_file_in_json_has_no_line(tmp_path: Path) -> None:
    data = json.loads(invoke("validate", "--json", tmp_path / "nope.yaml").stdout)
    where = {"file": str(tmp_path / "nope.yaml"), "line": None, "column": None, "path": ""}
    assert data["errors"] == [{**where, "message": "no such file", "hint": None}]


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["validate", "--json", "--bogus", "x.yaml"], 2, "No such option '--bogus'"),
        (["plan", "{bad}", "--json"], 2, "the whole number 720 is not allowed here"),
        (["plan", "{good}", "--json", "-p", "kei"], 2, "unknown provider 'kei'"),
        (["status", "{bad}", "--json"], 2, "is not allowed here"),
    ],
)
def test_errors_of_any_command_run_with_json_are_json_objects(
    good: Path, bad: Path, args: list[str], code: int, fragment: str
) -> None:
    result = invoke(*[a.format(good=good, bad=bad) for a in args])
    assert result.exit_code == code, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["exit_code"] == code
    assert all(set(e) == {"file", "line", "column", "path", "message", "hint"} for e in data["errors"])
    assert any(fragment in e["message"] for e in data["errors"]), data


# -q and -v ----------------------------------------------------------------------------------
def test_quiet_keeps_errors_only_and_verbose_shows_the_prompts(good: Path, bad: Path) -> None:
    result = invoke("validate", "-q", good)
    assert result.exit_code == 0 and result.output == ""
    result = invoke("-q", "validate", bad)  # as a group option too, like git
    assert result.exit_code == 2 and "not allowed here" in result.stderr and result.stdout == ""
    result = invoke("validate", "-v", good)
    assert result.exit_code == 0
    # the prompts are the command's data: on stdout, so `validate -v FILE > prompts.txt` keeps them
    assert "  one: A red door" in result.stdout and "  two: The sea" in result.stdout
    assert result.stderr == ""
    result = invoke("validate", "-q", "-v", good)
    assert result.exit_code == 2 and "-q and -v ask for opposite things" in result.output


def commands() -> dict[str, click.Command]:
    """Every command of the group, each loaded (the group loads a command's module lazily)."""
    ctx = click.Context(cli)
    found = {name: cli.get_command(ctx, name) for name in cli.list_commands(ctx)}
    return {name: command for name, command in found.items() if command is not None}


def options_of(name: str) -> set[str]:
    return {o for p in commands()[name].params for o in getattr(p, "opts", [])}


def test_q_and_v_on_the_commands_of_the_storyboard_file() -> None:
    for name in ("validate", "init", "completion"):
        assert {"-q", "--quiet", "-v", "--verbose"} <= options_of(name), name


def test_every_command_takes_q_and_v() -> None:
    assert [n for n in commands() if not {"-q", "-v"} <= options_of(n)] == []


@pytest.fixture
def made(good: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`good`, rendered offline: a state to show."""
    monkeypatch.setenv("STORYBOARD_PREVIEW_SCALE", "0.125")
    assert invoke("render", good, "-q").exit_code == 0
    return good


def test_quiet_keeps_a_commands_table_and_drops_its_title_and_totals(made: Path) -> None:
    rows = "  one  made\n  two  made\n"
    for args in (("-q", "status", made), ("status", "-q", made), ("status", made)):
        result = invoke(*args)
        assert (result.exit_code, result.stdout, result.stderr) == (0, rows, ""), args
    result = invoke("plan", made)
    assert result.stdout.startswith("Plan for Two") and "Plan: 0 to generate" in result.stdout
    result = invoke("-q", "plan", made, "--force", "two")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "  = one  preview    text\n  ~ two  preview    text       free  (forced)\n"


def test_quiet_keeps_json_whole(made: Path) -> None:
    for command in ("status", "plan", "validate"):
        loud, quiet = invoke(command, made, "--json"), invoke("-q", command, made, "--json")
        assert quiet.exit_code == loud.exit_code == 0 and quiet.stderr == ""
        plain = {k: v for k, v in json.loads(quiet.stdout).items() if k != "shots"}
        assert plain == {k: v for k, v in json.loads(loud.stdout).items() if k != "shots"}, command
        assert len(json.loads(quiet.stdout).get("shots", [])) in (0, 2)


def test_quiet_drops_progress_summaries_and_next_steps(made: Path) -> None:
    loud = invoke("render", made, "--force", "one")
    assert loud.exit_code == 0 and "Plan for Two" in loud.stdout
    assert (
        "generating" in loud.stderr and "done in" in loud.stderr and "next: storyboard report" in loud.stderr
    )
    up = invoke("stitch", made)  # nothing to do: no bar drawn, not even an empty line
    assert (up.exit_code, up.stderr) == (0, "") and "is up to date" in up.stdout
    for args in (("render", made, "--force", "one"), ("stitch", made), ("report", made), ("unlock", made)):
        result = invoke("-q", *args)
        assert (result.exit_code, result.stdout, result.stderr) == (0, "", ""), args
    assert "already uses take 1" in invoke("select", made, "one", "1").stdout
    result = invoke("-q", "select", made, "one", "1")  # the sentence saying what it did: gone
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_verbose_data_goes_to_stdout_and_not_into_json(made: Path) -> None:
    result = invoke("status", "-v", made)
    assert result.exit_code == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == "  one  made" and lines[1].split("fingerprint ")[0] == "       render: cached; "
    fingerprint = json.loads(invoke("status", made, "--json").stdout)["shots"][0]["fingerprint"]
    assert lines[1].endswith(fingerprint[:16])
    for command in ("status", "plan", "validate"):
        result = invoke(command, "-v", made, "--json")
        assert result.exit_code == 0 and json.loads(result.stdout), command  # one JSON document still


def test_verbose_shows_the_traceback_of_a_bug(good: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from storyboard import pipeline

    def broken(path: Path, provider: str | None = None) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(pipeline, "load", broken)
    result = invoke("validate", good)
    assert result.exit_code == 70 and "internal error: RuntimeError: a bug" in result.stderr
    assert "Traceback" not in result.stderr
    result = invoke("validate", "-v", good)
    assert result.exit_code == 70 and "Traceback (most recent call last)" in result.stderr


# help ---------------------------------------------------------------------------------------
def test_help_lists_exit_codes_key_variables_and_completion() -> None:
    text = invoke("--help").output
    for code, words in EXIT_CODES.items():
        assert f"  {code}" in text and words.split(" (")[0].split(":")[0] in text
    for name in providers.names():  # asked of the registry, not written by hand
        cls = providers.get(name)
        if cls.needs_key:
            assert f"{cls.env}_API_KEY" in text, name
        else:  # preview: no key, and none shown for it
            assert not cls.env or f"{cls.env}_API_KEY" not in text, name
    assert "STORYBOARD_PREVIEW_SCALE" in text and "<NAME>_BASE_URL" in text
    assert 'eval "$(storyboard completion bash)"' in text


@pytest.mark.parametrize(
    "name", ["validate", "init", "plan", "render", "stitch", "status", "unlock", "completion", "lsp", "mcp"]
)
def test_each_command_help_has_examples_and_exit_codes(name: str) -> None:
    assert sorted(commands()) == sorted(EXAMPLES)  # a new command gets examples too
    text = invoke(name, "--help").output
    assert "Examples:" in text and ("eval" if name == "completion" else f"  storyboard {name}") in text
    codes = " ".join(text.split("Exit codes:\n")[-1].split())
    assert codes == "0 done, 1 failed, 2 bad input, 3 locked, 70 bug, 130 Ctrl-C, 141 SIGPIPE, 143 SIGTERM"


def test_the_examples_in_help_name_real_options() -> None:
    for name, command in commands().items():
        options = {o for p in command.params for o in getattr(p, "opts", [])}
        for line in invoke(name, "--help").output.split("Examples:")[-1].splitlines():
            for word in line.split():
                if word.startswith("-") and (line.strip().startswith("storyboard") or "_API_KEY=" in line):
                    assert word in options, (name, word)


# completion ---------------------------------------------------------------------------------
def complete(words: str) -> list[str]:
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)  # the word under the cursor
    env = {"_STORYBOARD_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    result = CliRunner().invoke(cli, [], env=env, prog_name="storyboard")
    return [line.split(",", 1)[1] for line in result.output.splitlines()]


def test_completion_offers_provider_names(good: Path) -> None:
    assert complete(f"storyboard plan {good} -p ") == providers.names()
    assert complete(f"storyboard render {good} --provider k") == ["kie"]
    assert "validate" in complete("storyboard ")


def test_completion_offers_shot_ids(good: Path) -> None:
    assert complete(f"storyboard select {good} ") == ["one", "two"]
    # an option's value: click has not parsed FILE yet, the shell's words name it
    assert complete(f"storyboard render {good} --force ") == ["one", "two"]
    assert complete(f"storyboard plan {good} --force t") == ["two"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_each_shells_script(shell: str) -> None:
    result = invoke("completion", shell)
    assert result.exit_code == 0 and "_STORYBOARD_COMPLETE" in result.output
    assert invoke("completion", "tcsh").exit_code == 2


# start-up -----------------------------------------------------------------------------------
# What --help and a Tab must not import: each command's machinery (and what it pulls in).
HEAVY = (
    "jsonschema",
    "jinja2",
    "httpx",
    "moviepy",
    "opentimelineio",
    "PIL",
    "numpy",
    "rich",
    "yaml",  # the loader: only what reads a storyboard needs it
    "storyboard.plan.compiler",
    "storyboard.pipeline",
)


def imported_by(args: list[str], tmp_path: Path, **env: str) -> set[str]:
    """The modules a new process running `storyboard ARGS` has imported when it exits."""
    out = tmp_path / "modules.json"
    code = (
        "import atexit, json, sys\n"
        f"atexit.register(lambda: open({str(out)!r}, 'w').write(json.dumps(sorted(sys.modules))))\n"
        f"sys.argv = ['storyboard', *{args!r}]\n"
        "from storyboard.cli import main\n"
        "main()\n"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        timeout=120,
        check=False,
    )
    return set(json.loads(out.read_text()))


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def tab(words: str) -> dict[str, str]:
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    return {"_STORYBOARD_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--help"], {}),
        (["-h"], {}),
        (["--version"], {}),
        ([], tab("storyboard ")),
        ([], tab("storyboard re")),
        ([], tab("storyboard --")),
        (["completion", "bash"], {}),
    ],
    ids=["--help", "-h", "--version", "tab", "tab re", "tab --", "completion bash"],
)
def test_help_and_completion_load_no_commands_machinery(
    tmp_path: Path, args: list[str], env: dict[str, str]
) -> None:
    modules = imported_by(args, tmp_path, **env)
    assert "storyboard.cli.app" in modules  # the CLI did run
    assert heavy(modules) == []
    # nor any command's own module: the listing and a Tab read cli.app.COMMANDS
    assert sorted(m for m in modules if m.startswith("storyboard.cli.") and m[15:] in MODULES) == []


# What checking and planning a storyboard must not import: what only generating, cutting or
# talking to a service needs (they read the file, render its prompts and price it; nothing more).
NOT_FOR_CHECKING = (
    "httpx",
    "moviepy",
    "opentimelineio",
    "PIL",
    "numpy",
    "jsonschema",  # the schema check is our own (validate.schema)
    "configparser",  # the providers' registry reads its entry points itself
    "storyboard.run",
    "storyboard.stitch",  # the cut's specification too: only the commands that cut need it
    "storyboard.media.probe",
    "storyboard.providers.http",
    "storyboard.providers.hosted",
    "storyboard.report",
    "storyboard.export",
    "storyboard.load.yaml_errors",  # only a file YAML refuses is explained
)


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_validate_and_plan_load_nothing_that_generates_or_cuts(tmp_path: Path, command: str) -> None:
    board = tmp_path / "board.yaml"
    board.write_text(
        "storyboard: 1\ntitle: T\nprovider: preview\nshots:\n  - id: a\n    prompt: a quiet street at dawn\n"
    )
    modules = imported_by([command, str(board)], tmp_path)
    assert "storyboard.plan.compiler" in modules  # the command did run: it compiled the plan
    loaded = sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in NOT_FOR_CHECKING))
    assert loaded == []


MODULES = {module for module, _ in COMMANDS.values()}


def test_the_table_of_commands_says_what_each_commands_own_help_says() -> None:
    ctx = click.Context(cli)
    for name, (module, line) in COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None and command.callback is not None, name
        assert command.callback.__module__ == f"storyboard.cli.{module}", name
        for limit in (30, 45, 60, 80, 1000):  # the listing, a Tab, a wide terminal, all of it
            assert command.get_short_help_str(limit) == cli._summary(name, limit)
            assert click.Command(name, help=line).get_short_help_str(limit) == command.get_short_help_str(
                limit
            )
    # every command a module registers is in the table (or it would be listed only once loaded)
    assert set(cli.commands) - {"completion"} == set(COMMANDS)


def test_help_lists_every_command_and_a_tab_offers_them_with_their_lines() -> None:
    text = invoke("--help").output
    for name in [*COMMANDS, "completion"]:
        assert f"\n  {name} " in text, name
    result = CliRunner().invoke(cli, [], env=tab("storyboard s"), prog_name="storyboard")
    assert result.output.splitlines() == ["plain,select", "plain,status", "plain,stitch"]


# a closed pipe -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args", [["plan", "three-shot.yaml"], ["--help"], ["status", "three-shot.yaml", "--json"]]
)
def test_output_closed_early_stops_quietly(args: list[str], tmp_path: Path) -> None:
    """`storyboard plan | head`: the reader is gone before a line is written (its end of the
    pipe is closed before the program starts, so the first write fails, every time)."""
    (tmp_path / "three-shot.yaml").write_text((ROOT / "examples/three-shot/three-shot.yaml").read_text())
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "storyboard", *args],
            cwd=tmp_path,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=120,
        )
    finally:
        os.close(write)
    assert proc.returncode == 141, proc.stderr
    assert proc.stderr == ""  # no "error: Broken pipe", no "Exception ignored ... BrokenPipeError"


# signals ------------------------------------------------------------------------------------
SLOW = "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(40) }}"


def start(args: list[str], cwd: Path, module: str = "storyboard", **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "STORYBOARD_PREVIEW_SCALE": "0.125", **env},
    )


# The CLI as `python -m` runs it (Python's exit after an interrupt differs under `-c`), held
# until a signal comes at a moment it announces on stdout: the test signals on that event, not
# after a moment of its own (a loaded machine can let the whole stage pass first). "rendering":
# the template's first operation; "loading": the first dataclass made once main() runs (a
# command's module loads late). Each waits inside an exec'd string, as dataclasses make their
# methods: a plain KeyboardInterrupt leaving the last one made Python die by SIGINT (-2) as it
# exited, after the CLI had said 130.
HELD = """import dataclasses, os, runpy, signal, time
from storyboard.prompts import bounds
AT = os.environ["HELD_AT"]
WAIT = "say()\\nfor _ in range(6000):\\n    time.sleep(0.01)"  # said inside: the signal lands in it
def hold():  # <= 60 s for the signal
    exec(WAIT, {"say": lambda: os.write(1, AT.encode() + b"\\n"), "time": time})
charge = bounds._Limits.charge
def rendering(self, units):
    bounds._Limits.charge = charge
    hold()
    charge(self, units)
make = dataclasses._create_fn
def loading(*args, **kwargs):
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:  # main() runs
        dataclasses._create_fn = make
        hold()
    return make(*args, **kwargs)
if AT == "rendering":
    bounds._Limits.charge = rendering
else:
    dataclasses._create_fn = loading
runpy.run_module("storyboard", run_name="__main__", alter_sys=True)
"""


def start_held(args: list[str], cwd: Path, at: str) -> subprocess.Popen[str]:
    hook = cwd / "hook"
    hook.mkdir()
    (hook / "held.py").write_text(HELD)
    return start(args, cwd, "held", PYTHONPATH=f"{hook}{os.pathsep}{ROOT}", HELD_AT=at)


def in_main(proc: subprocess.Popen[str]) -> bool:
    """The CLI's own SIGTERM handler is installed: imports are done, main() runs."""
    status = Path(f"/proc/{proc.pid}/status").read_text()
    caught = int(next(line for line in status.splitlines() if line.startswith("SigCgt:")).split()[1], 16)
    return bool(caught & (1 << (signal.SIGTERM - 1)))


def children(proc: subprocess.Popen[str]) -> list[str]:
    return Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()


def wait_for(test: object, seconds: float = 60.0) -> None:
    end = time.monotonic() + seconds
    while not test():  # type: ignore[operator]
        assert time.monotonic() < end, "the stage never began"
        time.sleep(0.01)


def leftovers(folder: Path) -> list[str]:
    return sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if ".part" in p.name or "tmp" in p.name
    )


@pytest.mark.parametrize("at", ["rendering", "loading"])
@pytest.mark.parametrize(("sig", "code", "words"), [(signal.SIGTERM, 143, "terminated (SIGTERM)"),
                                                    (signal.SIGINT, 130, "interrupted")])  # fmt: skip
def test_a_signal_while_templates_render(tmp_path: Path, sig: int, code: int, words: str, at: str) -> None:
    """... or while a command's module loads late (a dataclass's methods being made)."""
    (tmp_path / "slow.yaml").write_text(f"storyboard: 1\nshots:\n  - id: a\n    prompt: {json.dumps(SLOW)}\n")
    proc = start_held(["validate", "slow.yaml"], tmp_path, at)
    assert proc.stdout is not None and proc.stdout.readline() == f"{at}\n", proc.communicate()
    assert in_main(proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert f"{words}: nothing is left half-written; run the same command to resume" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(("signal_as", "code"), [(Terminated, 143), (KeyboardInterrupt, 130)])
def test_a_signal_while_a_module_loads_is_a_signal_not_a_bug(
    good: Path, monkeypatch: pytest.MonkeyPatch, signal_as: type[KeyboardInterrupt], code: int
) -> None:
    """Python hands on a signal raised while a class is made (a dataclass's __set_name__, as
    a command's module loads late) as a RuntimeError: it still ends as the signal does."""
    from storyboard import pipeline

    def loading(path: Path, provider: str | None = None) -> None:
        try:
            raise signal_as()
        except KeyboardInterrupt as e:
            raise RuntimeError("Error calling __set_name__ on 'Field' instance 'x' in 'Cost'") from e

    monkeypatch.setattr(pipeline, "load", loading)
    result = invoke("validate", good)
    assert result.exit_code == code and "nothing is left half-written" in result.stderr
    assert "internal error" not in result.stderr


def test_sigterm_while_stitching_ends_like_ctrl_c(tmp_path: Path) -> None:
    board = tmp_path / "board.yaml"
    board.write_text(GOOD.replace("prompt: The sea", "prompt: The sea\n    transition: crossfade"))
    assert start(["render", "-q", "board.yaml"], tmp_path).wait(timeout=300) == 0
    proc = start(["stitch", "board.yaml", "-o", "recut.mp4"], tmp_path)
    wait_for(lambda: in_main(proc) and children(proc))  # ffmpeg is cutting
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "terminated (SIGTERM): nothing is left half-written" in err
    assert not (tmp_path / "recut.mp4").exists() and leftovers(tmp_path) == []


def test_sigterm_while_generating_ends_like_ctrl_c(tmp_path: Path) -> None:
    board = tmp_path / "board.yaml"
    board.write_text(GOOD)
    proc = start(["render", "board.yaml"], tmp_path, STORYBOARD_PREVIEW_SCALE="1")
    wait_for(lambda: any((tmp_path / ".storyboard").rglob("*.part")))
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "terminated (SIGTERM)" in err and leftovers(tmp_path / ".storyboard") == []


def test_terminated_is_a_keyboard_interrupt() -> None:
    # every stage's `except KeyboardInterrupt` cleanup runs for SIGTERM too
    assert issubclass(Terminated, KeyboardInterrupt)
