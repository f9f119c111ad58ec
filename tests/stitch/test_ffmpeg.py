"""The ffmpeg helpers: reading media and packets, running with progress."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.errors import StitchError
from storyboard.stitch.ffmpeg import inspect, probe, run_progress, video_track


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
