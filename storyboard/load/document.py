"""Load a storyboard's YAML keeping the line and column of every key and value.

PyYAML's composer gives a node graph with marks; we build plain Python values from it
ourselves so that we can (1) record where each value came from, (2) refuse duplicate keys,
and (3) bound the work, so that a "billion laughs" alias bomb is an error, not a hang.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from storyboard.errors import Location, Problem, ValidationError, format_path
from storyboard.hints import did_you_mean
from storyboard.load import filekind
from storyboard.load.sniff import what_it_is

STORYBOARD_NAME = "storyboard.yaml"  # what `storyboard init` writes in its folder

MAX_FILE_BYTES = 1_000_000  # a storyboard is text; images and music live beside it
MAX_NODES = 100_000  # values built, counting each alias expansion

try:  # the C loader is 5-10x faster and keeps marks too
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - pure-Python PyYAML
    _Loader = yaml.SafeLoader

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class FileLocation(Location):
    """A file as a whole (missing, a folder, too big): there is no line or column to show."""

    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        return self.file


@dataclass
class Document:
    """A parsed YAML file: its data and where every part of it stands in the text."""

    path: Path
    text: str
    data: Any
    value_marks: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.path)

    @cached_property
    def lines(self) -> list[str]:
        """The text split into lines once: every location looks its line up here, so a file
        with 20,000 problems costs one split, not one per problem."""
        return self.text.splitlines()

    def source_line(self, line: int) -> str | None:
        lines = self.lines
        return lines[line - 1] if 0 < line <= len(lines) else None

    def location(self, path: PathKey | list[str | int], *, key: bool = False) -> Location:
        """Where `path` stands: its key (key=True) or its value; else its nearest parent."""
        p = tuple(path)
        while True:
            mark = (self.key_marks.get(p) if key else None) or self.value_marks.get(p)
            if mark is not None or not p:
                break
            p = p[:-1]
        line, col = mark or (1, 1)
        return Location(self.name, line, col, self.source_line(line))

    def problem(
        self,
        path: PathKey | list[str | int],
        message: str,
        *,
        key: bool = False,
        hint: str | None = None,
    ) -> Problem:
        return Problem(message, format_path(tuple(path)), self.location(path, key=key), hint)


class _Builder:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.problems: list[Problem] = []
        self.count = 0
        self.constructor = yaml.SafeLoader("")  # used only to convert scalars by tag

    def loc(self, node: yaml.Node) -> tuple[int, int]:
        return node.start_mark.line + 1, node.start_mark.column + 1

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooBig
        self.doc.value_marks.setdefault(path, self.loc(node))
        if isinstance(node, yaml.ScalarNode):
            try:
                return self.constructor.construct_object(node, deep=True)
            except Exception as e:  # PyYAML's converters raise anything on odd tagged input
                # (`!!int ''` is an IndexError): it is the user's value that is wrong
                line, col = self.loc(node)
                self.problems.append(
                    Problem(
                        f"cannot read this value as {node.tag.rsplit(':', 1)[-1]} ({e}); "
                        "remove the tag or quote the value",
                        format_path(path),
                        Location(self.doc.name, line, col, self.doc.source_line(line)),
                    )
                )
                return None
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            return self.build_mapping(node, path)
        return None  # pragma: no cover - no other node kinds exist

    def build_mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_seen: dict[str, int] = {}
        merges: list[yaml.Node] = []
        split: int | None = None  # the line where a list item's missing `- ` would start one
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merges.append(value_node)
                continue
            line, col = self.loc(key_node)
            if not isinstance(key_node, yaml.ScalarNode):
                text = self.doc.source_line(line) or ""
                jinja = text[col - 1 : col + 1] == "{{" or text[max(0, col - 2) : col] == "{{"
                self.problems.append(
                    Problem(
                        "a value that starts with `{{` must be in quotes: unquoted, YAML reads it "
                        "as a map inside a map"
                        if jinja
                        else "a key must be plain text, not a list or map",
                        format_path(path),
                        Location(self.doc.name, line, col, text),
                        'e.g. prompt: "{{ place }} at dawn"' if jinja else None,
                    )
                )
                continue
            key = str(key_node.value)
            if split is not None:
                continue  # the keys of the item whose `- ` is missing: said once, at its first
            if key in first_seen:
                if path and isinstance(path[-1], int) and key == next(iter(first_seen)):
                    # a list item's first key again: a new item whose `- ` is missing, not a
                    # duplicate to remove (removing one would delete the user's shot)
                    split = line
                    self.problems.append(_missing_dash(self.doc, path, key, line, col, first_seen[key]))
                    continue
                self.problems.append(
                    Problem(
                        f"duplicate key {key!r} (first given on line {first_seen[key]})",
                        format_path((*path, key)),
                        Location(self.doc.name, line, col, self.doc.source_line(line)),
                        "remove one of them: YAML would silently keep only the last",
                    )
                )
                continue
            first_seen[key] = line
            key_path = (*path, key)
            self.doc.key_marks[key_path] = (line, col)
            out[key] = self.build(value_node, key_path)
        for merge in merges:  # `<<: *defaults` fills keys not given explicitly
            sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
            for src in sources:
                if isinstance(src, yaml.MappingNode):
                    for k, v in self.build_mapping(src, path).items():
                        out.setdefault(k, v)
        return out


def _missing_dash(doc: Document, path: PathKey, key: str, line: int, col: int, first: int) -> Problem:
    """`id: b` below `- id: a`, at the item's indentation: a new item without its `- `."""
    text = doc.source_line(line) or ""
    dash_col = max(col - 3, 0)
    fix = f"{' ' * dash_col}- {text.strip()}"
    return Problem(
        f"a `- ` is missing before `{key}` here: it starts a new item of "
        f"{format_path(path[:-1]) or 'the list'}, but without its `- ` YAML reads it and the keys "
        f"after it as more of the item on line {first}",
        format_path((*path, key)),
        Location(doc.name, line, col, text),
        f"start the item with a dash: `{fix}`",
    )


class _TooBig(Exception):
    pass


def _file_problem(path: Path, message: str, line: int = 1, col: int = 1, text: str = "") -> Problem:
    lines = text.splitlines()
    src = lines[line - 1] if 0 < line <= len(lines) else None
    return Problem(message, "", Location(str(path), line, col, src))


def _storyboard_near(path: Path) -> str:
    """The hint for a file that is not a storyboard: the one beside it or a folder up."""
    for folder in (path.parent, path.parent.parent):
        found = sorted(folder.glob("*.y*ml")) if folder.is_dir() else []
        if len(found) == 1:
            return f"did you mean {found[0]}?"
    return "give the path of the storyboard's .yaml file"


def _whole_file(path: Path, message: str, hint: str | None = None) -> ValidationError:
    return ValidationError([Problem(message, "", FileLocation(str(path)), hint)])


def parse(text: str, path: Path) -> Document:
    """Parse YAML text; raise ValidationError with every problem found."""
    doc = Document(path=path, text=text, data=None)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        # lazy: start-up (only a file YAML refuses needs the explainer and its patterns)
        from storyboard.load.yaml_errors import explain, sort_problems_by_place, tab_problems

        said = explain(e, text, path)
        tabs = tab_problems(text, path)  # every tab at once: the parser stops at the first
        if said.location is not None and any(
            t.location and t.location.line == said.location.line for t in tabs
        ):
            raise ValidationError(tabs) from None
        raise ValidationError(sort_problems_by_place([*tabs, said]) if tabs else [said]) from None
    except yaml.YAMLError as e:
        raise ValidationError([_file_problem(path, f"this is not valid YAML: {e}")]) from None
    if node is None:
        raise ValidationError(
            [_file_problem(path, "the file is empty: start with `storyboard: 1`", text=text)]
        )
    builder = _Builder(doc)
    try:
        doc.data = builder.build(node, ())
    except _TooBig:
        raise ValidationError(
            [
                _file_problem(
                    path,
                    f"the document expands to more than {MAX_NODES} values "
                    "(aliases nested too deep?): a storyboard is far smaller",
                    text=text,
                )
            ]
        ) from None
    except RecursionError:
        raise ValidationError([_file_problem(path, "the document is nested too deeply", text=text)]) from None
    if builder.problems:
        raise ValidationError(builder.problems)
    return doc


def load(path: Path, text: str | None = None) -> Document:
    """Read and parse a storyboard file; every failure is a ValidationError with a location.
    `text`: the file's text as an editor holds it (unsaved), read instead of the file."""
    path = Path(path)
    if text is not None:
        if len(text) > MAX_FILE_BYTES:
            raise _whole_file(
                path, f"the text is over {MAX_FILE_BYTES / 1e6:.0f} MB; a storyboard is far smaller"
            )
        return _checked_text(text.removeprefix("\ufeff"), path)
    try:
        size = path.stat().st_size
        what = filekind.kind(path)
        if what == "a folder":
            raise _whole_file(path, "this is a folder, not a storyboard file", _in_folder(path))
        if what:  # a FIFO would block the read for ever; a device is no storyboard either
            raise _whole_file(path, f"this is {what}, not a storyboard file", "give the path of a .yaml file")
        if size > MAX_FILE_BYTES:
            raise _whole_file(
                path,
                f"the file is {size / 1e6:.1f} MB; a storyboard is at most "
                f"{MAX_FILE_BYTES / 1e6:.0f} MB of text (keep images and music in files beside it)",
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _whole_file(path, "no such file", _near(path)) from None
    except OSError as e:
        raise _whole_file(path, f"cannot read the file: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        held = what_it_is(raw[:16])
        if held.startswith("it holds a"):  # an image or a video given by mistake: say so
            raise _whole_file(path, f"this is not a storyboard: {held}", _storyboard_near(path)) from None
        before = raw[: e.start]
        line = before.count(b"\n") + 1
        col = e.start - (before.rfind(b"\n") + 1) + 1
        raise ValidationError(
            [
                _file_problem(
                    path,
                    f"the file is not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start}); "
                    "save it as UTF-8",
                    line,
                    col,
                )
            ]
        ) from None
    return _checked_text(text, path)


def _checked_text(text: str, path: Path) -> Document:
    if "\x00" in text:
        off = text.index("\x00")
        line = text.count("\n", 0, off) + 1
        col = off - (text.rfind("\n", 0, off) + 1) + 1
        raise ValidationError(
            [_file_problem(path, "the file holds binary data (a NUL byte), not YAML", line, col)]
        )
    return parse(text, path)


def _in_folder(folder: Path) -> str:
    """The storyboard the user probably meant, given its folder (the natural slip after init)."""
    inside = folder / STORYBOARD_NAME
    if inside.is_file():
        return f"did you mean {inside}?"
    try:
        found = sorted(p.name for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    except OSError:
        found = []
    if len(found) == 1:
        return f"did you mean {folder / found[0]}?"
    if found:
        return f"give one of the storyboards in it: {', '.join(found[:8])}"
    return f"give the storyboard file, e.g. {inside} (`storyboard init {folder}` makes one)"


def _near(path: Path) -> str | None:
    """A hint for a missing storyboard: a name close to it in its folder, or what init makes."""
    folder = path.parent
    try:
        names = [p.name for p in folder.iterdir() if p.suffix in (".yaml", ".yml")][:500]
    except OSError:
        return None
    hint = did_you_mean(path.name, names)
    if hint and str(folder) not in ("", "."):
        hint = hint.replace("'", f"'{folder}/", 1)
    return hint
