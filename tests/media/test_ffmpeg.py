"""The ffmpeg helpers: reading media and packets, running with progress."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.errors import StitchError
from storyboard.media.ffmpeg import probe, run_progress
from storyboard.media.packets import inspect, inspect_all, inspect_file, video_track


def test_probe_and_packets(media) -> None:  # type: ignore[no-untyped-def]
    info = probe(media["portrait"])
    assert info.size == (90, 160) and info.audio is None and info.video is not None
    assert info.video.fps == 30 and info.video.pix_fmt == "yuv420p"
    track = video_track(media["red"])
    assert track.codec == "h264" and track.frames == 48
    assert track.length == pytest.approx(2.0) and track.start == 0
    frame = track.timebase[1] // 24
    assert track.keyframes == (0, 12 * frame, 24 * frame, 36 * frame)  # gop=12
    info, track = inspect(media["portrait"])
    assert track is not None and track.frames == 60 and track.length == pytest.approx(2.0)


def test_unreadable_files(tmp_path: Path, media) -> None:  # type: ignore[no-untyped-def]
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a film" * 100)
    with pytest.raises(StitchError, match=r"junk\.mp4"):
        inspect(junk)
    info, track = inspect(media["music"])
    assert track is None and info.audio is not None
    with pytest.raises(StitchError, match="no video"):
        video_track(media["music"])


def test_run_progress_reports_and_fails_cleanly(tmp_path: Path) -> None:
    seen: list[float] = []
    out = tmp_path / "x.mp4"
    run_progress(
        [
            "-f",
            "lavfi",
            "-i",
            "color=c=red:s=64x36:r=24:d=1",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            str(out),
        ],
        duration=1.0,
        progress=seen.append,
    )
    assert out.is_file() and seen[-1] == 1.0 and all(0 <= f <= 1 for f in seen)
    with pytest.raises(StitchError, match=r"what: ffmpeg failed \(exit"):
        run_progress(["-i", str(tmp_path / "nope.mp4"), str(out)], duration=1, what="what")
    with pytest.raises(StitchError, match="longer than"):
        run_progress(
            ["-re", "-f", "lavfi", "-i", "color=s=64x36:d=30", "-f", "null", "-"], duration=30, timeout=0.5
        )


def test_inspect_all_reads_every_file_in_one_run(tmp_path: Path, media) -> None:  # type: ignore[no-untyped-def]
    paths = [media["red"], media["mute"], media["portrait"], media["music"], media["red"]]
    found = inspect_all(paths)
    assert found is not None and len(found) == len(paths)
    for path, got in zip(paths, found, strict=True):
        alone = inspect_file(path)
        assert got == alone  # the same as reading each file on its own
        assert got.info == probe(path)
    red, mute, portrait, music, _ = found
    assert red.video is not None and red.video.frames == 48 and red.info.size == (160, 90)
    assert red.audio is not None and red.audio.codec == "aac" and red.audio.timebase == (1, 48000)
    assert red.info.audio is not None and red.info.audio.profile == "LC"
    assert red.audio.first == -1024 and red.audio.start == 0  # priming, not heard
    assert red.audio.length == pytest.approx(2.0) and red.audio.uneven == 1  # last frame trimmed
    assert mute.audio is None and mute.video is not None
    assert portrait.info.size == (90, 160) and portrait.video is not None
    assert portrait.video.frames == 60
    assert music.video is None and music.audio is not None and music.audio.length == pytest.approx(1.5)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a film" * 100)
    assert inspect_all([media["red"], junk]) is None  # then each is read alone to say which


def test_x264_options_are_read_from_the_stream(media) -> None:  # type: ignore[no-untyped-def]
    from storyboard.media.packets import x264_options

    opts = x264_options(media["red"])
    assert opts is not None and opts["keyint"] == "12" and opts["rc"] == "crf"
    assert opts["cabac"] == "0" and opts["bframes"] == "0"  # ultrafast
    assert x264_options(media["music"]) is None  # a WAV: no x264 here
