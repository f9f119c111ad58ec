"""Examples rendered with the offline preview provider and their contact sheets written by
`storyboard report`, as users run it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard import pipeline
from storyboard.cli import cli

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Sheet:
    board: Path
    film: Path
    page: Path
    output: str


def copy_example(name: str, into: Path) -> Path:
    folder = into / name
    shutil.copytree(ROOT / "examples" / name, folder, ignore=shutil.ignore_patterns(".storyboard", "renders"))
    return next(folder.glob("*.yaml"))


def run(*args: str) -> str:
    r = CliRunner().invoke(cli, list(args))
    assert r.exit_code == 0, r.output
    return r.output


def _rendered(name: str, into: Path) -> Sheet:
    board = copy_example(name, into)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STORYBOARD_PREVIEW_SCALE", "0.125")  # tiny clips, the same timing
        run("render", str(board), "--quiet")
        out = run("report", str(board))
    film = pipeline.load(board).output
    return Sheet(board, film, film.with_suffix(".report.html"), out)


@pytest.fixture(scope="session")
def harbour(tmp_path_factory: pytest.TempPathFactory) -> Sheet:
    """long-21: 21 shots of 8 s."""
    return _rendered("long-21", tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="session")
def lighthouse(tmp_path_factory: pytest.TempPathFactory) -> Sheet:
    """Every field: frames, references, continues, trims, captions, music."""
    return _rendered("lighthouse", tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="session")
def artifacts() -> Iterator[Path]:
    """Where tests keep what a person should look at: tests/artifacts/ (ignored by git: the
    folder ignores itself), or $STORYBOARD_TEST_ARTIFACTS."""
    folder = Path(os.environ.get("STORYBOARD_TEST_ARTIFACTS") or ROOT / "tests" / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    yield folder


@pytest.fixture(scope="session")
def vertical(tmp_path_factory: pytest.TempPathFactory) -> Sheet:
    """A caption in Chinese, drawn with the storyboard's own font (captions.font)."""
    return _rendered("vertical", tmp_path_factory.mktemp("report"))
