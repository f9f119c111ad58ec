"""Whatever the file holds, validation answers with problems or a Storyboard, never a crash."""

from __future__ import annotations

import copy
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storyboard.board.model import Storyboard
from storyboard.errors import ValidationError
from storyboard.load.document import Document
from storyboard.validate.checks import load_storyboard, validate_document
from tests.clips import make_image, make_tone

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DIR = Path(tempfile.mkdtemp(prefix="storyboard-fuzz-"))  # module level: the strategies need it
make_image(DIR / "images" / "a.png")
make_tone(DIR / "audio" / "t.mp3", seconds=0.3)


@pytest.fixture(scope="module", autouse=True)
def _removed_after() -> Iterator[None]:
    """The fuzz folder (a 50 MB file among others) goes with the module, pass or fail."""
    yield
    shutil.rmtree(DIR, ignore_errors=True)


VALID: dict[str, Any] = {
    "storyboard": 1,
    "title": "t",
    "settings": {"aspect_ratio": "16:9", "seed": 12345},
    "vars": {"place": "sea"},
    "characters": {"k": {"description": "d", "images": ["images/a.png"]}},
    "images": {"dawn": "images/a.png", "u": {"file": "images/a.png", "url": "https://x.org/a.png"}},
    "shots": [
        {"id": "a", "prompt": "p", "transition": "fade", "caption": "c"},
        {"id": "b", "prompt": "q", "frames": {"first": "dawn", "last": "u"}, "trim": [0.5, 7]},
        {"id": "c", "prompt": "r", "continues": "b", "transition": {"type": "crossfade", "duration": 1}},
        {"id": "d", "prompt": "s", "references": ["k", "dawn"], "type": "reference"},
    ],
    "music": {"file": "audio/t.mp3", "volume": 1},
    "captions": {"burn": True},
    "output": "out/film.mp4",
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**12), max_value=10**12)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(
        [
            "a",
            "b",
            "k",
            "dawn",
            "fade",
            "crossfade",
            "images/a.png",
            "../x.png",
            "/etc/hosts",
            "https://x.org/i.png",
            "http://x.org",
            "cinematic",
            "x.j2",
            "16:9",
            "",
        ]
    ),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "prompt",
                    "type",
                    "frames",
                    "first",
                    "last",
                    "references",
                    "continues",
                    "trim",
                    "transition",
                    "duration",
                    "file",
                    "url",
                    "images",
                    "description",
                    "x",
                    "shots",
                ]
            )
            | st.text(max_size=6),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


def check(doc: Document) -> None:
    problems = validate_document(doc)
    for p in problems:
        assert p.message and p.location is not None
        p.format()


def check_file(path: Path) -> None:
    try:
        assert isinstance(load_storyboard(path), Storyboard)
    except ValidationError as e:
        assert e.problems
        for p in e.problems:
            assert p.message
            p.format()


def doc_of(data: Any) -> Document:
    return Document(path=DIR / "board.yaml", text="", data=data)


def test_the_seed_document_is_valid() -> None:
    assert validate_document(doc_of(copy.deepcopy(VALID))) == []


@FAST
@given(st.binary(max_size=400))
def test_random_bytes(raw: bytes) -> None:
    path = DIR / "bytes.yaml"
    path.write_bytes(raw)
    check_file(path)


TOKENS = [
    "storyboard: 1\n",
    "shots:\n",
    "  - id: a\n",
    "    prompt: x\n",
    "- ",
    "  ",
    ": ",
    "{",
    "}",
    "[",
    "]",
    ",",
    "&a ",
    "*a ",
    "<<: *a\n",
    "!!python/object:os.system ",
    "'",
    '"',
    "\t",
    "\n",
    "#",
    "|\n",
    ">\n",
    "? ",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "!!binary ",
    "!!bool maybe",
    "!!timestamp x",
    "!!int ",
    "!!str ",
    "!!set ",
    "trim: [1, 2]\n",
    "frames: {first: dawn}\n",
    "~",
    "null",
    "yes",
    "16:9",
    "0x1F",
    "1e9999",
    "2024-01-01",
    "\\u0000",
    "é",
    "\ufeff",
]


@FAST
@given(st.lists(st.sampled_from(TOKENS) | st.text(max_size=5), max_size=40))
def test_random_yaml_ish_text(parts: list[str]) -> None:
    path = DIR / "text.yaml"
    path.write_text("".join(parts), encoding="utf-8", errors="surrogatepass")
    check_file(path)


@FAST
@given(json_values)
def test_random_structures(data: Any) -> None:
    check(doc_of(data))
    check(doc_of({"storyboard": 1, "shots": data}))


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    """The valid document with a few subtrees replaced, removed or duplicated."""
    data = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 4))):
        node: Any = data
        while True:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = draw(st.sampled_from(keys))
            child = node[key]
            if isinstance(child, (dict, list)) and child and draw(st.booleans()):
                node = child
                continue
            action = draw(st.sampled_from(["replace", "delete", "list", "map"]))
            if action == "replace":
                node[key] = draw(json_values)
            elif action == "delete" and isinstance(node, dict):
                del node[key]
            elif action == "list":  # a list where a map (or a value) belongs
                node[key] = [child]
            else:
                node[key] = {"x": child}
            break
    return data


@FAST
@given(mutated())
def test_mutated_valid_documents(data: Any) -> None:
    check(doc_of(data))
    text = yaml.safe_dump(data, allow_unicode=True)
    path = DIR / "mutated.yaml"
    path.write_text(text, encoding="utf-8")
    check_file(path)


def test_deep_nesting() -> None:
    for text in (
        "[" * 5000 + "]" * 5000,
        "a:\n" + "".join(" " * i + "b:\n" for i in range(1, 3000)),
        "- " * 3000 + "x",
    ):
        path = DIR / "deep.yaml"
        path.write_text(text)
        check_file(path)


def test_alias_bomb() -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]")
    lines.append("storyboard: 1\nshots: *a9")
    path = DIR / "bomb.yaml"
    path.write_text("\n".join(lines))
    try:
        load_storyboard(path)
    except ValidationError as e:
        assert "more than" in e.problems[0].message
    else:  # pragma: no cover
        raise AssertionError("an alias bomb was accepted")


def test_a_50_mb_file_is_refused_without_reading_it() -> None:
    path = DIR / "huge.yaml"
    with path.open("wb") as f:
        f.write(b"storyboard: 1\n")
        f.truncate(50 * 2**20)
    try:
        load_storyboard(path)
    except ValidationError as e:
        assert "52.4 MB" in e.problems[0].message
    else:  # pragma: no cover
        raise AssertionError("a 50 MB storyboard was accepted")


def test_binary_junk_and_odd_encodings() -> None:
    for raw in (
        b"\x00\x01\x02storyboard",
        b"\xff\xfe\x00s\x00t",
        b"\x89PNG\r\n\x1a\n\x00\x00",
        b'storyboard: 1\nshots: [{id: a, prompt: "\\0"}]\n',
    ):
        path = DIR / "junk.yaml"
        path.write_bytes(raw)
        check_file(path)
