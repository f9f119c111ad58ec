"""Any cut the stitcher can lay out, in each format, reads back as that layout to the frame:
trims on and off the frame grid, odd and even crossfades, fades anywhere, muted shots,
clips without sound, music looped or not."""

from __future__ import annotations

import itertools
from pathlib import Path

import opentimelineio as otio
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from storyboard.errors import StitchError
from storyboard.export.source import Cut, cut_of
from storyboard.export.write import Format, render_timeline
from storyboard.stitch.spec import ClipCut, CutSpec, MusicSpec
from storyboard.stitch.timeline import layout
from tests.clips import make_clip, make_tone
from tests.export.readback import audio, expected, shown, video

ADAPTER = {Format.OTIO: "otio_json", Format.EDL: "cmx_3600", Format.FCP_XML: "fcp_xml"}


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("any-cut")
    return {
        "red": make_clip(d / "red.mp4", color="red"),  # 2 s: 48 frames
        "blue": make_clip(d / "blue.mp4", color="blue", tone=660),
        "mute": make_clip(d / "mute.mp4", color="yellow", audio=False),
        "music": make_tone(d / "music.wav", seconds=1.3),  # 31.2 frames: loops land between frames
    }


def read_back(cut: Cut, fmt: Format) -> otio.schema.Timeline:
    got = otio.adapters.read_from_string(render_timeline(cut, fmt), ADAPTER[fmt])
    assert isinstance(got, otio.schema.Timeline)
    return got


def check(cut: Cut) -> None:
    """Every format shows the layout; the sound tracks follow it."""
    want = expected(cut.timeline)
    for fmt in Format:
        tl = read_back(cut, fmt)
        assert shown(video(tl)) == want, fmt
        if fmt is Format.EDL:
            continue  # an EDL carries the picture only
        sound, *music = audio(tl)
        heard = shown(sound)
        keeps = [
            w for w, c, s in zip(want, cut.spec.clips, cut.sources, strict=True) if c.keep_audio and s.sound
        ]
        # Against silence a crossfade is a fade of the sound: count how each enters either way.
        assert [(h.name, h.record_in, h.source_in, h.frames, h.overlap_in + h.fade_in) for h in heard] == [
            (w.name, w.record_in, w.source_in, w.frames, w.overlap_in + w.fade_in) for w in keeps
        ], fmt
        check_music(cut, music, fmt)


def check_music(cut: Cut, tracks: list[otio.schema.Track], fmt: Format) -> None:
    if cut.spec.music is None:
        assert not tracks
        return
    (track,) = tracks
    pieces = shown(track)
    total = cut.frames(cut.timeline.duration)
    spec = cut.spec.music
    assert cut.music is not None
    held = int(cut.music.seconds * 24 + 1e-9)
    start = cut.frames(spec.start) % held if spec.loop else cut.frames(spec.start)
    if not spec.loop and start >= held:
        assert not pieces  # the music starts after its end: silence
        return
    assert pieces[0].record_in == 0 and pieces[0].source_in == start
    for a, b in itertools.pairwise(pieces):
        assert a.record_in + a.frames == b.record_in and b.source_in == 0
    end = pieces[-1].record_in + pieces[-1].frames
    assert end == total if spec.loop else end == min(total, held - start), fmt
    assert all(p.source_in + p.frames <= held for p in pieces)


def make_cut(
    media: dict[str, Path],
    clips: list[ClipCut],
    music: MusicSpec | None = None,
    ending: float = 0.0,
) -> Cut:
    spec = CutSpec(clips=tuple(clips), output=media["red"], size=None, music=music, ending=ending)
    return cut_of(spec, media["red"], title="any cut")


def test_odd_crossfade_muted_shot_and_silent_clip(media: dict[str, Path]) -> None:
    cut = make_cut(
        media,
        [
            ClipCut("a", media["red"], (0.25, 2.0), caption="one"),
            ClipCut("b", media["mute"], (0.0, 1.5), "crossfade", 0.3),  # 7 frames; no sound
            ClipCut("c", media["blue"], (0.3, 2.0), "crossfade", 0.5, keep_audio=False),
            ClipCut("d", media["red"], (0.0, 2.0), "fade", 0.5, caption="two\nlines"),
        ],
        MusicSpec(media["music"], volume=0.7, fade_out=0.5, loop=True, start=2.0),
    )
    check(cut)
    placed = cut.timeline.placed
    assert [round(p.overlap * 24) for p in placed] == [0, 7, 12, 0]
    # A1 has the first and the last shot only (b has no sound, c is muted)
    heard = shown(audio(read_back(cut, Format.OTIO))[0])
    assert [h.name for h in heard] == ["a", "d"]
    # a two-line caption is one marker line; the film's .srt keeps both lines
    track = video(read_back(cut, Format.FCP_XML))  # kept: an iterator does not keep its track
    (marker,) = next(c for c in track if c.name == "d").markers
    assert marker.name == "two lines"


def _black(x: object) -> bool:
    return isinstance(x, otio.schema.Clip) and isinstance(x.media_reference, otio.schema.GeneratorReference)


def test_the_films_fade_to_black_at_its_end(media: dict[str, Path]) -> None:
    cut = make_cut(
        media,
        [
            ClipCut("a", media["red"], (0, 2)),
            ClipCut("b", media["mute"], (0, 2), "crossfade", 0.5, caption="the end"),
        ],
        MusicSpec(media["music"], volume=0.5, fade_out=0.25),
        ending=0.75,
    )
    check(cut)
    assert expected(cut.timeline)[-1].fade_out == 18
    for fmt in Format:
        tl = read_back(cut, fmt)  # kept: a track does not keep its timeline
        items = list(video(tl))
        k = max(i for i, x in enumerate(items) if isinstance(x, otio.schema.Transition))
        fade, rest = items[k], items[k + 1 :]  # the last dissolve, then black (a gap, or BL) or nothing
        assert items[k - 1].name == "b", fmt
        assert all(isinstance(x, otio.schema.Gap) or _black(x) for x in rest), (fmt, rest)
        assert fade.in_offset.value + fade.out_offset.value == 18, fmt  # (an EDL's lies wholly after its cut)
        markers = [m.name.lower() for x in items if isinstance(x, otio.schema.Clip) for m in x.markers]
        assert markers == ["the end"], (fmt, markers)  # the caption once, on its shot, not on the black
    tl = read_back(cut, Format.OTIO)
    music = list(audio(tl)[1])  # the music fades with the picture: 18 frames, not its own 6
    assert isinstance(music[-2], otio.schema.Transition) and music[-2].in_offset.value == 18


def test_music_not_looped_ends_in_silence(media: dict[str, Path]) -> None:
    cut = make_cut(
        media,
        [ClipCut("a", media["red"], (0, 2)), ClipCut("b", media["blue"], (0, 2), "fade", 1.0)],
        MusicSpec(media["music"], volume=0.5, fade_out=1.0, loop=False, start=0.25),
    )
    check(cut)
    track = audio(read_back(cut, Format.OTIO))[1]
    assert isinstance(track[-1], otio.schema.Gap)  # after the music's end, to the film's end
    assert not any(isinstance(x, otio.schema.Transition) for x in track)  # nothing left to fade


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_cut_reads_back_as_its_layout(media: dict[str, Path], data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 5), label="shots")
    clips = []
    for i in range(n):
        name = data.draw(st.sampled_from(["red", "blue", "mute"]), label="clip")
        start = data.draw(st.sampled_from([0.0, 0.125, 0.3, 0.5]), label="trim start")
        end = data.draw(st.sampled_from([1.25, 1.7, 2.0, 2.5]), label="trim end")  # 2.5: past the clip
        kind = data.draw(st.sampled_from(["cut", "crossfade", "fade"]), label="transition")
        if kind == "crossfade" and i == 0:
            kind = "fade"
        seconds = data.draw(st.sampled_from([0.2, 0.3, 0.5, 0.8]), label="duration") if kind != "cut" else 0.0
        clips.append(
            ClipCut(
                f"s{i}",
                media[name],
                (start, end),
                kind,
                seconds,
                caption=data.draw(st.sampled_from([None, "a caption"]), label="caption"),
                keep_audio=data.draw(st.booleans(), label="keep audio"),
            )
        )
    music = None
    if data.draw(st.booleans(), label="music"):
        music = MusicSpec(
            media["music"],
            volume=0.5,
            fade_out=data.draw(st.sampled_from([0.0, 0.5, 3.0]), label="fade out"),
            loop=data.draw(st.booleans(), label="loop"),
            start=data.draw(st.sampled_from([0.0, 0.4, 2.0]), label="music start"),
        )
    ending = data.draw(st.sampled_from([0.0, 0.0, 0.2, 0.5, 1.0]), label="ending")
    spec = CutSpec(clips=tuple(clips), output=media["red"], size=None, music=music, ending=ending)
    try:
        layout(spec, [2.0] * n)
    except StitchError:
        assume(False)  # a cut the stitcher refuses (a crossfade longer than a shot...)
    check(cut_of(spec, media["red"], title="any cut"))
