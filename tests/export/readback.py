"""Read a timeline file back with OpenTimelineIO and say, format-blind, what it puts on
screen: each clip's first frame in the film, its first source frame, how many frames it is
seen (dissolves included) and how it enters and leaves.

Every format draws the same cut its own way (a dissolve centred on its cut, or wholly after
it as an EDL has it; a fade as a dissolve to a gap or to a black clip): this reads any of
them by OpenTimelineIO's rules, so the tests compare what is seen, not how it is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

import opentimelineio as otio

from storyboard.stitch.timeline import Timeline


@dataclass(frozen=True)
class Shown:
    name: str
    path: Path | None
    record_in: int  # first frame of the film where the clip is seen
    source_in: int  # the clip's frame seen there
    frames: int  # frames it is seen, its dissolves included
    overlap_in: int = 0  # frames crossfading with the clip before
    fade_in: int = 0  # frames fading in from black
    fade_out: int = 0  # frames fading to black
    markers: tuple[tuple[str, int, int], ...] = field(default=(), compare=False)  # (name, film in, film out)


def _media(x: object) -> bool:
    return isinstance(x, otio.schema.Clip) and isinstance(x.media_reference, otio.schema.ExternalReference)


def _frames(t: otio.opentime.RationalTime, fps: float) -> int:
    value = t.value_rescaled_to(fps)
    assert abs(value - round(value)) < 1e-6, f"{value} is not a whole frame at {fps} fps"
    return round(value)


def shown(track: otio.schema.Track, fps: float = 24.0) -> list[Shown]:
    items = list(track)
    out = []
    for i, c in enumerate(items):
        if not _media(c):
            continue
        rng = track.range_of_child_at_index(i)
        r0, dur = _frames(rng.start_time, fps), _frames(rng.duration, fps)
        s0 = _frames(c.source_range.start_time, fps)
        before = items[i - 1] if i > 0 and isinstance(items[i - 1], otio.schema.Transition) else None
        after = (
            items[i + 1] if i + 1 < len(items) and isinstance(items[i + 1], otio.schema.Transition) else None
        )
        head = _frames(before.in_offset, fps) if before else 0
        tail = _frames(after.out_offset, fps) if after else 0
        cross_in = before is not None and i >= 2 and _media(items[i - 2])
        cross_out = after is not None and i + 2 < len(items) and _media(items[i + 2])
        span_in = head + _frames(before.out_offset, fps) if before else 0
        span_out = _frames(after.in_offset, fps) + tail if after else 0
        url = c.media_reference.target_url
        markers = tuple(
            (
                m.name,
                r0 + _frames(m.marked_range.start_time, fps) - s0,
                r0 + _frames(m.marked_range.end_time_exclusive(), fps) - s0,
            )
            for m in c.markers
        )
        out.append(
            Shown(
                name=c.name,
                path=Path(unquote(urlparse(url).path)) if url else None,
                record_in=r0 - head,
                source_in=s0 - head,
                frames=dur + head + tail,
                overlap_in=span_in if cross_in else 0,
                fade_in=span_in if before is not None and not cross_in else 0,
                fade_out=span_out if after is not None and not cross_out else 0,
                markers=markers,
            )
        )
    return out


def expected(timeline: Timeline) -> list[Shown]:
    """What the stitcher's layout puts on screen, in the same terms."""
    fps = timeline.fps

    def f(seconds: float) -> int:
        return int(seconds * fps + 0.5 + 1e-9)

    return [
        Shown(
            name=p.clip.shot_id,
            path=Path(p.clip.path).resolve(),
            record_in=f(p.start),
            source_in=f(p.source_start),
            frames=p.frames,
            overlap_in=f(p.overlap),
            fade_in=max(f(p.fade_in), 1) if p.fade_in > 0 else 0,
            fade_out=max(f(p.fade_out or p.ending), 1) if p.fade_out or p.ending else 0,  # the film's end too
        )
        for p in timeline.placed
    ]


def read(path: Path) -> otio.schema.Timeline:
    got = otio.adapters.read_from_file(str(path))
    assert isinstance(got, otio.schema.Timeline), type(got)
    return got


def video(timeline: otio.schema.Timeline) -> otio.schema.Track:
    (track,) = [t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video]
    return track


def audio(timeline: otio.schema.Timeline) -> list[otio.schema.Track]:
    return [t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Audio]
