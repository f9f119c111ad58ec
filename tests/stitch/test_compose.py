"""moviepy as the reference: the same timeline composed by moviepy (`--engine moviepy`,
`storyboard.film`) and stitched by the fast path agree frame by frame, in length and in
sound; moviepy opens two readers at most, and writes yuv420p."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from storyboard.media.ffmpeg import probe
from storyboard.stitch.compose import build
from storyboard.stitch.cut import stitch
from storyboard.stitch.spec import CutSpec, MusicSpec
from tests.stitch.conftest import all_frames, clip, make_service_clip, samples, stream_lengths, strict_decode

FPS = 24
SECONDS = 64 / FPS
COLOURS = ["red", "blue", "lime", "yellow"]
TONES = [300, 500, 700, 900]
# Mean absolute difference (0-255, 32x18 RGB) two encodes of the same picture stay under;
# a frame off by one at a cut scores 100+, a crossfade off by one frame 10+.
SAME_PICTURE = 6.0


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    d = tmp_path_factory.mktemp("compose")
    return [
        make_service_clip(d / f"{c}.mp4", c, tone=t, seconds=SECONDS)
        for c, t in zip(COLOURS, TONES, strict=True)
    ]


def _spec(folder: Path, shots: list[Path], **kw: object) -> CutSpec:
    a, b, c, d = shots
    cuts = (
        clip("a", a, (0, 8), caption="第一章"),
        clip("b", b, (0, 8), transition="crossfade", transition_duration=0.5),
        clip("c", c, (0.5, 8)),
        clip("d", d, (0, 8), transition="fade", transition_duration=0.5, caption="嵐の前"),
        clip("e", a, (0, 8), keep_audio=False),
    )
    return CutSpec(clips=cuts, output=folder / "film.mp4", size=(160, 90), **kw)  # type: ignore[arg-type]


def _mad(a: bytes, b: bytes) -> float:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


def _levels(path: Path, window: float = 0.25) -> list[float]:
    pcm = samples(path)
    n = round(window * 48000)
    out = []
    for i in range(0, len(pcm) - n + 1, n):
        rms = math.sqrt(sum(x * x for x in pcm[i : i + n : 8]) / len(range(i, i + n, 8)))
        out.append(20 * math.log10(max(rms, 1e-5)))
    return out


def test_the_fast_path_and_moviepy_agree(tmp_path: Path, shots: list[Path]) -> None:
    fast = stitch(_spec(tmp_path / "fast", shots, burn_captions=True))
    slow = stitch(_spec(tmp_path / "moviepy", shots, burn_captions=True), engine="moviepy")
    assert fast.method in ("encode-joins", "encode") and slow.method == "moviepy"
    assert fast.duration == slow.duration
    info = probe(slow.output)
    assert info.video is not None and info.video.pix_fmt == "yuv420p"  # not moviepy's yuva420p
    assert strict_decode(slow.output) == ""
    # The same length, picture and sound.
    a, b = stream_lengths(fast.output), stream_lengths(slow.output)
    assert a["video"] == pytest.approx(b["video"], abs=1e-6)
    assert a["audio"] == pytest.approx(b["audio"], abs=1 / FPS)
    ours, theirs = all_frames(fast.output), all_frames(slow.output)
    assert len(ours) == len(theirs) == round(fast.duration * FPS)
    diffs = [_mad(x, y) for x, y in zip(ours, theirs, strict=True)]
    assert max(diffs) < SAME_PICTURE, (max(diffs), diffs.index(max(diffs)))
    la, lb = _levels(fast.output), _levels(slow.output)
    assert len(la) == len(lb)
    # Within 3 dB in every quarter second (and both silent where the muted shot is).
    assert all(abs(x - y) < 3 or max(x, y) < -60 for x, y in zip(la, lb, strict=True)), [
        (round(x), round(y)) for x, y in zip(la, lb, strict=True)
    ]
    assert fast.srt.read_text() == slow.srt.read_text()


def test_music_and_ducking_agree(tmp_path: Path, shots: list[Path], media) -> None:  # type: ignore[no-untyped-def]
    music = MusicSpec(path=media["music"], volume=0.5, duck=True, fade_out=1.0)
    fast = stitch(_spec(tmp_path / "fast", shots, music=music))
    slow = stitch(_spec(tmp_path / "moviepy", shots, music=music), engine="moviepy")
    la, lb = _levels(fast.output), _levels(slow.output)
    assert len(la) == len(lb)
    bad = [
        (i, round(x, 1), round(y, 1))
        for i, (x, y) in enumerate(zip(la, lb, strict=True))
        if abs(x - y) >= 4 and max(x, y) > -60
    ]
    assert not bad, bad


def test_moviepy_opens_two_readers_at_most(shots: list[Path], tmp_path: Path) -> None:
    spec = _spec(tmp_path, shots)  # five shots: two readers of each kind at most
    film, timeline, _ = build(spec)
    try:
        assert film.storyboard_readers.most <= 2  # at most the first frame's, to build the clip
        film.audio.to_soundarray(fps=8000)  # the whole sound, then every frame
        for k in range(0, round(timeline.duration * FPS), 6):
            film.get_frame(k / FPS)
        assert 1 <= film.storyboard_readers.most <= 4  # two video, two audio
    finally:
        film.close()
    assert film.storyboard_readers.open == {}


def test_import_storyboard_stays_light() -> None:
    code = "import sys, storyboard; print(sorted(m for m in ('moviepy', 'numpy', 'PIL') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert callable(__import__("storyboard").film)
