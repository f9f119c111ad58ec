"""storyboard.secrets: the key whole, and any run of 8 or more of its characters, wherever
they stand, in text and in parsed JSON, in any form a service may echo it."""

from __future__ import annotations

import base64
import html
import string
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st

from storyboard.secrets import MARK, PIECE, Redactor, redact
from tests import leaks
from tests.servers.echo import FORMS, percent_lower

KEY = "sk-Zr7Qv2Xm9Lp4Tc8Wn1Ks6Hd3Bf5Jy0Ga7Ue2Io9Rt4Yw6Pq"


def leaked(text: str) -> list[str]:
    return [KEY[i : i + PIECE] for i in range(len(KEY) - PIECE + 1) if KEY[i : i + PIECE] in text]


def test_the_whole_key_and_every_piece_of_it() -> None:
    r = Redactor([KEY])
    assert r.redact(f"Bearer {KEY}!") == f"Bearer {MARK}!"
    for start in range(len(KEY) - PIECE + 1):
        for end in range(start + PIECE, len(KEY) + 1, 5):
            text = f"before {KEY[start:end]} after"
            out = r.redact(text)
            assert leaked(out) == [] and out.startswith("before ") and out.endswith(" after"), (start, end)
    assert r.redact(f"a{KEY[:7]}b") == f"a{KEY[:7]}b"  # 7 characters are not a secret


def test_overlapping_and_repeated_pieces_become_one_mark() -> None:
    r = Redactor([KEY])
    assert r.redact(KEY[:20] + KEY[10:30]) == MARK
    assert r.redact(f"{KEY[:9]} and {KEY[-9:]}") == f"{MARK} and {MARK}"


def test_several_secrets_short_ones_ignored() -> None:
    r = Redactor([KEY, "abc", None, "", "0123456789"])
    assert r.redact("x 0123456789 y abc") == f"x {MARK} y abc"
    assert not Redactor([None, "ab"]) and Redactor([KEY])
    assert KEY not in repr(r) and redact(KEY, [KEY]) == MARK


def test_json_trees_keys_included() -> None:
    r = Redactor([KEY])
    tree = {"error": {"message": f"echo {KEY[5:30]}", KEY: [1, f"x{KEY}"]}, "n": 3}
    out = r.redact_tree(tree)
    assert out == {"error": {"message": f"echo {MARK}", MARK: [1, f"x{MARK}"]}, "n": 3}


# every form a key can be echoed in ------------------------------------------------------------
# Random keys (with `/`, `+`, `=`, base64-like ones), echoed in each form of tests.servers.echo
# at a random place in random text: no reading of what is left (tests.leaks undoes every
# encoding with the standard library's decoders) holds 8 characters of the key, and the text
# around it is kept.


KEY_LETTERS = string.ascii_letters + string.digits + "/+=-_.~:"
keys = st.one_of(
    st.text(KEY_LETTERS, min_size=PIECE, max_size=64),
    st.binary(min_size=6, max_size=48).map(lambda b: base64.b64encode(b).decode()),  # base64-like
    st.builds(
        lambda a, b: f"sk-{a}/{b}",
        st.text(KEY_LETTERS, min_size=4, max_size=20),
        st.text(KEY_LETTERS, min_size=4, max_size=20),
    ),
)
# text around an echo: words, and escapes of its own that are not the key's
filler = st.text(string.ascii_letters + string.digits + " .,:;/%&#\\+=-_'\"<>\r\n", max_size=80)
CHARACTER_WAYS = (
    lambda c: c,
    lambda c: f"\\u{ord(c):04x}",
    lambda c: f"\\u{ord(c):04X}",
    lambda c: f"\\{c}" if not c.isalnum() else c,
    lambda c: f"\\x{ord(c):02x}",
    lambda c: f"%{ord(c):02X}",
    lambda c: f"%{ord(c):02x}",
    lambda c: f"&#{ord(c)};",
    lambda c: f"&#x{ord(c):x};",
    lambda c: f"&#X{ord(c):02X};",
    lambda c: html.escape(c),
    lambda c: quote(c, safe=""),
)


def _check(r: Redactor, key: str, before: str, echoed: str, after: str) -> None:
    out = r.redact(f"{before} {echoed} {after}")  # apart: `%` before `00...` would be `%00`
    assert leaks.pieces(out, [key]) == [], (key, echoed, out)
    assert MARK in out


@settings(max_examples=150, deadline=None)
@given(key=keys, form=st.sampled_from(sorted(FORMS)), before=filler, after=filler)
def test_a_key_in_any_form_leaves_no_piece(key: str, form: str, before: str, after: str) -> None:
    _check(Redactor([key]), key, before, FORMS[form](f"Bearer {key}"), after)


@settings(max_examples=150, deadline=None)
@given(key=keys, data=st.data(), before=filler, after=filler)
def test_a_key_with_each_character_escaped_its_own_way(
    key: str, data: st.DataObject, before: str, after: str
) -> None:
    ways = data.draw(st.lists(st.sampled_from(CHARACTER_WAYS), min_size=len(key), max_size=len(key)))
    _check(Redactor([key]), key, before, "".join(w(c) for w, c in zip(ways, key, strict=True)), after)


@settings(max_examples=100, deadline=None)
@given(key=keys, forms=st.lists(st.sampled_from(sorted(FORMS)), min_size=2, max_size=3), before=filler)
def test_a_key_escaped_over_and_over(key: str, forms: list[str], before: str) -> None:
    echoed = f"Authorization: Bearer {key}"
    for form in forms:
        echoed = FORMS[form](echoed)
    out = Redactor([key]).redact(before + echoed)
    assert leaks.pieces(out, [key]) == [], (forms, echoed, out)


@settings(max_examples=100, deadline=None)
@given(key=keys, form=st.sampled_from(sorted(FORMS)), before=filler, data=st.data())
def test_a_cut_after_redaction_leaks_nothing(key: str, form: str, before: str, data: st.DataObject) -> None:
    """Messages shorten a service's text after it is redacted: no cut of it leaks a run."""
    out = Redactor([key]).redact(before + FORMS[form](f"Bearer {key}") + " and the rest")
    cut = data.draw(st.integers(0, len(out)))
    assert leaks.pieces(out[:cut], [key]) == []


@settings(max_examples=100, deadline=None)
@given(key=keys, text=filler)
def test_text_without_the_key_is_left_as_it_is(key: str, text: str) -> None:
    if leaks.pieces(text, [key]) == []:
        assert Redactor([key]).redact(text) == text


def test_forms_the_issue_named() -> None:
    """The red team's: PHP's escaped `/`, percent-encoding, `&#x2F;`, a base64-like key."""
    key = "sk-ab/cd/Ef7Kq/2Lm+Np9=Rs/T4uV+wX8=yZ/0aB"
    like = "q8Zk/3+Vb0xN/T4r+Hw2=Lm9/Pz+Ya1="  # 32 characters: 18 leaked percent-encoded, 9 escaped
    r = Redactor([key, like])
    for secret in (key, like):
        for echoed in (
            secret.replace("/", "\\/"),
            quote(secret, safe=""),
            percent_lower(secret),
            secret.replace("/", "&#x2F;"),
            secret.replace("/", "&#47;").replace("+", "&plus;"),
            secret.replace("/", "\\u002F").replace("+", "\\u002b"),
            base64.b64encode(f"Bearer {secret}".encode()).decode(),
            "Basic " + base64.b64encode(f"me:{secret}".encode()).decode(),
        ):
            out = r.redact(f'{{"echo": "{echoed}"}}')
            assert out == f'{{"echo": "{MARK}"}}' or (MARK in out and not leaks.pieces(out, [secret])), out


def test_a_short_key_is_redacted_whole_in_any_form() -> None:
    r = Redactor(["a/b+c"])  # under 8 characters: the whole key is its one piece
    assert r.redact("x a\\/b%2Bc y") == f"x {MARK} y"
    assert r.redact("x a&#x2F;b&plus;c y") == f"x {MARK} y"
    assert r.redact("x a/b+ y") == "x a/b+ y"


def test_spans_map_back_to_whole_escapes() -> None:
    key = "sk-ab/cd/ef/gh"
    r = Redactor([key])
    # nested: JSON inside JSON (`\\\/`), percent inside HTML (`&amp;` around `%2F`)
    assert r.redact('"sk-ab\\\\\\/cd\\\\\\/ef\\\\\\/gh"') == f'"{MARK}"'
    assert r.redact("sk-ab%252Fcd&amp;#x2F;ef%2fgh.") == f"{MARK}."
    # the key split by a line continuation and by zero-width spaces
    assert r.redact("sk-ab/c\\\nd/ef/gh") == MARK
    assert r.redact("sk-a\u200bb/cd/e\u200bf/gh") == MARK
