"""Run the real CLI against a loopback service, as a user would: in a child process where the
process is the point (signals, start-up, the installed entry point), else in this process with
click's runner, which runs the same command for a fraction of a process's start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

FAST = {"STORYBOARD_POLL_INTERVAL": "0.05", "STORYBOARD_RETRY_BASE": "0.01"}


def _env(env_name: str, base_url: str, key: str, more: dict[str, str]) -> dict[str, str]:
    """Only this provider's key and base URL (none of the caller's `*_API_KEY` / `*_BASE_URL`)."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    env.update({f"{env_name}_API_KEY": key, f"{env_name}_BASE_URL": base_url, **more})
    return env


def storyboard(
    folder: Path, env_name: str, base_url: str, key: str, *args: str, **more: str
) -> subprocess.CompletedProcess[str]:
    """`storyboard ARGS` in a child process in `folder`, with only this provider's key and
    base URL set, and `more` variables (e.g. FAST)."""
    return subprocess.run(
        [sys.executable, "-m", "storyboard", *args],
        capture_output=True,
        text=True,
        env=_env(env_name, base_url, key, more),
        cwd=folder,
        timeout=120,
    )


@dataclass
class Ran:
    """What an in-process run left: as a CompletedProcess has it."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str


def invoke(folder: Path, env_name: str, base_url: str, key: str, *args: str, **more: str) -> Ran:
    """`storyboard ARGS` in this process (click's runner), in `folder`, with the environment
    `storyboard()` gives a child: the same command, the same exit code, stdout and stderr."""
    from click.testing import CliRunner

    from storyboard.cli import cli

    env = _env(env_name, base_url, key, more)
    unset = {k: None for k in os.environ if k not in env}  # the caller's other keys: gone
    here = os.getcwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(cli, list(args), env={**env, **unset}, prog_name="storyboard")
    finally:
        os.chdir(here)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback is a bug: the test shows it as one
    return Ran(["storyboard", *args], result.exit_code, result.stdout, result.stderr)
