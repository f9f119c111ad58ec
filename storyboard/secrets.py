"""Redaction: the one place a secret is blotted out of text that came from anywhere.

Every text that comes from a service (an error body, a status reply, an exception's words)
passes `Redactor.redact` before it is cut, shortened, quoted, logged or stored. It removes the
whole key and any run of `PIECE` or more of its characters (a shorter key: the whole key), so
a reply cut in the middle of an echoed key cannot leak most of it either. `redact_tree` does
the same to every string of a parsed JSON reply, keys included.

A service may echo the key in another form than it was sent, and the run is found in each:
- escaped: JSON and PHP (`\\/`, `\\uXXXX` of any character), `\\xXX`, `\\u{X}`, `\\U`, any
  punctuation after a backslash, a line continuation;
- percent-encoded, either case (UTF-8 sequences too, `%uXXXX`, `+` for a space);
- HTML entities: named, decimal and hex, with or without the `;`;
- base64 (standard or URL-safe, at any alignment: `Basic` of `user:KEY`, of `Bearer KEY`, of
  the key itself) and hex;
- any mixture of these, some characters escaped and others not, and nested (`%255C%252F`,
  `&amp;#x2F;`, JSON inside JSON), up to `DEPTH` layers; zero-width characters are skipped.

It works by decoding, not by listing encoded variants: each layer decodes the text once,
every escape it knows at a time, keeping for each decoded character the span of the original
text it came from (`_View`). A run of the key found in any layer blots out the original span,
whole escapes included, so no cut can leave half an escape of it. Where escapes of different
kinds overlap (a backslash before an entity, `%` before digits a `\\u` escape ends), a layer
also reads the text each other way, and follows at most `READINGS` of them further. Each
reading is one pass over the text, and there are at most `DEPTH` layers (fewer when one finds
no escape): the work grows with the text, not with the number of forms.

`one_line` makes a service's text inert as well: a line break in it is shown as `\\n`, so an
error body cannot print lines that look like ours ("2 of 2 shots made").
"""

from __future__ import annotations

import binascii
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

MARK = "[redacted]"
PIECE = 8  # a run of this many of a key's characters is redacted wherever it appears
SHORTEST = 4  # keys shorter than this are not secrets worth the name (and would hit everywhere)
DEPTH = 4  # layers of escaping undone (`&amp;#x25;2F`: three)

# Escapes of three kinds, and zero-width spaces. A layer decodes all of them in one pass (a
# mixture: `%2F` beside `&#x2F;`); each named group is one kind, which `_decode` undoes.
_BACKSLASH = r"""
    \\(?:
        u\{(?P<jsu>[0-9A-Fa-f]{1,6})\}           # JavaScript \u{1F600}
      | u(?P<u4>[0-9A-Fa-f]{4})                  # JSON, JavaScript, Java: \u002F
      | U(?P<u8>[0-9A-Fa-f]{8})                  # Python \U0000002F
      | x(?P<x2>[0-9A-Fa-f]{2})                  # \x2F
      | (?P<cont>\r\n|\r|\n)                     # a line continuation: nothing
      | KEEP(?P<punct>[^0-9A-Za-z\s])            # \/ (PHP, JSON), \\, \", \- (regex quoting)
    )"""
_PERCENT = r"""
    %(?:
        u(?P<pu>[0-9A-Fa-f]{4})                  # JavaScript escape(): %u002F
      | (?P<pct>[0-9A-Fa-f]{2}(?:%[0-9A-Fa-f]{2})*)  # %2F, a UTF-8 sequence as one
    )"""
# an entity without its `;` before a percent or backslash escape (or a zero-width space) is read
# in a later layer, once that is undone (`&#4%38\;` is `&#48;`, not `&#4`)
_ENTITY = r"""
    &(?:
        \#[xX](?P<hex>[0-9A-Fa-f]{1,8})(?![0-9A-Fa-f])NOSEMI      # &#x2F; &#x2F
      | \#(?P<dec>[0-9]{1,10})(?![0-9])NOSEMI                     # &#47;
      | (?P<named>[A-Za-z][A-Za-z0-9]{1,31}(?![A-Za-z0-9])NOSEMI)  # &sol; &amp
    )""".replace("NOSEMI", r"(?:;|(?![%\\\u00ad\u200b-\u200d\u2060\ufeff]))")
_INVISIBLES = r"(?P<invisible>[\u00ad\u200b-\u200d\u2060\ufeff])"  # splitting the key, or an escape
# A backslash before another escape or a zero-width space (`\&#47;`) reads two ways: it escapes
# the `&`, or it is a backslash and the entity is one; a layer reads it both ways where it
# occurs. And where kinds overlap otherwise (`%` before `00\u0030`: `%00`, or a `%` and a key?),
# a layer reads each kind alone as well. READINGS bounds how many readings go a layer further.
_BEFORE = r"&[\#A-Za-z]|%[0-9A-Fa-f]{2}|%u|[\u00ad\u200b-\u200d\u2060\ufeff]"
_KEEP = f"(?!{_BEFORE})"


def _pattern(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(parts), re.VERBOSE)


class _Escapes:
    """The escape patterns, compiled when a first text is redacted rather than at import: they
    took 4 ms of every start (--help imports this module with the providers)."""

    def __init__(self) -> None:
        self.escape = _pattern(_BACKSLASH.replace("KEEP", _KEEP), _PERCENT, _ENTITY, _INVISIBLES)
        self.also = _pattern(_BACKSLASH.replace("KEEP", ""), _PERCENT, _ENTITY, _INVISIBLES)
        self.two_ways = re.compile(rf"\\(?:{_BEFORE})")
        self.kinds = tuple(
            _pattern(p) for p in (_BACKSLASH.replace("KEEP", ""), _PERCENT, _ENTITY, _INVISIBLES)
        )
        self.invisible = self.kinds[-1]


@cache
def _escapes() -> _Escapes:
    return _Escapes()


READINGS = 8  # at most this many readings of a text are followed a layer further
_URLSAFE = str.maketrans("-_", "+/")


@cache
def _entities() -> dict[str, str]:
    from html.entities import html5  # lazy: start-up

    return html5


def _fold(text: str) -> str:
    """What matching compares: a space and a `+` are one (a form's encoding of a space), so a
    key is found whichever it was. Keeps every character's position."""
    return text.replace(" ", "+")


def _char(code: int) -> str | None:
    return chr(code) if 0 < code <= 0x10FFFF else None


def _decode(m: re.Match[str]) -> Iterator[tuple[str, int, int]]:
    """The characters an escape stands for, each with its span in the text: (char, start, end).
    Nothing for an escape that is not one (an unknown entity): it stays as it is."""
    kind = m.lastgroup
    value = m.group(kind) if kind else ""
    start, end = m.span()
    if kind in ("jsu", "u4", "u8", "x2", "pu", "hex", "dec"):
        c = _char(int(value, 10 if kind == "dec" else 16))
        if c is not None:
            yield c, start, end
    elif kind == "cont" or kind == "invisible":
        yield "", start, end
    elif kind == "punct":
        yield value, start, end
    elif kind == "pct":
        yield from _percent(value, start)
    elif kind == "named":
        c = _entities().get(value) or _entities().get(value.rstrip(";"))
        if c is not None and (value.endswith(";") or value in _entities()):
            yield c, start, end


def _percent(value: str, start: int) -> Iterator[tuple[str, int, int]]:
    """%XX%XX...: UTF-8, a character for each sequence of one to four bytes. A byte that is not
    part of one stays as it is written (`%E2` alone): a later layer may find the rest of its
    sequence (`%E2&#x25;80%8B`), and no key has such a character anyway."""
    data = bytes(int(value[i : i + 2], 16) for i in range(0, len(value), 3))
    i = 0
    while i < len(data):
        b = data[i]
        size = 1 if b < 0xC0 else 2 if b < 0xE0 else 3 if b < 0xF0 else 4
        try:
            c = data[i : i + size].decode("utf-8")
        except UnicodeDecodeError:
            c, size = f"%{value[3 * i : 3 * i + 2]}", 1
        yield c, start + 3 * i, start + 3 * (i + size)  # each byte is 3 letters: %XX
        i += size


class _View:
    """One layer of decoding: `text` decoded, and where each of its characters came from.

    `segments` are (start in `text`, start in the layer below, end in the layer below, literal):
    a literal segment maps character for character, an escape's characters all map to its span.
    """

    def __init__(self, text: str, below: _View | None = None) -> None:
        self.text = text
        self.below = below
        self.starts: list[int] = []
        self.segments: list[tuple[int, int, bool]] = []

    @classmethod
    def decoded(
        cls, below_text: str, below: _View | None, escape: re.Pattern[str] | None = None
    ) -> _View | None:
        """The next layer of `below_text`, or None when it has no escape to undo."""
        escapes = _escapes()
        escape = escapes.escape if escape is None else escape
        view = cls("", below)
        out: list[str] = []
        at = 0  # in below_text
        size = 0  # of the decoded text so far
        for m in escape.finditer(below_text):
            chars = list(_decode(m))
            if not chars:
                continue
            if m.start() > at:
                view._add(size, at, m.start(), literal=True)
                out.append(below_text[at : m.start()])
                size += m.start() - at
            for c, s, e in chars:
                if c and not escapes.invisible.fullmatch(c):  # one decoded (`&#x200B;`) splits nothing
                    view._add(size, s, e, literal=False)
                    out.append(c)
                    size += len(c)
            at = m.end()
        if not view.segments and at == 0:
            return None
        if at < len(below_text):
            view._add(size, at, len(below_text), literal=True)
            out.append(below_text[at:])
        view.text = "".join(out)
        return view

    def _add(self, start: int, below_start: int, below_end: int, literal: bool) -> None:
        self.starts.append(start)
        self.segments.append((below_start, below_end, literal))

    def origin(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that `text[start:end]` was decoded from."""
        i = bisect_right(self.starts, start) - 1
        lo, hi, literal = self.segments[i]
        first = lo + (start - self.starts[i]) if literal else lo
        j = bisect_right(self.starts, end - 1) - 1
        lo, hi, literal = self.segments[j]
        last = lo + (end - 1 - self.starts[j]) + 1 if literal else hi
        return self.below.origin(first, last) if self.below is not None else (first, last)


class Redactor:
    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self.secrets = sorted({s for s in secrets if s and len(s) >= SHORTEST}, key=len, reverse=True)
        pieces: set[str] = set()
        for secret in self.secrets:
            # the key as text, and as the bytes base64 or hex carries (its UTF-8, byte by byte)
            for form in {secret, secret.encode("utf-8", "replace").decode("latin-1")}:
                form = _fold(form)
                n = min(PIECE, len(form))
                pieces.update(form[i : i + n] for i in range(len(form) - n + 1))
        # a lookahead finds every position where a piece starts, overlapping ones included
        alternatives = "|".join(map(re.escape, sorted(pieces, key=lambda p: (-len(p), p))))
        self._pieces = re.compile(f"(?=({alternatives}))") if pieces else None
        # the shortest base64 and hex that can carry a piece (standard and URL-safe letters; a
        # `=` ends a run)
        least = min(map(len, pieces), default=PIECE)
        self._base64 = re.compile(f"[A-Za-z0-9+/_-]{{{-(-4 * least // 3)},}}")
        self._hex = re.compile(f"[0-9A-Fa-f]{{{2 * least},}}")

    def __bool__(self) -> bool:
        return bool(self.secrets)

    def __repr__(self) -> str:  # never the secrets
        return f"Redactor({len(self.secrets)} secret{'s' if len(self.secrets) != 1 else ''})"

    def redact(self, text: str) -> str:
        if self._pieces is None or not text or len(text) < SHORTEST:
            return text
        return _blot(text, self.spans(text))

    def spans(self, text: str) -> list[tuple[int, int]]:
        """The spans of `text` that are (some encoding of) a run of a key, merged, in order."""
        found: list[tuple[int, int]] = []
        # (text, its view, main): the main reading decodes every kind at once at every layer;
        # the other ways branch off it, and go on decoding every kind at once
        readings: list[tuple[str, _View | None, bool]] = [(text, None, True)]
        seen = {text}
        for depth in range(DEPTH + 1):
            deeper: list[tuple[str, _View | None, bool]] = []
            for layer, view, main in readings:
                found += self._runs(layer, view)
                found += self._encoded(layer, view)
                if depth == DEPTH:
                    continue
                escapes = _escapes()
                ways = [escapes.escape]
                if main:
                    if escapes.two_ways.search(layer):
                        ways.append(escapes.also)
                    kinds = [kind for kind in escapes.kinds if kind.search(layer)]
                    if len(kinds) > 1:
                        ways += kinds
                for way, escape in enumerate(ways):
                    below = _View.decoded(layer, view, escape)
                    if below is not None and below.text not in seen:
                        seen.add(below.text)
                        deeper.append((below.text, below, main and way == 0))
            readings = deeper[:READINGS]
        return _merge(found)

    def _runs(self, text: str, view: _View | None) -> Iterator[tuple[int, int]]:
        """The runs of a key in one layer's `text`, as spans of the original."""
        for start, end in self._found(text):
            yield view.origin(start, end) if view is not None else (start, end)

    def _found(self, text: str) -> list[tuple[int, int]]:
        """Where pieces of a key stand in `text`, overlapping ones merged into one run (so a
        run is mapped back through the layers once, not once a piece)."""
        assert self._pieces is not None
        runs: list[tuple[int, int]] = []
        for m in self._pieces.finditer(_fold(text)):
            start, end = m.span(1)
            if runs and start <= runs[-1][1]:
                runs[-1] = (runs[-1][0], max(end, runs[-1][1]))
            else:
                runs.append((start, end))
        return runs

    def _encoded(self, text: str, view: _View | None) -> Iterator[tuple[int, int]]:
        """Runs of a key inside base64 or hex in one layer, as spans of the original: each run
        of their letters is decoded at every alignment (it may start mid-quantum). All that is
        decoded is searched at once, a NUL between (no key holds one)."""
        assert self._pieces is not None
        decoded: list[str] = []
        places: list[tuple[int, int, int, int, int]] = []  # (at in joined, at, until, bytes, letters)
        size = 0

        def add(data: bytes, at: int, until: int, group: int, width: int) -> None:
            nonlocal size
            places.append((size, at, until, group, width))
            decoded.append(data.decode("latin-1"))
            size += len(data) + 1

        for m in self._base64.finditer(text):
            run = m.group().translate(_URLSAFE)
            for shift in range(4):
                chunk = run[shift:]
                if len(chunk) % 4 == 1:  # a lone letter is no byte
                    chunk = chunk[:-1]
                add(binascii.a2b_base64(chunk + "=" * (-len(chunk) % 4)), m.start() + shift, m.end(), 3, 4)
        for m in self._hex.finditer(text):
            run = m.group()
            for shift in range(2):
                usable = (len(run) - shift) // 2 * 2
                add(bytes.fromhex(run[shift : shift + usable]), m.start() + shift, m.end(), 1, 2)
        if not places:
            return
        offsets = [p[0] for p in places]
        for start, end in self._found("\0".join(decoded)):  # no run spans a NUL
            joined, at, until, group, width = places[bisect_right(offsets, start) - 1]
            start, end = start - joined, end - joined
            first = at + start // group * width
            last = min(until, at + (end - 1) // group * width + width)
            yield view.origin(first, last) if view is not None else (first, last)

    def redact_tree(self, value: Any) -> Any:
        """A parsed JSON value with every string in it (keys too) redacted."""
        if not self.secrets:
            return value
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {self.redact_tree(k): self.redact_tree(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.redact_tree(v) for v in value]
        return value


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping and touching spans as one (one mark for a key however it was found)."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def _blot(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    out: list[str] = []
    at = 0
    for start, end in spans:
        out += [text[at:start], MARK]
        at = end
    out.append(text[at:])
    return "".join(out)


_BREAKS = re.compile("\r\n|[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def one_line(value: Any) -> Any:
    """A service's text (or every string of a parsed reply) with its line breaks as escapes."""
    if isinstance(value, str):
        return _BREAKS.sub(lambda m: repr(m.group())[1:-1], value)
    if isinstance(value, dict):
        return {one_line(k): one_line(v) for k, v in value.items()}
    if isinstance(value, list):
        return [one_line(v) for v in value]
    return value


def redact(text: str, secrets: Iterable[str | None]) -> str:
    return Redactor(secrets).redact(text)
