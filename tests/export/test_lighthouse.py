"""The lighthouse example's OTIO, EDL and FCP 7 XML read back with OpenTimelineIO: every
clip, trim and dissolve where the film has it, to the frame at 24 fps."""

from __future__ import annotations

import itertools

import pytest

from storyboard.media.ffmpeg import probe
from tests.export.conftest import Rendered
from tests.export.readback import Shown, audio, expected, read, shown, video

FORMATS = (".otio", ".edl", ".xml")

# The lighthouse cut worked out by hand from lighthouse.yaml (8 s clips at 24 fps): a second
# opinion beside the stitcher's layout, so an error shared by both would still show.
BY_HAND = [
    # name, film frame in, source frame in, frames seen, crossfade in, fade in, fade out
    ("establishing", 0, 0, 192, 0, 6, 0),  # `fade` of 0.5 s from black: half of it, 6 frames
    ("keeper-wakes", 173, 0, 192, 19, 0, 0),  # 0.8 s crossfade = 19.2 -> 19 frames
    ("storm-arrives", 353, 12, 168, 12, 0, 0),  # trim [0.5, 7.5]; 0.5 s crossfade
    ("the-wave", 521, 0, 144, 0, 0, 12),  # trim [0, 6]; fades out for night-watch's 1 s fade
    ("night-watch", 665, 0, 192, 0, 12, 36),  # the film's `ending`: a 1.5 s fade to black
]
FILM_FRAMES = 857  # 35.708 s


def _short(s: list[Shown]) -> list[tuple[object, ...]]:
    return [(x.name, x.record_in, x.source_in, x.frames, x.overlap_in, x.fade_in, x.fade_out) for x in s]


@pytest.mark.parametrize("ext", FORMATS)
def test_every_clip_trim_and_dissolve_in_place(lighthouse: Rendered, ext: str) -> None:
    got = shown(video(read(lighthouse.timelines[ext])))
    assert got == expected(lighthouse.timeline)  # names, media files, in and out points, joins
    assert _short(got) == BY_HAND


@pytest.mark.parametrize("ext", FORMATS)
def test_media_is_each_shots_clip(lighthouse: Rendered, ext: str) -> None:
    got = shown(video(read(lighthouse.timelines[ext])))
    for s, clip in zip(got, lighthouse.spec.clips, strict=True):
        assert s.path == clip.path.resolve() and s.path.is_file(), (s.name, s.path)
        assert s.source_in + s.frames <= 192  # never past the clip's end


@pytest.mark.parametrize("ext", FORMATS)
def test_film_length(lighthouse: Rendered, ext: str) -> None:
    tl = read(lighthouse.timelines[ext])
    last = shown(video(tl))[-1]
    assert last.record_in + last.frames == FILM_FRAMES
    assert abs(probe(lighthouse.film).duration - FILM_FRAMES / 24) < 0.05
    assert video(tl).duration().value == FILM_FRAMES


@pytest.mark.parametrize("ext", FORMATS)
def test_captions_are_markers_on_their_shots(lighthouse: Rendered, ext: str) -> None:
    got = {s.name: s for s in shown(video(read(lighthouse.timelines[ext])))}
    windows = lighthouse.timeline.caption_windows()
    captioned = [p for p in lighthouse.timeline.placed if p.clip.caption]
    assert len(captioned) == len(windows) == 4
    for p, (a, b, text) in zip(captioned, windows, strict=True):
        (marker,) = got[p.clip.shot_id].markers
        name, start, end = marker
        assert name == (text.upper() if ext == ".edl" else text)  # EDL locators are upper case
        assert abs(start - a * 24) <= 1, (p.clip.shot_id, start, a * 24)
        if ext != ".edl":  # an EDL locator is a point
            assert abs(end - b * 24) <= 1, (p.clip.shot_id, end, b * 24)
    assert not got["the-wave"].markers


@pytest.mark.parametrize("ext", FORMATS)
def test_subtitles_beside_the_timeline_are_the_films(lighthouse: Rendered, ext: str) -> None:
    srt = lighthouse.timelines[ext].with_suffix(".srt")
    assert srt.read_text() == lighthouse.film.with_suffix(".srt").read_text()
    assert srt.read_text().count("-->") == 4
    assert f"subtitles {srt}" in lighthouse.outputs[ext]


def test_commands_say_what_they_wrote(lighthouse: Rendered) -> None:
    for ext, label in ((".otio", "OpenTimelineIO"), (".edl", "CMX 3600 EDL"), (".xml", "FCP 7 XML")):
        line = f"timeline {lighthouse.timelines[ext]} ({label}: 5 clips, 2 crossfades, 2 fades)"
        assert line in lighthouse.outputs[ext]


@pytest.mark.parametrize("ext", [".otio", ".xml"])
def test_shot_sound_follows_the_picture(lighthouse: Rendered, ext: str) -> None:
    """A1: each shot's own sound where its picture is, with the same joins; the muted
    shot (the-wave, `audio: false`) is silence."""
    tl = read(lighthouse.timelines[ext])
    sound = shown(audio(tl)[0])
    picture = shown(video(tl))
    assert [s.name for s in sound] == ["establishing", "keeper-wakes", "storm-arrives", "night-watch"]
    by_name = {p.name: p for p in picture}
    for s in sound:
        p = by_name[s.name]
        assert (s.record_in, s.source_in, s.frames, s.overlap_in, s.path) == (
            p.record_in,
            p.source_in,
            p.frames,
            p.overlap_in,
            p.path,
        )
    assert {s.name: s.fade_in for s in sound} == {
        "establishing": 6,
        "keeper-wakes": 0,
        "storm-arrives": 0,
        "night-watch": 12,
    }


@pytest.mark.parametrize("ext", [".otio", ".xml"])
def test_music_track(lighthouse: Rendered, ext: str) -> None:
    """A2: the music from 0.5 s into the file, looped to the film's end, fading out over 3 s,
    at volume 0.4."""
    import opentimelineio as otio

    tl = read(lighthouse.timelines[ext])
    (music,) = audio(tl)[1:]
    pieces = shown(music)
    music_file = lighthouse.board.parent / "audio/theme.mp3"
    assert all(p.path == music_file.resolve() for p in pieces)
    assert pieces[0].record_in == 0 and pieces[0].source_in == 12  # start: 0.5
    assert all(p.source_in == 0 for p in pieces[1:])  # loops start at the file's start
    for a, b in itertools.pairwise(pieces):
        assert a.record_in + a.frames == b.record_in  # end to end
    assert pieces[-1].record_in + pieces[-1].frames == FILM_FRAMES
    assert len(pieces) == 6  # 6.4 s of music for 35.7 s of film
    assert pieces[-1].fade_out == 72  # fade_out: 3
    clips = [c for c in music if isinstance(c, otio.schema.Clip)]
    for c in clips:
        (level,) = c.effects
        if ext == ".otio":
            assert level.metadata["storyboard"]["volume"] == 0.4
        else:  # the FCP 7 Audio Levels filter, read back as the adapter reads filters
            value = level.metadata["fcp_xml"]["parameter"]["value"]
            assert level.name == "Audio Levels" and float(value) == 0.4


def test_otio_keeps_each_shots_facts(lighthouse: Rendered) -> None:
    """The .otio carries what the other formats cannot, in `storyboard` metadata."""
    import opentimelineio as otio

    tl = read(lighthouse.timelines[".otio"])
    meta = tl.metadata["storyboard"]
    assert (meta["fps"], meta["captions_burned"]) == (24.0, True)
    assert meta["film"] == str(lighthouse.film)
    clips = [c for c in video(tl) if isinstance(c, otio.schema.Clip)]
    for c, spec in zip(clips, lighthouse.spec.clips, strict=True):
        m = c.metadata["storyboard"]
        assert m["shot"] == spec.shot_id and list(m["trim"]) == list(spec.trim)
        assert m["fingerprint"] == spec.path.stem  # the clip's own, even for a stale shot
        assert dict(m["transition"]) == {"type": spec.transition, "duration": spec.transition_duration}
        assert m["keep_audio"] == spec.keep_audio
        assert c.media_reference.available_range.duration.value == 192
