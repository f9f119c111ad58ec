"""Smart render on clips from other encoders: only what a transition, fade, trim or burned
caption touches is encoded, every other GOP copied; the film decodes cleanly (-xerror, no
warnings) and holds the same picture as encoding every frame, at every frame."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.media import mp4
from storyboard.media.h264 import AvcConfig
from storyboard.media.packets import inspect_file
from storyboard.stitch import splice
from storyboard.stitch.cut import stitch
from storyboard.stitch.spec import CutSpec
from tests.stitch.conftest import all_frames, atoms, clip, make_service_clip, packet_crcs, strict_decode

FPS = 24
SECONDS = 64 / FPS
XF = {"transition": "crossfade", "transition_duration": 0.5}


def _mad(a: bytes, b: bytes) -> float:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


@pytest.fixture(scope="module")
def encoded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    d = tmp_path_factory.mktemp("encoders")
    out = {}
    for enc in ("high-bframes", "open-gop", "openh264"):
        out[enc] = [
            make_service_clip(
                d / f"{enc}-{c}.mp4", c, tone=300 + 200 * i, seconds=SECONDS, encoder=enc, moving=True
            )
            for i, c in enumerate(("red", "blue", "lime", "yellow"))
        ]
    return out


def _cut(folder: Path, clips: list[Path], **kw: object) -> CutSpec:
    a, b, c, d = clips
    shots = (
        clip("a", a, (0, 8)),
        clip("b", b, (0, 8), **XF),
        clip("c", c, (0.25, 8), **XF),  # trimmed off its keyframe
        clip("d", d, (0, 8), transition="fade", transition_duration=0.5, caption="第四幕：灯塔"),
        clip("e", a, (0, 8)),
    )
    return CutSpec(clips=shots, output=folder / "film.mp4", size=(160, 90), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("enc", ["high-bframes", "open-gop", "openh264"])
def test_only_the_joins_are_encoded_whatever_made_the_clips(
    tmp_path: Path, encoded: dict[str, list[Path]], enc: str
) -> None:
    clips = encoded[enc]
    spec = _cut(tmp_path / "smart", clips, burn_captions=True)
    result = stitch(spec)
    assert result.method == "encode-joins", result.why
    want = 5 * SECONDS - 0.25 - 2 * 0.5
    assert result.duration == pytest.approx(want)
    assert strict_decode(result.output) == ""
    boxes = atoms(result.output)
    assert boxes.index("moov") < boxes.index("mdat")  # moov first, offsets moved with it
    # The film's avcC lists the clips' parameter sets and ours, under ids of their own.
    film = AvcConfig.parse(mp4.avcc(result.output))
    source = AvcConfig.parse(mp4.avcc(clips[0]))
    assert set(source.sps) < set(film.sps) and set(source.pps) < set(film.pps)
    assert len(film.sps_ids) == len(film.sps) >= 2
    # Copied for real: clip e (clip a again, after a cut, untrimmed) from its first GOP on.
    src = packet_crcs(clips[0])
    out = packet_crcs(result.output)
    assert any(out[i : i + 12] == src[:12] for i in range(len(out)))
    # The same picture as encoding every frame, at every frame.
    full = stitch(_cut(tmp_path / "full", clips, burn_captions=True), engine="reencode")
    assert full.method == "encode"
    ours, theirs = all_frames(result.output), all_frames(full.output)
    assert len(ours) == len(theirs) == round(want * FPS)
    # Two encodes of one picture differ by their noise (a fine moving pattern at 160x90:
    # about 2 levels, a different frame scores 2.5 or more): each frame is closer to the
    # same frame of the full encode than to its neighbours, wherever those differ at all.
    diffs = [_mad(x, y) for x, y in zip(ours, theirs, strict=True)]
    assert max(diffs) < 4, (max(diffs), diffs.index(max(diffs)))
    for n in range(1, len(ours) - 1):
        for m in (n - 1, n + 1):
            if _mad(theirs[m], theirs[n]) > 1.5:
                assert diffs[n] < _mad(ours[n], theirs[m]), (n, m)


def test_copies_start_only_at_clean_idr_pictures(encoded: dict[str, list[Path]]) -> None:
    closed = inspect_file(encoded["high-bframes"][0]).video
    opened = inspect_file(encoded["open-gop"][0]).video
    assert closed is not None and opened is not None
    c, o = splice.copy_points(closed, FPS), splice.copy_points(opened, FPS)
    assert c.delay == o.delay == 2  # B-frame pyramid: two frames of reordering
    assert len(c.starts) == len(closed.keyframes) > 1  # every keyframe an IDR, no leading B
    # An open GOP's keyframes after the first are I pictures with leading B-frames that
    # refer to the GOP before: no copy may start (or end) there.
    assert len(opened.keyframes) > 1 and o.starts == {min(opened.pts)}
    base = splice.copy_points(inspect_file(encoded["openh264"][0]).video, FPS)  # type: ignore[arg-type]
    assert base.delay == 0


def test_the_rewrite_moves_moov_first_and_keeps_every_packet(
    tmp_path: Path, encoded: dict[str, list[Path]]
) -> None:
    src = tmp_path / "end.mp4"
    from storyboard.media.ffmpeg import run

    run(["-y", "-i", str(encoded["high-bframes"][0]), "-c", "copy", str(src)])  # moov at the end
    assert atoms(src).index("mdat") < atoms(src).index("moov")
    out = tmp_path / "front.mp4"
    config = AvcConfig.parse(mp4.avcc(src))
    mp4.rewrite(src, out, avcc=config.build())
    assert atoms(out).index("moov") < atoms(out).index("mdat")
    assert packet_crcs(out) == packet_crcs(src)
    assert strict_decode(out) == ""
