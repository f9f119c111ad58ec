"""The JSON Schema itself (editor-ready: descriptions, examples, defaults) and how schema
errors become problems with a fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from storyboard.load.document import parse
from storyboard.resources import schema_file
from storyboard.validate import schema

REPO_SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "storyboard.schema.json"


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """A property's schema with its local $ref merged in (siblings win, as in 2020-12)."""
    ref = node.get("$ref")
    if not ref:
        return node
    target = dict(schema.schema()["$defs"][ref.split("/")[-1]])
    target.update({k: v for k, v in node.items() if k != "$ref"})
    return target


def properties(node: dict[str, Any], path: str = "") -> list[tuple[str, dict[str, Any], bool]]:
    """Every (path, property schema, required?) reachable from `node`."""
    node = resolve(node)
    out = []
    for branch in node.get("oneOf", []):
        out += properties(branch, path)
    required = set(node.get("required", []))
    for name, sub in node.get("properties", {}).items():
        p = f"{path}.{name}" if path else name
        out.append((p, resolve(sub), name in required))
        out += properties(sub, p)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        out += properties(extra, f"{path}.*")
    items = node.get("items")
    if isinstance(items, dict):
        out += properties(items, f"{path}[]")
    return out


def test_schema_is_valid_2020_12_with_id_and_title() -> None:
    s = json.loads(REPO_SCHEMA.read_text())
    Draft202012Validator.check_schema(s)
    assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert s["$id"].startswith("https://") and s["title"] == "Storyboard"


def test_installed_schema_is_the_repository_file() -> None:
    assert json.loads(schema_file().read_text()) == json.loads(REPO_SCHEMA.read_text())
    assert schema.schema() == json.loads(REPO_SCHEMA.read_text())


def test_every_property_has_description_and_examples() -> None:
    props = properties(schema.schema())
    assert len(props) > 40
    for path, sub, _ in props:
        assert sub.get("description"), path
        assert sub.get("examples"), path
        for example in sub["examples"]:  # the examples themselves are valid values
            check = {k: v for k, v in sub.items() if k not in ("default", "description")}
            Draft202012Validator({**check, "$defs": schema.schema()["$defs"]}).validate(example)


def test_every_optional_property_says_its_default() -> None:
    """`default` where a value can say it; else the description names it ("Default: ...")."""
    for path, sub, required in properties(schema.schema()):
        if required:
            assert "default" not in sub, path
            continue
        if "default" in sub:
            check = {k: v for k, v in sub.items() if k != "default"}
            Draft202012Validator({**check, "$defs": schema.schema()["$defs"]}).validate(sub["default"])
        else:
            assert "Default:" in sub["description"], path


def test_objects_forbid_unknown_keys() -> None:
    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and where != "vars":
                assert "additionalProperties" in node, where
                assert node["additionalProperties"] is False or isinstance(
                    node["additionalProperties"], dict
                ), where
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, where)

    walk(schema.schema(), "")


def test_validator_is_built_once() -> None:
    assert schema.validator() is schema.validator()


def check(text: str) -> list[str]:
    doc = parse(text, Path("board.yaml"))
    found = sorted(schema.check(doc), key=lambda p: (p.location.line, p.location.column))
    return [
        f"{p.location.line}:{p.location.column} {p.path}: {p.message}" + (f" ({p.hint})" if p.hint else "")
        for p in found
    ]


VALID = "storyboard: 1\nshots:\n  - id: a\n    prompt: x\n"


def test_valid_document_has_no_problems() -> None:
    assert check(VALID) == []


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        (
            "    frames: {first: {file: a.png, uri: x}}\n",
            "5:35 shots[0].frames.first.uri: unknown key 'uri' (did you mean 'url'?)",
        ),
        (
            "    frames: {first: 7}\n",
            "5:21 shots[0].frames.first: expected an image: a name from images or characters, a "
            "relative path, an https URL or {file: path, url: https URL}, not the whole number 7; "
            "e.g. `first: dawn`",
        ),
        (
            "    transition: {type: fade, duration: 0}\n",
            "5:40 shots[0].transition.duration: 0 is out of range: it must be more than 0 "
            "(seconds the transition lasts; shorter than both shots it joins)",
        ),
        (
            "    transition: [fade]\n",
            "5:17 shots[0].transition: expected a transition: cut, crossfade or fade, or "
            "{type: crossfade, duration: 0.5}, not a list; e.g. `transition: crossfade`",
        ),
        (
            "    transition: {type: fade, length: 1}\n",
            "5:30 shots[0].transition.length: unknown key 'length': remove it; the keys allowed "
            "here are type, duration",
        ),
        (
            "    frames: {}\n",
            "5:13 shots[0].frames: is empty: give at least one of: first, last",
        ),
        (
            "    audio: yes please\n",
            "5:12 shots[0].audio: expected true or false, not the text 'yes please'; e.g. `audio: true`",
        ),
        (
            "    caption: no\n",
            "5:14 shots[0].caption: expected text, not false (true/false); e.g. `caption: Three "
            "days before the wreck` (YAML reads yes/no/on/off/true/false as true or false: put "
            "the text in quotes)",
        ),
    ],
)
def test_shot_level_messages(snippet: str, expected: str) -> None:
    assert check(VALID + snippet) == [expected]


def test_every_error_of_the_file_is_reported() -> None:
    got = check(
        "storyboard: 1\nprovider: kei\nsettings: {model: best, seed: 1}\ncaptions: {burn: 1}\n"
        "shots:\n  - id: a\n    prompt: x\n  - prompt: y\n"
    )
    # `provider: kei` is not the schema's to judge (any installed provider will do): the
    # located check beside the others says so (tests/providers/test_registry.py)
    assert got == [
        "3:19 settings.model: the text 'best' is not allowed here: use one of fast, quality, lite",
        "3:31 settings.seed: 1 is out of range: it must be at least 10000 (A 5-digit seed "
        "(10000-99999) for repeatable results, where the provider supports it)",
        "4:18 captions.burn: expected true or false, not the whole number 1; e.g. `burn: true`",
        "8:5 shots[1]: missing the required key 'id' (The shot's unique, stable id: the key of "
        "its cache and history): add `id: storm-arrives`",
    ]


RENAME = "It is required here: rename the key, keeping its value"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # a shot's key
            "storyboard: 1\nshots:\n  - id: a\n    promt: x\n",
            [f"4:5 shots[0].promt: unknown key 'promt' in shot 'a' (did you mean 'prompt'? {RENAME})"],
        ),
        (  # only the case differs; a shot without its id is named by its place
            "storyboard: 1\nshots:\n  - Id: a\n    Prompt: x\n",
            [
                f"3:5 shots[0].Id: unknown key 'Id' (did you mean 'id'? {RENAME})",
                f"4:5 shots[0].Prompt: unknown key 'Prompt' (did you mean 'prompt'? {RENAME})",
            ],
        ),
        (  # the top level's required keys: the same rule
            "storybord: 1\nshot:\n  - id: a\n    prompt: x\n",
            [
                f"1:1 storybord: unknown key 'storybord' (did you mean 'storyboard'? {RENAME})",
                f"2:1 shot: unknown key 'shot' (did you mean 'shots'? {RENAME})",
            ],
        ),
    ],
)
def test_a_mistyped_required_key_is_one_problem_at_the_typo(text: str, expected: list[str]) -> None:
    assert check(text) == expected


def test_an_unknown_key_unlike_the_missing_one_leaves_two_problems() -> None:
    got = check("storyboard: 1\nshots:\n  - id: a\n    description: x\n")
    assert [line.split(" (")[0] for line in got] == [
        "3:5 shots[0]: missing the required key 'prompt'",  # two causes: both are told
        "4:5 shots[0].description: unknown key 'description'",
    ]


def test_bad_names_point_at_the_key() -> None:
    assert check("storyboard: 1\nimages:\n  my image: a.png\n" + VALID[14:]) == [
        "3:3 images.my image: 'my image' is not a valid name: a name is letters, digits, _ and "
        "-, starting with a letter or _ (e.g. keeper, dawn_sky)"
    ]


def test_did_you_mean() -> None:
    assert schema.did_you_mean("promt", ["id", "prompt"]) == "did you mean 'prompt'?"
    assert schema.did_you_mean("PROMPT", ["id", "prompt"]) == "did you mean 'prompt'?"
    assert schema.did_you_mean("zzz", ["id", "prompt"]) is None


def test_yaml_inline() -> None:
    assert schema.yaml_inline({"a": [1, 2.5, True, None], "b": "x y"}) == "{a: [1, 2.5, true, null], b: x y}"
    assert schema.yaml_inline("16:9") == '"16:9"'
    assert schema.yaml_inline("yes") == '"yes"'
