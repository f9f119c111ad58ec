"""storyboard.secrets: the key whole, and any run of 8 or more of its characters, wherever
they stand, in text and in parsed JSON."""

from __future__ import annotations

from storyboard.secrets import MARK, PIECE, Redactor, redact

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
