"""The cut as an OpenTimelineIO timeline, translated from the stitcher's layout.

Tracks: V1 the shots' picture, A1 their own sound (a gap where a shot is muted or has none),
A2 the music with its volume. Every time is a whole number of frames at the cut's rate.

How the layout's joins become OpenTimelineIO:
- A crossfade of n frames is a dissolve centred on the cut: n // 2 frames before it (the
  outgoing clip's tail) and the rest after. Both clips keep, beyond their cut point, the
  frames the dissolve shows (the layout keeps them inside each clip's trim), so an editor
  has the handles the dissolve needs: the incoming clip's source starts inside the clip.
- A fade (through black, the film's length unchanged) is a dissolve from the outgoing clip
  to a zero-length gap and another from that gap to the incoming clip; the first shot
  fading in has only the second, from black. No time is negative: a gap a dissolve runs
  into starts in its black as far as the dissolve reaches (every adapter converts it).
- The film's own fade at its end (`ending: fade`) is the last clip's dissolve to a
  zero-length gap, on the picture and the shots' sound; the music fades out over it too.
- A caption is a marker on its shot's clip spanning the time it is on screen (the .srt
  beside the timeline has the exact times).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import opentimelineio as otio

from storyboard.export.source import Cut

META = "storyboard"  # our metadata namespace on every object we make
DISSOLVE = "Cross Dissolve"  # the name the FCP 7 family (Premiere, Resolve) gives it


@dataclass(frozen=True)
class Segment:
    """A clip's part of a track: between its cut points, in frames of the cut."""

    index: int
    record_in: int  # where its cut-in lies in the film
    frames: int  # up to its cut-out
    source_in: int  # the frame of the clip shown at its cut-in
    dissolve_in: tuple[int, int] = (0, 0)  # (before, after) its cut-in: a crossfade in
    fade_in: int = 0  # frames fading in from black
    fade_out: int = 0  # frames fading to black


def _split(overlap: int) -> tuple[int, int]:
    """A dissolve centred on its cut: the frames before it and after it. FCP 7 XML readers
    put a centred dissolve's cut at floor((start + end) / 2): this agrees."""
    before = overlap // 2
    return before, overlap - before


def segments(cut: Cut) -> list[Segment]:
    """Each clip's place between its cut points, from the layout (nothing re-placed here)."""
    placed = cut.timeline.placed
    frames = cut.frames
    out = []
    for k, p in enumerate(placed):
        start = frames(p.start)
        head = _split(frames(p.overlap)) if p.overlap > 0 else (0, 0)
        nxt = placed[k + 1] if k + 1 < len(placed) else None
        if nxt is not None and nxt.overlap > 0:
            cut_out = frames(nxt.start) + _split(frames(nxt.overlap))[0]
        else:
            cut_out = start + p.frames
        cut_in = start + head[0]
        out.append(
            Segment(
                index=k,
                record_in=cut_in,
                frames=cut_out - cut_in,
                source_in=frames(p.source_start) + head[0],
                dissolve_in=head,
                fade_in=max(frames(p.fade_in), 1) if p.fade_in > 0 else 0,
                fade_out=max(frames(p.fade_out or p.ending), 1) if p.fade_out or p.ending else 0,
            )
        )
    return out


class _Frames:
    """RationalTime and TimeRange at the cut's rate."""

    def __init__(self, fps: float) -> None:
        self.fps = fps

    def t(self, frames: float) -> otio.opentime.RationalTime:
        return otio.opentime.RationalTime(frames, self.fps)

    def range(self, start: float, frames: float) -> otio.opentime.TimeRange:
        return otio.opentime.TimeRange(self.t(start), self.t(frames))


def _transition(f: _Frames, before: int, after: int, kind: str) -> otio.schema.Transition:
    return otio.schema.Transition(
        name=DISSOLVE,
        transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
        in_offset=f.t(before),
        out_offset=f.t(after),
        metadata={META: {"kind": kind}},
    )


def _gap(f: _Frames, frames: int) -> otio.schema.Gap:
    return otio.schema.Gap(source_range=f.range(0, frames))


def _media(cut: Cut, k: int, f: _Frames) -> otio.schema.ExternalReference:
    src = cut.sources[k]
    return otio.schema.ExternalReference(
        target_url=src.path.as_uri(),
        available_range=f.range(0, src.frames),
        metadata={META: {"width": src.size[0], "height": src.size[1], "fps": src.fps, "sound": src.sound}},
    )


def _shot_clip(cut: Cut, seg: Segment, f: _Frames, markers: bool) -> otio.schema.Clip:
    k = seg.index
    clip = cut.spec.clips[k]
    meta: dict[str, Any] = {
        "shot": clip.shot_id,
        "index": k,
        "fingerprint": cut.fingerprints[k],
        **({"provider": cut.providers[k]} if k < len(cut.providers) else {}),
        "trim": list(clip.trim),
        "transition": {"type": clip.transition, "duration": clip.transition_duration},
        "keep_audio": clip.keep_audio,
    }
    if clip.caption:
        meta["caption"] = clip.caption
    out = otio.schema.Clip(
        name=clip.shot_id,
        media_reference=_media(cut, k, f),
        source_range=f.range(seg.source_in, seg.frames),
        metadata={META: meta},
    )
    if markers:
        out.markers.extend(_caption_markers(cut, seg, f))
    return out


def _one_line(text: str) -> str:
    """Names go on one line: an EDL is read line by line, so a newline in a title, a caption
    or a file name would start an event of its own there."""
    return " ".join(text.split())


def _caption_markers(cut: Cut, seg: Segment, f: _Frames) -> list[otio.schema.Marker]:
    """The shot's caption while it is on screen, in the clip's own (source) frames, kept
    within the clip's part of the track."""
    placed = cut.timeline.placed
    captioned = [p.index for p in placed if (p.clip.caption or "").strip()]
    windows = dict(zip(captioned, cut.timeline.caption_windows(), strict=True))
    if seg.index not in windows:
        return []
    a, b, text = windows[seg.index]
    lo, hi = seg.record_in, seg.record_in + seg.frames
    start = min(max(cut.frames(a), lo), hi)
    end = min(max(cut.frames(b), start), hi)
    return [
        otio.schema.Marker(
            name=_one_line(text),
            marked_range=f.range(seg.source_in + start - seg.record_in, end - start),
            color=otio.schema.MarkerColor.YELLOW,
            metadata={META: {"caption": text}},
        )
    ]


def _joins(cut: Cut, segs: list[Segment], f: _Frames, item: Any) -> list[Any]:
    """Items of a track: item(seg) for each clip (a Clip, or a Gap), joined as the layout says."""
    out: list[Any] = []
    for k, seg in enumerate(segs):
        if seg.dissolve_in != (0, 0):
            out.append(_transition(f, *seg.dissolve_in, "crossfade"))
        elif seg.fade_in:
            if k > 0 and segs[k - 1].fade_out:
                out.append(_transition(f, segs[k - 1].fade_out, 0, "fade-out"))
            out.append(_gap(f, 0))
            out.append(_transition(f, 0, seg.fade_in, "fade-in"))
        out.append(item(seg))
    if segs and segs[-1].fade_out:  # the film's fade to black at its end
        out += [_transition(f, segs[-1].fade_out, 0, "fade-out"), _gap(f, 0)]
    return _silence_edges(_tidy(out))


def _tidy(items: list[Any]) -> list[Any]:
    """Drop dissolves with no clip on either side (silence into silence) and zero-length
    gaps no dissolve touches."""

    def clip_at(i: int) -> bool:
        return 0 <= i < len(items) and isinstance(items[i], otio.schema.Clip)

    kept = [
        x
        for i, x in enumerate(items)
        if not isinstance(x, otio.schema.Transition) or clip_at(i - 1) or clip_at(i + 1)
    ]

    def dissolve_at(i: int) -> bool:
        return 0 <= i < len(kept) and isinstance(kept[i], otio.schema.Transition)

    return [
        x
        for i, x in enumerate(kept)
        if not (isinstance(x, otio.schema.Gap) and x.source_range.duration.value == 0)
        or dissolve_at(i - 1)
        or dissolve_at(i + 1)
    ]


def _silence_edges(items: list[Any]) -> list[Any]:
    """A crossfade between sound and silence is that sound fading out (or in) over the
    whole overlap: the clip runs to the overlap's far end and the dissolve lies on its side
    of the cut, as an editor draws a fade. (FCP 7 XML readers also misplace what follows a
    dissolve that runs past its cut into a gap.)"""

    def resize(item: Any, start: otio.opentime.RationalTime, more: otio.opentime.RationalTime) -> None:
        r = item.source_range
        item.source_range = otio.opentime.TimeRange(r.start_time + start, r.duration + more)

    for j, x in enumerate(items[1:-1], start=1):
        if not isinstance(x, otio.schema.Transition):
            continue
        prev, nxt = items[j - 1], items[j + 1]
        before, after = x.in_offset, x.out_offset
        zero = otio.opentime.RationalTime(0, before.rate)
        if isinstance(prev, otio.schema.Clip) and isinstance(nxt, otio.schema.Gap) and after.value > 0:
            resize(prev, zero, after)
            resize(nxt, zero, zero - after)
            x.in_offset, x.out_offset = before + after, zero
            x.metadata[META] = {"kind": "fade-out"}
        elif isinstance(prev, otio.schema.Gap) and isinstance(nxt, otio.schema.Clip) and before.value > 0:
            resize(nxt, zero - before, before)
            resize(prev, zero, zero - before)
            x.in_offset, x.out_offset = zero, before + after
            x.metadata[META] = {"kind": "fade-in"}
    return items


def _black_handles(items: list[Any]) -> list[Any]:
    """A dissolve into a gap (a fade to black) reaches `in_offset` frames back into the
    black: the gap's source starts that far in, as a clip's handles do, so no reader has
    to place black at a negative time (OpenTimelineIO's EDL writer refuses it)."""
    for j, x in enumerate(items[1:], start=1):
        prev = items[j - 1]
        if isinstance(x, otio.schema.Gap) and isinstance(prev, otio.schema.Transition):
            r = x.source_range
            if prev.in_offset.value > r.start_time.value:
                x.source_range = otio.opentime.TimeRange(prev.in_offset, r.duration)
    return items


def _track(name: str, kind: str, items: list[Any], meta: dict[str, Any] | None = None) -> otio.schema.Track:
    track = otio.schema.Track(name=name, kind=kind, metadata={META: meta} if meta else None)
    for x in _black_handles(items):
        track.append(x)
    return track


def _music_track(cut: Cut, f: _Frames) -> otio.schema.Track | None:
    """The music as the stitcher mixes it: from `start` into the file, looped (or padded
    with silence) to the film's length, fading out at the end, at its volume."""
    spec, music = cut.spec.music, cut.music
    if spec is None or music is None:
        return None
    total = cut.frames(cut.timeline.duration)
    src_frames = int(music.seconds * cut.fps + 1e-9)  # whole frames the file holds
    media = otio.schema.ExternalReference(
        target_url=music.path.resolve().as_uri(),
        available_range=f.range(0, src_frames),
        metadata={META: {"sample_rate": music.sample_rate, "channels": music.channels}},
    )
    level = otio.schema.Effect(
        name="Volume", effect_name="AudioLevel", metadata={META: {"volume": spec.volume, "duck": spec.duck}}
    )
    items: list[Any] = []
    pos, src, n = 0, cut.frames(spec.start), 0
    if spec.loop and src_frames:
        src %= src_frames  # the stitcher loops the file before seeking into it
    while pos < total and src < src_frames:
        length = min(total - pos, src_frames - src)
        n += 1
        clip = otio.schema.Clip(
            name=_one_line(music.path.name if n == 1 else f"{music.path.name} (loop {n})"),
            media_reference=media.clone(),
            source_range=f.range(src, length),
            metadata={META: {"volume": spec.volume, "duck": spec.duck, "loop": n}},
        )
        clip.effects.append(level.clone())
        items.append(clip)
        pos += length
        src = 0 if spec.loop else src_frames
    if pos < total:
        items.append(_gap(f, total - pos))  # not looped: silence to the end
    # its own fade, or the film's at its end where that is longer
    fade = cut.frames(min(max(spec.fade_out, cut.timeline.ending), cut.timeline.duration))
    if fade > 0 and items and isinstance(items[-1], otio.schema.Clip):
        last = items[-1].source_range.duration.value
        items += [_transition(f, min(fade, int(last)), 0, "fade-out"), _gap(f, 0)]
    meta = {
        "file": str(music.path),
        "volume": spec.volume,
        "duck": spec.duck,  # lowered under the shots' sound in the film: editors redo this by ear
        "fade_out": spec.fade_out,
        "loop": spec.loop,
        "start": spec.start,
    }
    return _track("A2 music", otio.schema.TrackKind.Audio, items, meta)


def build(cut: Cut) -> otio.schema.Timeline:
    """The cut as an OpenTimelineIO timeline."""
    f = _Frames(cut.fps)
    segs = segments(cut)
    timeline = otio.schema.Timeline(
        name=_one_line(cut.title),
        global_start_time=f.t(0),
        metadata={
            META: {
                "film": str(cut.film),
                "fps": cut.fps,
                "width": cut.size[0],
                "height": cut.size[1],
                "duration": cut.timeline.duration,
                "captions_burned": cut.spec.burn_captions,
                "ending": {"type": "fade", "duration": cut.timeline.ending} if cut.timeline.ending else None,
            }
        },
    )
    timeline.tracks.append(
        _track(
            "V1 shots",
            otio.schema.TrackKind.Video,
            _joins(cut, segs, f, lambda s: _shot_clip(cut, s, f, True)),
        )
    )

    def sound(seg: Segment) -> Any:
        clip, src = cut.spec.clips[seg.index], cut.sources[seg.index]
        if clip.keep_audio and src.sound:
            return _shot_clip(cut, seg, f, False)
        return _gap(f, seg.frames)  # muted, or no sound: the film has silence there

    timeline.tracks.append(_track("A1 shot sound", otio.schema.TrackKind.Audio, _joins(cut, segs, f, sound)))
    music = _music_track(cut, f)
    if music is not None:
        timeline.tracks.append(music)
    return timeline
