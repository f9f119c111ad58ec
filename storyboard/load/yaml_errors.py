"""PyYAML's syntax errors, said as fixes: which key is misindented, where a `{` or a quote was
opened and never closed, that a tab is a tab.

PyYAML (libyaml, through the C loader) reports where its parser gave up, in its grammar's words
("did not find expected key", "mapping values are not allowed in this context"), often a line
after the mistake. We read the text around that point the way a person would: the
indentation of the lines above, the bracket or quote still open, the character at the mark.
Whatever we cannot explain keeps PyYAML's words, at its position.

Over 400 lines on purpose: one small rule per slip, tried in one order that is read in one
place (`_Explainer.explain`); the order matters, as a tab or a stray `]` explains the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from storyboard.errors import Location, Problem

TAB_SHOWN = "→"  # how a tab is drawn in the source line under a message (one column, like the caret)

_KEY = re.compile(
    r"^(?P<indent> *)(?P<dash>- +)?(?P<key>[^\s#:\-\[\]{}'\"][^#:]*?|'[^']*'|\"[^\"]*\"):(?:\s|$)"
)
_DASH = re.compile(r"^(?P<indent> *)- ")
_OPEN_QUOTE = re.compile(r"^(?P<key> *(?:- +)?[^\s#:'\"][^#:]*?):\s+(?P<quote>[\"'])(?P<rest>.*)$")
_BLOCK_SCALAR = re.compile(r":\s*[|>][-+0-9]*\s*(#.*)?$")
_JINJA_VALUE = re.compile(r"^(?P<head> *(?:- +)?[^\s#:]+:\s*)(?P<value>\{\{.*)$")


@dataclass(frozen=True)
class _Line:
    number: int  # 1-based
    text: str
    indent: int  # spaces before the content (a `- ` counts as content)
    key: str | None  # the key written on the line, if any
    key_column: int  # 0-based column of the key (after any `- `)
    dash: bool  # the line starts a list item


def _scan(text: str) -> list[_Line]:
    """The significant lines (no blanks, no comment-only lines, no block-scalar bodies)."""
    out: list[_Line] = []
    block: int | None = None  # after `key: |`: the key line's indentation
    body: int | None = None  # the block's own indentation, set by its first line
    for n, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        indent = len(raw) - len(raw.lstrip(" "))
        if block is not None and stripped:
            if body is None and indent > block:
                body = indent
            if body is not None and indent >= body:
                continue
            block = body = None
        if block is not None or not stripped or stripped.startswith("#"):
            continue
        m = _KEY.match(raw)
        dash = bool(_DASH.match(raw))
        key = m.group("key").strip().strip("'\"") if m else None
        key_column = m.start("key") if m else (len(raw) - len(raw.lstrip(" -")) if dash else indent)
        out.append(_Line(n, raw, indent, key, key_column, dash))
        if _BLOCK_SCALAR.search(raw.split(" #")[0]):
            block = indent if not dash else key_column
    return out


def _shown(line: str) -> str:
    return line.replace("\t", TAB_SHOWN)


_INDICATORS = {
    "an alias": ("*", "an alias (a reference to an `&anchor`)"),
    "an anchor": ("&", "an anchor (a name for `*` to refer to)"),
    "a tag": ("!", "a tag (a type such as !!str)"),
    "a block scalar": ("| or >", "a block of text on the lines below"),
    "a directive": ("%", "a directive"),
}  # what each libyaml context scans


class _Explainer:
    def __init__(self, error: yaml.MarkedYAMLError, text: str, path: Path) -> None:
        self.error = error
        self.text = text
        self.path = path
        self.lines = text.splitlines()
        self.problem_text = error.problem or ""
        self.context_text = error.context or ""
        mark = error.problem_mark or error.context_mark
        self.line, self.col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        cmark = error.context_mark
        self.context_at = (cmark.line + 1, cmark.column + 1) if cmark else None

    def source(self, line: int) -> str | None:
        return self.lines[line - 1] if 0 < line <= len(self.lines) else None

    def at(self, line: int, col: int, message: str, hint: str | None = None) -> Problem:
        src = self.source(line)
        return Problem(message, "", Location(str(self.path), line, col, _shown(src) if src else src), hint)

    def explain(self) -> Problem:
        for rule in (self.tab, self.stray_closer, self.indicator, self.stray_character, self.unclosed,
                     self.open_quote, self.jinja, self.dash_space, self.empty_item, self.colon_in_value,
                     self.list_on_key_line, self.no_colon, self.indentation, self.text_above,
                     self.alias, self.escape, self.documents):  # fmt: skip
            found = rule()
            if found is not None:
                return found
        what = " ".join(x for x in (self.context_text, self.problem_text) if x) or "invalid YAML"
        return self.at(self.line, self.col, f"this is not valid YAML: {what}")

    # the rules, each None when it does not apply -------------------------------------------
    def tab(self) -> Problem | None:
        """A tab where YAML wants spaces; libyaml says only "cannot start any token"."""
        candidates = [self.line] + ([self.context_at[0]] if self.context_at else [])
        for n in candidates:
            src = self.source(n) or ""
            lead = src[: len(src) - len(src.lstrip(" \t"))]
            at = n == self.line and 0 < self.col <= len(src) and src[self.col - 1] == "\t"
            if at or "\t" in lead:
                col = self.col if at else src.index("\t") + 1
                return self.at(
                    n,
                    col,
                    f"a tab character (shown as {TAB_SHOWN}): YAML indents with spaces only",
                    "replace the tab with spaces; most editors can insert spaces when Tab is pressed",
                )
        return None

    def stray_closer(self) -> Problem | None:
        """A `]` or `}` that closes nothing (at the error, or starting its line): left over
        from an edit."""
        here = self.source(self.line) or ""
        if 0 < self.col <= len(here) and here[self.col - 1] in "]}" and "flow" not in self.context_text:
            return self.at(self.line, self.col, f"a `{here[self.col - 1]}` that closes nothing", "remove it")
        for n in sorted({self.line, *([self.context_at[0]] if self.context_at else [])}):
            src = self.source(n) or ""
            body = src.lstrip(" ")
            if body[:1] in ("]", "}"):
                return self.at(n, len(src) - len(body) + 1, f"a `{body[0]}` that closes nothing", "remove it")
        return None

    def text_above(self) -> Problem | None:
        """A line of plain text before the error (a comment that lost its #): YAML read it as
        a value, and a key below it then has nowhere to go."""
        if not (
            "document start" in self.problem_text or "mapping values are not allowed" in self.problem_text
        ):
            return None
        for ln in _scan(self.text):
            if ln.number >= self.line:
                break
            if ln.key is None and not ln.dash and ln.indent == 0:
                return self.at(
                    ln.number,
                    1,
                    f"`{_short(ln.text.strip())}` is neither `key: value` nor a list item",
                    "a comment starts with #; text belongs after a key, e.g. title: My Film",
                )
        return None

    def indicator(self) -> Problem | None:
        """`*`, `&`, `!`, `|`, `>` or `%` where plain text was meant: YAML reads them as syntax."""
        for what, (char, meaning) in _INDICATORS.items():
            if f"while scanning {what}" in self.context_text:
                line, col = self.context_at or (self.line, self.col)
                src = self.source(line) or ""
                shown = src[col - 1] if 0 < col <= len(src) else char
                return self.at(
                    line,
                    col,
                    f"`{shown}` here starts {meaning} in YAML",
                    f"if it is part of the text, put the value in quotes, e.g. {_quoted_example(src, col)}",
                )
        return None

    def empty_item(self) -> Problem | None:
        """`[, 7]` or `[1, , 2]`: an item left empty inside brackets."""
        if "flow node did not find expected node content" not in f"{self.context_text} {self.problem_text}":
            return None
        return self.at(self.line, self.col, "an empty item in this list or map", "remove the extra `,`")

    def stray_character(self) -> Problem | None:
        if "cannot start any token" not in self.problem_text:
            return None
        src = self.source(self.line) or ""
        char = src[self.col - 1] if 0 < self.col <= len(src) else "?"
        return self.at(
            self.line,
            self.col,
            f"a plain YAML value cannot start with {char!r}: put the value in quotes",
            f"e.g. {_quoted_example(src, self.col)}",
        )

    def unclosed(self) -> Problem | None:
        """A `{`, `[` or quote opened and never closed: say so where it was opened."""
        if not self.context_at:
            return None
        line, col = self.context_at
        src = self.source(line) or ""
        opener = src[col - 1] if 0 < col <= len(src) else ""
        if "flow mapping" in self.context_text or "flow sequence" in self.context_text:
            closer = "}" if "mapping" in self.context_text else "]"
            opener = opener if opener in "{[" else ("{" if closer == "}" else "[")
            if src[col - 1 : col + 1] == "{{":
                return self.jinja(line)
            reached = f" (YAML reached line {self.line} still inside it)" if self.line != line else ""
            content = src.split(" #")[0].rstrip()
            fix = f"close it: `{content.strip()}{closer}`" if closer not in src[col:] else None
            return self.at(line, col, f"this `{opener}` is never closed{reached}", fix)
        if "quoted scalar" in self.context_text and "end of stream" in self.problem_text:
            quote = opener if opener in "'\"" else '"'
            return self.at(
                line,
                col,
                f"this {quote} is never closed: the text runs to the end of the file",
                f"add the closing {quote} where the text ends",
            )
        return None

    def open_quote(self) -> Problem | None:
        """A quote opened on an earlier line and not closed there: YAML read the lines after
        it as the same text, up to the next quote, and gave up further on (where it says a
        key is misindented). Said where the quote opened."""
        if not any(
            w in f"{self.context_text} {self.problem_text}"
            for w in (
                "mapping values are not allowed",
                "did not find expected key",
                "could not find expected",
            )
        ):
            return None
        for n in range(self.line - 1, 0, -1):
            src = self.source(n) or ""
            m = _OPEN_QUOTE.match(src)
            if m is None:
                continue
            quote, rest = m.group("quote"), m.group("rest")
            closed = re.search(r'(?<!\\)(?:\\\\)*"', rest) if quote == '"' else "'" in rest.replace("''", "")
            if closed:
                return None  # the nearest quote above closes on its line: not this slip
            between = [self.source(k) or "" for k in range(n + 1, self.line + 1)]
            if not any(_KEY.match(x) for x in between):
                return None  # a text that runs over lines, as YAML allows
            key = m.group("key").strip()
            return self.at(
                n,
                m.start("quote") + 1,
                f"this {quote} is never closed on its line: YAML reads the lines after it, up to "
                f"line {self.line}, as the same text",
                f"close the quote on line {n}: {key}: {quote}{_short(rest.rstrip(), 50)}{quote}",
            )
        return None

    def jinja(self, line: int | None = None) -> Problem | None:
        """`prompt: {{ place }} at dawn`: YAML reads `{` as the start of a map."""
        for n in [line] if line else sorted({self.line, *([self.context_at[0]] if self.context_at else [])}):
            src = self.source(n) or ""
            m = _JINJA_VALUE.match(src)
            if m:
                value = m.group("value").split(" #")[0].rstrip()
                return self.at(
                    n,
                    m.start("value") + 1,
                    "a value that starts with `{{` must be in quotes: unquoted, YAML reads `{` as "
                    "the start of a map",
                    f"write {m.group('head').strip()} {_dq(value)}",
                )
        return None

    def dash_space(self) -> Problem | None:
        """`-id: a`: without the space, `-id` is text, not a list item."""
        for n in (self.line, self.line - 1):
            m = re.match(r"^( *)-([^\s\-].*)$", self.source(n) or "")
            if m:
                return self.at(
                    n,
                    len(m.group(1)) + 1,
                    "a list item needs a space after its `-`",
                    f"write `{m.group(1)}- {m.group(2).strip()}`",
                )
        return None

    def colon_in_value(self) -> Problem | None:
        """`prompt: Wide shot: the sea` or a continued line holding `: `."""
        if "mapping values are not allowed" not in self.problem_text:
            return None
        src = self.source(self.line) or ""
        m = _KEY.match(src)
        if m and m.end("key") + 1 < self.col - 1:  # a key, then a value holding the colon
            key = m.group("key")
            value = src[m.end("key") + 1 :].split(" #")[0].strip()
            return self.at(
                self.line,
                self.col,
                f"the value of `{key}` holds `: `, which YAML reads as the start of a new key",
                f"put the value in quotes: {key}: {_dq(value)}",
            )
        # a line indented under a key that already has a value on its own line
        lines = _scan(self.text)
        here = next((ln for ln in lines if ln.number == self.line), None)
        above = [ln for ln in lines if ln.number < self.line]
        if here is None or not above:
            return None
        parent = next((ln for ln in reversed(above) if ln.indent < here.indent), None)
        if parent is None or parent.key is None:
            return None
        name = here.key or src.strip()
        return self.at(
            self.line,
            here.key_column + 1,
            f"`{name}` is indented under `{parent.key}` (line {parent.number}), which already "
            "has a value on its line",
            f"{_indent(f'`{name}`', parent.key_column)}, like `{parent.key}`; or, if this line continues "
            f"the value of `{parent.key}`, put the whole value in quotes",
        )

    def list_on_key_line(self) -> Problem | None:
        if "sequence entries are not allowed" not in self.problem_text:
            return None
        src = self.source(self.line) or ""
        m = _KEY.match(src)
        key = m.group("key") if m else "key"
        item = src[self.col - 1 :].lstrip("- ").split(" #")[0].strip()
        return self.at(
            self.line,
            self.col,
            f"a list cannot start on the line of its key `{key}`",
            f"put `- {item}` on the next line, indented under `{key}:`, or write `{key}: [{item}]`",
        )

    def no_colon(self) -> Problem | None:
        if "could not find expected ':'" not in self.problem_text or not self.context_at:
            return None
        line, col = self.context_at
        src = (self.source(line) or "").strip()
        return self.at(
            line,
            col,
            f"`{src}` is neither `key: value` nor a list item",
            "add `:` after the key; or, if it continues the value above, indent it under that key "
            "and put the value in quotes",
        )

    def indentation(self) -> Problem | None:
        """A key or item at an indentation that matches nothing above it."""
        words = ("did not find expected key", "did not find expected '-' indicator")
        if not any(w in self.problem_text for w in words):
            return None
        lines = _scan(self.text)
        here = next((ln for ln in lines if ln.number == self.line), None)
        if here is None:
            return None
        above = [ln for ln in lines if ln.number < here.number]
        # the open levels: walking up, each line less indented than everything below it
        keys: list[_Line] = []  # lines whose key column is a level a key may stand at
        items: list[_Line] = []  # lines whose dash column is a level an item may stand at
        floor = 10**9
        for ln in reversed(above):
            if ln.key_column < floor and ln.key is not None:
                keys.append(ln)
            if ln.dash and ln.indent < floor:
                items.append(ln)
            floor = min(floor, ln.indent)
            if floor == 0:
                break
        if here.key is None and not here.dash:  # text that is no key at all: not an indentation slip
            return self.at(
                here.number,
                here.indent + 1,
                f"`{_short(here.text.strip())}` is neither `key: value` nor a list item",
                "if it continues the value above, put that whole value in quotes; a comment starts with #",
            )
        name = f"`{here.key}`"
        if here.dash:
            same = [ln for ln in items if ln.indent != here.indent]
            if items and all(ln.indent != here.indent for ln in items):
                best = min(same, key=lambda ln: (abs(ln.indent - here.indent), -ln.indent))
                return self.at(
                    here.number,
                    here.indent + 1,
                    f"this list item is probably misindented: its `-` is {_spaces(here.indent)} in, "
                    f"but the item before it (line {best.number}) has its `-` at {best.indent}",
                    f"line up its `-` with the one on line {best.number}",
                )
            if keys and keys[0].key_column == here.indent:
                return self.at(
                    here.number,
                    here.indent + 1,
                    f"a list item among the keys of a map (`{keys[0].key}`, line {keys[0].number} is "
                    "a key at the same indentation)",
                    "give the item a key, or put it under a key that holds a list",
                )
            return None
        levels = [ln for ln in keys if ln.key_column != here.key_column]
        if not levels:
            return None
        best = min(levels, key=lambda ln: (abs(ln.key_column - here.key_column), -ln.key_column))
        return self.at(
            here.number,
            here.key_column + 1,
            f"{name} is probably misindented: it is {_spaces(here.key_column)} in, but "
            f"`{best.key}` (line {best.number}) is at {best.key_column}",
            f"{_indent(name, best.key_column)}, like `{best.key}`",
        )

    def alias(self) -> Problem | None:
        if "undefined alias" not in self.problem_text:
            return None
        src = self.source(self.line) or ""
        name = re.match(r"\*([^\s,\]}]+)", src[self.col - 1 :])
        shown = f"*{name.group(1)}" if name else "this alias"
        return self.at(
            self.line,
            self.col,
            f"`{shown}` refers to no anchor: define `&{shown[1:]}` on a value above it",
            "or, if the `*` is part of the text, put the value in quotes",
        )

    def escape(self) -> Problem | None:
        if "unknown escape character" not in self.problem_text:
            return None
        return self.at(
            self.line,
            self.col,
            "an unknown escape (`\\` and a letter) inside double quotes",
            "use single quotes, which keep `\\` as it is, or write `\\\\` for a backslash",
        )

    def documents(self) -> Problem | None:
        if "another document" not in self.problem_text:
            return None
        return self.at(
            self.line,
            self.col,
            "a second YAML document starts here (`---`): a storyboard is one document",
            "remove this line, or keep the second storyboard in its own file",
        )


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _spaces(n: int) -> str:
    return f"{n} space{'s' if n != 1 else ''}"


def _indent(name: str, spaces: int) -> str:
    return f"indent {name} by {_spaces(spaces)}" if spaces else f"move {name} to the start of its line"


def _dq(value: str) -> str:
    """`value` in double quotes, as YAML reads it back; a long one shortened (a hint shows
    how to quote, not the whole of a 200 KB line)."""
    if len(value) > 60:
        value = value[:28] + "..." + value[-28:]
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _quoted_example(src: str, col: int) -> str:
    m = _KEY.match(src)
    if m and m.end("key") < col:
        value = src[m.end("key") + 1 :].split(" #")[0].strip()
        return f"{m.group('key')}: {_dq(value)}"
    return _dq(src.strip())


def tab_problems(text: str, path: Path) -> list[Problem]:
    """A problem for each line indented with a tab, all in one pass (YAML stops at the first)."""
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        lead = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in lead and line.strip():
            out.append(
                Problem(
                    f"a tab character (shown as {TAB_SHOWN}): YAML indents with spaces only",
                    "",
                    Location(str(path), n, lead.index("\t") + 1, _shown(line)),
                    "replace the tab with spaces; most editors can insert spaces when Tab is pressed",
                )
            )
    return out


def sort_problems_by_place(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.location.line, p.location.column) if p.location else (0, 0))


def explain(error: yaml.MarkedYAMLError, text: str, path: Path) -> Problem:
    """One located Problem for a YAML syntax error, in words a fix can be read from."""
    explainer = _Explainer(error, text, path)
    try:
        return explainer.explain()
    except Exception:  # a reading we did not foresee: PyYAML's words, at its position
        what = " ".join(x for x in (error.context, error.problem) if x) or "invalid YAML"
        return explainer.at(explainer.line, explainer.col, f"this is not valid YAML: {what}")
