"""Fonts that can draw a given text: for burned captions and the preview's cards.

Pillow's embedded font has no CJK glyphs, and storyboards are written in Chinese as often as
in English, so text is drawn with a list of faces: the user's own font (`captions: {font:
FILE}`) first, then installed fonts in fontconfig's order for the text's language (`fc-match
-s`; where fontconfig is missing, the usual font folders are scanned), then Pillow's embedded
font. The first face that can draw every character draws them all (one look); otherwise each
character is drawn by the first face that has it. What no face has is reported in
`FontChoice.missing`, so the caller can warn, naming the characters, instead of drawing boxes.

Choosing reads only the fonts' character maps (fontTools, a few tens of ms); Pillow is
imported only to draw, or when its embedded font is the last resort, so `validate` can check
captions cheaply.

    choice = choose_font("第一章: the storm", user_font=None)
    choice.missing          # "" when every character can be drawn
    font = choice.load(40)  # measures and draws with the faces, at 40 px
    font.draw(ImageDraw.Draw(img), (x, y), text, fill=(255, 255, 255))
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storyboard.errors import InputError
from storyboard.media import fontfile

if TYPE_CHECKING:
    from PIL.ImageDraw import ImageDraw
    from PIL.ImageFont import FreeTypeFont

FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
# Where fonts live when there is no fontconfig to ask.
FONT_FOLDERS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
    "/Library/Fonts",
    "/System/Library/Fonts",
    "~/Library/Fonts",
    "C:/Windows/Fonts",
)
EMBEDDED = "Pillow's embedded font"


@dataclass(frozen=True)
class Face:
    """One font face: a file (and the face's index in a collection), or Pillow's own."""

    path: Path | None  # None: Pillow's embedded font
    index: int = 0
    name: str = ""

    def __str__(self) -> str:
        if self.path is None:
            return EMBEDDED
        return f"{self.name} ({self.path.name})" if self.name else self.path.name


@dataclass(frozen=True)
class FontChoice:
    """The faces that draw a text, most of it by the first, and what none of them can draw."""

    faces: tuple[Face, ...]
    missing: str = ""  # characters no face has, each once, in order of appearance
    coverage: tuple[frozenset[int], ...] = field(default=(), repr=False, compare=False)

    def face_for(self, char: str) -> int | None:
        """Index of the face that draws `char`; None when none has it."""
        cp = ord(char)
        for i, cov in enumerate(self.coverage):
            if cp in cov:
                return i
        return None if self.coverage else 0

    def runs(self, text: str) -> list[tuple[str, int]]:
        """`text` split into (run, face index): each run drawn by one face. Characters no
        face has are left out (a missing glyph draws a box; `missing` names them)."""
        out: list[tuple[str, int]] = []
        for ch in text:
            # Spaces and joiners stay with the run they are in.
            k = (out[-1][1] if out else 0) if not _needs_glyph(ch) else self.face_for(ch)
            if k is None:
                continue
            if out and out[-1][1] == k:
                out[-1] = (out[-1][0] + ch, k)
            else:
                out.append((ch, k))
        return out

    def load(self, size: int) -> TextFont:
        return TextFont(self, size)


def describe_missing(chars: str) -> str:
    """ "'😀' (U+1F600), '𓀀' (U+13000)": characters named so a user can find them."""
    return ", ".join(f"'{c}' (U+{ord(c):04X})" for c in chars)


def _needs_glyph(ch: str) -> bool:
    """Spaces, controls, format characters and variation selectors draw nothing."""
    if unicodedata.category(ch) in ("Cc", "Cf", "Zs", "Zl", "Zp"):
        return False
    return not (0xFE00 <= ord(ch) <= 0xFE0F or 0xE0100 <= ord(ch) <= 0xE01EF)


def _wanted(text: str) -> list[int]:
    seen: dict[int, None] = {}
    for ch in text:
        if _needs_glyph(ch):
            seen.setdefault(ord(ch), None)
    return list(seen)


def language_of(text: str) -> str | None:
    """A fontconfig language for text in a CJK script (faces differ by locale), else None."""
    han = False
    for ch in text:
        cp = ord(ch)
        if 0x3040 <= cp <= 0x30FF or 0x31F0 <= cp <= 0x31FF or 0xFF66 <= cp <= 0xFF9F:
            return "ja"  # kana: Japanese
        if 0xAC00 <= cp <= 0xD7AF or 0x1100 <= cp <= 0x11FF or 0x3130 <= cp <= 0x318F:
            return "ko"
        if 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2FFFF:
            han = True
    return "zh-cn" if han else None


@cache
def _charmap(path: str, index: int, mtime: float) -> frozenset[int]:
    """The code points a face has glyphs for (its best cmap); empty if it cannot be read."""
    from fontTools.ttLib import TTFont  # a few tens of ms: only when fonts are chosen

    if fontfile.problem(path) is not None:  # its tables claim more than the file holds
        return frozenset()
    try:
        with TTFont(path, fontNumber=index, lazy=True) as font:
            return frozenset(font.getBestCmap() or {})
    except Exception:  # any unreadable font is simply not a candidate
        return frozenset()


@cache
def _embedded_charmap() -> frozenset[int]:
    from fontTools.ttLib import TTFont  # lazy: start-up
    from PIL import ImageFont  # lazy: start-up

    data = getattr(ImageFont.load_default(size=12), "font_bytes", None)
    if not data:  # Pillow built without FreeType: a bitmap font of Latin-1
        return frozenset(range(0x20, 0x7F))
    with TTFont(BytesIO(data), lazy=True) as font:
        return frozenset(font.getBestCmap() or {})


def coverage(face: Face) -> frozenset[int]:
    if face.path is None:
        return _embedded_charmap()
    try:
        mtime = face.path.stat().st_mtime
    except OSError:
        return frozenset()
    return _charmap(str(face.path), face.index, mtime)


def _faces_in(path: Path) -> list[Face]:
    """Every face of a font file (a .ttc holds several)."""
    if path.suffix.lower() not in (".ttc", ".otc"):
        return [Face(path, 0, path.stem)]
    if fontfile.problem(path) is not None:
        return []
    try:
        from fontTools.ttLib import TTCollection  # lazy: start-up

        with TTCollection(str(path), lazy=True) as coll:
            return [Face(path, i, f["name"].getDebugName(1) or path.stem) for i, f in enumerate(coll.fonts)]
    except Exception:
        return []


def _fontconfig(lang: str | None) -> list[Face] | None:
    """Installed fonts in fontconfig's order of preference for `lang`; None without it."""
    exe = shutil.which("fc-match")
    if exe is None:
        return None
    pattern = "sans-serif" + (f":lang={lang}" if lang else "")
    try:
        out = subprocess.run(
            [exe, "-s", "--format", "%{file}\t%{index}\t%{family[0]}\n", pattern],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    faces = []
    for line in out.splitlines():
        file, _, rest = line.partition("\t")
        index, _, name = rest.partition("\t")
        if file and Path(file).suffix.lower() in FONT_SUFFIXES:
            faces.append(Face(Path(file), int(index) if index.isdigit() else 0, name))
    return faces


def _scan(folders: Iterable[str] = FONT_FOLDERS) -> list[Face]:
    """Fonts in the usual folders, regular sans faces first."""
    files: list[Path] = []
    for folder in folders:
        root = Path(os.path.expanduser(folder))
        if root.is_dir():
            files += [p for p in root.rglob("*") if p.suffix.lower() in FONT_SUFFIXES and p.is_file()]

    def rank(p: Path) -> tuple[bool, bool, str]:
        name = p.name.lower()
        styled = any(s in name for s in ("bold", "italic", "oblique", "light", "thin", "mono", "math"))
        return ("sans" not in name, styled, name)

    return [face for p in sorted(set(files), key=rank) for face in _faces_in(p)]


@cache
def system_faces(lang: str | None = None) -> tuple[Face, ...]:
    """Installed font faces, best first for text in `lang` (fontconfig's order, or a scan)."""
    found = _fontconfig(lang)
    return tuple(found if found is not None else _scan())


def user_face(path: Path) -> Face:
    """The user's own font file, checked; InputError (with what to do) when unusable."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"caption font {path} not found", hint="give a .ttf, .otf or .ttc file")
    broken = fontfile.problem(path)
    if broken is not None:
        raise InputError(
            f"caption font {path.name} cannot be used: {broken}",
            hint="export the font again, or give another .ttf, .otf or .ttc file",
        )
    face = Face(path, 0, path.stem)
    if not coverage(face):
        raise InputError(
            f"caption font {path.name} is not a font that can be read",
            hint="give a TrueType or OpenType file (.ttf, .otf, .ttc)",
        )
    return face


def choose_font(
    text: str, user_font: Path | None = None, *, candidates: Sequence[Face] | None = None
) -> FontChoice:
    """The faces to draw `text` with, and the characters none of them can draw.

    The user's font always comes first; then, in order, the first candidate that has every
    remaining character (or, failing that, the one that has most of them), until nothing is
    left or no candidate helps. `candidates` defaults to the installed fonts for the text's
    language, then Pillow's embedded font.
    """
    pool = list(candidates) if candidates is not None else [*system_faces(language_of(text)), Face(None)]
    need = _wanted(text)
    faces: list[Face] = []
    covs: list[frozenset[int]] = []
    if user_font is not None:
        face = user_face(user_font)
        faces.append(face)
        covs.append(coverage(face))
    left = [cp for cp in need if not any(cp in c for c in covs)]
    tried: set[Face] = set(faces)
    while left or not faces:
        best: tuple[int, Face, frozenset[int]] | None = None
        for face in pool:
            if face in tried:
                continue
            cov = coverage(face)
            n = sum(cp in cov for cp in left)
            if best is None or n > best[0]:
                best = (n, face, cov)
            if n == len(left):
                break  # the first that has everything (fontconfig's order is preference)
        if best is None or (best[0] == 0 and faces):
            break
        n, face, cov = best
        tried.add(face)
        faces.append(face)
        covs.append(cov)
        left = [cp for cp in left if cp not in cov]
    if not faces:  # no fonts at all: Pillow's own, even if it cannot draw this text
        faces, covs = [Face(None)], [coverage(Face(None))]
    return FontChoice(faces=tuple(faces), missing="".join(map(chr, left)), coverage=tuple(covs))


class TextFont:
    """A FontChoice loaded at one pixel size: measures and draws text run by run, every run on
    one baseline, each run in the face that has its characters."""

    def __init__(self, choice: FontChoice, size: int) -> None:
        from PIL import ImageFont  # lazy: start-up

        self.choice = choice
        self.size = size
        self.fonts: list[FreeTypeFont] = []
        for face in choice.faces:
            if face.path is None:
                self.fonts.append(ImageFont.load_default(size=size))  # type: ignore[arg-type]
            else:
                self.fonts.append(ImageFont.truetype(str(face.path), size, index=face.index))

    def getmetrics(self) -> tuple[int, int]:
        """(ascent, descent) that every face's text fits within."""
        metrics = [f.getmetrics() for f in self.fonts]
        return max(a for a, _ in metrics), max(d for _, d in metrics)

    def getlength(self, text: str) -> float:
        return sum(self.fonts[k].getlength(run) for run, k in self.choice.runs(text))

    def draw(self, draw: ImageDraw, xy: tuple[float, float], text: str, **kw: Any) -> None:
        """Draw `text` with its top at xy[1] (like ImageDraw.text); kw as ImageDraw.text's."""
        x, y = xy
        baseline = y + self.getmetrics()[0]
        for run, k in self.choice.runs(text):
            draw.text((x, baseline), run, font=self.fonts[k], anchor="ls", **kw)
            x += self.fonts[k].getlength(run)


def _main(argv: Sequence[str]) -> None:  # python -m storyboard.media.fonts TEXT [FONT]
    choice = choose_font(argv[0], Path(argv[1]) if len(argv) > 1 else None)
    for face in choice.faces:
        print(face)
    if choice.missing:
        print("missing:", describe_missing(choice.missing))


if __name__ == "__main__":
    _main(sys.argv[1:])
