"""Completion of what the state holds (cli/complete.py), through click's own protocol (the
words the shell passes in COMP_WORDS and COMP_CWORD), on a storyboard rendered for real: the
takes made of a shot for `select FILE SHOT <Tab>`, and SHOT@K for `--force`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli import cli

ROOT = Path(__file__).resolve().parents[2]
SMALL = {"STORYBOARD_PREVIEW_SCALE": "0.125"}  # small clips; the preview's fingerprints know the scale
BOARD = (
    "storyboard: 1\ntitle: Takes\nprovider: preview\nshots:\n"
    "  - id: dawn\n    prompt: A red door at dawn\n"
    "  - id: dusk\n    prompt: The sea at dusk\n"
    "  - id: night\n    prompt: Stars\n"
)


def cword(words: str) -> str:
    """The index of the word under the cursor: the last one, or a new one after a space."""
    return str(len(words.split()) - (0 if words.endswith(" ") else 1))


def complete(words: str, cwd: Path) -> list[tuple[str, str]]:
    """(type, value) for each offer, as the bash script reads them."""
    env = {**SMALL, "_STORYBOARD_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": cword(words)}
    here = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli, [], env=env, prog_name="storyboard")
    finally:
        os.chdir(here)
    assert result.exit_code == 0 and result.stderr == "", result.output
    return [tuple(line.split(",", 1)) for line in result.stdout.splitlines() if line]  # type: ignore[misc]


def offers(words: str, cwd: Path) -> list[str]:
    return [value for kind, value in complete(words, cwd) if kind == "plain"]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dawn and dusk made with two takes each, night with one: a real render, a real state."""
    folder = tmp_path_factory.mktemp("takes")
    board = folder / "board.yaml"
    board.write_text(BOARD)
    env = SMALL
    runner = CliRunner()
    first = runner.invoke(cli, ["render", str(board), "--takes", "2", "-q"], env=env)
    assert first.exit_code == 0, first.output
    # night's second take is forgotten: its clip goes, as if never made
    plan = runner.invoke(cli, ["plan", str(board), "--takes", "2", "--json"], env=env)
    night2 = next(s for s in json.loads(plan.stdout)["shots"] if s["id"] == "night@2")
    (folder / ".storyboard" / "clips" / f"{night2['fingerprint']}.mp4").unlink()
    return board


def test_select_offers_the_takes_made_of_that_shot(made: Path) -> None:
    assert offers("storyboard select board.yaml dawn ", made.parent) == ["1", "2"]
    assert offers("storyboard select board.yaml night ", made.parent) == ["1"]  # take 2's clip is gone
    assert offers("storyboard select board.yaml dusk 2", made.parent) == ["2"]
    assert offers("storyboard select board.yaml nobody ", made.parent) == []
    # the shot ids themselves, before the take
    assert offers("storyboard select board.yaml d", made.parent) == ["dawn", "dusk"]


def test_force_offers_the_shots_and_their_other_takes_made(made: Path) -> None:
    want = ["dawn", "dawn@2", "dusk", "dusk@2", "night"]
    assert offers("storyboard render board.yaml --force ", made.parent) == want
    assert offers("storyboard plan board.yaml --force du", made.parent) == ["dusk", "dusk@2"]
    assert offers("storyboard plan board.yaml --force dawn@", made.parent) == ["dawn@2"]
    # the option before the file: the storyboard is found among the shell's words
    words = "storyboard plan --force d board.yaml"
    env = {**SMALL, "_STORYBOARD_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": "3"}
    here = os.getcwd()
    os.chdir(made.parent)
    try:
        result = CliRunner().invoke(cli, [], env=env, prog_name="storyboard")
    finally:
        os.chdir(here)
    assert result.stdout.splitlines() == ["plain,dawn", "plain,dawn@2", "plain,dusk", "plain,dusk@2"]
    # and what it offers, plan takes: SHOT@K forces that take
    forced = CliRunner().invoke(cli, ["plan", str(made), "--force", "dawn@2", "--takes", "2"], env=SMALL)
    assert forced.exit_code == 0 and "~ dawn@2" in forced.stdout, forced.output


def test_an_edited_shot_offers_no_take_its_clips_no_longer_match(made: Path, tmp_path: Path) -> None:
    board = tmp_path / "board.yaml"
    board.write_text(made.read_text().replace("A red door at dawn", "A blue door at dawn"))
    shutil.copytree(made.parent / ".storyboard", tmp_path / ".storyboard")
    assert offers("storyboard select board.yaml dawn ", tmp_path) == []
    assert offers("storyboard select board.yaml dusk ", tmp_path) == ["1", "2"]
    assert offers("storyboard render board.yaml --force da", tmp_path) == ["dawn"]


def test_a_broken_storyboard_completes_nothing_and_says_nothing(tmp_path: Path) -> None:
    (tmp_path / "board.yaml").write_text(BOARD + "  - id: dawn\n    prompt: again\n")  # a duplicate id
    assert offers("storyboard select board.yaml dawn ", tmp_path) == []
    assert offers("storyboard select nowhere.yaml dawn ", tmp_path) == []


def test_completion_of_takes_in_a_process_of_its_own(made: Path) -> None:
    """The installed entry point, as the shell runs it: the same offers, no heavy import of
    the completion module itself at start-up (its work waits for the Tab)."""
    env = {
        **os.environ,
        **SMALL,
        "PYTHONPATH": str(ROOT),
        "_STORYBOARD_COMPLETE": "zsh_complete",
        "COMP_WORDS": "storyboard select board.yaml dawn ",
        "COMP_CWORD": "4",
    }
    done = subprocess.run(
        [sys.executable, "-m", "storyboard"],
        cwd=made.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    # zsh gets each offer's help: type, value, help
    assert done.stdout.splitlines() == ["plain", "1", "made, the cut's", "plain", "2", "made: nothing to pay"]
