"""The error tree: drawn at the top of errors.py as it is, every exception in it, and every
piece of context given to the constructor (nothing added after an error is made)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import storyboard
from storyboard import errors
from storyboard.errors import (
    BareServerError,
    Cancelled,
    DownloadError,
    Problem,
    ReplyLost,
    Severity,
    TaskNotFound,
    VerifyError,
)

PACKAGE = Path(storyboard.__file__).resolve().parent


def drawn_tree() -> dict[str, str]:
    """class name -> parent name, as the docstring draws it."""
    parents: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        m = re.match(r"^([ │├└─]*)([A-Z]\w+)\b", line)
        if not m or not m.group(2).endswith(("Error", "Failed", "Found", "Lost", "Cancelled")):
            continue
        depth = len(m.group(1))
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[m.group(2)] = stack[-1][1] if stack else "Exception"
        stack.append((depth, m.group(2)))
    return parents


def test_the_tree_at_the_top_is_the_tree_as_it_is() -> None:
    real = {
        name: cls.__bases__[0].__name__
        for name, cls in vars(errors).items()
        if isinstance(cls, type) and issubclass(cls, BaseException) and cls.__module__ == errors.__name__
    }
    assert drawn_tree() == real


# Raised inside a library's own machinery, so they must be that library's kind; each is turned
# into one of ours at the boundary (a located TemplateError problem).
INSIDE_A_LIBRARY = {
    "prompts/bounds.py: LimitError": "a jinja2 SecurityError, raised within the sandbox's rendering",
    "prompts/bounds.py: FileLimitError": "a LimitError: the file's budget, spent within the sandbox",
}


def test_no_module_outside_errors_defines_a_public_exception() -> None:
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "errors.py" and path.parent == PACKAGE:
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
                if any(b.endswith(("Error", "Exception", "Lost", "Cancelled")) for b in bases):
                    found.append(f"{path.relative_to(PACKAGE)}: {node.name}")
    assert [f for f in found if f not in INSIDE_A_LIBRARY] == []


def test_context_is_given_to_constructors() -> None:
    lost = ReplyLost("the answer was lost", cause="dropped", provider="kie", shot="a", status=500)
    assert (lost.cause, lost.provider, lost.shot, lost.status, str(lost)) == (
        "dropped",
        "kie",
        "a",
        500,
        "kie: shot 'a': the answer was lost",
    )
    assert DownloadError("gone", status=404).status == 404 and not DownloadError("x").fatal
    assert DownloadError("too big", fatal=True).fatal
    assert VerifyError("bad frames", decode_only=True).decode_only
    missing = TaskNotFound("no such task", task_ids=("t1",), found={"t2": "done"}, provider="kie")
    assert missing.task_ids == ("t1",) and missing.found == {"t2": "done"}
    assert isinstance(BareServerError("x"), errors.TransientError) and BareServerError("x").retryable
    assert Cancelled().exit_code == 130


def test_a_warning_says_so() -> None:
    assert Problem("seed ignored", "shots[0].seed", severity=Severity.WARNING).format() == (
        "warning: shots[0].seed: seed ignored"
    )
    assert Problem("bad").format() == "error: bad"


def test_a_long_source_line_is_shown_around_its_column() -> None:
    from storyboard.errors import EXCERPT, Location, Problem

    line = "prompt: " + "x" * 5000 + "BAD" + "y" * 200000
    loc = Location("f.yaml", 3, 5009, line)
    shown = Problem("shots[0].prompt", "here", loc).format().splitlines()
    excerpt, caret = shown[1], shown[2]
    assert len(excerpt) < EXCERPT + 12 and excerpt.startswith("  ...") and excerpt.endswith("...")
    assert excerpt[len(caret) - 1 : len(caret) + 2] == "BAD"  # the caret under the column
    short = Problem("p", "m", Location("f.yaml", 1, 3, "ab: c")).format().splitlines()
    assert short[1:] == ["  ab: c", "    ^"]
