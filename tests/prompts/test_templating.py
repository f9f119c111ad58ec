"""Prompt templates: sandboxed, strict, and their errors point at the file, line and shot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from storyboard import resources
from storyboard.board import model
from storyboard.errors import ValidationError
from storyboard.load import document as loader
from storyboard.prompts.templating import render_prompt


def board(tmp_path: Path, text: str) -> model.Storyboard:
    path = tmp_path / "board.yaml"
    path.write_text(text)
    return model.from_document(loader.load(path))


BASE = """storyboard: 1
title: The Keeper
vars: {place: a rocky island, grade: teal and orange}
characters:
  keeper: {description: an old keeper in a yellow raincoat}
template: %s
shots:
  - id: one
    prompt: Aerial over {{ place }} for {{ title }}, shot {{ shot.number }}
  - id: two
    prompt: "{{ characters.keeper.description }} looks at {{ vars.place }}"
"""


def test_builtin_templates_are_installed() -> None:
    assert {"plain", "cinematic", "documentary", "anime"} <= set(resources.builtin_templates())


def test_plain_renders_prompt_with_vars_characters_shot_and_title(tmp_path: Path) -> None:
    sb = board(tmp_path, BASE % "plain")
    assert render_prompt(sb, sb.shots[0]) == "Aerial over a rocky island for The Keeper, shot 1"
    assert render_prompt(sb, sb.shots[1]) == "an old keeper in a yellow raincoat looks at a rocky island"


@pytest.mark.parametrize("name", ["cinematic", "documentary", "anime"])
def test_wrapping_templates_keep_the_prompt_and_add_style(tmp_path: Path, name: str) -> None:
    sb = board(tmp_path, BASE % name)
    text = render_prompt(sb, sb.shots[0])
    assert "Aerial over a rocky island for The Keeper, shot 1." in text
    assert "teal and orange" in text  # vars.grade is used by every style template
    assert "\n" not in text and "  " not in text


def test_undefined_name_is_an_error_with_position_and_suggestion(tmp_path: Path) -> None:
    sb = board(tmp_path, (BASE % "plain").replace("{{ place }}", "{{ plcae }}"))
    with pytest.raises(ValidationError) as e:
        render_prompt(sb, sb.shots[0])
    (p,) = e.value.problems
    assert p.path == "shots[0].prompt"
    assert (p.location.line, p.location.column) == (9, 13)
    assert "'plcae' is undefined" in p.message and p.hint == "did you mean 'place'?"


def test_error_inside_a_block_prompt_points_at_its_line(tmp_path: Path) -> None:
    text = (BASE % "plain").replace(
        "    prompt: Aerial over {{ place }} for {{ title }}, shot {{ shot.number }}\n",
        "    prompt: |\n      first line\n      then {{ nothing_here }}\n",
    )
    sb = board(tmp_path, text)
    with pytest.raises(ValidationError) as e:
        render_prompt(sb, sb.shots[0])
    loc = e.value.problems[0].location
    assert (loc.line, loc.column) == (11, 7)
    assert "nothing_here" in loc.source_line


def test_sandbox_refuses_attribute_escapes(tmp_path: Path) -> None:
    sb = board(
        tmp_path, (BASE % "plain").replace("Aerial over {{ place }}", "see {{ ''.__class__.__mro__ }}")
    )
    with pytest.raises(ValidationError, match="unsafe"):
        render_prompt(sb, sb.shots[0])


def test_user_template_file_errors_name_the_file_line_and_shot(tmp_path: Path) -> None:
    (tmp_path / "styles").mkdir()
    (tmp_path / "styles" / "mine.j2").write_text("{{ prompt }}\nWith {{ vars.missing_thing }}\n")
    sb = board(tmp_path, BASE % "styles/mine.j2")
    with pytest.raises(ValidationError) as e:
        render_prompt(sb, sb.shots[1])
    p = e.value.problems[0]
    assert p.location.file == "styles/mine.j2" and p.location.line == 2
    assert "shot 'two'" in p.message


def test_template_outside_the_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.j2"
    outside.write_text("{{ prompt }}")
    inner = tmp_path / "film"
    inner.mkdir()
    sb = board(inner, BASE % "../outside.j2")
    with pytest.raises(ValidationError, match="neither a built-in"):
        render_prompt(sb, sb.shots[0])


@pytest.mark.parametrize(
    ("expr", "bound"),
    [
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            "a range of 100000 items; at most 10000",
        ),
        ("{{ 'x' * 10000000 }}", "a repetition would make about 10000000 characters"),
        ("{{ 9 ** 99999999 }}", "9 ** 99999999 is too large a number"),
        ("{% for i in range(5000) %}{{ 'abcdefgh' }}{% endfor %}", "the text is longer than 20000"),
    ],
)
def test_templates_cannot_hang_or_flood(tmp_path: Path, expr: str, bound: str) -> None:
    sb = board(tmp_path, (BASE % "plain").replace("Aerial over {{ place }}", f"see {expr}"))
    with pytest.raises(ValidationError, match=f"the prompt cannot be rendered: {re.escape(bound)}"):
        render_prompt(sb, sb.shots[0])


@pytest.mark.parametrize("expr", ["{{ lipsum(1) }}", "{{ [1, 2, 3] | random }}", "{{ cycler(1, 2).next() }}"])
def test_nothing_random_can_change_a_prompt_between_runs(tmp_path: Path, expr: str) -> None:
    sb = board(tmp_path, (BASE % "plain").replace("Aerial over {{ place }}", f"see {expr}"))
    with pytest.raises(ValidationError):
        render_prompt(sb, sb.shots[0])


def test_small_loops_still_work(tmp_path: Path) -> None:
    sb = board(
        tmp_path,
        (BASE % "plain").replace("Aerial over {{ place }}", "n {% for i in range(3) %}{{ i }}{% endfor %}"),
    )
    assert render_prompt(sb, sb.shots[0]).startswith("n 012 for The Keeper")


@pytest.mark.parametrize("prompt", ["Wide shot of {{ place }, waves", "Dawn {{ place", "Dawn {% if x %}sea"])
def test_a_template_syntax_error_says_how_to_close_it(tmp_path: Path, prompt: str) -> None:
    sb = board(tmp_path, (BASE % "plain").replace("Aerial over {{ place }}", prompt))
    with pytest.raises(ValidationError) as e:
        render_prompt(sb, sb.shots[0])
    (p,) = e.value.problems
    assert p.path == "shots[0].prompt" and p.hint is not None
    assert "close every `{{` with `}}`" in p.hint or "{% endif %}" in p.hint, p.format()


def test_a_mistyped_character_gets_did_you_mean(tmp_path: Path) -> None:
    sb = board(
        tmp_path, (BASE % "plain").replace("characters.keeper.description", "characters.keepr.description")
    )
    with pytest.raises(ValidationError) as e:
        render_prompt(sb, sb.shots[1])
    (p,) = e.value.problems
    assert p.hint == "did you mean characters.keeper?", p.format()


def test_an_unclosed_block_tag_is_named(tmp_path: Path) -> None:
    sb = board(
        tmp_path,
        (BASE % "plain").replace(
            "prompt: Aerial over {{ place }} for {{ title }}, shot {{ shot.number }}",
            'prompt: "{% if place %}Aerial over {{ place }}"',
        ),
    )
    with pytest.raises(ValidationError) as e:
        render_prompt(sb, sb.shots[0])
    (p,) = e.value.problems
    assert p.hint == "close the {% if %} with {% endif %}", p.format()
