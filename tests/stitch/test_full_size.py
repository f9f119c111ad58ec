"""The issue's own case, at full size: a 1280x720 cut whose clips include one with no audio
stream and one at 720x1280 and 30 fps. Clips are short (2 s) to keep the suite fast."""

from __future__ import annotations

from pathlib import Path

from storyboard.media.ffmpeg import probe
from storyboard.stitch.cut import stitch
from storyboard.stitch.spec import ClipCut, CutSpec
from tests.clips import make_clip
from tests.stitch.conftest import level, near, pixel, stream_lengths


def test_mixed_sizes_rates_and_a_silent_clip_at_720p(tmp_path: Path) -> None:
    wide = make_clip(tmp_path / "wide.mp4", seconds=2, size=(1280, 720), color="red", tone=440)
    tall = make_clip(tmp_path / "tall.mp4", seconds=2, size=(720, 1280), fps=30, color="blue", tone=660)
    mute = make_clip(tmp_path / "mute.mp4", seconds=2, size=(1280, 720), color="lime", audio=False)
    out = tmp_path / "film.mp4"
    spec = CutSpec(
        clips=(
            ClipCut("wide", wide, (0, 2)),
            ClipCut("tall", tall, (0, 2), transition="crossfade", transition_duration=0.5),
            ClipCut("mute", mute, (0, 2)),
        ),
        output=out,
        size=None,  # the size most clips have: 1280x720
    )
    result = stitch(spec)
    info = probe(out)
    assert info.size == (1280, 720) and info.video and info.video.pix_fmt == "yuv420p"
    assert info.audio and info.audio.codec == "aac" and info.audio.sample_rate == 48000
    lengths = stream_lengths(out)
    assert abs(lengths["video"] - 5.5) < 1 / 24 and abs(lengths["audio"] - 5.5) < 1 / 24
    assert abs(result.duration - 5.5) < 1 / 24
    # the portrait clip is pillarboxed, not stretched: blue in the middle, black at the sides
    assert near(pixel(out, 2.9), (0, 0, 255))
    assert near(pixel(out, 2.9, (40, 360)), (0, 0, 0)) and near(pixel(out, 2.9, (1240, 360)), (0, 0, 0))
    assert near(pixel(out, 4.5), (0, 255, 0))
    # sound where clips had it, silence for the clip that had none
    assert level(out, 0.2, 1.2) > -40 and level(out, 2.2, 3.2) > -40
    assert level(out, 4.0, 5.4) < -80
