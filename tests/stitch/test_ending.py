"""The film's end fade (`ending: {type: fade, duration: d}`), made for real and measured: the
last frames darken evenly to a black last frame, the sound (music too) goes silent with them,
the film keeps its length, and the picture before the fade is the same as without it (copied
packet for packet where the clips allow), on every way a cut is made."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import pytest

from storyboard.errors import StitchError
from storyboard.stitch import manifest
from storyboard.stitch.cut import stitch
from storyboard.stitch.spec import CutSpec, MusicSpec
from storyboard.stitch.timeline import layout
from tests.stitch.conftest import (
    all_frames,
    clip,
    decode_errors,
    frame,
    level,
    packet_crcs,
    pixel,
    stream_lengths,
)

FPS = 24
FRAME = 1 / FPS
SILENT = -80.0  # dB: AAC-coded digital silence measures about -91
BLUE = 254  # the blue clip's blue, as decoded


def film(tmp_path: Path, media: dict[str, Path], name: str, **kw: object) -> CutSpec:
    """Red (2 s) then blue (2 s), joined by a cut: clips whose GOPs can be copied."""
    clips = (clip("a", media["red"]), clip("b", media["blue"]))
    return CutSpec(clips=clips, output=tmp_path / name / "film.mp4", size=(160, 90), **kw)  # type: ignore[arg-type]


def _mad(a: bytes, b: bytes) -> float:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


def check_fade(path: Path, end: float, seconds: float) -> None:
    """The last `seconds` darken frame by frame to a black last frame; before them, untouched."""
    n = round(seconds * FPS)
    blues = [
        pixel(path, end - (n + 1 - k) * FRAME)[2] for k in range(n + 1)
    ]  # the untouched frame, then the fade
    assert blues[0] >= BLUE - 3, blues
    assert all(a > b for a, b in itertools.pairwise(blues)), blues  # darker frame by frame
    for k, b in enumerate(blues):  # evenly: frame k of n at 1 - k/n
        assert b == pytest.approx(BLUE * (1 - k / n), abs=6), (k, blues)
    assert max(pixel(path, end - FRAME)) <= 2  # the last frame is black
    assert level(path, end - FRAME, end) < SILENT  # and silent
    assert level(path, end - seconds - 0.5, end - seconds - 0.1) > -30  # heard before the fade
    assert level(path, end - seconds / 2, end - seconds / 2 + FRAME) < level(path, 3.0, 3.0 + FRAME) - 4


def test_the_film_fades_out_at_its_end_copying_the_picture_before_it(tmp_path: Path, media) -> None:  # type: ignore[no-untyped-def]
    plain = stitch(film(tmp_path, media, "plain"))
    assert plain.method == "copy-picture"  # (these tiny clips' sound is not in whole AAC frames)
    faded = stitch(film(tmp_path, media, "faded", ending=0.5))
    assert faded.method == "encode-joins"
    assert faded.why == ("the film fades to black at its end",)
    assert faded.duration == plain.duration == pytest.approx(4.0)  # the length unchanged
    lengths = stream_lengths(faded.output)
    assert lengths["video"] == pytest.approx(4.0, abs=1e-6) and lengths["audio"] == pytest.approx(
        4.0, abs=FRAME
    )
    assert decode_errors(faded.output) == ""
    check_fade(faded.output, 4.0, 0.5)
    # Before the fade the picture is the clips' own: red whole, and the blue clip's GOPs up
    # to the fade (frames 0-35 of 48, three GOPs of 12), packet for packet.
    crcs = packet_crcs(faded.output)
    assert crcs[:48] == packet_crcs(media["red"])
    assert crcs[48:84] == packet_crcs(media["blue"])[:36]
    ours, theirs = all_frames(faded.output), all_frames(plain.output)
    assert len(ours) == len(theirs) == 96
    assert max(_mad(x, y) for x, y in zip(ours[:84], theirs[:84], strict=True)) < 1


def test_every_frame_encoded_and_music_fade_out_with_the_picture(tmp_path: Path, media) -> None:  # type: ignore[no-untyped-def]
    music = MusicSpec(media["music"], volume=0.5, fade_out=0.0)  # the music's own fade: none
    plain = stitch(film(tmp_path, media, "plain", music=music), engine="reencode")
    faded = stitch(film(tmp_path, media, "faded", music=music, ending=1.0), engine="reencode")
    assert faded.method == "encode" and faded.duration == pytest.approx(4.0)
    check_fade(faded.output, 4.0, 1.0)
    assert level(faded.output, 2.5, 2.9, music_only=True) > -45  # the music plays up to the fade...
    assert level(faded.output, 4.0 - FRAME, 4.0, music_only=True) < SILENT  # ...and fades with it
    ours, theirs = all_frames(faded.output), all_frames(plain.output)
    assert max(_mad(x, y) for x, y in zip(ours[:72], theirs[:72], strict=True)) < 1  # untouched before
    assert _mad(ours[-1], theirs[-1]) > 20


def test_the_fade_with_music_on_the_fast_path(tmp_path: Path, media) -> None:  # type: ignore[no-untyped-def]
    music = MusicSpec(media["music"], volume=0.5, fade_out=0.0, duck=True)
    faded = stitch(film(tmp_path, media, "faded", music=music, ending=0.5))
    assert faded.method == "encode-joins"
    check_fade(faded.output, 4.0, 0.5)
    assert level(faded.output, 4.0 - FRAME, 4.0, music_only=True) < SILENT


def test_moviepy_fades_out_as_the_fast_path_does(tmp_path: Path, media) -> None:  # type: ignore[no-untyped-def]
    fast = stitch(film(tmp_path, media, "fast", ending=0.5))
    composed = stitch(film(tmp_path, media, "moviepy", ending=0.5), engine="moviepy")
    assert composed.method == "moviepy" and composed.duration == pytest.approx(4.0)
    check_fade(composed.output, 4.0, 0.5)
    ours, theirs = all_frames(composed.output), all_frames(fast.output)
    assert max(_mad(x, y) for x, y in zip(ours, theirs, strict=True)) < 4


def test_a_fade_that_leaves_the_last_shot_no_room_names_it(media) -> None:  # type: ignore[no-untyped-def]
    cut = film(Path("unused"), media, "x")
    have = [2.0, 2.0]  # the clips' lengths
    assert layout(replace(cut, ending=1.0), have).placed[-1].ending == pytest.approx(1.0)
    assert layout(replace(cut, ending=0.51), have).placed[-1].ending == pytest.approx(12 / 24)  # whole frames
    with pytest.raises(StitchError, match=r"shot 'b': the film's 2 s fade to black must be shorter"):
        layout(replace(cut, ending=2.0), have)
    b = replace(cut.clips[1], transition="crossfade", transition_duration=1)
    with pytest.raises(StitchError, match=r"shorter than its last shot as it is on screen \(1.00 s\)"):
        layout(replace(cut, clips=(cut.clips[0], b), ending=1.0), have)
    with pytest.raises(StitchError, match="must not be negative"):
        layout(replace(cut, ending=-1.0), have)


def test_a_new_fade_makes_the_film_again_and_no_fade_keeps_the_old_record(tmp_path: Path, media) -> None:  # type: ignore[no-untyped-def]
    cut = film(tmp_path, media, "film")
    assert "ending" not in manifest._settings(cut, "ffmpeg")  # films cut before `ending:` stay up to date
    stitch(cut)
    assert stitch(cut).up_to_date
    faded = stitch(replace(cut, ending=0.5))
    assert not faded.up_to_date and faded.method == "encode-joins"
    assert stitch(replace(cut, ending=0.5)).up_to_date


def test_burned_captions_fade_out_with_the_picture(tmp_path: Path, media) -> None:  # type: ignore[no-untyped-def]
    clips = (clip("a", media["red"]), clip("b", media["blue"], caption="The end"))
    cut = CutSpec(clips=clips, output=tmp_path / "film.mp4", size=(160, 90), burn_captions=True, ending=0.5)
    faded = stitch(cut)
    _, _, data = frame(faded.output, 4.0 - FRAME)
    assert max(data) <= 2  # the whole last frame black, its caption too
    _, _, before = frame(faded.output, 3.0)
    assert max(before) > 200  # the caption's white, before the fade
