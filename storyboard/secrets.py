"""Redaction: the one place a secret is blotted out of text that came from anywhere.

Every text that comes from a service (an error body, a status reply, an exception's words)
passes `Redactor.redact` before it is cut, shortened, quoted, logged or stored. It removes the
whole key and any run of `PIECE` or more of its characters, so a reply cut in the middle of
an echoed key cannot leak most of it either. `redact_tree` does the same to every string of
a parsed JSON reply, keys included.

`one_line` makes a service's text inert as well: a line break in it is shown as `\\n`, so an
error body cannot print lines that look like ours ("2 of 2 shots made").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MARK = "[redacted]"
PIECE = 8  # a run of this many of a key's characters is redacted wherever it appears
SHORTEST = 4  # keys shorter than this are not secrets worth the name (and would hit everywhere)


class Redactor:
    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self.secrets = sorted({s for s in secrets if s and len(s) >= SHORTEST}, key=len, reverse=True)
        pieces = sorted(
            {s[i : i + PIECE] for s in self.secrets if len(s) >= PIECE for i in range(len(s) - PIECE + 1)}
        )
        # a lookahead finds every position where a piece starts, overlapping ones included
        self._pieces = re.compile("(?=(" + "|".join(map(re.escape, pieces)) + "))") if pieces else None

    def __bool__(self) -> bool:
        return bool(self.secrets)

    def __repr__(self) -> str:  # never the secrets
        return f"Redactor({len(self.secrets)} secret{'s' if len(self.secrets) != 1 else ''})"

    def redact(self, text: str) -> str:
        if not self.secrets or not text:
            return text
        for secret in self.secrets:
            text = text.replace(secret, MARK)
        if self._pieces is None or len(text) < PIECE:
            return text
        spans: list[list[int]] = []  # merged [start, end) runs made of pieces
        for m in self._pieces.finditer(text):
            start = m.start()
            if spans and start <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], start + PIECE)
            else:
                spans.append([start, start + PIECE])
        if not spans:
            return text
        out: list[str] = []
        at = 0
        for start, end in spans:
            out += [text[at:start], MARK]
            at = end
        out.append(text[at:])
        return "".join(out)

    def redact_tree(self, value: Any) -> Any:
        """A parsed JSON value with every string in it (keys too) redacted."""
        if not self.secrets:
            return value
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {self.redact_tree(k): self.redact_tree(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.redact_tree(v) for v in value]
        return value


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
