"""CMX 3600 EDL through the OpenTimelineIO adapter (`otio-cmx3600-adapter`).

An EDL has one picture track and no sound levels: it carries V1, with its dissolves, fades
and captions (as locators). What the adapter needs beyond the timeline itself:
- a fade to black is a dissolve to the black source (BL); the adapter makes it from a
  dissolve into a gap, lengthening the gap by the dissolve, so the gap starts that much
  later in its (black) source;
- the film's opening fade from black is a dissolve event from BL at record 00:00:00:00;
  OpenTimelineIO's own EDL reader refuses a dissolve as a track's first event, so a
  zero-length black event comes first (editors skip it);
- reel names: 8 characters of the clip's fingerprint (its cache key, unique per clip;
  else of the shot's name);
- a dissolve event describes its incoming clip: the adapter repeats the outgoing clip's
  locators there (a reader gives them to the incoming clip: they are dropped) and names the
  incoming file as `* TO CLIP:`, which OpenTimelineIO's reader does not read (it takes the
  event's `* FROM CLIP:`, the outgoing file): `* OTIO REFERENCE TO:` says it in the form it
  reads. A caption is a locator (`* LOC:`) in its own shot's event.
"""

from __future__ import annotations

import re

import opentimelineio as otio

from storyboard.export.otio_timeline import META


def _black(fps: float) -> otio.schema.Clip:
    zero = otio.opentime.RationalTime(0, fps)
    return otio.schema.Clip(
        name="black",
        media_reference=otio.schema.GeneratorReference(generator_kind="black"),
        source_range=otio.opentime.TimeRange(zero, zero),
        metadata={"cmx_3600": {"reel": "BL"}},
    )


def edl_timeline(timeline: otio.schema.Timeline, fps: float) -> otio.schema.Timeline:
    """A copy of `timeline` shaped for the CMX 3600 writer: the picture track only."""
    video = next(t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video)
    track = otio.schema.Track(name=video.name, kind=otio.schema.TrackKind.Video)
    items = [x.clone() for x in video]
    for i, x in enumerate(items):
        if isinstance(x, otio.schema.Clip):
            fp = x.metadata.get(META, {}).get("fingerprint") or ""
            x.metadata["cmx_3600"] = {"reel": fp[:8] or re.sub(r"[^A-Za-z0-9]", "", x.name)[:8] or "AX"}
        elif isinstance(x, otio.schema.Gap) and i > 0 and isinstance(items[i - 1], otio.schema.Transition):
            before = items[i - 1].in_offset
            x.source_range = otio.opentime.TimeRange(before, x.source_range.duration)
    if items and isinstance(items[0], otio.schema.Gap) and items[0].source_range.duration.value == 0:
        items[0] = _black(fps)
    for x in items:
        track.append(x)
    out = otio.schema.Timeline(name=timeline.name)
    out.tracks.append(track)
    return out


def _dissolve_events(text: str) -> str:
    """Make each dissolve event describe its incoming clip (see the module's docstring)."""
    out: list[str] = []
    event: list[str] = []

    def flush() -> None:
        dissolve = any(line.startswith("* TO CLIP NAME:") for line in event)
        section = ""
        for line in event:
            if line.startswith("* FROM CLIP NAME:"):
                section = "from"
            elif line.startswith("* TO CLIP NAME:"):
                section = "to"
            if dissolve and section == "from" and line.startswith("* LOC:"):
                continue
            out.append(line)
            if line.startswith("* TO CLIP:"):
                out.append("* OTIO REFERENCE TO:" + line[len("* TO CLIP:") :])
        event.clear()

    for line in text.splitlines():
        if line[:3].isdigit() and event and not event[0].startswith(line[:3]):
            flush()
        (event if line[:3].isdigit() or event else out).append(line)
    flush()
    return "\n".join(out) + "\n"


def edl_text(timeline: otio.schema.Timeline, fps: float) -> str:
    text = str(otio.adapters.write_to_string(edl_timeline(timeline, fps), "cmx_3600", rate=fps))
    title, sep, events = text.partition("\n\n")
    # Frame-count mode after the title, as editors write it (24 fps has no drop frame).
    return f"{title}\nFCM: NON-DROP FRAME{sep}{_dissolve_events(events)}" if sep else _dissolve_events(text)
