"""The examples, each rendered once a test session with the offline preview provider (tiny
clips, the same timing), as the README's first command renders them.

tests/cli/test_render_examples.py checks each film; tests/report writes and reads the same
renders' contact sheets (which change neither film nor state). A run's xdist workers share
each render: the first to ask makes it while the other waits on a file lock (an event, not
a sleep), then reads it (`once`).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard import pipeline
from storyboard.cli import cli

ROOT = Path(__file__).resolve().parents[1]
NAMES = sorted(p.parent.name for p in ROOT.glob("examples/*/*.yaml"))


@dataclass(frozen=True)
class Rendered:
    board: Path
    film: Path
    output: str  # what `storyboard render FILE` printed (exit 0)


def copy_example(name: str, into: Path) -> Path:
    """examples/NAME copied into `into` (without renders of its own); its storyboard."""
    folder = into / name
    shutil.copytree(ROOT / "examples" / name, folder, ignore=shutil.ignore_patterns(".storyboard", "renders"))
    return next(folder.glob("*.yaml"))


def render_example(name: str, into: Path) -> Rendered:
    board = copy_example(name, into)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STORYBOARD_PREVIEW_SCALE", "0.125")  # small clips; same timing
        result = CliRunner().invoke(cli, ["render", str(board)])
    assert result.exit_code == 0, result.output
    return Rendered(board, pipeline.load(board).output, result.output)


def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every worker of this run sees (xdist gives each worker a basetemp below one)."""
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared"
    root.mkdir(exist_ok=True)
    return root


def once(root: Path, key: str, make: Callable[[Path], dict[str, str]]) -> dict[str, str]:
    """make(folder) run once in this test run, whichever worker asks first; what it returned.
    The others wait for it on the lock; a failed make leaves nothing, so each asker fails."""
    with open(root / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        done = root / f"{key}.json"
        if not done.exists():
            made = make(root / key)
            part = done.with_suffix(".part")
            part.write_text(json.dumps(made), encoding="utf-8")
            os.replace(part, done)
        result: dict[str, str] = json.loads(done.read_text(encoding="utf-8"))
        return result


def example(root: Path, name: str) -> Rendered:
    """examples/NAME rendered once in this run (render_example), shared by every worker."""

    def make(into: Path) -> dict[str, str]:
        r = render_example(name, into)
        return {"board": str(r.board), "film": str(r.film), "output": r.output}

    got = once(root, f"example-{name}", make)
    return Rendered(Path(got["board"]), Path(got["film"]), got["output"])
