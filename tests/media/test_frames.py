"""Stills from real clips: the last frame (what a `continues` shot starts from) and a frame at t."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from storyboard.errors import StitchError
from storyboard.media.ffmpeg import run
from storyboard.media.frames import first_frame, frame_at, last_frame
from tests.clips import make_clip, make_tone


def colour(png: Path) -> tuple[int, int, int]:
    with Image.open(png) as im:
        assert im.format == "PNG"
        r, g, b = im.convert("RGB").getpixel((im.width // 2, im.height // 2))[:3]
        return r, g, b


def is_(rgb: tuple[int, int, int], want: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 30 for a, b in zip(rgb, want, strict=True))


@pytest.fixture(scope="module")
def red_then_blue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1 s red then 1 s blue, with sound: the last frame is blue, the first red."""
    out = tmp_path_factory.mktemp("clips") / "red-blue.mp4"
    graph = (
        "color=c=red:s=160x90:r=24:d=1[a];color=c=blue:s=160x90:r=24:d=1[b];"
        "[a][b]concat=n=2:v=1:a=0,format=yuv420p[v];sine=f=440:d=2[s]"
    )
    run(["-y", "-filter_complex", graph, "-map", "[v]", "-map", "[s]", "-c:v", "libx264",
         "-preset", "ultrafast", "-c:a", "aac", str(out)])  # fmt: skip
    return out


def test_last_frame_is_the_end(tmp_path: Path, red_then_blue: Path) -> None:
    out = last_frame(red_then_blue, tmp_path / "frames" / "last.png")
    assert out == tmp_path / "frames" / "last.png"
    assert is_(colour(out), (0, 0, 255))
    assert Image.open(out).size == (160, 90)
    assert [p.name for p in out.parent.iterdir()] == ["last.png"]  # no temp left behind


def test_first_and_middle_frames(tmp_path: Path, red_then_blue: Path) -> None:
    assert is_(colour(first_frame(red_then_blue, tmp_path / "first.png")), (255, 0, 0))
    assert is_(colour(frame_at(red_then_blue, 0.5, tmp_path / "a.png")), (255, 0, 0))
    assert is_(colour(frame_at(red_then_blue, 1.5, tmp_path / "b.png")), (0, 0, 255))


def test_last_frame_when_the_sound_outlasts_the_picture(tmp_path: Path) -> None:
    """The file's end is 2 s of sound after 1 s of picture: seeking from the end finds no
    picture, so the whole clip is decoded instead."""
    clip = tmp_path / "long-sound.mp4"
    run(["-y", "-f", "lavfi", "-i", "color=c=lime:s=160x90:r=24:d=1", "-f", "lavfi",
         "-i", "sine=f=440:d=3", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt",
         "yuv420p", "-c:a", "aac", str(clip)])  # fmt: skip
    assert is_(colour(last_frame(clip, tmp_path / "last.png")), (0, 255, 0))


def test_last_frame_of_a_very_short_clip(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "short.mp4", seconds=0.1, color="yellow")
    assert is_(colour(last_frame(clip, tmp_path / "last.png")), (255, 255, 0))


def test_last_frame_overwrites(tmp_path: Path, red_then_blue: Path) -> None:
    out = tmp_path / "last.png"
    out.write_bytes(b"stale")
    assert is_(colour(last_frame(red_then_blue, out)), (0, 0, 255))


def test_errors_are_clear(tmp_path: Path, red_then_blue: Path) -> None:
    with pytest.raises(StitchError, match="does not exist"):
        last_frame(tmp_path / "missing.mp4", tmp_path / "x.png")
    with pytest.raises(StitchError, match="shorter"):
        frame_at(red_then_blue, 5.0, tmp_path / "x.png")
    with pytest.raises(StitchError, match=">= 0"):
        frame_at(red_then_blue, -1, tmp_path / "x.png")
    sound = make_tone(tmp_path / "tone.m4a", seconds=1)
    with pytest.raises(StitchError):
        last_frame(sound, tmp_path / "x.png")
    not_media = tmp_path / "junk.mp4"
    not_media.write_bytes(b"junk" * 100)
    with pytest.raises(StitchError):
        last_frame(not_media, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
