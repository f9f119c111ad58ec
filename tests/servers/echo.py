"""The forms in which a careless service or proxy echoes a request's key back.

`FORMS` maps a name to a function of the echoed text (a header's value: "Bearer KEY"). Each is
what some real software writes: PHP's `json_encode` escapes `/` as `\\/`, a Java or JavaScript
encoder writes `\\uXXXX`, a URL encoder writes `%2F` (some in lower case, forms a space as
`+`), an HTML template writes entities, a proxy logs the header in base64 (or an `Authorization:
Basic` value carries it), and a page may escape some characters and not others. The test
server's `echo` fault takes `form=<name>`; tests use the same table to echo keys in reasons.
"""

from __future__ import annotations

import base64
import html
import json
import random
import re
from collections.abc import Callable
from html.entities import html5
from urllib.parse import quote, quote_plus

# a character's shortest named entity, where HTML5 has one (`/` &sol;, `+` &plus;, `=` &equals;)
_NAMED = {
    v: k for k, v in sorted(html5.items(), key=lambda kv: -len(kv[0])) if len(v) == 1 and k.endswith(";")
}


def php(text: str) -> str:
    """PHP's json_encode: a JSON string with `/` escaped (the quotes stripped)."""
    return json.dumps(text).replace("/", "\\/")[1:-1]


def unicode_escapes(text: str) -> str:
    return "".join(f"\\u{ord(c):04x}" for c in text)


def percent(text: str) -> str:
    return quote(text, safe="")


def percent_lower(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), quote(text, safe=""))


def percent_all(text: str) -> str:
    """Every character percent-encoded, letters too (some encoders do)."""
    return "".join(f"%{b:02X}" for b in text.encode())


def form_encoded(text: str) -> str:
    """application/x-www-form-urlencoded: `+` for a space."""
    return quote_plus(text)


def html_named(text: str) -> str:
    """Named entities for every character that has one (letters and digits stay)."""
    return "".join(f"&{_NAMED[c]}" if c in _NAMED and not c.isalnum() else c for c in text)


def html_decimal(text: str) -> str:
    return "".join(f"&#{ord(c)};" for c in text)


def html_hex(text: str) -> str:
    """html.escape, and `/` as `&#x2F;` (OWASP's advice) and the rest in hex, no `;` on some."""
    return "".join(f"&#x{ord(c):X}" + (";" if i % 3 else "") for i, c in enumerate(html.escape(text)))


def html_slash(text: str) -> str:
    """Only `/` as `&#x2F;`: the rest literal (the issue's example)."""
    return html.escape(text).replace("/", "&#x2F;")


def base64_value(text: str) -> str:
    """The header's whole value in base64 (a proxy logging it encoded)."""
    return base64.b64encode(text.encode()).decode()


def _scheme_and_key(text: str) -> tuple[str, str]:
    """("Bearer ", KEY) of `Bearer KEY`; ("", KEY) of a header that is the key alone."""
    scheme, space, key = text.partition(" ")
    return (f"{scheme} ", key) if space else ("", text)


def base64_key(text: str) -> str:
    """`Bearer ` and the key in base64, URL-safe and without padding."""
    scheme, key = _scheme_and_key(text)
    return scheme + base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def basic(text: str) -> str:
    """As an `Authorization: Basic` value: base64 of user:KEY."""
    key = _scheme_and_key(text)[1]
    return "Basic " + base64.b64encode(f"user:{key}".encode()).decode()


def mixed(text: str) -> str:
    """Some characters escaped, each its own way, the others literal (seeded by the text)."""
    rng = random.Random(text)
    ways: list[Callable[[str], str]] = [
        lambda c: c,
        lambda c: c,
        lambda c: f"\\u{ord(c):04X}",
        lambda c: quote(c, safe=""),
        percent_lower,
        lambda c: f"&#{ord(c)};",
        lambda c: f"&#x{ord(c):x};",
        lambda c: f"\\{c}" if not c.isalnum() else c,
    ]
    return "".join(rng.choice(ways)(c) for c in text)


def nested(text: str) -> str:
    """Escaped twice over: PHP's JSON, then percent-encoded, then as HTML (`%5C%2F` ...)."""
    return html.escape(percent(php(text)))


def zero_width(text: str) -> str:
    """A zero-width space after every fifth character: no run of 8 is literal."""
    return "".join(c + ("\u200b" if i % 5 == 4 else "") for i, c in enumerate(text))


FORMS: dict[str, Callable[[str], str]] = {
    "raw": lambda text: text,
    "php": php,
    "unicode": unicode_escapes,
    "percent": percent,
    "percent-lower": percent_lower,
    "percent-all": percent_all,
    "form": form_encoded,
    "html-named": html_named,
    "html-decimal": html_decimal,
    "html-hex": html_hex,
    "html-slash": html_slash,
    "base64": base64_value,
    "base64-key": base64_key,
    "basic": basic,
    "mixed": mixed,
    "nested": nested,
    "zero-width": zero_width,
}
