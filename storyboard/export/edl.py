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
- event lines in CMX 3600's columns (the adapter writes a dissolve's duration inside the
  transition code's field, `D 012    `, which a reader that parses by column, as Avid,
  Premiere and pycmx do, takes as the code "D 01" lasting 2 frames): each line is laid out
  again by the column table below;
- the title and the comments are ASCII, which is what EDL readers expect: a caption beyond
  ASCII is written as far as it transliterates, and says that its words are in the .srt
  beside the EDL;
- a dissolve event describes its incoming clip: the adapter repeats the outgoing clip's
  locators there (a reader gives them to the incoming clip, or to the black of the film's
  ending fade: they are dropped) and names the
  incoming file as `* TO CLIP:`, which OpenTimelineIO's reader does not read (it takes the
  event's `* FROM CLIP:`, the outgoing file): `* OTIO REFERENCE TO:` says it in the form it
  reads. A caption is a locator (`* LOC:`) in its own shot's event.
"""

from __future__ import annotations

import re
import unicodedata

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


def ascii_text(text: str, fallback: str, note: str = "") -> str:
    """`text` as printable ASCII, as far as it transliterates (accents dropped); what does
    not is left out, and `note` added to say so. `fallback` when nothing is left."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = " ".join("".join(c if " " <= c <= "~" else " " for c in kept).split())
    lost = any(not unicodedata.combining(c) and not (" " <= c <= "~") and not c.isspace() for c in kept)
    if not plain:
        return fallback
    return f"{plain}{note}" if lost else plain


def edl_timeline(timeline: otio.schema.Timeline, fps: float) -> otio.schema.Timeline:
    """A copy of `timeline` shaped for the CMX 3600 writer: the picture track only."""
    video = next(t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video)
    track = otio.schema.Track(name=video.name, kind=otio.schema.TrackKind.Video)
    items = [x.clone() for x in video]
    captions = 0
    for x in items:
        if isinstance(x, otio.schema.Clip):
            fp = x.metadata.get(META, {}).get("fingerprint") or ""
            x.metadata["cmx_3600"] = {"reel": fp[:8] or re.sub(r"[^A-Za-z0-9]", "", x.name)[:8] or "AX"}
            x.name = ascii_text(x.name, "shot")
            for m in x.markers:
                captions += 1
                m.name = ascii_text(m.name, f"caption {captions} (in the .srt)", " (in full in the .srt)")
    if items and isinstance(items[0], otio.schema.Gap) and items[0].source_range.duration.value == 0:
        items[0] = _black(fps)
    for x in items:
        track.append(x)
    out = otio.schema.Timeline(name=ascii_text(timeline.name, "storyboard"))
    out.tracks.append(track)
    return out


# CMX 3600's event line, column by column (widths in characters, one space between fields,
# two after the event number and the channel): event, reel, channel, transition code, its
# duration in frames, source in and out, record in and out.
_EVENT = re.compile(
    r"^(?P<event>\d{3,4}) +(?P<reel>\S{1,8}) +(?P<channel>V|A|A2|AA|AA/V|A2/V|B|NONE) +"
    r"(?P<code>C|D|W\d{3}|KB|K|KO) +(?P<duration>\d{1,3} +)?"
    r"(?P<times>\d\d:\d\d:\d\d[:;]\d\d \d\d:\d\d:\d\d[:;]\d\d \d\d:\d\d:\d\d[:;]\d\d \d\d:\d\d:\d\d[:;]\d\d)$"
)


def event_line(event: int, reel: str, channel: str, code: str, duration: int | None, times: str) -> str:
    """One event line in CMX 3600's columns."""
    length = "   " if duration is None else f"{duration:03d}"
    return f"{event:03d}  {reel:<8} {channel:<4}  {code:<4} {length} {times}"


def _columns(line: str) -> str:
    m = _EVENT.match(line)
    if m is None:
        return line
    duration = m["duration"]
    return event_line(
        int(m["event"]), m["reel"], m["channel"], m["code"], int(duration) if duration else None, m["times"]
    )


def _dissolve_events(text: str) -> str:
    """Make each dissolve event describe its incoming clip (see the module's docstring)."""
    out: list[str] = []
    event: list[str] = []

    def flush() -> None:
        # (a dissolve to black, the film's ending, names no clip it goes to: its code says it)
        dissolve = any(
            line.startswith("* TO CLIP NAME:") or ((m := _EVENT.match(line)) is not None and m["code"] == "D")
            for line in event
        )
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
        line = _columns(line)
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
