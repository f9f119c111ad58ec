"""The storyboard's caption font as the page's web font, so the page draws its title and
captions as the film does, on a machine with no such font installed.

The font is embedded (a data: URI in an `@font-face` rule), cut down to the characters
the page shows beyond ASCII: a CJK font of 16 MB becomes a few kilobytes, and the page
needs no file beside it (a browser refuses a font linked from a page opened as a file).
Being only those characters, it stands first in the page's font stack: ASCII is drawn by
the system's fonts as before, and the rest by the storyboard's own.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path

from storyboard.media import fontfile

FAMILY = "storyboard-caption"  # the name the page's styles give it
MAX_FONT = 64 * 1024 * 1024  # a font file larger than this is not read for a page


@dataclass(frozen=True)
class WebFont:
    family: str
    data_uri: str  # the font, cut down to the page's text
    format: str  # the CSS format() hint: "opentype", "truetype"


def _subset(path: Path, text: str) -> tuple[bytes, str] | None:
    from fontTools import subset  # lazy: start-up
    from fontTools.ttLib import TTFont  # lazy: start-up

    try:
        font = TTFont(str(path), fontNumber=0, lazy=True)
        options = subset.Options()
        options.layout_features = ["*"]
        options.name_IDs = ["*"]
        options.notdef_outline = True
        sub = subset.Subsetter(options)
        sub.populate(text=text)
        sub.subset(font)
        out = io.BytesIO()
        font.save(out)
        kind = "opentype" if "CFF " in font or "CFF2" in font else "truetype"
    except Exception:  # a font fontTools cannot cut: the page keeps its system fonts
        return None
    return out.getvalue(), kind


def web_font(path: Path | None, text: str) -> WebFont | None:
    """The font at `path` as a web font for `text` (None: no font, or none usable)."""
    if path is None:
        return None
    path = Path(path)
    try:
        if not path.is_file() or path.stat().st_size > MAX_FONT:
            return None
    except OSError:
        return None
    if fontfile.problem(path) is not None:  # its tables claim more than the file holds
        return None
    wanted = "".join(sorted({c for c in text if not c.isascii() and not c.isspace()}))
    made = _subset(path, wanted + " ")
    if made is None:
        return None
    data, kind = made
    mime = "font/otf" if kind == "opentype" else "font/ttf"
    return WebFont(FAMILY, f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}", kind)
