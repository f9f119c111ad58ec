"""What a text gives away of a key, after undoing every encoding a service may echo it in.

The measure tests hold redaction to, written apart from storyboard.secrets and built from the
standard library's own decoders where it has them (html.unescape, urllib's unquote, base64,
binascii): every text is decoded by each of them, and what they give by each again, a few
layers deep, and every 8-character run of the key is looked for in all of it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import html
import re
from collections.abc import Callable, Iterable
from urllib.parse import unquote, unquote_plus

RUN = 8
LAYERS = 4

_BACKSLASH = re.compile(
    r"\\u\{([0-9a-fA-F]{1,6})\}|\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})|\\x([0-9a-fA-F]{2})|\\\r?\n|\\([^\w\s])"
)
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))


def _backslashes(text: str) -> str:
    """JSON, JavaScript, Python and PHP escapes undone (`\\/`, `\\u002F`, `\\x2F`, `\\-`)."""

    def one(m: re.Match[str]) -> str:
        for group in m.groups()[:4]:
            if group is not None:
                code = int(group, 16)
                return chr(code) if code <= 0x10FFFF else ""
        return m.group(5) or ""

    return _BACKSLASH.sub(one, text)


def _base64(text: str) -> str:
    """Every run of base64 letters decoded, at each of the four alignments, one per line."""
    out = []
    for m in re.finditer(r"[A-Za-z0-9+/_-]{8,}", text):
        run = m.group().replace("-", "+").replace("_", "/")
        for shift in range(4):
            chunk = run[shift:]
            chunk = chunk[: len(chunk) - (len(chunk) % 4 == 1)]
            with contextlib.suppress(binascii.Error):
                out.append(base64.b64decode(chunk + "=" * (-len(chunk) % 4)).decode("latin-1"))
    for m in re.finditer(r"[0-9A-Fa-f]{8,}", text):
        for shift in range(2):
            run = m.group()[shift:]
            out.append(binascii.unhexlify(run[: len(run) // 2 * 2]).decode("latin-1"))
    return "\n".join(out)


UNESCAPES: tuple[Callable[[str], str], ...] = (
    html.unescape,
    unquote,
    unquote_plus,
    _backslashes,
    lambda text: text.translate(_INVISIBLE),
)


def readings(text: str) -> set[str]:
    """`text` and everything the unescapes make of it, LAYERS deep, and the base64 and hex in
    each of those (escaped base64 is echoed, `%2F` in it; base64 of escapes is not)."""
    seen = {text}
    frontier = {text}
    for _ in range(LAYERS):
        frontier = {d(t) for t in frontier for d in UNESCAPES} - seen
        seen |= frontier
        if not frontier:
            break
    return seen | {_base64(t) for t in seen}


def pieces(text: str, keys: Iterable[str]) -> list[str]:
    """The 8-character runs of any key found in any reading of `text` (none: it leaked nothing)."""
    found = []
    all_readings = readings(text)
    for key in keys:
        for i in range(len(key) - RUN + 1):
            piece = key[i : i + RUN]
            if any(piece in t for t in all_readings) and piece not in found:
                found.append(piece)
    return found
