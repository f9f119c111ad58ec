"""`storyboard lsp` driven as an editor drives it: JSON-RPC over the process's stdin and
stdout. Diagnostics are the validator's own problems at their line and column; completion
offers the names the file defines; hover shows a shot's prompt as sent and its price."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from storyboard import pipeline
from storyboard.errors import ValidationError
from tests.serve.jsonrpc import Editor

ROOT = Path(__file__).resolve().parents[2]

BOARD = """\
storyboard: 1
title: Harbour
provider: aivideoapi
vars:
  place: a fishing harbour in Cornwall
characters:
  skipper:
    description: a young skipper in an orange oilskin
images:
  quay: {file: images/quay.jpg, url: https://example.com/quay.jpg}
shots:
  - id: dawn
    prompt: Dawn over {{ place }}
  - id: boats
    prompt: Boats leave {{ citty }}
    frames: {first: quay}
  - id: rope
    prompt: "{{ characters.skipper.description }} throws a rope"
    continues: dawn
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp_path = tmp_path_factory.mktemp("lsp")
    (tmp_path / "images").mkdir()
    shutil.copy(ROOT / "examples/vertical/images/quay.jpg", tmp_path / "images/quay.jpg")
    return tmp_path


@pytest.fixture(scope="module")
def editor(folder: Path) -> Iterator[Editor]:
    """One editor session for the module (as an editor keeps one server): each test opens a
    file of its own."""
    e = Editor("lsp", cwd=str(folder))
    e.request("initialize", {"processId": None, "rootUri": folder.as_uri(), "capabilities": {}})
    e.notify("initialized", {})
    try:
        yield e
    finally:
        e.close()


def _open(editor: Editor, path: Path, text: str) -> str:
    uri = path.as_uri()
    editor.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}},
    )
    return uri


def test_an_unknown_variable_is_a_diagnostic_on_its_line_in_validates_words(
    editor: Editor, folder: Path
) -> None:
    path = folder / "harbour-1.yaml"
    path.write_text(BOARD, encoding="utf-8")
    with pytest.raises(ValidationError) as said:
        pipeline.load(path)
    expected = [p for p in said.value.problems if "citty" in p.message]
    assert len(expected) == 1 and expected[0].location is not None
    uri = _open(editor, path, BOARD)
    found = editor.diagnostics(uri)
    mine = [d for d in found if "citty" in d["message"]]
    assert len(mine) == 1, found
    d, p = mine[0], expected[0]
    assert p.location is not None
    assert d["range"]["start"] == {"line": p.location.line - 1, "character": p.location.column - 1}
    assert BOARD.splitlines()[d["range"]["start"]["line"]].strip() == "prompt: Boats leave {{ citty }}"
    assert d["severity"] == 1 and d["source"] == "storyboard"
    assert p.message in d["message"] and (p.hint or "") in d["message"]  # the same words
    # every problem validate finds, and no other
    assert len(found) == len(said.value.problems)


def test_the_unsaved_text_is_checked_and_a_fix_clears_it(editor: Editor, folder: Path) -> None:
    path = folder / "harbour-2.yaml"
    path.write_text("storyboard: 1\n", encoding="utf-8")  # the disk has something else
    uri = _open(editor, path, BOARD)
    assert any("citty" in d["message"] for d in editor.diagnostics(uri))
    fixed = BOARD.replace("{{ citty }}", "{{ place }}")
    editor.notify(
        "textDocument/didChange",
        {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": fixed}]},
    )
    after = editor.diagnostics(uri)
    assert not [d for d in after if d["severity"] == 1], after


def test_completion_after_continues_offers_the_earlier_shots(editor: Editor, folder: Path) -> None:
    text = BOARD.replace("continues: dawn", "continues: ")
    uri = _open(editor, folder / "harbour-3.yaml", text)
    line = text.splitlines().index("    continues: ")
    got = editor.request(
        "textDocument/completion",
        {"textDocument": {"uri": uri}, "position": {"line": line, "character": len("    continues: ")}},
    )
    labels = [i["label"] for i in (got["items"] if isinstance(got, dict) else got)]
    assert labels == ["dawn", "boats"]  # not `rope` itself


def test_completion_of_images_vars_characters_and_providers(editor: Editor, folder: Path) -> None:
    uri = _open(editor, folder / "harbour-4.yaml", BOARD)
    lines = BOARD.splitlines()

    def labels(line: int, col: int) -> list[str]:
        got = editor.request(
            "textDocument/completion",
            {"textDocument": {"uri": uri}, "position": {"line": line, "character": col}},
        )
        return [i["label"] for i in (got["items"] if isinstance(got, dict) else got)]

    frames = next(k for k, x in enumerate(lines) if "frames:" in x)
    assert labels(frames, lines[frames].index("quay")) == ["quay", "skipper"]
    prompt = next(k for k, x in enumerate(lines) if "Dawn over" in x)
    got = labels(prompt, lines[prompt].index("place"))
    assert "place" in got and "characters" in got
    chars = next(k for k, x in enumerate(lines) if "characters.skipper" in x)
    assert labels(chars, lines[chars].index("skipper")) == ["skipper"]
    provider = lines.index("provider: aivideoapi")
    assert "aivideoapi" in labels(provider, len("provider: "))
    assert "kie" in labels(provider, len("provider: "))


def test_hover_shows_the_prompt_as_sent_and_its_price(editor: Editor, folder: Path) -> None:
    text = BOARD.replace("{{ citty }}", "{{ place }}")
    uri = _open(editor, folder / "harbour-5.yaml", text)
    editor.diagnostics(uri)
    line = text.splitlines().index("  - id: boats")
    got = editor.request(
        "textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": line, "character": 9}}
    )
    value = got["contents"]["value"]
    sb = pipeline.load(folder / "harbour-5.yaml", text=text)
    plan = pipeline.make_plan(sb)
    boats = next(sp for sp in plan.shots if sp.id == "boats")
    assert boats.compiled.prompt == "Boats leave a fishing harbour in Cornwall"
    assert boats.compiled.prompt in value
    assert f"{boats.cost.credits:g} credits" in value and "aivideoapi" in value


def test_go_to_definition_of_a_shot_an_image_and_a_character(editor: Editor, folder: Path) -> None:
    uri = _open(editor, folder / "harbour-6.yaml", BOARD)
    lines = BOARD.splitlines()

    def target(line: int, col: int) -> tuple[int, int]:
        got = editor.request(
            "textDocument/definition",
            {"textDocument": {"uri": uri}, "position": {"line": line, "character": col}},
        )
        start = got["range"]["start"]
        return start["line"], start["character"]

    cont = next(k for k, x in enumerate(lines) if "continues: dawn" in x)
    assert target(cont, lines[cont].index("dawn") + 1) == (lines.index("  - id: dawn"), 8)
    frames = next(k for k, x in enumerate(lines) if "frames:" in x)
    assert target(frames, lines[frames].index("quay")) == (
        lines.index("  quay: {file: images/quay.jpg, url: https://example.com/quay.jpg}"),
        2,
    )
    chars = next(k for k, x in enumerate(lines) if "characters.skipper" in x)
    assert target(chars, lines[chars].index("skipper") + 2) == (lines.index("  skipper:"), 2)
