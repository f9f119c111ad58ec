"""Captions: SRT text and timing in the cut, and the images burned into the picture."""

from __future__ import annotations

import subprocess
from pathlib import Path

from PIL import Image

from storyboard.media.ffmpeg import ffmpeg_exe
from storyboard.stitch.captions import render_caption, srt_text
from storyboard.stitch.spec import CutSpec
from tests.fonts import CJK_TEXT
from tests.stitch.conftest import clip


def cut(*clips, **kw) -> CutSpec:  # type: ignore[no-untyped-def]
    return CutSpec(clips=tuple(clips), output=Path("film.mp4"), size=(1280, 720), **kw)


def test_srt_follows_trims_and_splits_crossfades_at_the_midpoint() -> None:
    s = cut(
        clip("a", Path("a.mp4"), (0, 8), caption="First"),
        clip("b", Path("b.mp4"), (2, 6), caption="Second", transition="crossfade", transition_duration=1.0),
        clip("c", Path("c.mp4"), (0, 8)),
        clip(
            "d",
            Path("d.mp4"),
            (1, 3),
            caption="Fourth\n\n  two lines ",
            transition="fade",
            transition_duration=0.5,
        ),
    )
    assert srt_text(s) == (
        "1\n00:00:00,000 --> 00:00:07,500\nFirst\n\n"
        "2\n00:00:07,500 --> 00:00:11,000\nSecond\n\n"
        "3\n00:00:19,000 --> 00:00:21,000\nFourth\ntwo lines\n"
    )


def test_srt_uses_the_clips_real_lengths_when_known() -> None:
    s = cut(clip("a", Path("a.mp4"), (0, 8), caption="A"), clip("b", Path("b.mp4"), (0, 8), caption="B"))
    # Veo clips run short of 8 s; the second caption starts when the first clip ends.
    assert "00:00:07,958 --> 00:00:15,917\nB" in srt_text(s, [7.96, 7.96])


def test_long_captions_wrap_inside_the_frame(tmp_path: Path) -> None:
    short = tmp_path / "short.png"
    long = tmp_path / "long.png"
    x1, y1 = render_caption("Hi", short, (1280, 720), size=0.05)
    _, y2 = render_caption("word " * 60, long, (1280, 720), size=0.05)
    a, b = Image.open(short), Image.open(long)
    assert a.mode == b.mode == "RGBA"
    assert b.width <= 1280 * 0.9 + 40 and b.height >= 3 * a.height  # several lines
    assert y2 + b.height <= 720 and y1 + a.height <= 720 and y2 < y1  # bottom, grows upward
    assert x1 % 2 == 0 and y1 % 2 == 0
    assert abs(x1 + a.width / 2 - 640) <= 2  # centred
    top = tmp_path / "top.png"
    _, y3 = render_caption("Hi", top, (1280, 720), size=0.05, position="top")
    assert y3 < 100
    # Text height follows `size`.
    big = tmp_path / "big.png"
    render_caption("Hi", big, (1280, 720), size=0.1)
    assert Image.open(big).height > 1.6 * a.height
    # A single word wider than the frame is broken rather than overflowing.
    render_caption("x" * 400, long, (320, 180), size=0.1)
    assert Image.open(long).width <= 320


def _cues_as_ffmpeg_reads_them(tmp_path: Path, srt: str) -> list[tuple[str, str, str]]:
    """(start, end, text) of each cue, as ffmpeg's own SRT reader finds them (written out as
    ASS, one Dialogue line a cue; its \\N is a line break)."""
    path = tmp_path / "film.srt"
    path.write_text(srt, encoding="utf-8")
    out = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(path), "-f", "ass", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cues = []
    for line in out.splitlines():
        if line.startswith("Dialogue:"):
            fields = line.split(",", 9)
            cues.append((fields[1], fields[2], fields[9].replace("\\N", "\n").replace("\u2060", "")))
    return cues


def test_a_caption_is_one_cue_whatever_it_holds(tmp_path: Path) -> None:
    hostile = "Hello\n\n2\n00:00:00,000 --> 00:00:20,000\nInjected"
    s = cut(
        clip("a", Path("a.mp4"), (0, 8), caption=hostile),
        clip("b", Path("b.mp4"), (0, 8), caption="Second\n 3 \n-->"),
    )
    cues = _cues_as_ffmpeg_reads_them(tmp_path, srt_text(s))
    assert cues == [
        ("0:00:00.00", "0:00:08.00", "Hello\n2\n00:00:00,000 --> 00:00:20,000\nInjected"),
        ("0:00:08.00", "0:00:16.00", "Second\n3\n-->"),
    ]


MARKUP = [
    "<i>whispered</i>",
    "{\\an8}on top",
    "<font color=red>red</font> and <x>y</x>",
    "a {note} in braces",
    "<b>{\\i1}both{\\i0}</b>",
]


def test_markup_in_a_caption_is_written_as_text(tmp_path: Path, shipped_fonts: Path) -> None:
    """Tags and ASS override blocks in a caption's text are shown as written, not applied: read
    back by ffmpeg's own SubRip decoder (what ffmpeg and mpv play the .srt with), every cue's
    text holds no ASS block and no tag it applied, and reads as the caption (with the word
    joiners and fullwidth braces it was written with); libass, drawing the cue, draws it
    where a caption goes, at the bottom, however `{\\an8}` asks."""
    s = cut(*(clip(str(n), Path(f"{n}.mp4"), (0, 2), caption=text) for n, text in enumerate(MARKUP)))
    srt = tmp_path / "film.srt"
    srt.write_text(srt_text(s), encoding="utf-8")
    ass = tmp_path / "film.ass"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(srt), str(ass)], check=True)
    events = [
        line.split(",", 9)[9]
        for line in ass.read_text(encoding="utf-8").splitlines()
        if line.startswith("Dialogue:")
    ]
    assert len(events) == len(MARKUP)
    for text, event in zip(MARKUP, events, strict=True):
        assert "{" not in event and "}" not in event, event  # no block a renderer would apply or hide
        shown = event.replace("\u2060", "").replace("\uff5b", "{").replace("\uff5d", "}")
        assert shown == text
    one = tmp_path / "one.srt"
    one.write_text(
        srt_text(cut(clip("a", Path("a.mp4"), (0, 2), caption="{\\an8}" + CJK_TEXT))), encoding="utf-8"
    )
    args = [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "color=c=black:s=320x180:d=1"]
    args += ["-vf", f"subtitles={one}:fontsdir={shipped_fonts.parent}", "-frames:v", "1"]
    drawn = subprocess.run(
        [*args, "-f", "rawvideo", "-pix_fmt", "gray", "-"], check=True, capture_output=True
    ).stdout
    lit = [y for y in range(180) if max(drawn[y * 320 : (y + 1) * 320]) > 128]
    assert lit and min(lit) > 90  # drawn, in the lower half
