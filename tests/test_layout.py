"""The house: the package's imports, read from its source with `ast` (nothing is imported).

- no circle of files, and none of rooms: in every folder (the package included), its files
  and subfolders import each other one way only, so each stands on a floor above all it
  imports and no import runs back up;
- the domain model (board/) stands at the bottom, and validation above the providers;
- no folder reads as tests (RSpec's spec/, test/, tests/);
- an import inside a function says why it waits there (`# lazy: start-up`, or its reason);
- a module over 400 lines says at its top why it is long.

Imports under TYPE_CHECKING and inside functions are arrows too: a circle they hide is a
circle all the same.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "storyboard"
TEST_NAMES = {"spec", "specs", "test", "tests", "testing"}
# the domain model takes only the file as read (load) and the bottom mechanics
BOARD_MAY_IMPORT = {"board", "load", "errors", "money", "atomic", "hints"}


def modules(package: Path) -> dict[str, Path]:
    """Each module's dotted name -> its file (a package is its __init__.py)."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports(tree: ast.AST, known: Iterable[str]) -> set[str]:
    """The package's modules that `tree` imports anywhere in it (a name taken from a
    package is its submodule when there is one, else the package)."""
    names, out = set(known), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in names)
        elif isinstance(node, ast.ImportFrom) and node.module in names and not node.level:
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                out.add(sub if sub in names else node.module)
    return out


def graph(package: Path) -> dict[str, set[str]]:
    mods = modules(package)
    return {m: imports(ast.parse(p.read_text("utf-8")), mods) - {m} for m, p in mods.items()}


def circles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected parts of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(found)


def rooms(edges: Mapping[str, set[str]], folder: str) -> dict[str, set[str]]:
    """The arrows between the rooms of `folder` (its files and subfolders), from the files'
    imports; an arrow from or to the folder's own __init__ is the package's face, not drawn."""
    prefix = folder + "."

    def room(m: str) -> str | None:
        return m[len(prefix) :].split(".")[0] if m.startswith(prefix) else None

    out: dict[str, set[str]] = {}
    for m, targets in edges.items():
        a = room(m)
        if a is None:
            continue
        for t in targets:
            b = room(t)
            if b is not None and b != a:
                out.setdefault(a, set()).add(b)
    return out


EDGES = graph(PACKAGE)
FOLDERS = sorted(m for m, p in modules(PACKAGE).items() if p.name == "__init__.py")


def test_no_circle_of_files() -> None:
    assert circles(EDGES) == []


@pytest.mark.parametrize("folder", FOLDERS)
def test_no_import_runs_back_up(folder: str) -> None:
    # rooms that import each other one way only stand on floors: none imports a higher one
    assert circles(rooms(EDGES, folder)) == []


def test_the_domain_model_stands_at_the_bottom_and_validation_above_the_providers() -> None:
    house = rooms(EDGES, "storyboard")
    assert house.get("board", set()) <= BOARD_MAY_IMPORT
    for below in ("board", "load", "prompts", "media", "providers"):
        assert "validate" not in house.get(below, set()), below
    assert "providers" in house["validate"]


def test_no_folder_reads_as_tests() -> None:
    assert [p for p in PACKAGE.rglob("*") if p.is_dir() and p.name in TEST_NAMES] == []


def test_an_import_inside_a_function_says_why() -> None:
    unmarked = []
    for path in PACKAGE.rglob("*.py"):
        lines = path.read_text("utf-8").splitlines()
        for fn in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
                    above = first - 1  # a comment over a block of imports says it for them all
                    while lines[above].strip().startswith(("import ", "from ")):
                        above -= 1
                    said = "#" in lines[first] or "#" in lines[last] or lines[above].strip().startswith("#")
                    if not said:
                        unmarked.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert unmarked == []


def test_a_long_module_says_why_at_its_top() -> None:
    long = [p for p in PACKAGE.rglob("*.py") if len(p.read_text("utf-8").splitlines()) > 400]
    assert long  # the rule is read, not skipped: there are such modules
    silent = [
        str(p.relative_to(PACKAGE.parent))
        for p in long
        if "400 lines" not in (ast.get_docstring(ast.parse(p.read_text("utf-8"))) or "")
    ]
    assert silent == []


def test_a_circle_is_found() -> None:
    # the finder itself: a loop of three, and one of two inside a folder
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    edges = {"p.x.one": {"p.y"}, "p.y": {"p.x.two"}, "p.x.two": set()}
    assert circles(rooms(edges, "p")) == [["x", "y"]]
