"""`storyboard validate FILE...` in-process: summaries for good files, located problems for bad."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*/*.yaml"))
BROKEN = ROOT / "tests" / "validate" / "broken"


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
    # the typo is the one cause: not also "missing the required key 'prompt'" at the shot
    assert result.stderr.splitlines() == [
        f"{bad}:4:5: error: shots[0].promt: unknown key 'promt' in shot 'opening' (did you mean "
        "'prompt'? It is required here: rename the key, keeping its value)",
        "      promt: A beach at dawn",
        "      ^",
        f"{bad}: 1 problem",
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


CONTINUED = (
    "storyboard: 1\nprovider: {provider}\n{options}shots:\n  - id: a\n    prompt: dawn\n"
    "  - id: b\n    prompt: noon\n    continues: a\n"
)


def test_validate_checks_what_the_provider_can_do(tmp_path: Path) -> None:
    """The file's provider (or -p) is part of the check: what plan would refuse, validate
    refuses, with its location, and without a key."""
    path = tmp_path / "c.yaml"
    path.write_text(CONTINUED.format(provider="nanophoto", options=""))
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:8:5: error: shots[1].continues: shot 'b': nanophoto" in result.stderr, result.stderr
    assert CliRunner().invoke(cli, ["validate", str(path), "-p", "kie"]).exit_code == 0
    path.write_text(CONTINUED.format(provider="kie", options=""))
    assert CliRunner().invoke(cli, ["validate", str(path)]).exit_code == 0
    assert CliRunner().invoke(cli, ["validate", str(path), "-p", "nanophoto"]).exit_code == 2


def test_a_bad_option_does_not_hide_what_the_provider_cannot_do(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(CONTINUED.format(provider="nanophoto", options="providers: {nanophoto: {bacth: 2}}\n"))
    for command in ("validate", "plan"):
        result = CliRunner().invoke(cli, [command, str(path)])
        assert result.exit_code == 2, result.output
        located = [line.split(": error: ")[0] for line in result.stderr.splitlines() if ": error: " in line]
        assert located == [f"{path}:3:25", f"{path}:9:5"], result.stderr
        assert "did you mean 'batch'?" in result.stderr


def test_plan_and_validate_json_carry_the_warnings_in_the_file_s_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIE_API_KEY", "kie-a-key-for-this-plan")  # no warning of a missing key
    path = tmp_path / "w.yaml"
    path.write_text(
        "storyboard: 1\nprovider: kie\nimages:\n  dusk: https://example.com/dusk.png\n"
        "  dawn: https://example.com/dawn.png\nshots:\n  - id: a\n    prompt: x\n"
        "    frames: {first: dawn, last: dusk}\n"
    )
    import json

    plan = json.loads(CliRunner().invoke(cli, ["plan", str(path), "--json"]).stdout)
    lines = [w["line"] for w in plan["warnings"]]
    assert lines == [4, 5] and all("placeholder" in w["message"] for w in plan["warnings"]), plan
    valid = json.loads(CliRunner().invoke(cli, ["validate", str(path), "--json"]).stdout)
    assert [w["line"] for w in valid["files"][0]["warnings"]] == [4, 5]
