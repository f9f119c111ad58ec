"""The examples are valid, self-contained, small, and together use every field of the schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from storyboard.load.document import load
from storyboard.validate import schema
from storyboard.validate.checks import load_storyboard, validate_document

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MODELINE = "# yaml-language-server: $schema=../../schemas/storyboard.schema.json"
FILES = sorted(EXAMPLES.glob("*/*.yaml"))


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if not ref:
        return node
    return {**schema.schema()["$defs"][ref.split("/")[-1]], **{k: v for k, v in node.items() if k != "$ref"}}


def branch_name(branch: dict[str, Any]) -> str:
    b = resolve(branch)
    return b.get("type") or type(b["enum"][0]).__name__.replace("str", "string")


def schema_paths(node: dict[str, Any], path: str = "") -> set[str]:
    """Every property path, and every oneOf form (`|string`, `|object`), in the schema."""
    node = resolve(node)
    out: set[str] = set()
    for branch in node.get("oneOf", []):
        out.add(f"{path}|{branch_name(branch)}")
        out |= schema_paths(branch, path)
    for name, sub in node.get("properties", {}).items():
        p = f"{path}.{name}" if path else name
        out.add(p)
        out |= schema_paths(sub, p)
    if isinstance(node.get("additionalProperties"), dict):
        out |= schema_paths(node["additionalProperties"], f"{path}.*")
    if isinstance(node.get("items"), dict):
        out |= schema_paths(node["items"], f"{path}[]")
    return out


def used_paths(node: dict[str, Any], value: Any, path: str = "") -> set[str]:
    """The same paths, for what a document actually uses."""
    node = resolve(node)
    out: set[str] = set()
    if "oneOf" in node:
        kind = "object" if isinstance(value, dict) else "array" if isinstance(value, list) else "string"
        for branch in node["oneOf"]:
            if branch_name(branch) == kind:
                out.add(f"{path}|{kind}")
                out |= used_paths(branch, value, path)
        return out
    if isinstance(value, dict):
        for name, sub_value in value.items():
            if name in node.get("properties", {}):
                p = f"{path}.{name}" if path else name
                out.add(p)
                out |= used_paths(node["properties"][name], sub_value, p)
            elif isinstance(node.get("additionalProperties"), dict):
                out |= used_paths(node["additionalProperties"], sub_value, f"{path}.*")
    if isinstance(value, list) and isinstance(node.get("items"), dict):
        for item in value:
            out |= used_paths(node["items"], item, f"{path}[]")
    return out


def test_there_are_the_three_examples() -> None:
    names = {p.relative_to(EXAMPLES).as_posix() for p in FILES}
    assert {"three-shot/three-shot.yaml", "lighthouse/lighthouse.yaml", "long-21/long-21.yaml"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_example_is_valid_and_self_contained(path: Path) -> None:
    assert path.read_text().splitlines()[0] == MODELINE
    assert (path.parent / "../../schemas/storyboard.schema.json").resolve().is_file()
    sb = load_storyboard(path)
    assert "preview" in sb.providers  # renders offline (a list: the preview where no key is set)
    for asset in [*sb.images.values(), *(a for c in sb.characters.values() for a in c.images)]:
        if asset.path is not None:
            assert asset.path.is_relative_to(path.parent.resolve())
    # small media, committed; what a render leaves there (.storyboard/, renders/: ignored by
    # git) is not part of the example: a user may well have run the README's render first
    made = {path.parent / ".storyboard", path.parent / "renders"}
    for p in path.parent.rglob("*"):
        if p.is_file() and not any(p.is_relative_to(m) for m in made):
            assert p.stat().st_size < 60_000, p


def test_examples_use_every_field_of_the_schema() -> None:
    every = schema_paths(schema.schema())
    used: set[str] = set()
    for path in FILES:
        used |= used_paths(schema.schema(), load(path).data)
    assert every - used == set()
    assert "shots[].frames.first|object" in every and "shots[].transition|string" in every


def test_long_21_is_the_longest_film_allowed() -> None:
    sb = load_storyboard(EXAMPLES / "long-21" / "long-21.yaml")
    assert len(sb.shots) == 21 and sb.length == 168.0
    assert all(s.transition.type != "crossfade" and s.trim == (0.0, 8.0) for s in sb.shots)


def test_three_shot_is_text_only_with_a_crossfade() -> None:
    sb = load_storyboard(EXAMPLES / "three-shot" / "three-shot.yaml")
    assert [s.kind for s in sb.shots] == ["text"] * 3
    assert sb.template == "cinematic" and sb.vars and all(s.caption for s in sb.shots)
    assert any(s.transition.type == "crossfade" for s in sb.shots)


def test_lighthouse_uses_frames_references_characters_continues() -> None:
    sb = load_storyboard(EXAMPLES / "lighthouse" / "lighthouse.yaml")
    kinds = {s.id: s.kind for s in sb.shots}
    assert kinds == {
        "establishing": "text",
        "keeper-wakes": "reference",
        "storm-arrives": "frames",
        "the-wave": "frames",
        "night-watch": "frames",
    }
    wave = sb.shot("the-wave")
    assert wave.continues == "storm-arrives" and wave.first is None
    assert len(sb.shot("keeper-wakes").references) == 3
    assert sb.music is not None and sb.music.duck and sb.captions.burn
    # every image can be planned by any provider: it has a file for preview and a URL
    for shot in sb.shots:
        for asset in shot.images:
            assert asset.path is not None and asset.path.is_file() and asset.url, (shot.id, asset)
    assert validate_document(load(EXAMPLES / "lighthouse" / "lighthouse.yaml")) == []
