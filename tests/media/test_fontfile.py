"""A font's tables are checked against its file before any library reads it: a crafted font
is refused at validate, located, and render never hands it to fontTools or FreeType."""

from __future__ import annotations

import os
import struct
from pathlib import Path
from unittest import mock

import pytest
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from hypothesis import given, settings
from hypothesis import strategies as st

from storyboard.errors import InputError
from storyboard.media import fontfile, fonts
from tests.prompts.bounded import run


def build(path: Path, chars: dict[int, str] | None = None) -> Path:
    """A real TrueType font, made here: .notdef and a box for each character."""
    chars = chars or {0x41: "A"}
    names = [".notdef", *sorted(set(chars.values()))]
    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder(names)
    fb.setupCharacterMap(chars)
    pen = TTGlyphPen(None)
    pen.moveTo((0, 0))
    pen.lineTo((500, 0))
    pen.lineTo((500, 700))
    pen.closePath()
    fb.setupGlyf({n: pen.glyph() for n in names})
    fb.setupHorizontalMetrics({n: (600, 0) for n in names})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": "Crafted", "styleName": "Regular"})
    fb.setupOS2()
    fb.setupPost()
    fb.save(str(path))
    return path


def table(data: bytes, tag: bytes) -> tuple[int, int, int]:
    """(directory record's offset, table offset, table length) of `tag`."""
    (count,) = struct.unpack(">H", data[4:6])
    for i in range(count):
        rec = 12 + 16 * i
        if data[rec : rec + 4] == tag:
            start, length = struct.unpack(">II", data[rec + 8 : rec + 16])
            return rec, start, length
    raise KeyError(tag)


def patched(path: Path, offset: int, value: bytes) -> Path:
    data = bytearray(path.read_bytes())
    data[offset : offset + len(value)] = value
    path.write_bytes(bytes(data))
    return path


def board(folder: Path, font: str) -> Path:
    path = folder / "board.yaml"
    path.write_text(
        f"storyboard: 1\nprovider: preview\ncaptions: {{burn: true, font: {font}}}\n"
        "shots:\n  - id: a\n    prompt: a quay\n    caption: A\n"
    )
    return path


def test_a_font_made_here_holds(tmp_path: Path) -> None:
    path = build(tmp_path / "ok.ttf")
    assert fontfile.problem(path) is None
    assert fonts.user_face(path).path == path


def test_a_cmap_claiming_2_gb_is_refused_at_validate_located(tmp_path: Path) -> None:
    path = build(tmp_path / "Caption.ttf")
    rec, start, _ = table(path.read_bytes(), b"cmap")
    patched(path, rec + 12, struct.pack(">I", 2**31))
    size = path.stat().st_size
    assert fontfile.problem(path) == (
        f"its 'cmap' table claims 2,147,483,648 bytes at offset {start:,}, past the end of the "
        f"{size:,}-byte file (the file is cut short or crafted)"
    )
    result = run(["-m", "storyboard", "validate", str(board(tmp_path, "Caption.ttf"))])
    assert result.code == 2, result.stderr
    assert "board.yaml:3:30: error: captions.font: 'Caption.ttf': its 'cmap' table claims" in result.stderr
    assert "export the font again, or give another .ttf, .otf or .ttc file" in result.stderr


def test_a_2_gb_font_is_refused_by_its_size_before_a_byte_of_its_tables_is_read(tmp_path: Path) -> None:
    """The red team's font: a cmap of 2 GB in a file of 2 GB (sparse here: no disk is used)."""
    path = build(tmp_path / "Caption.ttf")
    rec, _, _ = table(path.read_bytes(), b"cmap")
    end = path.stat().st_size
    patched(path, rec + 8, struct.pack(">II", end, 2**31))
    with path.open("r+b") as f:
        f.truncate(end + 2**31)
    assert os.stat(path).st_blocks * 512 < 2**20  # sparse: the test writes almost nothing
    assert fontfile.problem(path) == "the font is 2048 MB; a font file is at most 128 MB"
    result = run(["-m", "storyboard", "validate", str(board(tmp_path, "Caption.ttf"))])
    assert result.code == 2 and "the font is 2048 MB; a font file is at most 128 MB" in result.stderr
    assert result.peak_mb < 300  # the kernel's account: nothing of the 2 GB was read
    with pytest.raises(InputError, match="the font is 2048 MB"):
        fonts.user_face(path)


def test_a_character_map_that_maps_all_of_unicode_many_times_is_refused(tmp_path: Path) -> None:
    path = build(tmp_path / "wide.ttf", {0x41: "A", 0x1F600: "B"})  # past U+FFFF: a format 12 table
    data = path.read_bytes()
    _, start, _ = table(data, b"cmap")
    (count,) = struct.unpack(">H", data[start + 2 : start + 4])
    offsets = [struct.unpack(">I", data[start + 8 + 8 * i : start + 12 + 8 * i])[0] for i in range(count)]
    sub = next(start + o for o in offsets if struct.unpack(">H", data[start + o : start + o + 2])[0] == 12)
    patched(path, sub + 16, struct.pack(">III", 0, 0x10FFFF, 1))  # its first group: all of Unicode
    assert fontfile.problem(path) == (
        "its character map ('cmap') maps more than 300,000 characters; Unicode assigns about 150,000"
    )
    patched(path, sub + 12, struct.pack(">I", 2**30))  # and now a billion groups
    assert "claiming 1,073,741,824 groups, more than its" in (fontfile.problem(path) or "")


def test_a_collection_claiming_a_million_faces_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "many.ttc"
    path.write_bytes(b"ttcf" + struct.pack(">HHI", 1, 0, 10**6) + b"\0" * 64)
    assert fontfile.problem(path) == "the collection claims 1,000,000 faces; a font collection holds 1 to 256"


def test_render_never_hands_a_crafted_font_to_a_reader(tmp_path: Path) -> None:
    path = build(tmp_path / "Caption.ttf")
    rec, _, _ = table(path.read_bytes(), b"cmap")
    patched(path, rec + 12, struct.pack(">I", 2**31))
    with mock.patch("fontTools.ttLib.TTFont", side_effect=AssertionError("read")) as reader:
        assert fonts.coverage(fonts.Face(path)) == frozenset()
        with pytest.raises(InputError, match=r"caption font Caption\.ttf cannot be used: its 'cmap' table"):
            fonts.user_face(path)
    assert reader.call_count == 0


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_damage_to_the_directory_or_cmap_is_refused_or_harmless(data: st.DataObject) -> None:
    """Bytes of the header, the directory and the character map overwritten at random: the
    check says what is wrong or lets the font through, and never raises; what it lets
    through, fontTools reads within the file."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = build(Path(tmp) / "f.ttf")
        raw = bytearray(path.read_bytes())
        _, start, length = table(bytes(raw), b"cmap")
        spots = list(range(0, 12 + 16 * 10)) + list(range(start, start + length))
        for _ in range(data.draw(st.integers(1, 6))):
            raw[data.draw(st.sampled_from(spots))] = data.draw(st.integers(0, 255))
        path.write_bytes(bytes(raw))
        found = fontfile.problem(path)
        assert found is None or isinstance(found, str)
        if found is None:
            assert isinstance(fonts._charmap(str(path), 0, 0.0), frozenset)


def test_the_report_page_never_embeds_a_crafted_font(tmp_path: Path) -> None:
    from storyboard.report.webfont import web_font

    path = build(tmp_path / "Caption.ttf", {0x41: "A", 0x6D77: "B"})
    assert web_font(path, "海") is not None
    rec, _, _ = table(path.read_bytes(), b"cmap")
    patched(path, rec + 12, struct.pack(">I", 2**31))
    with mock.patch("fontTools.ttLib.TTFont", side_effect=AssertionError("read")) as reader:
        assert web_font(path, "海") is None
    assert reader.call_count == 0
