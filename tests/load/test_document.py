"""The YAML loader: marks for every key and value, and every failure as a located problem."""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from storyboard.errors import ValidationError
from storyboard.load.document import MAX_FILE_BYTES, Document, load, parse
from storyboard.validate.checks import load_storyboard

TEXT = """\
storyboard: 1
title: "Sea"
shots:
  - id: a
    prompt: >-
      a folded
      prompt
    trim: [0.5, 7.5]
  - {id: b, prompt: y}
"""


def doc() -> Document:
    return parse(TEXT, Path("board.yaml"))


def test_values_and_marks() -> None:
    d = doc()
    assert d.data["shots"][0]["prompt"] == "a folded prompt"
    assert d.value_marks[("title",)] == (2, 8)
    assert d.key_marks[("shots", 0, "trim")] == (8, 5)
    assert d.value_marks[("shots", 0, "trim", 1)] == (8, 17)
    assert d.key_marks[("shots", 1, "prompt")] == (9, 13)
    assert d.value_marks[("shots", 1)] == (9, 5)


def test_location_of_a_key_a_value_and_a_missing_path() -> None:
    d = doc()
    loc = d.location(("shots", 0, "trim"), key=True)
    assert (loc.line, loc.column, loc.source_line) == (8, 5, "    trim: [0.5, 7.5]")
    assert (d.location(("shots", 0, "trim")).line, d.location(("shots", 0, "trim")).column) == (8, 11)
    # a path that does not exist falls back to its nearest parent
    missing = d.location(("shots", 1, "caption"))
    assert (missing.line, missing.column) == (9, 5)
    assert (d.location(("nothing",)).line, d.location(("nothing",)).column) == (1, 1)


def test_problem_format_has_the_caret_under_the_column() -> None:
    text = doc().problem(("shots", 0, "trim", 1), "too long", hint="keep less").format()
    assert text.splitlines() == [
        "board.yaml:8:17: error: shots[0].trim[1]: too long (keep less)",
        "      trim: [0.5, 7.5]",
        "                  ^",
    ]


def test_duplicate_keys_are_errors() -> None:
    with pytest.raises(ValidationError) as e:
        parse("a: 1\nb: 2\na: 3\n", Path("x.yaml"))
    (p,) = e.value.problems
    assert (p.location.line, p.location.column, p.path) == (3, 1, "a")
    assert "first given on line 1" in p.message


def test_merge_keys_fill_what_is_not_given() -> None:
    d = parse("base: &b {x: 1, y: 2}\nshot:\n  <<: *b\n  y: 3\n", Path("x.yaml"))
    assert d.data["shot"] == {"y": 3, "x": 1}


def test_non_scalar_keys_are_errors() -> None:
    with pytest.raises(ValidationError) as e:
        parse("? [a, b]\n: 1\n", Path("x.yaml"))
    assert "a key must be plain text" in e.value.problems[0].message


def test_syntax_error_position() -> None:
    with pytest.raises(ValidationError) as e:
        parse("shots:\n  - id: a\n   prompt: x\n", Path("x.yaml"))
    p = e.value.problems[0]
    assert p.message.startswith(
        "`prompt` is probably misindented: it is 3 spaces in, but `id` (line 2) is at 4"
    )
    assert (p.location.line, p.location.column) == (3, 4)


def test_alias_bomb_is_refused() -> None:
    text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 8):
        text += f"a{i}: &a{i} [{', '.join(['*a' if i == 1 else f'*a{i - 1}'] * 10)}]\n"
    with pytest.raises(ValidationError) as e:
        parse(text, Path("bomb.yaml"))
    assert "more than 100000 values" in e.value.problems[0].message


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "e.yaml").write_text("# only a comment\n")
    with pytest.raises(ValidationError) as e:
        load(tmp_path / "e.yaml")
    assert "the file is empty" in e.value.problems[0].message


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as e:
        load(tmp_path / "nope.yaml")
    assert e.value.problems[0].message == "no such file"
    assert e.value.problems[0].format() == f"{tmp_path / 'nope.yaml'}: error: no such file"
    with pytest.raises(ValidationError) as e:
        load(tmp_path)
    assert e.value.problems[0].message == "this is a folder, not a storyboard file"


def test_too_big(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: 1\n" + b"#" * MAX_FILE_BYTES)
    with pytest.raises(ValidationError) as e:
        load(path)
    assert "a storyboard is at most 1 MB" in e.value.problems[0].message


def test_not_utf8_points_at_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"title: caf" + b"\xe9\n")
    with pytest.raises(ValidationError) as e:
        load(path)
    p = e.value.problems[0]
    assert (p.location.line, p.location.column) == (1, 11)
    assert "not UTF-8" in p.message and "0xe9" in p.message


def test_an_image_given_as_the_storyboard_says_so(tmp_path: Path) -> None:
    (tmp_path / "film.yaml").write_text("storyboard: 1\n")
    (tmp_path / "images").mkdir()
    png = tmp_path / "images" / "hero.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    with pytest.raises(ValidationError) as e:
        load(png)
    (p,) = e.value.problems
    assert p.message == "this is not a storyboard: it holds a PNG image"
    assert p.hint == f"did you mean {tmp_path / 'film.yaml'}?"


def test_nul_byte_is_binary(tmp_path: Path) -> None:
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"a: 1\nb: \x00\n")
    with pytest.raises(ValidationError) as e:
        load(path)
    p = e.value.problems[0]
    assert (p.location.line, p.location.column) == (2, 4) and "binary" in p.message


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffstoryboard: 1\n".encode())
    assert load(path).data == {"storyboard": 1}


def test_unsafe_tags_construct_nothing() -> None:
    # a scalar with a Python tag is refused; on a list the tag is ignored (plain data, no call)
    with pytest.raises(ValidationError) as e:
        parse("a: !!python/name:os.system x\n", Path("x.yaml"))
    assert "could not determine a constructor" in e.value.problems[0].message
    assert parse("a: !!python/object/apply:os.system [echo hi]\n", Path("x.yaml")).data == {"a": ["echo hi"]}


def test_bad_scalar_is_a_located_problem() -> None:
    with pytest.raises(ValidationError) as e:
        parse("a: 1\nwhen: !!int soon\n", Path("x.yaml"))
    p = e.value.problems[0]
    assert (p.location.line, p.path) == (2, "when") and "cannot read this value as int" in p.message


@pytest.mark.parametrize("value", ["!!timestamp not-a-date", "!!bool maybe", "!!int"])
def test_load_storyboard_reports_tagged_scalars(tmp_path: Path, value: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(f"storyboard: 1\ntitle: {value}\n")
    with pytest.raises(ValidationError) as e:
        load_storyboard(path)
    p = e.value.problems[0]
    assert (p.location.line, p.location.column, p.path) == (2, 8, "title")
    assert "remove the tag or quote the value" in p.message


def test_a_folder_points_at_the_storyboard_inside_it(tmp_path: Path) -> None:
    (tmp_path / "film").mkdir()
    with pytest.raises(ValidationError) as e:
        load(tmp_path / "film")
    p = e.value.problems[0]
    assert p.location.line == 0 and str(p.location) == str(tmp_path / "film")  # no :1:1
    assert p.hint == f"give the storyboard file, e.g. {tmp_path / 'film' / 'storyboard.yaml'} " + (
        f"(`storyboard init {tmp_path / 'film'}` makes one)"
    )
    (tmp_path / "film" / "storyboard.yaml").write_text("storyboard: 1\n")
    with pytest.raises(ValidationError) as e:
        load(tmp_path / "film")
    assert e.value.problems[0].format() == (
        f"{tmp_path / 'film'}: error: this is a folder, not a storyboard file "
        f"(did you mean {tmp_path / 'film' / 'storyboard.yaml'}?)"
    )


def test_a_missing_file_suggests_a_near_name(tmp_path: Path) -> None:
    (tmp_path / "storyboard.yaml").write_text("storyboard: 1\n")
    with pytest.raises(ValidationError) as e:
        load(tmp_path / "storybord.yaml")
    assert e.value.problems[0].hint == f"did you mean '{tmp_path}/storyboard.yaml'?"


def test_special_files_are_named_as_what_they_are(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)  # reading it would block for ever: it must not be opened
    with pytest.raises(ValidationError) as e:
        load(fifo)
    assert e.value.problems[0].message == "this is a named pipe (FIFO), not a storyboard file"
    with pytest.raises(ValidationError) as e:
        load(Path("/dev/null"))
    assert e.value.problems[0].message == "this is a character device, not a storyboard file"


def test_an_unquoted_template_that_parses_as_a_map_says_quote_it() -> None:
    with pytest.raises(ValidationError) as e:
        parse("storyboard: 1\nshots:\n  - id: a\n    prompt: {{ place }}\n", Path("x.yaml"))
    p = e.value.problems[0]
    assert "must be in quotes" in p.message and p.hint == 'e.g. prompt: "{{ place }} at dawn"'


class _CountedText(str):
    """Text that counts how often it is split into lines: the work of locating problems."""

    splits = 0

    def splitlines(self, keepends: bool = False) -> list[str]:
        type(self).splits += 1
        return super().splitlines(keepends)


@settings(max_examples=6, deadline=None)
@given(
    count=st.sampled_from([4, 7, 500, 20_000]),
    names=st.lists(st.sampled_from(["k", "mood", "place", "x-y"]), min_size=1, max_size=3, unique=True),
)
def test_problems_are_located_with_one_split_of_the_file(count: int, names: list[str]) -> None:
    """However many duplicate keys (20,000 at file scale), the file is split into lines once,
    and every duplicate is named at its own line with that line's text."""
    lines = ["storyboard: 1", "vars:"] + [f"  {names[i % len(names)]}: {i}" for i in range(count)]
    _CountedText.splits = 0
    compose = yaml.compose  # the C parser takes only a plain str; the document keeps ours
    with (
        mock.patch.object(yaml, "compose", lambda text, Loader: compose(str(text), Loader=Loader)),
        pytest.raises(ValidationError) as err,
    ):
        parse(_CountedText("\n".join(lines) + "\n"), Path("board.yaml"))
    problems = err.value.problems
    assert len(problems) == count - len(names)
    assert _CountedText.splits == 1
    for p in problems[:: max(1, len(problems) // 50)]:
        assert p.location is not None
        assert p.location.source_line == lines[p.location.line - 1]
        assert p.message.startswith(f"duplicate key {p.path.split('.')[-1]!r}")
