"""Fonts for captions and cards: the user's font first, fontconfig's (or the font folders'),
Pillow's last; characters that no font has are named, never drawn as boxes in silence.

The CJK tests draw with the font the project ships (tests.fonts), installed for the test
alone: they pass on a machine with no CJK font, and say the same on one that has them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from storyboard.errors import InputError
from storyboard.media import fonts
from storyboard.media.fonts import Face, choose_font, describe_missing, language_of, system_faces
from tests.fonts import CJK_TEXT, SHIPPED_NAME, latin_only

CHINESE = "第一章：暴风雨来临，灯塔守望者"
JAPANESE = "嵐の前の静けさ、カモメが鳴く"
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _system_cjk() -> bool:
    return any(f.path is not None and "CJK" in f.path.name for f in system_faces("zh-cn"))


needs_system_cjk = pytest.mark.skipif(
    not _system_cjk(), reason="checks the machine's own Noto CJK collection (Debian: fonts-noto-cjk)"
)
needs_dejavu = pytest.mark.skipif(not DEJAVU.is_file(), reason="no DejaVu fonts (fonts-dejavu-core)")


def glyph(font: fonts.TextFont, ch: str) -> bytes:
    img = Image.new("L", (80, 80), 0)
    font.draw(ImageDraw.Draw(img), (8, 8), ch, fill=255)
    return img.tobytes()


def test_language_hints() -> None:
    assert language_of("a storm") is None
    assert language_of(CHINESE) == "zh-cn"
    assert language_of(JAPANESE) == "ja"  # kana, even among kanji
    assert language_of("폭풍") == "ko"


def test_cjk_is_drawn_with_a_font_that_has_it(shipped_fonts: Path, tmp_path: Path) -> None:
    choice = choose_font(CJK_TEXT)  # from the installed fonts: here the project's own, alone
    assert choice.missing == ""
    assert choice.faces == (Face(shipped_fonts, 0, SHIPPED_NAME),)
    font = choice.load(40)
    # Real glyphs: every distinct character draws a distinct, non-empty shape (a missing
    # glyph draws the same box for all).
    chars = sorted(set(CJK_TEXT))
    shapes = {glyph(font, c) for c in chars}
    assert len(shapes) == len(chars)
    assert all(any(s) for s in shapes)
    img = Image.new("RGB", (40 * len(CJK_TEXT) + 20, 64), "black")
    font.draw(ImageDraw.Draw(img), (10, 8), CJK_TEXT, fill="white")
    img.save(tmp_path / "cjk.png")


@needs_system_cjk
@pytest.mark.parametrize("text", [CHINESE, JAPANESE])
def test_a_cjk_collection_gives_each_language_its_own_face(text: str) -> None:
    """Where the machine has the Noto CJK collection, fontconfig's order for the text's
    language picks the face: Japanese the JP one, Chinese the Simplified (SC) one."""
    choice = choose_font(text)
    assert choice.missing == ""
    assert len(choice.faces) == 1 and "CJK" in str(choice.faces[0])
    assert ("JP" if text == JAPANESE else "SC") in choice.faces[0].name


def test_a_font_without_the_glyphs_would_draw_boxes(tmp_path: Path) -> None:
    """The measure above can fail: a font without Han draws one box for every Han character."""
    latin = Face(latin_only(tmp_path))
    boxes = fonts.FontChoice(faces=(latin,), coverage=(fonts.coverage(latin),)).load(40)
    chars = sorted(set(CJK_TEXT))
    assert len({glyph(boxes, c) for c in chars}) < len(chars) / 2


@needs_dejavu
def test_accented_latin_and_typographic_punctuation() -> None:
    text = "Émile’s “café” — naïve… «ça» ß Ø"
    choice = choose_font(text)
    assert choice.missing == ""
    font = choice.load(30)
    assert len({glyph(font, c) for c in "É’“”—…«»ßØ"}) == 10


def test_the_users_font_comes_first_and_others_fill_in(shipped_fonts: Path, tmp_path: Path) -> None:
    mine = latin_only(tmp_path)  # the user's font has no Han
    text = f"The storm {CJK_TEXT}"
    choice = choose_font(text, user_font=mine)
    assert choice.faces[0].path == mine  # the user's choice draws what it can
    assert choice.faces[1].path == shipped_fonts  # and an installed font the Han characters
    assert choice.missing == ""
    assert choice.runs(text) == [("The storm ", 0), (CJK_TEXT, 1)]
    font = choice.load(32)
    assert font.getlength(text) > font.getlength("The storm ")


def test_a_bad_user_font_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        choose_font("x", user_font=tmp_path / "nope.ttf")
    junk = tmp_path / "junk.ttf"
    junk.write_bytes(b"not a font" * 50)
    with pytest.raises(InputError, match=r"caption font junk\.ttf cannot be used: it is not a TrueType"):
        choose_font("x", user_font=junk)


@pytest.mark.usefixtures("shipped_fonts")
def test_characters_no_font_has_are_named() -> None:
    # U+13000 (an Egyptian hieroglyph) and a private-use character: in no installed font.
    choice = choose_font("storm \U00013000 \ue000 \U00013000")
    assert choice.missing == "\U00013000\ue000"
    assert describe_missing(choice.missing) == "'\U00013000' (U+13000), '\ue000' (U+E000)"


def test_pillows_embedded_font_is_the_last_resort() -> None:
    choice = choose_font("Hello", candidates=[Face(None)])
    assert choice.faces == (Face(None),) and choice.missing == ""
    assert str(choice.faces[0]) == fonts.EMBEDDED
    assert choice.load(20).getlength("Hello") > 0
    # With no font at all that has the text, Pillow's is used and the characters named.
    han = choose_font("暴风", candidates=[Face(None)])
    assert han.faces == (Face(None),) and han.missing == "暴风"


def test_without_fontconfig_the_font_folders_are_scanned(
    shipped_fonts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fonts.shutil, "which", lambda name: None)
    system_faces.cache_clear()
    try:
        assert fonts._fontconfig(None) is None
        assert Face(shipped_fonts, 0, shipped_fonts.stem) in system_faces(None)  # found in ~/.fonts
        choice = choose_font(CJK_TEXT)
        assert choice.missing == "" and len(choice.faces) == 1
    finally:
        system_faces.cache_clear()


@pytest.mark.usefixtures("shipped_fonts")
def test_choosing_a_font_does_not_import_pillow() -> None:
    """validate may check captions: choosing reads character maps only (where an installed
    font has the text; Pillow's embedded font, the last resort, is Pillow's to read)."""
    code = (
        f"import sys; from storyboard.media.fonts import choose_font; c = choose_font('hi {CJK_TEXT}'); "
        "print(repr(c.missing), sorted(m for m in ('PIL', 'numpy', 'moviepy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "'' []"
