"""What a storyboard's text names, and where: read line by line, so that it works on a file
that is half typed and does not parse (an editor asks for completion in the middle of a
word). The validator judges the file; this only finds names, the places they are defined
and what the text at a cursor is asking for.

    outline(text)            shots (with the lines they span), images, characters, vars
    context(text, line, col) what may be typed there: shot ids after `continues:`, images
                             and characters in `frames`/`references`, vars and characters
                             inside `{{ }}`, provider names after `provider:`, a take after
                             `select:`, options under `providers: {NAME: ...}`
    word_at(text, line, col) the name under the cursor, for hover and go-to-definition
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, replace

_TOP = re.compile(r"^([A-Za-z_][\w-]*)\s*:")
_KEY = re.compile(r"^(\s+)(?:-\s+)?(['\"]?)([^'\"\s:#{}\[\],][^'\"\s:#{}\[\],]*)\2\s*:")
_SHOT_ID = re.compile(r"^(\s*)(-\s+)?id\s*:\s*(['\"]?)([^'\"\s#]+)\3")
_ITEM = re.compile(r"^(\s*)-\s")
_NAME = re.compile(r"[\w-]+")


@dataclass(frozen=True)
class Name:
    """A name defined in the file: 0-based line and column of its first character."""

    name: str
    line: int
    column: int


@dataclass(frozen=True)
class ShotBlock:
    id: Name
    index: int  # 0-based, in the file's order
    first: int  # the lines of its list item (0-based, inclusive)
    last: int
    takes: int = 1


@dataclass
class Outline:
    shots: list[ShotBlock] = field(default_factory=list)
    images: list[Name] = field(default_factory=list)
    characters: list[Name] = field(default_factory=list)
    vars: list[Name] = field(default_factory=list)
    providers: list[Name] = field(default_factory=list)  # keys of `providers:`

    def shot_at(self, line: int) -> ShotBlock | None:
        return next((s for s in self.shots if s.first <= line <= s.last), None)

    def find(self, kind: str, name: str) -> Name | None:
        group: list[Name] = [s.id for s in self.shots] if kind == "shots" else getattr(self, kind)
        return next((n for n in group if n.name == name), None)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _blank(line: str) -> bool:
    s = line.strip()
    return not s or s.startswith("#")


def outline(text: str) -> Outline:
    out = Outline()
    lines = text.splitlines()
    top: str | None = None
    child_indent: int | None = None
    item_indent: int | None = None
    for n, line in enumerate(lines):
        if _blank(line):
            continue
        m = _TOP.match(line)
        if m:
            top, child_indent, item_indent = m[1], None, None
            continue
        if top is None:
            continue
        indent = _indent(line)
        if top == "shots":
            item = _ITEM.match(line)
            if item and (item_indent is None or len(item[1]) <= item_indent):
                item_indent = len(item[1])
                out.shots.append(ShotBlock(Name("", n, 0), len(out.shots), n, n))
            if not out.shots:
                continue
            shot = out.shots[-1]
            sid = _SHOT_ID.match(line)
            takes = re.match(r"^\s*(?:-\s+)?takes\s*:\s*(\d+)", line)
            name, count = shot.id, shot.takes
            if sid and not name.name and indent <= (item_indent or 0) + 2:
                name = Name(sid[4], n, sid.start(4))
            if takes:
                count = max(1, int(takes[1]))
            out.shots[-1] = replace(shot, id=name, last=n, takes=count)
            continue
        if top in ("images", "characters", "vars", "providers"):
            key = _KEY.match(line)
            if key is None:
                continue
            if child_indent is None:
                child_indent = len(key[1])
            if len(key[1]) == child_indent:
                getattr(out, top).append(Name(key[3], n, line.index(key[3], len(key[1]))))
    # a list item's lines run to the next item (blank lines and comments after it are its)
    for k, shot in enumerate(out.shots[:-1]):
        out.shots[k] = replace(shot, last=out.shots[k + 1].first - 1)
    if out.shots:
        last = out.shots[-1]
        end = last.last
        for n in range(last.last + 1, len(lines)):
            if _TOP.match(lines[n]):
                break
            end = n
        out.shots[-1] = replace(last, last=end)
    return out


class Want(enum.Enum):
    """What the text at a cursor asks for."""

    SHOT = "shot"  # a shot id (continues:)
    ASSET = "asset"  # an image or a character (frames, references)
    TEMPLATE = "template"  # a var, or `characters`, inside {{ }}
    CHARACTER = "character"  # after `characters.` inside {{ }}
    PROVIDER = "provider"  # after provider:, or a key of providers:
    OPTION = "option"  # a key under providers: {NAME: ...}
    TAKE = "take"  # after select:


@dataclass(frozen=True)
class Context:
    want: Want
    prefix: str  # what is typed of the name so far
    shot: ShotBlock | None = None  # the shot the cursor is in
    provider: str | None = None  # for Want.OPTION


def _enclosing_key(lines: list[str], line: int, indent: int) -> tuple[str, int] | None:
    """The key of the block a line at `indent` sits in: the nearest line above with less indent."""
    for n in range(line - 1, -1, -1):
        text = lines[n]
        if _blank(text):
            continue
        i = _indent(text)
        stripped = text.strip()
        if i < indent or (stripped.startswith("- ") and i + 2 <= indent and i < indent):
            m = re.match(r"^\s*(?:-\s+)?([\w-]+)\s*:", text)
            return (m[1], i) if m else None
    return None


def context(text: str, line: int, column: int) -> Context | None:
    """What may be typed at 0-based `line`, `column`; None: nothing this module knows."""
    lines = text.splitlines()
    if line >= len(lines):
        lines += [""] * (line - len(lines) + 1)
    before = lines[line][:column]
    word = re.search(r"[\w.-]*$", before)
    prefix = word[0] if word else ""
    found = outline(text)
    shot = found.shot_at(line)
    braces = before.rfind("{{")
    if braces > before.rfind("}}"):
        inside = before[braces + 2 :]
        m = re.search(r"characters\.([\w-]*)$", inside)
        if m:
            return Context(Want.CHARACTER, m[1], shot)
        return Context(Want.TEMPLATE, re.search(r"[\w-]*$", inside)[0], shot)  # type: ignore[index]
    if re.search(r"(?:^|[\s{,])continues\s*:\s*['\"]?[\w.-]*$", before):
        return Context(Want.SHOT, prefix, shot)
    if re.search(r"(?:^|[\s{,])select\s*:\s*\d*$", before):
        return Context(Want.TAKE, prefix, shot)
    if re.match(r"^\s*provider\s*:\s*['\"]?[\w-]*$", before) or re.search(
        r"(?:^|[\s{,])provider\s*:\s*\[[^\]]*$", before
    ):
        return Context(Want.PROVIDER, prefix, shot)
    if re.search(r"(?:^|[\s{,])(?:first|last)\s*:\s*['\"]?[\w.-]*$", before) or re.search(
        r"(?:^|[\s{,])references\s*:\s*\[[^\]]*$", before
    ):
        return Context(Want.ASSET, prefix, shot)
    stripped = before.strip()
    indent = _indent(lines[line]) if stripped else len(before)
    parent = _enclosing_key(lines, line, indent)
    if parent is not None and re.fullmatch(r"(?:-\s+)?['\"]?[\w.-]*", stripped):
        key, key_indent = parent
        if key == "references" and (stripped.startswith("-") or not stripped):
            return Context(Want.ASSET, prefix, shot)
        if key == "providers" and key_indent == 0:
            return Context(Want.PROVIDER, prefix, shot)
        grand = _enclosing_key(lines, line, key_indent) if key_indent > 0 else None
        if grand is not None and grand[0] == "providers" and grand[1] == 0:
            return Context(Want.OPTION, prefix, shot, provider=key)
    return None


def word_at(text: str, line: int, column: int) -> str | None:
    lines = text.splitlines()
    if line >= len(lines):
        return None
    for m in _NAME.finditer(lines[line]):
        if m.start() <= column <= m.end():
            return m[0]
    return None
