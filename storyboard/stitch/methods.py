"""Which way a cut is made, fastest first, and why the faster ways cannot be used.

- COPY: every join is a cut, nothing is trimmed or burned in, every clip's picture has the
  same codec parameters as the others and the output (codec, profile, size, fps, pix_fmt,
  timebase, SPS/PPS), and every clip's sound is AAC that can be copied exactly
  (sound_copy_blockers): picture and sound stream-copied, nothing decoded.
- COPY_PICTURE: as COPY, but the sound is re-encoded (music, a clip without sound, other
  sample rates...).
- ENCODE_JOINS: only what a transition, fade, trim or burned caption touches is encoded; the
  whole GOPs between are copied (splice.py says when that is safe).
- ENCODE: the whole picture is encoded, piece by piece (pieces.py).
- MOVIEPY: the cut composed by moviepy (compose.py): the reference, and the engine to script.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from storyboard.stitch.sources import Source
from storyboard.stitch.spec import CutSpec
from storyboard.stitch.timeline import Timeline


class Method(str, Enum):
    COPY = "copy"
    COPY_PICTURE = "copy-picture"
    ENCODE_JOINS = "encode-joins"
    ENCODE = "encode"
    MOVIEPY = "moviepy"

    def __str__(self) -> str:
        return self.value


def _size(spec: CutSpec) -> tuple[int, int]:
    assert spec.size is not None, "stitch() settles the size before anything reads it"
    return spec.size


def _frame_ticks(src: Source, fps: float) -> float:
    tb = src.track.timebase
    return tb[1] / (tb[0] * fps)


def picture_blockers(spec: CutSpec, sources: Sequence[Source], timeline: Timeline) -> list[str]:
    """What every copied picture needs, whole clips or GOPs: H.264 4:2:0 of the cut's size
    and rate, every packet one frame long, all clips encoded alike (one avcC)."""
    why: list[str] = []
    w, h = _size(spec)
    first = sources[0]
    for p, src in zip(timeline.placed, sources, strict=True):
        who = f"shot {p.clip.shot_id!r}"
        v, tr = src.info.video, src.track
        assert v is not None
        if v.codec != "h264" or v.pix_fmt != "yuv420p":
            why.append(f"{who} is {v.codec}/{v.pix_fmt}, not h264/yuv420p")
        if (v.width, v.height) != (w, h):
            why.append(f"{who} is {v.width}x{v.height}, not {w}x{h}")
        # Constant frame rate at exactly the output's: every packet one frame long.
        frame = _frame_ticks(src, spec.fps)
        if abs(v.fps - spec.fps) > 0.01 or any(abs(d - frame) > 0.5 for d in tr.durations):
            why.append(f"{who} is not {spec.fps:g} fps")
        assert first.info.video is not None
        same = (
            v.profile == first.info.video.profile
            and tr.extradata == first.track.extradata
            and tr.codec == first.track.codec
        )
        if not same:
            why.append(f"{who} is encoded unlike shot {spec.clips[0].shot_id!r}")
    return why


def copy_blockers(spec: CutSpec, sources: Sequence[Source], timeline: Timeline) -> list[str]:
    """Why the picture cannot be stream-copied whole; empty when it can."""
    why = picture_blockers(spec, sources, timeline)
    if spec.burn_captions and timeline.caption_windows():
        why.insert(0, "captions are burned in")
    if timeline.ending > 0:
        why.append("the film fades to black at its end")
    first = sources[0]
    for p, src in zip(timeline.placed, sources, strict=True):
        who = f"shot {p.clip.shot_id!r}"
        if p.clip.transition != "cut":
            why.append(f"{who} enters by {p.clip.transition}")
        if p.source_start > 0.5 / spec.fps or p.frames != src.track.frames:
            why.append(f"{who} is trimmed")
        if src.track.timebase != first.track.timebase:
            why.append(f"{who} has another timebase than shot {spec.clips[0].shot_id!r}")
    # One reason per shot and kind is enough.
    return list(dict.fromkeys(why))


def joins_blockers(spec: CutSpec, sources: Sequence[Source], timeline: Timeline) -> list[str]:
    """Why the clips' GOPs between the joins cannot be copied (empty when they can)."""
    why = picture_blockers(spec, sources, timeline)
    for p, src in zip(timeline.placed, sources, strict=True):
        if len(src.track.keyframe_dts) != len(src.track.keyframes):
            why.append(f"shot {p.clip.shot_id!r}'s keyframes are unknown")
    return why


def sound_copy_blockers(spec: CutSpec, sources: Sequence[Source]) -> list[str]:
    """Why the clips' sound cannot be stream-copied with a copied picture; empty when it can.

    Copying AAC through the concat demuxer is exact when each entry starts at the picture's
    start (inpoint) and lasts exactly the picture (duration): each file's priming is then
    skipped as it is when decoding. What it cannot do is change the sound: so no music,
    every clip keeps sound of its own, all of it AAC with the same parameters (the output
    is 48 kHz stereo AAC and the MP4 sample entry holds one decoder configuration), each
    starting with its picture and lasting exactly as long, in whole AAC frames (8 s at
    48 kHz is 375 frames of 1024 samples), heard from the start of a packet. At each join
    the copied sound dips for ~10 ms (the decoder starts the next clip without its priming
    frame): acceptable at a cut.

    The sound is read from copies of each clip's sound track alone (cut.py): in a clip with
    B-frames the demuxer's seek to the inpoint follows the picture's first decoding time,
    which lies before 0, and so keeps the sound's priming packet, one AAC frame (21.3 ms)
    per join.
    """
    why: list[str] = []
    if spec.music is not None:
        why.append("music is mixed in")
    if spec.ending > 0:
        why.append("the sound fades out at the film's end")
    first = sources[0].audio
    for clip, src in zip(spec.clips, sources, strict=True):
        who = f"shot {clip.shot_id!r}"
        a, info = src.audio, src.info.audio
        if not clip.keep_audio:
            why.append(f"{who} is muted")
            continue
        if a is None or info is None:
            why.append(f"{who} has no sound")
            continue
        if a.codec != "aac" or info.profile != "LC":
            why.append(f"{who}'s sound is {a.codec} {info.profile}, not AAC LC")
        if info.sample_rate != spec.sample_rate or a.timebase != (1, spec.sample_rate):
            why.append(f"{who}'s sound is {info.sample_rate} Hz, not {spec.sample_rate}")
        if info.channels != 2:
            why.append(f"{who}'s sound has {info.channels} channels, not 2")
        if first is not None and (a.extradata != first.extradata or a.codec != first.codec):
            why.append(f"{who}'s sound is encoded unlike shot {spec.clips[0].shot_id!r}")
        # Any difference would add up join after join: the sound must fill exactly whole
        # AAC frames (a trimmed last frame keeps its padding when copied) and the picture.
        sample = 1 / spec.sample_rate + 1e-9
        if abs(a.start - src.track.start) > sample:
            why.append(f"{who}'s sound starts {a.start - src.track.start:+.4f} s from its picture")
        if a.uneven:
            why.append(f"{who}'s sound does not end on a whole AAC frame")
        if not a.whole_priming:
            why.append(f"{who}'s sound does not start on a whole AAC frame")
        if abs(a.length - src.track.length) > sample:
            why.append(f"{who}'s sound lasts {a.length:.4f} s, its picture {src.track.length:.4f} s")
    return why
