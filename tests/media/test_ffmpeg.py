"""The ffmpeg helpers: reading media and packets, running with progress."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from storyboard.errors import StitchError
from storyboard.media.ffmpeg import cause, probe, run_progress
from storyboard.media.packets import extract_audio, inspect, inspect_all, inspect_file, video_track
from tests.clips import make_clip


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


# a failure names its cause: the disk, a limit, a signal -----------------------------------------
@contextlib.contextmanager
def full_disk(path: Path) -> Iterator[Path]:
    """A small tmpfs at `path`, filled to the last byte (root only: skipped elsewhere)."""
    path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(path)], capture_output=True
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.decode().strip() or 'not root'})")
    try:
        with contextlib.suppress(OSError), open(path / "filler", "wb") as f:  # its close fails too
            while True:
                f.write(b"\0" * 4096)
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_copying_sound_to_a_full_disk_says_the_disk_is_full(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", seconds=2.0, size=(64, 36), fps=10)
    with full_disk(tmp_path / "disk") as disk, pytest.raises(StitchError) as err:
        extract_audio([(clip, disk / "a.mp4"), (clip, disk / "b.mp4")])
    assert err.value.message.splitlines()[0] == "copying the clips' sound failed: no space left on device"
    # and where ffmpeg said nothing at all, the disk it wrote to is looked at
    with full_disk(tmp_path / "disk2") as disk:
        assert cause(1, "", [disk]) == f"no space left on device (0 KB free in {disk})"
    assert cause(1, "", [tmp_path]) is None  # a disk with room says nothing


LIMITED = """
import resource, sys
from pathlib import Path
from storyboard.errors import StitchError
from storyboard.media.packets import extract_audio
resource.setrlimit(resource.RLIMIT_FSIZE, (8192, resource.RLIM_INFINITY))  # ffmpeg inherits it
clip, out = Path(sys.argv[1]), Path(sys.argv[2])
try:
    extract_audio([(clip, out)])
except StitchError as e:
    print(e.message.splitlines()[0])
"""


def test_ffmpeg_stopped_by_a_file_size_limit_says_so(tmp_path: Path) -> None:
    """ffmpeg is killed by SIGXFSZ and writes no error of its own: the signal is the cause."""
    clip = make_clip(tmp_path / "clip.mp4", seconds=4.0, size=(64, 36), fps=10)
    proc = subprocess.run(
        [sys.executable, "-c", LIMITED, str(clip), str(tmp_path / "a.mp4")],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=60,
    )
    assert proc.stdout.strip() == (
        "copying the clips' sound failed: ffmpeg was stopped by SIGXFSZ: "
        "a file grew past the size limit (ulimit -f)"
    ), proc.stderr
