"""Redaction: the one place a secret is blotted out of text that came from anywhere.

Every text that comes from a service (an error body, a status reply, an exception's words)
passes `Redactor.redact` before it is cut, shortened, quoted, logged or stored. It removes the
whole key and any run of `PIECE` or more of its characters, so a reply cut in the middle of
an echoed key cannot leak most of it either.
"""

from __future__ import annotations

from collections.abc import Iterable

MARK = "[redacted]"
PIECE = 8  # a run of this many of a key's characters is redacted wherever it appears
SHORTEST = 4  # keys shorter than this are not secrets worth the name (and would hit everywhere)


class Redactor:
    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self.secrets = sorted({s for s in secrets if s and len(s) >= SHORTEST}, key=len, reverse=True)
        self._pieces = {
            s[i : i + PIECE] for s in self.secrets if len(s) >= PIECE for i in range(len(s) - PIECE + 1)
        }

    def __bool__(self) -> bool:
        return bool(self.secrets)

    def redact(self, text: str) -> str:
        if not self.secrets or not text:
            return text
        for secret in self.secrets:
            text = text.replace(secret, MARK)
        if not self._pieces or len(text) < PIECE:
            return text
        hidden = [False] * len(text)
        for i in range(len(text) - PIECE + 1):
            if text[i : i + PIECE] in self._pieces:
                for j in range(i, i + PIECE):
                    hidden[j] = True
        if not any(hidden):
            return text
        out: list[str] = []
        i = 0
        while i < len(text):
            if hidden[i]:
                while i < len(text) and hidden[i]:
                    i += 1
                out.append(MARK)
            else:
                out.append(text[i])
                i += 1
        return "".join(out)


def redact(text: str, secrets: Iterable[str | None]) -> str:
    return Redactor(secrets).redact(text)
