"""Smart render for clips from any H.264 encoder: encode only what a transition, fade, trim or
burned caption touches, and copy every other GOP as it is.

Our encoder cannot reproduce another encoder's parameter sets, so the encoded pieces get SPS
and PPS of their own, under ids the clips do not use (x264's `sps-id`), and the film's avcC
lists every set (ISO/IEC 14496-15 allows 31 SPS and 255 PPS): each slice names its PPS, so
a decoder switches sets at each IDR picture. (The avc3 sample entry, with the sets repeated
in-band at every keyframe, would need no id juggling, but fewer players take it; see
docs/benchmarks.md.)

What makes a copy safe, checked on every clip, or the whole picture is encoded and the result
says why:
- the clips share one avcC (slices of copied GOPs name its ids), 4:2:0 8-bit, the cut's size
  and frame rate, every packet one frame long;
- a copy starts at an IDR picture that no later picture precedes in display order (no leading
  pictures: an open GOP's leading B-frames refer to the GOP before), and ends at a keyframe
  before which, in decoding order, lie exactly the pictures shown before it;
- our pieces reorder pictures by as many frames as the clips do (the decoding times of a copy
  and a piece then follow each other without a jump back): x264's B-frame settings are chosen
  from the clips' own delay (0, 1 or 2 frames), or nothing is copied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from storyboard.errors import StitchError
from storyboard.media import mp4
from storyboard.media.h264 import AvcConfig, nal_types
from storyboard.media.packets import VideoTrack
from storyboard.stitch.pieces import PRESET, SourceGops
from storyboard.stitch.spec import CutSpec
from storyboard.stitch.timeline import Placed

IDR = 5
# x264 B-frame settings that give each reordering delay (frames between a picture's decoding
# and display at the stream's start), as ffmpeg's MP4 muxer shifts decoding times by it.
_DELAY = {0: "bframes=0", 1: "bframes=1:b-pyramid=none", 2: "bframes=3:b-pyramid=normal"}
_PROFILES = {66: "baseline", 77: "main", 100: "high"}
# Analysis settings that only change speed: a join is a few seconds between copied GOPs.
JOIN_SPEED = ("subme=1", "me=dia", "trellis=0", "rc-lookahead=10", "mixed-refs=0", "partitions=i8x8,i4x4")


@dataclass(frozen=True)
class CopyPoints:
    """Where a clip's source may be cut: pts (timebase units) of keyframes where a copy may
    start (clean IDR) and where one may end (a closed boundary)."""

    starts: frozenset[int]
    ends: frozenset[int]
    delay: int  # the picture's reordering delay, in frames


def copy_points(track: VideoTrack, fps: float) -> CopyPoints:
    """Read the keyframes' NAL units and the packets' order to find the safe cut points."""
    pts = track.pts
    n = len(pts)
    before = [0] * n  # the latest display time among packets decoded before i
    latest = -(1 << 62)
    for i, p in enumerate(pts):
        before[i] = latest
        latest = max(latest, p)
    after = [0] * n  # the earliest display time among packets decoded at or after i
    earliest = 1 << 62
    for i in range(n - 1, -1, -1):
        earliest = min(earliest, pts[i])
        after[i] = earliest
    index = {p: i for i, p in enumerate(pts)}
    closed = {k for k in track.keyframes if k in index and before[index[k]] < k <= after[index[k]]}
    idr = set()
    config = AvcConfig.parse(mp4.avcc(track.path))
    with open(track.path, "rb") as f:
        for sample, offset, size in mp4.sync_samples(track.path):
            if sample >= n:
                continue
            f.seek(offset)
            if IDR in nal_types(f.read(size), config.length_size):
                idr.add(pts[sample])
    return CopyPoints(starts=frozenset(closed & idr), ends=frozenset(closed), delay=delay_of(track, fps))


def anchors(track: VideoTrack, points: CopyPoints) -> list[float]:
    """Seconds (0 = the first frame) of the clean IDR pictures, where decoding may start."""
    tb = track.timebase[0] / track.timebase[1]
    return sorted(p * tb - track.start for p in points.starts)


def delay_of(track: VideoTrack, fps: float) -> int:
    """Frames between the first keyframe's decoding and display time (B-frame reordering)."""
    if not track.keyframes or not track.keyframe_dts:
        return 0
    frame = track.timebase[1] / (track.timebase[0] * fps)
    return round((track.keyframes[0] - track.keyframe_dts[0]) / frame)


def gops(spec: CutSpec, track: VideoTrack, placed: Placed, points: CopyPoints) -> SourceGops | None:
    """Where the placed clip may be cut for copying, in its own output frames."""
    tb = track.timebase[0] / track.timebase[1]
    offset = placed.source_start * spec.fps
    if abs(offset - round(offset)) > 1e-3:
        return None  # trimmed between frames: the copy would not line up
    keys = []
    for pts, dts in zip(track.keyframes, track.keyframe_dts, strict=True):
        if pts not in points.starts or pts not in points.ends:
            continue
        frame = round((pts * tb - track.start) * spec.fps)
        if frame >= round(offset):
            # Half a frame before the keyframe's decoding time: the outpoint drops packets
            # from there on, so the keyframe goes and the frames before it stay.
            keys.append((frame - round(offset), pts * tb, dts * tb - 0.5 / spec.fps))
    return SourceGops(keyframes=tuple(keys), frames=track.frames, offset=round(offset))


def encoder(config: AvcConfig, delay: int) -> tuple[list[str] | None, str]:
    """x264 settings for our pieces: the clips' profile, level and reordering delay, and
    parameter-set ids the clips do not use; or None and why not."""
    profile = _PROFILES.get(config.profile)
    if profile is None:
        return None, f"H.264 profile {config.profile} (not Baseline, Main or High)"
    if delay not in _DELAY:
        return None, f"the clips reorder pictures by {delay} frames (at most 2 can be matched)"
    if profile == "baseline" and delay:
        return None, "Baseline clips with reordered pictures"
    used = config.sps_ids | config.pps_ids
    free = next((i for i in range(32) if i not in used), None)
    if free is None:
        return None, "the clips use every parameter-set id"
    params = [f"sps-id={free}", _DELAY[delay], *JOIN_SPEED]
    level = f"{config.level / 10:g}"
    args = ["-c:v", "libx264", "-preset", PRESET, "-profile:v", profile, "-level", level]
    return [*args, "-x264-params", ":".join(params), "-pix_fmt", "yuv420p"], ""


def merged_config(source: AvcConfig, pieces: Sequence[Path]) -> AvcConfig:
    """The film's avcC: the clips' sets and every piece's; StitchError when they clash."""
    out = source
    for path in pieces:
        got = AvcConfig.parse(mp4.avcc(path))
        if got.profile != source.profile:
            raise StitchError(f"a piece came out in profile {got.profile}, not {source.profile}")
        out = out.merged(got)
        if got.level > out.level:
            out = AvcConfig(
                out.profile, out.compatibility, got.level, out.length_size, out.sps, out.pps, out.trailer
            )
    return out
