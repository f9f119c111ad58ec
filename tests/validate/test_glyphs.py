"""Captions no font can draw get a located warning; Chinese and Japanese draw, not box."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.media.fonts import choose_font
from tests.fonts import CJK_TEXT


def japanese_installed() -> bool:
    return not choose_font("最後の船です").missing


def board(tmp_path: Path, caption: str, **captions: object) -> Path:
    path = tmp_path / "board.yaml"
    extra = f"captions: {dict(captions)}\n" if captions else ""
    path.write_text(
        f'storyboard: 1\n{extra}shots:\n  - id: a\n    prompt: a quay at dusk\n    caption: "{caption}"\n',
        encoding="utf-8",
    )
    return path


def test_a_character_no_font_has_is_a_located_warning(tmp_path: Path) -> None:
    path = board(tmp_path, "the end 𓀀")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0  # a warning, not an error: the .srt keeps the caption whole
    assert f"{path}:5:14: warning: shots[0].caption: no font here can draw '𓀀' (U+13000)" in result.stderr
    assert "captions: {font: fonts/YourFont.otf}" in result.stderr
    plan = CliRunner().invoke(cli, ["plan", str(path)])
    assert "warning: shots[0].caption" in plan.stderr  # the offline animatic draws its captions


def test_a_caption_not_drawn_is_not_warned_about(tmp_path: Path) -> None:
    path = board(tmp_path, "the end 𓀀", burn=False)
    path.write_text(path.read_text().replace("storyboard: 1\n", "storyboard: 1\nprovider: kie\n"))
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0 and "warning" not in result.stderr  # only the .srt shows it


@pytest.mark.usefixtures("shipped_fonts")
def test_chinese_captions_draw(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", str(board(tmp_path, f"{CJK_TEXT} · Last boat in"))])
    assert result.exit_code == 0 and "warning" not in result.stderr


@pytest.mark.skipif(not japanese_installed(), reason="no Japanese font installed (Debian: fonts-noto-cjk)")
def test_japanese_captions_draw(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", str(board(tmp_path, "最後の船が着きました"))])
    assert result.exit_code == 0 and "warning" not in result.stderr


@pytest.mark.usefixtures("shipped_fonts")
def test_the_animatic_card_draws_chinese_glyphs_not_boxes() -> None:
    from storyboard.providers.preview.animatic import _card

    def text_area(prompt: str) -> bytes:
        img = _card(320, 180, "a", "text", prompt, 1)
        return bytes(img.crop((0, 50, 320, 180)).tobytes())  # below the id and the rule

    # the same characters in another order: five boxes would draw the same picture
    one, two, three = text_area(CJK_TEXT), text_area(CJK_TEXT[::-1]), text_area(CJK_TEXT)
    assert one == three and one != two  # each character has its own glyph (boxes would all match)
    empty = text_area("")
    assert one != empty  # and something was drawn at all
