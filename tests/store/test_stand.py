"""One vocabulary for where a shot stands (store.stand): compared as members everywhere, never
by the words JSON and the state file carry; and those words do not change."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import storyboard
from storyboard.store.stand import JOURNAL, Stand

PACKAGE = Path(storyboard.__file__).parent
# attributes that hold a member of one of the package's enums: compared as members, not words
TYPED = {"value", "state", "status", "action", "why", "outcome", "integrity", "stand"}


def _is_word(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return bool(node.elts) and all(_is_word(e) for e in node.elts)
    return False


def _typed(node: ast.expr) -> str | None:
    """The name of an attribute or a variable that holds such a member (`d.state`, `state`)."""
    if isinstance(node, ast.Attribute) and node.attr in TYPED:
        return node.attr
    if isinstance(node, ast.Name) and node.id in TYPED - {"value"}:  # a bare `value` is any text
        return node.id
    return None


def word_compares(source: str, name: str = "<source>") -> list[str]:
    """Every comparison of an enum's attribute (`x.value`, `d.state`, `rec.status`...) with a
    string literal, or a tuple of them, as `file:line: code`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        if any(_typed(s) for s in sides) and any(_is_word(s) for s in sides):
            found.append(f"{name}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_module_compares_a_shot_s_state_by_its_word() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        found += word_compares(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE)))
    assert found == [], "compare members (`is Stand.MADE`), not words:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "code",
    [
        'chosen.action.value == "cached"',
        'rec.status.value in ("submitted", "sending")',
        'd.state in ("failed", "uncertain")',
        'state == "new" and d.why is not Why.NEW',
        '"made" != d.state',
        'job.outcome.value not in ["made"]',
    ],
)
def test_the_check_finds_each_kind_of_word_compare(code: str) -> None:
    """The scan can fail: each way the package once compared words is found."""
    assert len(word_compares(f"if {code}:\n    pass\n")) == 1


@pytest.mark.parametrize(
    "code",
    [
        "d.state is Stand.MADE",
        'rec["status"] == "done"',
        "e.value == 3",
        'name == "cached"',
        "a.value == b.value",
        'value == "end"',
    ],
)
def test_the_check_lets_members_and_other_words_be(code: str) -> None:
    assert word_compares(f"if {code}:\n    pass\n") == []


def test_the_words_users_read_are_kept() -> None:
    """status --json, plan --json and render --json carry these words: they do not change."""
    assert {s.value for s in Stand} == {
        "new",
        "sending",
        "submitted",
        "made",
        "cached",
        "failed",
        "uncertain",
        "stalled",
        "blocked",
        "unrecorded",
    }
    assert [s.word for s in JOURNAL] == ["sending", "submitted", "done", "failed", "uncertain"]
    assert all(Stand.of_word(s.word) is s for s in JOURNAL)  # the state file reads as it was written
    assert Stand.of_word("made") is Stand.MADE
    assert [s for s in Stand if s.has_clip] == [Stand.MADE, Stand.CACHED]
