"""Examples rendered with the offline preview provider and their contact sheets written by
`storyboard report`, as users run it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from tests.examples import copy_example, example, once, shared_root  # noqa: F401 - copy_example: for the tests here

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Sheet:
    board: Path
    film: Path
    page: Path
    output: str


def run(*args: str) -> str:
    r = CliRunner().invoke(cli, list(args))
    assert r.exit_code == 0, r.output
    return r.output


def _reported(name: str, factory: pytest.TempPathFactory) -> Sheet:
    """`storyboard report` of the run's render of example `name` (tests/examples.py), run
    once a run as well: the page other tests compare stays the one they read first."""
    root = shared_root(factory)
    rendered = example(root, name)

    def make(_: Path) -> dict[str, str]:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("STORYBOARD_PREVIEW_SCALE", "0.125")  # as it was rendered
            return {"output": run("report", str(rendered.board))}

    out = once(root, f"report-{name}", make)["output"]
    return Sheet(rendered.board, rendered.film, rendered.film.with_suffix(".report.html"), out)


@pytest.fixture(scope="session")
def harbour(tmp_path_factory: pytest.TempPathFactory) -> Sheet:
    """long-21: 21 shots of 8 s."""
    return _reported("long-21", tmp_path_factory)


@pytest.fixture(scope="session")
def lighthouse(tmp_path_factory: pytest.TempPathFactory) -> Sheet:
    """Every field: frames, references, continues, trims, captions, music."""
    return _reported("lighthouse", tmp_path_factory)


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
    return _reported("vertical", tmp_path_factory)
