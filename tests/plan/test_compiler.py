"""Fingerprints: what decides a clip changes them, nothing else does (or a shot is paid twice)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from storyboard.board import model
from storyboard.load import document as loader
from storyboard.plan.compiler import compile_plan
from storyboard.providers import config
from tests.clips import make_image

BOARD = """storyboard: 1
title: Fingerprints
template: cinematic
vars: {place: a harbour}
images:
  dawn: {file: images/dawn.png, url: https://example.com/dawn.png}
  quay: images/quay.png
shots:
  - id: a
    prompt: Boats leaving {{ place }}
    caption: Morning
    transition: fade
  - id: b
    prompt: A gull on a post
    frames: {first: dawn}
    trim: [0, 7]
  - id: c
    continues: b
    prompt: The gull flies off
"""


def fingerprints(folder: Path, provider: str, text: str) -> dict[str, str]:
    path = folder / "board.yaml"
    path.write_text(text)
    sb = model.from_document(loader.load(path))
    plan = compile_plan(sb, config.make_provider(provider, folder, environ={}))
    return {s.id: s.fingerprint for s in plan.shots}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    make_image(tmp_path / "images" / "dawn.png", color="orange")
    make_image(tmp_path / "images" / "quay.png", color="gray")
    return tmp_path


NEUTRAL = [
    ("caption", "caption: Morning", "caption: Evening"),
    ("trim", "trim: [0, 7]", "trim: [1, 6]"),
    ("transition", "transition: fade", "transition: {type: crossfade, duration: 1}"),
    ("title", "title: Fingerprints", "title: Renamed"),
    ("audio", "    prompt: A gull on a post\n", "    prompt: A gull on a post\n    audio: false\n"),
    ("unused var", "vars: {place: a harbour}", "vars: {place: a harbour, mood: calm}"),
]


@pytest.mark.parametrize("provider", ["kie", "aivideoapi"])
@pytest.mark.parametrize(("what", "old", "new"), NEUTRAL, ids=[n[0] for n in NEUTRAL])
def test_edits_that_send_nothing_new_keep_every_fingerprint(
    folder: Path, provider: str, what: str, old: str, new: str
) -> None:
    assert old in BOARD
    assert fingerprints(folder, provider, BOARD) == fingerprints(folder, provider, BOARD.replace(old, new))


CHANGING = [
    ("prompt", "A gull on a post", "A gull on a rope", {"b", "c"}),
    ("var", "place: a harbour", "place: a beach", {"a"}),
    ("image url", "url: https://example.com/dawn.png", "url: https://example.com/dusk.png", {"b", "c"}),
    (
        "aspect",
        "title: Fingerprints",
        "title: Fingerprints\nsettings: {aspect_ratio: '9:16'}",
        {"a", "b", "c"},
    ),
    ("seed", "title: Fingerprints", "title: Fingerprints\nsettings: {seed: 12345}", {"a", "b", "c"}),
    (
        "resolution",
        "title: Fingerprints",
        "title: Fingerprints\nsettings: {resolution: 1080p}",
        {"a", "b", "c"},
    ),
    ("template", "template: cinematic", "template: documentary", {"a", "b", "c"}),
    ("parent", "The gull flies off", "The gull flies away", {"c"}),
]


@pytest.mark.parametrize(("what", "old", "new", "changed"), CHANGING, ids=[c[0] for c in CHANGING])
def test_edits_that_change_the_clip_change_exactly_those_fingerprints(
    folder: Path, what: str, old: str, new: str, changed: set[str]
) -> None:
    before = fingerprints(folder, "kie", BOARD)
    after = fingerprints(folder, "kie", BOARD.replace(old, new))
    assert {k for k in before if before[k] != after[k]} == changed


def test_local_file_behind_a_url_is_not_part_of_a_hosted_fingerprint(folder: Path) -> None:
    before = fingerprints(folder, "kie", BOARD)
    make_image(folder / "images" / "dawn.png", color="purple")  # the preview's copy changed
    assert fingerprints(folder, "kie", BOARD) == before
    assert fingerprints(folder, "preview", BOARD) != fingerprints(
        folder, "preview", BOARD.replace("dawn.png", "quay.png")
    )


VEO = BOARD.replace("frames: {first: dawn}", "frames: {first: quay}")


def test_uploaded_bytes_count_not_their_path(folder: Path) -> None:
    before = fingerprints(folder, "veo3o1", VEO)
    shutil.copy(folder / "images" / "quay.png", folder / "images" / "moved.png")
    moved = VEO.replace("quay: images/quay.png", "quay: images/moved.png")
    assert fingerprints(folder, "veo3o1", moved) == before  # same bytes, new name: nothing new
    make_image(folder / "images" / "moved.png", color="white")
    assert fingerprints(folder, "veo3o1", moved)["b"] != before["b"]  # new bytes: a new clip


def test_the_same_shot_on_another_provider_is_another_clip(folder: Path) -> None:
    assert fingerprints(folder, "kie", BOARD)["a"] != fingerprints(folder, "aivideoapi", BOARD)["a"]


def test_an_option_that_only_changes_how_shots_are_sent_keeps_the_fingerprints(folder: Path) -> None:
    text = BOARD.replace("  quay: images/quay.png\n", "").replace(
        "  - id: c\n    continues: b\n    prompt: The gull flies off\n", ""
    )
    alone = fingerprints(folder, "nanophoto", text)
    batched = fingerprints(folder, "nanophoto", "providers: {nanophoto: {batch: 21}}\n" + text)
    assert alone == batched


def test_fingerprints_are_the_same_as_before_provider_options(folder: Path) -> None:
    """A provider with no options that change the clip keeps every fingerprint it had: the
    clips already made and paid for stay found."""
    import hashlib
    import json

    from storyboard.plan.compiler import FINGERPRINT_VERSION

    got = fingerprints(folder, "kie", BOARD)
    path = folder / "board.yaml"
    plan = compile_plan(
        model.from_document(loader.load(path)), config.make_provider("kie", folder, environ={})
    )
    body = plan.provider.shot_body(plan.shot("a").compiled)[0]
    material = {
        "v": FINGERPRINT_VERSION,
        "provider": "kie",
        "request": ["POST", "/api/v1/veo/generate"],
        "body": body,
        "inputs": [],
        "extra": {"resolution": "720p"},
        "continues": None,
    }
    canonical = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert got["a"] == hashlib.sha256(canonical).hexdigest()


def test_a_seed_a_provider_cannot_take_is_one_warning_where_it_is_set(folder: Path) -> None:
    import json

    from storyboard.errors import Severity

    text = BOARD.replace("vars: {place: a harbour}", "settings: {seed: 12345}\nvars: {place: a harbour}")
    text = text.replace("  - id: c\n    continues: b\n    prompt: The gull flies off\n", "")
    path = folder / "board.yaml"
    path.write_text(text)
    sb = model.from_document(loader.load(path))
    plan = compile_plan(sb, config.make_provider("nanophoto", folder, environ={}))
    (warning,) = plan.warnings  # both shots inherit it: one warning, at settings.seed
    assert warning.severity is Severity.WARNING and warning.path == "settings.seed"
    assert warning.location is not None and (warning.location.line, warning.location.column) == (4, 12)
    assert warning.message == "seed ignored: nanophoto takes no seed; the clip will not be reproducible"
    assert "board.yaml:4:12: warning: settings.seed: seed ignored" in warning.format()
    assert "aivideoapi, kie" in (warning.hint or "")
    assert all("seed" not in json.dumps(r.body) for r in plan.requests(["a", "b"]))  # not sent
    assert compile_plan(sb, config.make_provider("kie", folder, environ={})).warnings == ()
    # on a shot of its own, the warning points at that shot's seed
    own = text.replace("settings: {seed: 12345}\n", "").replace(
        "    prompt: A gull on a post\n", "    prompt: A gull on a post\n    seed: 54321\n"
    )
    path.write_text(own)
    plan = compile_plan(
        model.from_document(loader.load(path)), config.make_provider("veo3o1", folder, environ={})
    )
    (warning,) = plan.warnings
    assert warning.path == "shots[1].seed" and "veo3o1 takes no seed" in warning.message


def test_a_setting_refused_once_is_one_problem_and_warnings_show_beside_errors(folder: Path) -> None:
    from storyboard.errors import Severity, ValidationError

    text = BOARD.replace(
        "vars: {place: a harbour}", "settings: {resolution: 1080p, seed: 12345}\nvars: {place: a harbour}"
    )
    path = folder / "board.yaml"
    path.write_text(text)
    sb = model.from_document(loader.load(path))
    with pytest.raises(ValidationError) as e:
        compile_plan(sb, config.make_provider("veo3o1", folder, environ={}))
    errors = [p for p in e.value.problems if p.severity is Severity.ERROR]
    warnings = [p for p in e.value.problems if p.severity is Severity.WARNING]
    (refused,) = [p for p in errors if "resolution" in p.message]  # given once, said once
    assert refused.path == "settings.resolution"
    assert refused.location is not None and refused.location.line == 4
    ids = [s.id for s in sb.shots if not s.continues]
    assert all(repr(i) in refused.message for i in ids), refused.message
    assert refused.message.startswith("shots ")
    assert [w.path for w in warnings] == ["settings.seed"]  # not hidden by the error


def test_the_request_path_is_part_of_the_fingerprint_the_host_and_key_are_not(folder: Path) -> None:
    """A service that names the model in the URL path (Google's) makes another clip at another
    path with the same body: a fingerprint without the path would serve one model's clip as
    the other's. The host (a base URL that moves) and the key select nothing."""
    from storyboard.providers.aivideoapi import AivideoapiProvider

    class Elsewhere(AivideoapiProvider):
        submit_path = "/v1/models/other:generate"

    path = folder / "board.yaml"
    path.write_text(BOARD.replace("  - id: c\n    continues: b\n    prompt: The gull flies off\n", ""))
    sb = model.from_document(loader.load(path))

    def prints(provider: AivideoapiProvider) -> dict[str, str]:
        return {s.id: s.fingerprint for s in compile_plan(sb, provider).shots}

    here = prints(AivideoapiProvider(base_url="https://api.aivideoapi.ai", api_key="sk-one"))
    assert prints(AivideoapiProvider(base_url="https://proxy.example.net/veo/", api_key="sk-two")) == here
    other = prints(Elsewhere(base_url="https://api.aivideoapi.ai", api_key="sk-one"))
    assert set(other) == set(here) and all(other[s] != here[s] for s in here)
