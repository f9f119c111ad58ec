"""The final cut, made for real from tiny clips and measured: lengths, streams, colours at
chosen times, sound, the fast path and what a failure leaves behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.errors import StitchError
from storyboard.media.ffmpeg import probe, run
from storyboard.stitch.cut import stitch
from storyboard.stitch.spec import CutSpec, MusicSpec
from tests.stitch.conftest import (
    BEEP_AT,
    BEEP_CLIP,
    all_frames,
    atoms,
    clip,
    decode_errors,
    frame,
    level,
    make_beep_clip,
    near,
    onsets,
    packet_crcs,
    pixel,
    rgb_at,
    stream_lengths,
)

RED, BLUE, BLACK, LIME = (255, 0, 0), (0, 0, 255), (0, 0, 0), (0, 255, 0)
FRAME = 1 / 24
SILENT = -80.0  # dB: AAC-coded digital silence measures about -91


def spec(tmp_path: Path, *clips, **kw) -> CutSpec:  # type: ignore[no-untyped-def]
    return CutSpec(clips=tuple(clips), output=tmp_path / "out" / "film.mp4", size=(160, 90), **kw)


def check_streams(path: Path, want: float) -> None:
    info = probe(path)
    assert info.video is not None and info.audio is not None
    assert info.video.codec == "h264" and info.video.pix_fmt == "yuv420p"
    assert (info.video.width, info.video.height) == (160, 90)
    assert info.audio.codec == "aac" and info.audio.sample_rate == 48000
    assert info.audio.channels == 2
    boxes = atoms(path)
    assert boxes.index("moov") < boxes.index("mdat")  # +faststart
    lengths = stream_lengths(path)
    assert lengths["video"] == pytest.approx(want, abs=FRAME)
    assert lengths["audio"] == pytest.approx(want, abs=FRAME)


def test_cuts_copy_the_picture_and_keep_sound_in_sync(tmp_path: Path, media) -> None:  # type: ignore[no-untyped-def]
    seen: list[float] = []
    s = spec(tmp_path, clip("a", media["red"]), clip("b", media["mute"]), clip("c", media["blue"]))
    result = stitch(s, progress=seen.append)
    assert result.method == "copy-picture"  # the sound is re-encoded: one shot has none
    assert any("'b' has no sound" in w for w in result.why)
    assert result.duration == pytest.approx(6.0)
    assert result.output == s.output and result.output.is_file()
    check_streams(result.output, 6.0)
    assert near(pixel(result.output, 1.0), RED)
    assert near(pixel(result.output, 3.0), (255, 255, 0))
    assert near(pixel(result.output, 5.0), BLUE)
    # Sound where the clips have it, silence in the one without, and the edges at the cuts
    # (within a few ms: concat+copy of AAC would drift ~21 ms per join).
    assert level(result.output, 0.1, 1.95) > -30
    assert level(result.output, 2.01, 3.99) < SILENT
    assert level(result.output, 4.01, 5.9) > -30
    assert level(result.output, 1.96, 1.995) > -30
    assert level(result.output, 3.995, 4.04) > -30
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)
    assert result.srt == s.output.with_suffix(".srt") and result.srt.read_text() == ""


def test_clips_that_differ_are_encoded(tmp_path: Path, media) -> None:  # type: ignore[no-untyped-def]
    result = stitch(spec(tmp_path, clip("a", media["red"]), clip("b", media["fast"])))
    assert result.method == "encode"  # 30 fps clip in a 24 fps cut
    check_streams(result.output, 4.0)
    assert near(pixel(result.output, 3.0), BLUE)


def test_trims(tmp_path: Path, media) -> None:  # type: ignore[no-untyped-def]
    s = spec(tmp_path, clip("a", media["red"], (0.5, 1.5)), clip("b", media["blue"], (0.25, 8)))
    result = stitch(s)
    # Only b's first 0.25 s (up to its keyframe at 0.5 s) is encoded; the rest is copied.
    assert result.method == "encode-joins"
    assert decode_errors(result.output) == ""
    assert result.duration == pytest.approx(2.75)
    check_streams(result.output, 2.75)
    assert near(pixel(result.output, 0.95), RED)
    assert near(pixel(result.output, 1.05), BLUE)
    assert level(result.output, 0.05, 2.7) > -30


def test_crossfade_overlaps_picture_and_sound(tmp_path: Path, media) -> None:  # type: ignore[no-untyped-def]
    s = spec(
        tmp_path,
        clip("a", media["red"]),
        clip("b", media["blue"], transition="crossfade", transition_duration=0.5),
    )
    result = stitch(s)
    assert result.duration == pytest.approx(3.5)
    check_streams(result.output, 3.5)
    assert near(pixel(result.output, 1.0), RED)
    r, g, b = pixel(result.output, 1.75)
    assert 70 < r < 190 and 70 < b < 190 and g < 60  # a mix of the two
    assert near(pixel(result.output, 3.0), BLUE)
    for a in (0.0, 1.4, 1.6, 1.8, 2.0, 3.0):  # no dip through the overlap
        assert level(result.output, a, a + 0.2) > -30


def test_fade_goes_through_black(tmp_path: Path, media) -> None:  # type: ignore[no-untyped-def]
    s = spec(
        tmp_path,
        clip("a", media["red"], transition="fade", transition_duration=0.5),
        clip("b", media["blue"], transition="fade", transition_duration=1.0),
    )
    result = stitch(s)
    assert result.duration == pytest.approx(4.0)
    check_streams(result.output, 4.0)
    assert near(pixel(result.output, 0.0), BLACK, 10)  # the first shot fades in
    assert near(pixel(result.output, 1.0), RED)
    assert near(pixel(result.output, 2.0), BLACK, 10)  # the midpoint of the fade
    assert near(pixel(result.output, 3.0), BLUE)
    # Sound dips with the picture, then comes back.
    assert level(result.output, 1.96, 2.04) < level(result.output, 1.0, 1.3) - 15
    assert level(result.output, 3.0, 3.5) > -30


def test_other_sizes_rates_and_no_sound(tmp_path: Path, media) -> None:  # type: ignore[no-untyped-def]
    s = spec(
        tmp_path,
        clip("a", media["red"]),
        clip("p", media["portrait"]),
        clip("b", media["blue"], keep_audio=False),
    )
    result = stitch(s)
    assert result.method == "encode"
    check_streams(result.output, 6.0)
    assert near(pixel(result.output, 3.0), LIME)  # 30 fps portrait, fitted
    assert near(pixel(result.output, 3.0, (5, 45)), BLACK, 10)  # pillarbox bars
    assert near(pixel(result.output, 3.0, (154, 45)), BLACK, 10)
    assert near(pixel(result.output, 3.0, (80, 2)), LIME)  # full height: not letterboxed
    assert level(result.output, 0.1, 1.9) > -30
    assert level(result.output, 2.05, 5.95) < SILENT  # no sound, and the muted shot


def test_burned_captions(tmp_path: Path, media) -> None:  # type: ignore[no-untyped-def]
    s = spec(
        tmp_path,
        clip("a", media["red"], caption="Hello there, a caption long enough to wrap onto a second line"),
        clip("b", media["blue"]),
        burn_captions=True,
        caption_size=0.1,
    )
    result = stitch(s)
    assert result.method == "encode-joins"  # the captioned shot is encoded, the other copied
    assert "captions are burned in" in result.why
    check_streams(result.output, 4.0)
    # The box darkens the bottom while its shot is on screen, not after; the top is clean.
    during, after = frame(result.output, 1.0), frame(result.output, 3.0)
    box = [rgb_at(during, x, y) for x in range(10, 150, 3) for y in range(50, 88, 2)]
    assert sum(not near(c, RED) for c in box) > len(box) // 4
    assert any(near(c, (255, 255, 255), 30) for c in box)  # white text
    assert near(rgb_at(during, 80, 10), RED)
    assert all(near(rgb_at(after, x, y), BLUE) for x in range(10, 150, 3) for y in range(50, 88, 2))
    assert "Hello there" in result.srt.read_text()


def test_failure_leaves_no_output(tmp_path: Path, media) -> None:  # type: ignore[no-untyped-def]
    s = spec(tmp_path, clip("a", media["red"]), clip("gone", tmp_path / "missing.mp4"))
    with pytest.raises(StitchError, match="shot 'gone'"):
        stitch(s)
    assert not s.output.exists()
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(media["red"].read_bytes()[:3000])  # cut short mid-download
    s = spec(tmp_path, clip("a", media["red"]), clip("bad", broken))
    s.output.parent.mkdir(parents=True, exist_ok=True)
    s.output.write_bytes(b"the previous cut")
    with pytest.raises(StitchError, match="shot 'bad'"):
        stitch(s)
    assert s.output.read_bytes() == b"the previous cut"
    assert sorted(p.name for p in s.output.parent.iterdir()) == ["film.mp4"]


def test_an_ffmpeg_failure_midway_leaves_no_temp_file(tmp_path: Path, media) -> None:  # type: ignore[no-untyped-def]
    def boom(fraction: float) -> None:
        raise KeyboardInterrupt

    s = spec(tmp_path, clip("a", media["red"]), clip("b", media["blue"], (0.5, 2)))
    with pytest.raises(KeyboardInterrupt):
        stitch(s, progress=boom)
    assert list(s.output.parent.iterdir()) == []


def test_bad_cuts_name_the_shot(tmp_path: Path, media) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StitchError, match=r"shot 'b'.*shorter than both"):
        stitch(
            spec(
                tmp_path,
                clip("a", media["red"], (0, 0.4)),
                clip("b", media["blue"], transition="crossfade", transition_duration=0.5),
            )
        )
    with pytest.raises(StitchError, match=r"shot 'b'.*only 2\.00 s long"):
        stitch(spec(tmp_path, clip("a", media["red"]), clip("b", media["blue"], (3, 5))))


def test_a_shot_inside_two_crossfades(tmp_path: Path, media) -> None:  # type: ignore[no-untyped-def]
    # The middle shot lasts exactly its two crossfades: the picture is made of pieces that
    # each hold at most two clips, joined without re-encoding; captions follow their shots.
    s = spec(
        tmp_path,
        clip("a", media["red"], caption="A"),
        clip("b", media["lime"], (0, 1), transition="crossfade", transition_duration=0.5, caption="B"),
        clip("c", media["blue"], transition="crossfade", transition_duration=0.5),
        clip("d", media["red"], (0, 1), transition="fade", transition_duration=0.5),
        burn_captions=True,
    )
    result = stitch(s)
    assert result.method == "encode-joins"  # c's GOP between its crossfade and the fade is copied
    assert result.duration == pytest.approx(2 + 1 + 2 + 1 - 1)
    check_streams(result.output, 5.0)
    assert near(pixel(result.output, 1.0), RED)
    r, g, b = pixel(result.output, 2.0)  # b at its fullest, between its two overlaps
    assert g > 100 and r < 160 and b < 160
    assert near(pixel(result.output, 3.5), BLUE)
    assert near(pixel(result.output, 4.0), BLACK, 10)  # the fade's midpoint
    assert near(pixel(result.output, 4.6), RED)
    assert result.srt.read_text() == (
        "1\n00:00:00,000 --> 00:00:01,750\nA\n\n2\n00:00:01,750 --> 00:00:02,250\nB\n"
    )
    assert level(result.output, 0.05, 4.9) > -30


@pytest.fixture(scope="module")
def beeps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Clips silent but for a beep at BEEP_AT s: where each beep lands shows drift."""
    d = tmp_path_factory.mktemp("beeps")
    return {
        "red": make_beep_clip(d / "red.mp4", "red"),
        "blue": make_beep_clip(d / "blue.mp4", "blue"),
        "lime": make_beep_clip(d / "lime.mp4", "lime"),
        "44k": make_beep_clip(d / "44k.mp4", "red", sample_rate=44100),
        "mono": make_beep_clip(d / "mono.mp4", "red", channels=1),
        "2s": make_beep_clip(d / "2s.mp4", "blue", seconds=2.0),  # 93.75 AAC frames
    }


L = BEEP_CLIP


def test_cuts_copy_picture_and_sound_without_drift(tmp_path: Path, beeps) -> None:  # type: ignore[no-untyped-def]
    names = ["red", "blue", "lime", "red", "blue"]
    assert onsets(beeps["red"], L) == [pytest.approx(BEEP_AT, abs=0.001)]  # the measure itself
    seen: list[float] = []
    s = spec(tmp_path, *(clip(f"s{i}", beeps[n], (0, L)) for i, n in enumerate(names)))
    result = stitch(s, progress=seen.append)
    assert result.method == "copy" and result.why == ()
    total = len(names) * L
    assert result.duration == pytest.approx(total)
    check_streams(result.output, total)
    lengths = stream_lengths(result.output)
    assert lengths["video"] == pytest.approx(total, abs=1e-6)
    assert lengths["audio"] == pytest.approx(total, abs=1e-6)  # no priming kept, none lost
    assert decode_errors(result.output) == ""
    # Every beep exactly where its shot puts it: no drift join after join.
    got = onsets(result.output, L)
    assert got == [pytest.approx(k * L + BEEP_AT, abs=0.001) for k in range(len(names))]
    for k, n in enumerate(names):
        want = {"red": RED, "blue": BLUE, "lime": LIME}[n]
        assert near(pixel(result.output, k * L + 1.0), want)
    assert seen and seen[-1] == 1.0


@pytest.mark.parametrize(
    ("odd", "kw", "method", "why"),
    [
        ("44k", {}, "copy-picture", "44100 Hz, not 48000"),
        ("mono", {}, "copy-picture", "1 channels, not 2"),
        ("2s", {}, "copy-picture", "does not end on a whole AAC frame"),
        ("blue", {"keep_audio": False}, "copy-picture", "'odd' is muted"),
        ("blue", {"trim": (0.0, 1.5)}, "encode-joins", "'odd' is trimmed"),
    ],
)
def test_what_keeps_the_sound_from_being_copied(  # type: ignore[no-untyped-def]
    tmp_path: Path, beeps, odd: str, kw: dict, method: str, why: str
) -> None:
    trim = kw.pop("trim", (0, L))
    s = spec(
        tmp_path,
        clip("a", beeps["red"], (0, L)),
        clip("odd", beeps[odd], trim, **kw),
        clip("c", beeps["lime"], (0, L)),
    )
    result = stitch(s)
    assert result.method == method
    assert any(why in w for w in result.why), result.why
    second = min(trim[1], 2.0 if odd == "2s" else L) - trim[0]
    check_streams(result.output, 2 * L + second)
    assert decode_errors(result.output) == ""
    # The re-encoded sound is as exact: every beep where its shot puts it.
    want = [BEEP_AT, L + BEEP_AT, L + second + BEEP_AT]
    if kw.get("keep_audio") is False:
        del want[1]
    assert onsets(result.output, min(L, second)) == [pytest.approx(t, abs=0.001) for t in want]


def test_music_keeps_the_sound_from_being_copied(tmp_path: Path, beeps, media) -> None:  # type: ignore[no-untyped-def]
    s = spec(
        tmp_path,
        clip("a", beeps["red"], (0, L)),
        clip("b", beeps["blue"], (0, L)),
        music=MusicSpec(path=media["music"], volume=0.1),
    )
    result = stitch(s)
    assert result.method == "copy-picture" and "music is mixed in" in result.why
    check_streams(result.output, 2 * L)


def _mad(a: bytes, b: bytes) -> float:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


def test_only_the_joins_are_encoded(tmp_path: Path, media) -> None:  # type: ignore[no-untyped-def]
    # Clips with a keyframe every 0.5 s: between the transitions whole GOPs are copied, and
    # only the crossfade, the fade and the partial GOPs around them are encoded, with
    # parameter sets of their own listed beside the clips' in the film's avcC.
    clips = (
        clip("a", media["red"]),
        clip("b", media["lime"], (0.125, 2), transition="crossfade", transition_duration=0.5),
        clip("c", media["blue"], transition="crossfade", transition_duration=0.25),
        clip("d", media["red"], transition="fade", transition_duration=0.5),
    )
    result = stitch(spec(tmp_path / "joins", *clips))
    assert result.method == "encode-joins"
    want = 2 + 1.875 + 2 + 2 - 0.5 - 0.25
    assert result.duration == pytest.approx(want)
    check_streams(result.output, want)
    assert stream_lengths(result.output)["video"] == pytest.approx(want, abs=1e-6)
    assert decode_errors(result.output) == ""
    # Copied for real: the lime clip's GOP from 1.0 s to 1.5 s (the only whole one between
    # its crossfades) is in the film packet for packet.
    lime = packet_crcs(media["lime"])
    film = packet_crcs(result.output)
    gop = lime[24:36]
    assert any(film[i : i + 12] == gop for i in range(len(film)))
    # The same picture as encoding everything, frame by frame.
    full = stitch(spec(tmp_path / "full", *clips), engine="reencode")
    assert full.method == "encode" and any("--engine reencode" in w for w in full.why)
    ours, theirs = all_frames(result.output), all_frames(full.output)
    assert len(ours) == len(theirs) == round(want * 24)
    diffs = [_mad(x, y) for x, y in zip(ours, theirs, strict=True)]
    assert max(diffs) < 3, max(diffs)
    r, g, b = pixel(result.output, 1.75)  # the middle of the first crossfade
    assert 70 < r < 190 and 70 < g < 190 and b < 60


def test_joins_fall_back_to_encoding_everything(tmp_path: Path, media, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import storyboard.stitch.cut as cut

    xfade = {"transition": "crossfade", "transition_duration": 0.5}
    # A clip encoded otherwise (another preset: other SPS/PPS) cannot share a sample entry.
    other = tmp_path / "other.mp4"
    run(
        ["-y", "-f", "lavfi", "-i", "color=c=blue:s=160x90:r=24:d=2", "-c:v", "libx264", "-preset", "slow",
         "-g", "12", "-pix_fmt", "yuv420p", str(other)],
    )  # fmt: skip
    result = stitch(spec(tmp_path / "a", clip("a", media["red"]), clip("b", other, **xfade)))
    assert result.method == "encode" and any("encoded unlike shot 'a'" in w for w in result.why)
    assert decode_errors(result.output) == ""
    # Pieces whose parameter sets would take the clips' ids (so a copied slice would name
    # the wrong set) are caught before the film is assembled.
    real = cut.splice.encoder

    def off(config, delay):  # type: ignore[no-untyped-def]
        args, why = real(config, delay)
        assert args is not None
        i = args.index("-x264-params") + 1
        args[i] = args[i].replace(args[i].split(":")[0], "sps-id=0:ref=3")
        return args, why

    monkeypatch.setattr(cut.splice, "encoder", off)
    result = stitch(spec(tmp_path / "b", clip("a", media["red"]), clip("b", media["blue"], **xfade)))
    assert result.method == "encode" and any("cannot share" in w for w in result.why)
    check_streams(result.output, 3.5)
    assert decode_errors(result.output) == ""
