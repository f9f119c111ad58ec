"""Captions: the .srt written beside every cut, and the images burned into the picture.

Text is drawn with the faces media/fonts.py chooses for it (the user's `captions.font`,
installed fonts for its script, Pillow's embedded font last) and laid over the picture by
ffmpeg's overlay filter while its shot is on screen. Characters no font can draw are named in
a warning with their shot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from storyboard.media.fonts import FontChoice, TextFont, choose_font, describe_missing
from storyboard.stitch.spec import CutSpec
from storyboard.stitch.timeline import Timeline, layout

if TYPE_CHECKING:
    from PIL.Image import Image


def _stamp(seconds: float) -> str:
    ms = max(round(seconds * 1000), 0)
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def _clean(text: str) -> str:
    # A blank line ends an SRT entry, so a caption may not contain one.
    return "\n".join(line.strip() for line in text.strip().splitlines() if line.strip())


# SRT has no escapes, and readers are lenient: ffmpeg starts a new cue at any line holding a
# timing (`-->`), blank line before it or not. A word joiner inside the arrow (zero width, not
# a space: the caption reads the same) keeps a caption's own lines from being taken for the
# timing of another cue, so a caption is always one cue.
_ARROW = "-->"
_JOINED_ARROW = "--\u2060>"
# Readers take markup in a cue's text as commands: HTML-like tags (`<i>`, `<font ...>`; ffmpeg,
# and so mpv, also drops any unknown `<x>...</x>` pair) and ASS override blocks (`{\an8}`
# moves it, and libass hides any `{...}`, even one without a backslash). A caption is text:
# a word joiner after each `<` leaves no tag name a reader knows (shown as typed), and braces
# become their fullwidth forms, which no reader takes for a block (a joiner after `{` is not
# enough: libass still applies `{\u2060\an8}`).
_AS_TEXT = str.maketrans({"<": "<\u2060", "{": "\uff5b", "}": "\uff5d"})


def srt_caption(text: str) -> str:
    """A caption as the text of one SRT cue, shown as written: no blank line, no line a
    reader takes for the timing of another cue, no markup a reader applies."""
    return _clean(text).replace(_ARROW, _JOINED_ARROW).translate(_AS_TEXT)


def timeline_srt(timeline: Timeline) -> str:
    entries = []
    for n, (a, b, text) in enumerate(timeline.caption_windows(), start=1):
        entries.append(f"{n}\n{_stamp(a)} --> {_stamp(b)}\n{srt_caption(text)}\n")
    return "\n".join(entries)


def srt_text(spec: CutSpec, available: Sequence[float | None] | None = None) -> str:
    """The cut's captions as SRT: caption i spans the time shot i is on screen in the cut.

    Trims are honoured and a crossfade's overlap is split at its midpoint. `available` gives
    the clips' real picture lengths when known (stitch() passes them); otherwise the trims
    are taken as given.
    """
    return timeline_srt(layout(spec, available))


@dataclass(frozen=True)
class CaptionImage:
    path: Path
    x: int
    y: int
    start: float
    end: float


def _wrap(text: str, font: TextFont, width: float) -> list[str]:
    """Greedy word wrap to `width` pixels; a word longer than a line is broken (so is a
    line of Chinese or Japanese, which has no spaces)."""
    measure = font.getlength
    lines: list[str] = []
    for para in _clean(text).splitlines():
        line = ""
        for word in para.split():
            trial = f"{line} {word}" if line else word
            if measure(trial) <= width:
                line = trial
                continue
            if line:
                lines.append(line)
            while measure(word) > width and len(word) > 1:
                lo, hi = 1, len(word) - 1  # the longest prefix that fits, by bisection
                while lo < hi:
                    mid = (lo + hi + 1) // 2
                    if measure(word[:mid]) <= width:
                        lo = mid
                    else:
                        hi = mid - 1
                cut = lo
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        if line:
            lines.append(line)
    return lines or [""]


def caption_image(
    text: str,
    frame: tuple[int, int],
    *,
    size: float = 0.05,
    position: str = "bottom",
    font_file: Path | None = None,
    choice: FontChoice | None = None,
) -> tuple[Image, int, int]:
    """`text` drawn as an RGBA image (white, outlined, on a translucent dark box) and its
    top-left corner in a frame of size `frame`. `choice`: the faces to draw with (default:
    chosen for the text, the user's `font_file` first)."""
    from PIL import Image, ImageDraw  # lazy: start-up

    fw, fh = frame
    px = max(round(size * fh), 8)
    font = (choice or choose_font(text, font_file)).load(px)
    pad = max(px // 3, 2)
    stroke = max(px // 16, 1)
    lines = _wrap(text, font, fw * 0.9 - 2 * pad)
    ascent, descent = font.getmetrics()
    line_h = ascent + descent + px // 5
    widths = [font.getlength(line) for line in lines]
    w = min(int(max(widths)) + 2 * pad + 2 * stroke, fw)
    h = min(line_h * len(lines) + 2 * pad, fh)
    w += w % 2  # even sizes and offsets keep 4:2:0 chroma aligned
    h += h % 2
    img = Image.new("RGBA", (w, h), (0, 0, 0, 150))
    draw = ImageDraw.Draw(img)
    for i, (line, lw) in enumerate(zip(lines, widths, strict=True)):
        font.draw(
            draw,
            ((w - lw) / 2, pad + i * line_h),
            line,
            fill=(255, 255, 255, 255),
            stroke_width=stroke,
            stroke_fill=(0, 0, 0, 255),
        )
    margin = round(fh * 0.06)
    x = max((fw - w) // 2, 0)
    y = margin if position == "top" else max(fh - margin - h, 0)
    return img, x - x % 2, y - y % 2


def render_caption(
    text: str,
    path: Path,
    frame: tuple[int, int],
    *,
    size: float = 0.05,
    position: str = "bottom",
    font_file: Path | None = None,
    choice: FontChoice | None = None,
) -> tuple[int, int]:
    """caption_image() saved as a PNG at `path`; returns its top-left corner."""
    img, x, y = caption_image(text, frame, size=size, position=position, font_file=font_file, choice=choice)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return x, y


def missing_glyphs(shot_id: str, choice: FontChoice) -> str | None:
    """The warning for a caption with characters no font can draw, or None."""
    if not choice.missing:
        return None
    return (
        f"shot {shot_id!r}: no font can draw {describe_missing(choice.missing)} of its caption "
        "(they are left out; set captions.font to a font that has them, or install one)"
    )


def caption_images(spec: CutSpec, timeline: Timeline, folder: Path) -> tuple[list[CaptionImage], list[str]]:
    """One PNG per captioned shot, with where and when it is shown; and the warnings."""
    out = []
    warnings = []
    for n, (a, b, text, shot_id) in enumerate(timeline.caption_shots()):
        path = folder / f"caption-{n:03d}.png"
        assert spec.size is not None
        choice = choose_font(text, spec.caption_font)
        if (warning := missing_glyphs(shot_id, choice)) is not None:
            warnings.append(warning)
        x, y = render_caption(
            text, path, spec.size, size=spec.caption_size, position=spec.caption_position, choice=choice
        )
        out.append(CaptionImage(path=path, x=x, y=y, start=a, end=b))
    return out, warnings
