"""conforms() gives jsonschema's verdict on our schemas, without jsonschema: on every example
and on many files mutated from valid ones, the two agree; a keyword it does not know makes
it give up (a file it passes must be one jsonschema passes)."""

from __future__ import annotations

import copy
import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from storyboard.conforms import conforms
from storyboard.load.document import load
from storyboard.resources import schema_file

ROOT = Path(__file__).resolve().parents[1]
STORYBOARD = json.loads(schema_file().read_text(encoding="utf-8"))
STATE = json.loads(schema_file("state.schema.json").read_text(encoding="utf-8"))
FILES = sorted(
    [*ROOT.glob("examples/*/*.yaml"), *ROOT.glob("tests/**/*.yaml"), *ROOT.glob("storyboard/init/**/*.yaml")]
)
MANY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


VALIDATORS = {id(s): Draft202012Validator(s) for s in (STORYBOARD, STATE)}


def jsonschema_says(data: Any, schema: dict[str, Any]) -> bool:
    return not any(True for _ in VALIDATORS[id(schema)].iter_errors(data))


def loaded(path: Path) -> Any:
    try:
        return load(path).data
    except Exception:  # not YAML a storyboard could be: the loader's own tests read those
        return None


VALID = [d for d in (loaded(p) for p in FILES) if isinstance(d, dict) and jsonschema_says(d, STORYBOARD)]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**6), max_value=10**6)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0, 1, 2, 8, 8.0, 0.5, -1, 1.0, True, False, 3600, 969, 1_000_000_000])
    | st.text(max_size=8)
    | st.sampled_from(
        [
            "",
            "16:9",
            "9:16",
            "720p",
            "1080p",
            "fade",
            "cut",
            "crossfade",
            "text",
            "image",
            "reference",
            "veo3_fast",
            "a",
            "A b",
            "a-b_c",
            "images/a.png",
            "https://x.org/a.png",
            "$0.40",
            "bottom",
        ]
    )
    | st.dates().map(lambda d: d)
    | st.just(datetime.datetime(2026, 1, 1, 12, 0))
)
values = st.recursive(
    scalars,
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3),
    max_leaves=8,
)


NUMBERS = [-1, -0.01, 0, 0.0, 0.01, 0.5, 1, 2, 7.99, 8, 8.0, 8.01, 9, 11, 100, 1e9, True, "1"]
TEXTS = ["", " ", "x" * 300, "A", "a b", "a.b", "../a", "16:9", "1080p", "fade", 1, None]


def paths(data: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [here]
    if isinstance(data, dict):
        for k, v in data.items():
            found += paths(v, (*here, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            found += paths(v, (*here, i))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    """A valid file with one to three changes: a value replaced, a key removed or added."""
    data = copy.deepcopy(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(paths(data)))
        if not where:
            continue
        parent = data
        for part in where[:-1]:
            parent = parent[part]
        how = draw(st.sampled_from(["nudge", "replace", "remove", "add"]))
        old = parent[where[-1]]
        if how == "nudge" and isinstance(old, (int, float)) and not isinstance(old, bool):
            # the same kind of value at the edges of the ranges the schema allows
            parent[where[-1]] = draw(st.sampled_from(NUMBERS))
        elif how == "nudge" and isinstance(old, str):
            parent[where[-1]] = draw(st.sampled_from(["", " ", old + "x", old.upper(), old[:1], "x" * 300]))
        elif how == "nudge" and isinstance(old, list):
            parent[where[-1]] = old[:-1] if old and draw(st.booleans()) else [*old, *old[:1]]
        elif how in ("replace", "nudge"):
            parent[where[-1]] = draw(values)
        elif how == "remove":
            del parent[where[-1]]
        elif isinstance(parent, dict):
            known = ["id", "prompt", "type", "trim", "transition", "duration", "file", "url", "caption", "x"]
            parent[draw(st.sampled_from(known) | st.text(max_size=5))] = draw(values)
        else:
            parent.append(draw(values))
    return data


def test_every_valid_example_conforms() -> None:
    assert len(VALID) >= 5  # the examples, the test files that are valid, init's storyboard
    for data in VALID:
        assert conforms(data, STORYBOARD)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_verdict_on_each_file_is_jsonschemas(path: Path) -> None:
    data = loaded(path)
    assert conforms(data, STORYBOARD) == jsonschema_says(data, STORYBOARD)


def edges(data: Any) -> list[Any]:
    """Every number and text of a file, each set in turn to values at the schema's edges."""
    out = []
    for where in paths(data):
        parent = data
        for part in where[:-1]:
            parent = parent[part]
        old = parent[where[-1]] if where else None
        if isinstance(old, bool) or not isinstance(old, (int, float, str)):
            continue
        for value in NUMBERS if isinstance(old, (int, float)) else TEXTS:
            parent[where[-1]] = value
            out.append(copy.deepcopy(data))
        parent[where[-1]] = old
    return out


def test_the_verdict_at_the_edges_of_every_range_is_jsonschemas() -> None:
    tried = 0
    for valid in VALID:
        for data in edges(copy.deepcopy(valid)):
            assert conforms(data, STORYBOARD) == jsonschema_says(data, STORYBOARD), data
            tried += 1
    assert tried > 1000


@MANY
@given(mutated())
def test_the_verdict_on_mutated_files_is_jsonschemas(data: Any) -> None:
    assert conforms(data, STORYBOARD) == jsonschema_says(data, STORYBOARD)


FP = "a" * 64
KEYS = ["tasks", "made", "made_by", "uploads", "clips", "version"]
STATES = [
    {"version": 3, "tasks": {}, "made": {}, "made_by": {}, "uploads": {}, "clips": {}},
    {"version": 2, "tasks": {FP: {"provider": "kie", "status": "done", "task_id": "t", "submitted_at": 1.5}}},
    {"version": 2, "made": {"s1": FP}, "made_by": {"kie": {"s1": FP}}},
]


@MANY
@given(st.sampled_from(STATES), st.sampled_from(KEYS), values)
def test_the_verdict_on_state_files_is_jsonschemas(state: dict[str, Any], key: str, value: Any) -> None:
    data = {**copy.deepcopy(state), key: value}
    assert conforms(data, STATE) == jsonschema_says(data, STATE)
    assert conforms(state, STATE) == jsonschema_says(state, STATE)


def test_a_keyword_it_does_not_know_is_never_passed() -> None:
    assert conforms("x", {"type": "string"})
    assert not conforms("x", {"type": "string", "format": "email"})  # jsonschema may or may not
    assert not conforms({"a": 1}, {"patternProperties": {"^a$": {}}, "additionalProperties": False})
    assert not conforms(1, {"$ref": "other.json#/x"})


def test_one_of_wants_exactly_one() -> None:
    both = {"oneOf": [{"type": "number"}, {"type": "integer"}]}
    assert conforms(0.5, both) and not conforms(1, both) and not conforms("x", both)


def test_bool_is_not_a_number_and_8_0_is_an_integer() -> None:
    assert not conforms(True, {"type": "integer"}) and not conforms(True, {"enum": [1]})
    assert conforms(8.0, {"type": "integer"}) and conforms(1.0, {"const": 1})
    assert not conforms(0, {"const": False}) and conforms([1, True], {"const": [1.0, True]})
