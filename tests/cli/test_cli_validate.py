"""`storyboard validate FILE...` in-process: summaries for good files, located problems for bad."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from storyboard.cli import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*/*.yaml"))
BROKEN = ROOT / "tests" / "spec" / "broken"


def test_good_files_exit_0_with_one_line_each() -> None:
    result = CliRunner().invoke(cli, ["validate", *map(str, EXAMPLES)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(EXAMPLES)
    assert (
        f"{ROOT / 'examples/long-21/long-21.yaml'}: ok: 'A Day in the Harbour', 21 shots, 168.0 s" in lines[1]
    )


def test_bad_file_exits_2_with_every_problem_and_a_caret() -> None:
    bad = BROKEN / "unknown-key.yaml"
    result = CliRunner().invoke(cli, ["validate", str(EXAMPLES[0]), str(bad)])
    assert result.exit_code == 2
    assert result.stdout.count(": ok: ") == 1
    assert result.stderr.splitlines() == [
        f"{bad}:3:5: error: shots[0]: missing the required key 'prompt' (What the shot shows: a "
        "Jinja2 template rendered with vars, characters, images, shot and title): add `prompt: "
        '"A wave breaks over the rocks below {{ place }}"`',
        "    - id: opening",
        "      ^",
        f"{bad}:4:5: error: shots[0].promt: unknown key 'promt' (did you mean 'prompt'?)",
        "      promt: A beach at dawn",
        "      ^",
        f"{bad}: 2 problems",
    ]


def test_missing_file_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert f"{tmp_path / 'nope.yaml'}: error: no such file\n" in result.stderr  # no line: no file


def test_init_then_validate(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(tmp_path / "f")]).exit_code == 0
    result = runner.invoke(cli, ["validate", str(tmp_path / "f" / "storyboard.yaml")])
    assert result.exit_code == 0 and ": ok: 'My First Film', 3 shots" in result.stdout


def test_validate_renders_prompts_and_captions(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "storyboard: 1\nvars: {place: Oslo}\nshots:\n  - id: one\n"
        '    prompt: "{{ plce }} at night"\n    caption: "{{ titel }}"\n'
    )
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2
    assert (
        f"{path}:5:13: error: shots[0].prompt:" in result.output and "did you mean 'place'?" in result.output
    )
    assert (
        f"{path}:6:14: error: shots[0].caption:" in result.output and "did you mean 'title'?" in result.output
    )
