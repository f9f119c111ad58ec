"""YAML syntax errors said as fixes: each case is a slip a newcomer makes, with the line and
column the message points at and the words it must hold (PyYAML's own words must be gone)."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.errors import ValidationError
from storyboard.load.document import load, parse
from storyboard.load.yaml_errors import TAB_SHOWN

SHOTS = "storyboard: 1\nshots:\n  - id: a\n    prompt: x\n"

# name -> (text, (line, column), fragments of the message, fragment of the hint)
CASES: dict[str, tuple[str, tuple[int, int], tuple[str, ...], str]] = {
    "tab": (
        "storyboard: 1\nsettings:\n\tresolution: 720p\n",
        (3, 1),
        ("a tab character", "YAML indents with spaces only"),
        "replace the tab with spaces",
    ),
    "tab inside the indentation": (
        "storyboard: 1\nsettings:\n  \tresolution: 720p\n",
        (3, 3),
        ("a tab character",),
        "replace the tab with spaces",
    ),
    "key indented more than its sibling": (
        'storyboard: 1\nsettings:\n  aspect_ratio: "16:9"   # quoted\n    resolution: 720p\n',
        (4, 5),
        ("`resolution` is probably misindented", "it is 4 spaces in", "`aspect_ratio` (line 3) is at 2"),
        "indent `resolution` by 2 spaces, like `aspect_ratio`",
    ),
    "key indented less than its sibling": (
        SHOTS + "   caption: c\n",
        (5, 4),
        ("`caption` is probably misindented", "3 spaces in", "`prompt` (line 4) is at 4"),
        "indent `caption` by 4 spaces, like `prompt`",
    ),
    "key one space short inside a list item": (
        "storyboard: 1\nshots:\n  - id: a\n   prompt: x\n",
        (4, 4),
        ("`prompt` is probably misindented", "`id` (line 3) is at 4"),
        "indent `prompt` by 4 spaces, like `id`",
    ),
    "list item indented too far": (
        SHOTS + "    - id: b\n      prompt: y\n",
        (5, 5),
        ("this list item is probably misindented", "its `-` is 4 spaces in", "(line 3) has its `-` at 2"),
        "line up its `-` with the one on line 3",
    ),
    "dash without a space": (
        SHOTS + "  -id: b\n",
        (5, 3),
        ("a list item needs a space after its `-`",),
        "write `  - id: b`",
    ),
    "key under a key that has a value": (
        "storyboard: 1\ntitle: My Film\n  provider: preview\n",
        (3, 3),
        ("`provider` is indented under `title` (line 2), which already has a value",),
        "move `provider` to the start of its line, like `title`",
    ),
    "colon inside a plain value": (
        "storyboard: 1\nshots:\n  - id: a\n    prompt: Wide shot: the sea\n",
        (4, 22),
        ("the value of `prompt` holds `: `",),
        'put the value in quotes: prompt: "Wide shot: the sea"',
    ),
    "unclosed brace": (
        SHOTS + "    frames: {first: dawn\n    trim: [1, 7]\n",
        (5, 13),
        ("this `{` is never closed", "YAML reached line 6 still inside it"),
        "close it: `frames: {first: dawn}`",
    ),
    "unclosed bracket": (
        SHOTS + "    trim: [1, 7\n    caption: x\n",
        (5, 11),
        ("this `[` is never closed",),
        "close it: `trim: [1, 7]`",
    ),
    "unclosed double quote": (
        SHOTS + '    caption: "It began\n  - id: b\n    prompt: y\n',
        (5, 14),
        ('this " is never closed', "runs to the end of the file"),
        'add the closing "',
    ),
    "unquoted template": (
        "storyboard: 1\nshots:\n  - id: a\n    prompt: {{ place }} at dawn\n",
        (4, 13),
        ("a value that starts with `{{` must be in quotes",),
        'write prompt: "{{ place }} at dawn"',
    ),
    "list on the line of its key": (
        "storyboard: 1\nshots: - id: a\n",
        (2, 8),
        ("a list cannot start on the line of its key `shots`",),
        "put `- id: a` on the next line",
    ),
    "a line with no colon": (
        "storyboard: 1\ntitle\nshots: []\n",
        (2, 1),
        ("`title` is neither `key: value` nor a list item",),
        "add `:` after the key",
    ),
    "undefined alias": (
        "storyboard: 1\ntitle: *name\n",
        (2, 8),
        ("`*name` refers to no anchor",),
        "put the value in quotes",
    ),
    "stray character": (
        "storyboard: 1\ntitle: @home\n",
        (2, 8),
        ("a plain YAML value cannot start with '@'",),
        'title: "@home"',
    ),
    "a closer left over": (
        "storyboard: 1\ntitle: ]My Film\n",
        (2, 8),
        ("a `]` that closes nothing",),
        "remove it",
    ),
    "an empty item": (
        SHOTS + "    trim: [, 7]\n",
        (5, 12),
        ("an empty item in this list or map",),
        "remove the extra `,`",
    ),
    "an asterisk meant as text": (
        "storyboard: 1\ntitle: *\n",
        (2, 8),
        ("`*` here starts an alias",),
        'title: "*"',
    ),
    "a greater-than sign at the start": (
        "storyboard: 1\n>title: x\n",
        (2, 1),
        ("`>` here starts a block of text on the lines below",),
        "put the value in quotes",
    ),
    "a line of plain text": (
        "storyboard: 1\ntitle: x\nmy notes about the film\nshots: []\n",
        (3, 1),
        ("`my notes about the film` is neither `key: value` nor a list item",),
        "add `:` after the key",
    ),
    "a quote not closed on its line": (
        'storyboard: 1\nshots:\n  - id: a\n    prompt: "A boat leaves\n  - id: b\n    prompt: A storm\n'
        '  - id: c\n    prompt: "The end"\n',
        (4, 13),
        ('this " is never closed on its line', "up to line 8"),
        'close the quote on line 4: prompt: "A boat leaves"',
    ),
    "two documents": (
        "storyboard: 1\n---\nstoryboard: 1\n",
        (2, 1),
        ("a second YAML document starts here",),
        "remove this line",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_slip_is_said_as_a_fix(name: str) -> None:
    text, (line, col), fragments, hint = CASES[name]
    with pytest.raises(ValidationError) as e:
        parse(text, Path("board.yaml"))
    (p,) = e.value.problems
    assert (p.location.line, p.location.column) == (line, col), p.format()
    for fragment in fragments:
        assert fragment in p.message, p.format()
    assert p.hint is not None and hint in p.hint, p.format()
    # none of PyYAML's grammar words reach the user
    for raw in ("did not find expected", "mapping values are not allowed", "cannot start any token",
                "while parsing", "while scanning"):  # fmt: skip
        assert raw not in p.format()


def test_a_tab_is_shown_as_a_tab_with_the_caret_under_it() -> None:
    with pytest.raises(ValidationError) as e:
        parse("storyboard: 1\nsettings:\n  \tresolution: 720p\n", Path("board.yaml"))
    lines = e.value.problems[0].format().splitlines()
    assert lines[0].startswith("board.yaml:3:3: error: a tab character (shown as →)")
    assert lines[1:] == [f"    {TAB_SHOWN}resolution: 720p", "    ^"]


def test_a_block_scalar_body_is_not_taken_for_keys() -> None:
    text = (
        "storyboard: 1\nshots:\n  - id: a\n    prompt: |\n      Dawn: the sea\n      waves\n   caption: x\n"
    )
    with pytest.raises(ValidationError) as e:
        parse(text, Path("board.yaml"))
    p = e.value.problems[0]
    assert (p.location.line, p.location.column) == (7, 4)
    assert "`prompt` (line 4) is at 4" in p.message


def test_what_cannot_be_explained_keeps_its_position() -> None:
    with pytest.raises(ValidationError) as e:
        parse('storyboard: 1\ntitle: "\\q"\n', Path("board.yaml"))
    p = e.value.problems[0]
    assert p.location.line == 2 and "escape" in p.message


def test_a_200_kb_line_gives_a_short_message(tmp_path: Path) -> None:
    path = tmp_path / "long.yaml"
    path.write_text("storyboard: 1\nshots:\n  - id: a\n    prompt: " + "x" * 200_000 + ": y\n")
    with pytest.raises(ValidationError) as e:
        load(path)
    shown = e.value.format()
    assert len(shown) < 1000 and "put the value in quotes" in shown, shown[:2000]


def test_a_missing_dash_is_named_and_no_advice_deletes_a_shot() -> None:
    text = (
        "storyboard: 1\nshots:\n  - id: one\n    prompt: A boat\n    id: two\n    prompt: A storm\n"
        "  - id: three\n    prompt: The end\n"
    )
    with pytest.raises(ValidationError) as e:
        parse(text, Path("board.yaml"))
    (p,) = e.value.problems  # one cause, one problem (not a duplicate `prompt` too)
    assert (p.location.line, p.location.column) == (5, 5), p.format()
    assert "a `- ` is missing before `id`" in p.message
    assert p.hint == "start the item with a dash: `  - id: two`"
    assert "remove" not in p.format()


def test_every_tab_is_a_problem_in_one_pass() -> None:
    text = "storyboard: 1\nshots:\n  - id: one\n\tprompt: A boat\n  - id: two\n    prompt: x\n\tcaption: y\n"
    with pytest.raises(ValidationError) as e:
        parse(text, Path("board.yaml"))
    assert [(p.location.line, p.location.column) for p in e.value.problems] == [(4, 1), (7, 1)]
    assert all("a tab character" in p.message for p in e.value.problems)
