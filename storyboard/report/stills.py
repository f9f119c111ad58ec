"""Frames of a clip as small embedded JPEGs: the page carries its pictures inside it.

A 720p PNG is about a megabyte; a 480-pixel-wide JPEG of it some 30 KB, so the stills of a
21-shot film make a page of a few megabytes.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from pathlib import Path

from storyboard.media.frames import first_frame, frame_at, last_frame
from storyboard.report.model import Still

WIDTH = 480  # pixels: sharp in a card, small in the page
STRIP = 160  # pixels: the strip of every shot
QUALITY = 82


def data_uri(image: Path, width: int = WIDTH) -> str:
    """An image file as a JPEG data: URI no wider than `width`."""
    from PIL import Image  # lazy: start-up

    with Image.open(image) as im:
        im.load()
        rgb = im.convert("RGB")
    if rgb.width > width:
        rgb = rgb.resize((width, max(1, round(rgb.height * width / rgb.width))), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    rgb.save(buf, format="JPEG", quality=QUALITY, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def stills(clip: Path, seconds: float, fps: float, work: Path) -> tuple[Still, ...]:
    """The clip's first, middle and last frames (`seconds` long at `fps`)."""
    work.mkdir(parents=True, exist_ok=True)
    stem = clip.stem[:16]
    middle = seconds / 2
    shots: Sequence[tuple[str, float, Path]] = (
        ("first", 0.0, first_frame(clip, work / f"{stem}-first.png")),
        ("middle", middle, frame_at(clip, middle, work / f"{stem}-middle.png")),
        ("last", max(seconds - 1 / fps, 0.0), last_frame(clip, work / f"{stem}-last.png")),
    )
    return tuple(
        Still(label, t, data_uri(path), data_uri(path, STRIP) if label == "middle" else None)
        for label, t, path in shots
    )
