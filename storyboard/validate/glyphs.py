"""Captions no font can draw: a located warning naming the characters, never boxes in silence.

Only text beyond ASCII is looked at (Pillow's own font draws ASCII on any machine), against
the storyboard's `captions.font` first, then the fonts installed here (media.fonts, which
loads no image library).
"""

from __future__ import annotations

from collections.abc import Iterable

from storyboard.board.model import Shot, Storyboard
from storyboard.errors import Problem, Severity


def caption_warnings(sb: Storyboard, captions: Iterable[tuple[Shot, str | None]]) -> list[Problem]:
    """A warning for each caption (`(shot, rendered text)`) with characters no font draws."""
    out = []
    for shot, text in captions:
        if not text or text.isascii():
            continue
        from storyboard.media.fonts import choose_font, describe_missing  # only for such text

        missing = choose_font(text, sb.captions.font).missing
        if not missing:
            continue
        path = ("shots", shot.index, "caption")
        out.append(
            Problem(
                f"no font here can draw {describe_missing(missing)} of this caption: they would be "
                "left out of the picture (the .srt keeps them)",
                f"shots[{shot.index}].caption",
                sb.location(path),
                "give a font that has them: captions: {font: fonts/YourFont.otf} (a .ttf, .otf or "
                ".ttc file in this folder), or install one (Debian: fonts-noto-cjk)",
                severity=Severity.WARNING,
            )
        )
    return out
