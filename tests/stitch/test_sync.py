"""Sound in sync at every join, measured by content, on clips shaped like the services' own:
H.264 High with B-frames (so the picture has an edit list), AAC with its priming (an edit list
on the sound too), no x264 options SEI. Each clip has its own colour and its own tone: a join
is where the picture changes colour and where the sound changes tone; the two must agree
within one frame, at every join, whatever the method."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from storyboard.stitch.cut import stitch
from storyboard.stitch.spec import CutSpec
from tests.stitch.conftest import (
    all_frames,
    clip,
    decode_errors,
    make_service_clip,
    samples,
    stream_lengths,
)

FPS = 24
SECONDS = 64 / FPS  # whole AAC frames, as an 8 s clip at 48 kHz is
COLOURS = ["red", "blue", "lime", "yellow", "magenta", "cyan"]
RGB = {
    "red": (255, 0, 0),
    "blue": (0, 0, 255),
    "lime": (0, 255, 0),
    "yellow": (255, 255, 0),
    "magenta": (255, 0, 255),
    "cyan": (0, 255, 255),
}
TONES = [300, 500, 700, 900, 1100, 1300]
RATE = 48000
WINDOW = 480  # 10 ms
FRAME = 1 / FPS


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    d = tmp_path_factory.mktemp("service")
    return {
        "sound": [
            make_service_clip(d / f"s{i}.mp4", c, tone=t, seconds=SECONDS)
            for i, (c, t) in enumerate(zip(COLOURS, TONES, strict=True))
        ],
        "mute": [
            make_service_clip(d / f"m{i}.mp4", c, tone=None, seconds=SECONDS) for i, c in enumerate(COLOURS)
        ],
    }


def test_the_clips_are_shaped_like_the_services(service: dict[str, list[Path]]) -> None:
    """B-frames, an edit list on both tracks, no x264 SEI, sound of exactly the picture's length."""
    from storyboard.media.packets import inspect_file, x264_options

    path = service["sound"][0]
    got = inspect_file(path)
    assert got.video is not None and got.audio is not None
    assert list(got.video.pts) != sorted(got.video.pts)  # B-frames: decoding order != display
    assert path.read_bytes().count(b"elst") == 2
    assert x264_options(path) is None
    assert stream_lengths(path) == {
        "video": pytest.approx(SECONDS, abs=1e-6),
        "audio": pytest.approx(SECONDS),
    }


def _goertzel(pcm: object, a: int, f: float) -> float:
    w = 2 * math.pi * f / RATE
    re = im = 0.0
    for k in range(WINDOW):
        x = pcm[a + k]  # type: ignore[index]
        re += x * math.cos(w * k)
        im += x * math.sin(w * k)
    return re * re + im * im


def sound_join(pcm: object, t: float, before: int, after: int) -> float:
    """Where, near t, the tone of clip `after` becomes as loud as that of clip `before`."""
    fa, fb = TONES[before], TONES[after]
    step = RATE // 1000
    lo, hi = round((t - 0.3) * RATE), round((t + 0.3) * RATE)
    for a in range(lo, hi, step):
        if _goertzel(pcm, a, fb) >= _goertzel(pcm, a, fa):
            return (a + WINDOW / 2) / RATE
    raise AssertionError(f"no change of tone near {t:.3f} s")


def _mix(px: bytes, a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """How far (0 = a, 1 = b) the mean colour of a frame lies from colour a to colour b."""
    n = len(px) // 3
    mean = [sum(px[i::3]) / n for i in range(3)]
    d = [y - x for x, y in zip(a, b, strict=True)]
    return sum((m - x) * dd for m, x, dd in zip(mean, a, d, strict=True)) / sum(dd * dd for dd in d)


def picture_join(frames: list[bytes], t: float, before: int, after: int) -> float:
    """Where, near t, the picture is half clip `before`'s colour and half `after`'s (the
    start of the first frame of `after` at a cut)."""
    a, b = RGB[COLOURS[before]], RGB[COLOURS[after]]
    lo = max(round((t - 0.5) / FRAME), 1)
    prev = _mix(frames[lo - 1], a, b)
    for n in range(lo, min(round((t + 0.5) / FRAME), len(frames))):
        cur = _mix(frames[n], a, b)
        if cur >= 0.5:
            if cur > 0.9 and prev < 0.1:  # a cut: the new picture starts with this frame
                return n * FRAME
            # a crossfade: each frame's mix is the ramp's value at the frame's start time
            return (n - 1 + (0.5 - prev) / (cur - prev)) * FRAME
        prev = cur
    raise AssertionError(f"no change of picture near {t:.3f} s")


def check_joins(path: Path, order: list[int], xfade: float, with_sound: list[bool]) -> list[float]:
    frames = all_frames(path)
    pcm = samples(path)
    offsets = []
    for j in range(1, len(order)):
        t = j * (SECONDS - xfade) + xfade / 2
        pic = picture_join(frames, t, order[j - 1], order[j])
        assert pic == pytest.approx(t, abs=FRAME / 2)  # the picture is where the timeline says
        if with_sound[j - 1] and with_sound[j]:
            offsets.append(sound_join(pcm, t, order[j - 1], order[j]) - pic)
    assert all(abs(d) <= FRAME for d in offsets), [f"{d * 1000:+.0f} ms" for d in offsets]
    return offsets


@pytest.mark.parametrize("xfade", [0.0, 0.5])
def test_sound_stays_with_its_picture_at_every_join(
    tmp_path: Path, service: dict[str, list[Path]], xfade: float
) -> None:
    order = [0, 1, 2, 3, 4, 5, 0, 1]
    kw = {"transition": "crossfade", "transition_duration": xfade} if xfade else {}
    clips = [clip(f"s{k}", service["sound"][i], (0, 8), **(kw if k else {})) for k, i in enumerate(order)]
    result = stitch(CutSpec(clips=tuple(clips), output=tmp_path / "film.mp4", size=(160, 90)))
    if not xfade:
        assert result.method == "copy"  # the sound is copied: and must still be in sync
    want = len(order) * SECONDS - (len(order) - 1) * xfade
    assert result.duration == pytest.approx(want)
    lengths = stream_lengths(result.output)
    assert lengths["video"] == pytest.approx(want, abs=1e-6)
    assert lengths["audio"] == pytest.approx(want, abs=FRAME)
    assert decode_errors(result.output) == ""
    offsets = check_joins(result.output, order, xfade, [True] * len(order))
    assert len(offsets) == len(order) - 1


@pytest.mark.parametrize("xfade", [0.0, 0.5])
def test_clips_without_sound_keep_the_others_in_sync(
    tmp_path: Path, service: dict[str, list[Path]], xfade: float
) -> None:
    order = [0, 1, 2, 3, 4, 5]
    mute = {2, 3}
    kw = {"transition": "crossfade", "transition_duration": xfade} if xfade else {}
    clips = [
        clip(f"s{k}", service["mute" if k in mute else "sound"][i], (0, 8), **(kw if k else {}))
        for k, i in enumerate(order)
    ]
    result = stitch(CutSpec(clips=tuple(clips), output=tmp_path / "film.mp4", size=(160, 90)))
    assert result.method != "copy"  # two clips have no sound track to copy
    assert decode_errors(result.output) == ""
    offsets = check_joins(result.output, order, xfade, [k not in mute for k in range(len(order))])
    assert len(offsets) == 2  # 0|1 and 4|5: the other joins have a clip without sound
