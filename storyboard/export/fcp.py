"""FCP 7 XML (xmeml 4: Premiere, DaVinci Resolve, Final Cut 7) through the OpenTimelineIO
adapter (`otio-fcp-adapter`), completed with what the adapter leaves out.

- The sequence's `<format>` carries the film's width, height and rate (DaVinci Resolve
  ignores a sequence without them), with square pixels and progressive frames; its audio
  says 48 kHz stereo.
- Each file says what it holds (picture size and rate, sound or none) so an editor needs
  not guess before it finds the media; paths are `file://localhost/...` URLs as FCP 7 wrote.
- Sound dissolves are audio cross fades (the adapter makes every transition a video one);
  the music carries its volume as an Audio Levels filter; a sound clip names its source
  track.
- A clip item's `<duration>` is its media's length (as Premiere writes it), and its one
  `<rate>` is not repeated.
- Every clip item is whole: the adapter writes a clip equal to one it wrote before (a
  shot's sound beside its picture, when it has no caption) as a bare `<clipitem id=...>`,
  which only OpenTimelineIO reads back; here each has its own id, name, start, end, in, out
  and file (a file described once, then referred to by its id).
- A shot's picture and its sound are linked (`<link>`), so they move together in an editor.

This is FCP 7 XML, not FCPX's fcpxml: OpenTimelineIO's FCPX adapter drops dissolves.
"""

from __future__ import annotations

import copy
import re
import warnings
import xml.etree.ElementTree as ET
from urllib.parse import quote, unquote, urlparse

import opentimelineio as otio

from storyboard.export.otio_timeline import META
from storyboard.export.source import Cut

SAMPLE_RATE = 48000  # the film's sound, as the stitcher writes it
AUDIO_CROSSFADE = ("Cross Fade (0dB)", "KGAudioTransCrossFade0dB")  # linear, as the film's


def _el(tag: str, text: object | None = None, *children: ET.Element) -> ET.Element:
    e = ET.Element(tag)
    if text is not None:
        e.text = str(text)
    e.extend(children)
    return e


def _rate(fps: float) -> ET.Element:
    whole = round(fps)
    return _el("rate", None, _el("timebase", whole), _el("ntsc", "FALSE" if whole == fps else "TRUE"))


def _picture(width: int, height: int, fps: float) -> ET.Element:
    return _el(
        "samplecharacteristics",
        None,
        _rate(fps),
        _el("width", width),
        _el("height", height),
        _el("anamorphic", "FALSE"),
        _el("pixelaspectratio", "square"),
        _el("fielddominance", "none"),
        _el("colordepth", 24),
    )


def _sound(sample_rate: int) -> ET.Element:
    return _el("samplecharacteristics", None, _el("depth", 16), _el("samplerate", sample_rate))


def localhost_url(url: str) -> str:
    """file:///a/b -> file://localhost/a/b, the form FCP 7 and Premiere write."""
    parsed = urlparse(url)
    if parsed.scheme != "file":
        return url
    return "file://localhost" + quote(unquote(parsed.path))


def _sequence(seq: ET.Element, cut: Cut) -> None:
    media = seq.find("media")
    assert media is not None, "the adapter writes <media> in every sequence"
    video, audio = media.find("video"), media.find("audio")
    assert video is not None and audio is not None
    fmt = video.find("format")
    if fmt is None:
        fmt = _el("format")
        video.insert(0, fmt)
    fmt.clear()
    fmt.append(_picture(cut.size[0], cut.size[1], cut.fps))
    audio.insert(0, _el("numOutputChannels", 2))
    audio.insert(1, _el("format", None, _sound(SAMPLE_RATE)))


def _files(root: ET.Element, cut: Cut) -> dict[str, int]:
    """Describe each file where it is defined; return each file id's length in frames."""
    by_path = {str(s.path): s for s in cut.sources}
    music = cut.music
    lengths: dict[str, int] = {}
    for f in root.iter("file"):
        url = f.find("pathurl")
        if url is None or url.text is None:
            continue  # a reference to a file defined earlier
        path = unquote(urlparse(url.text).path)
        url.text = localhost_url(url.text)
        duration = f.find("duration")
        if duration is not None and duration.text:
            lengths[f.get("id", "")] = int(duration.text)
        media = f.find("media")
        if media is None:
            media = _el("media")
            f.append(media)
        media.clear()
        src = by_path.get(path)
        if src is not None:
            media.append(_el("video", None, _picture(src.size[0], src.size[1], src.fps)))
            if src.sound and src.sample_rate:
                media.append(
                    _el("audio", None, _sound(src.sample_rate), _el("channelcount", src.channels or 2))
                )
        elif music is not None and path == str(music.path.resolve()):
            media.append(_el("audio", None, _sound(music.sample_rate), _el("channelcount", music.channels)))
    return lengths


def _audio_levels(volume: float) -> ET.Element:
    level = _el(
        "parameter",
        None,
        _el("parameterid", "level"),
        _el("name", "Level"),
        _el("valuemin", 0),
        _el("valuemax", 3.98109),  # +12 dB
        _el("value", f"{volume:g}"),  # linear gain, as the film's music
    )
    effect = _el(
        "effect",
        None,
        _el("name", "Audio Levels"),
        _el("effectid", "audiolevels"),
        _el("effectcategory", "audiolevels"),
        _el("effecttype", "audiolevels"),
        _el("mediatype", "audio"),
        level,
    )
    return _el("filter", None, effect)


def _clipitem(item: ET.Element, clip: otio.schema.Clip, sound: bool, lengths: dict[str, int]) -> None:
    for extra in item.findall("rate")[1:]:
        item.remove(extra)
    f = item.find("file")
    duration = item.find("duration")
    if f is not None and duration is not None and f.get("id") in lengths:
        duration.text = str(lengths[f.get("id", "")])
    if sound:
        item.append(_el("sourcetrack", None, _el("mediatype", "audio"), _el("trackindex", 1)))
    for effect in clip.effects:
        volume = effect.metadata.get(META, {}).get("volume")
        if effect.effect_name == "AudioLevel" and volume is not None:
            item.append(_audio_levels(float(volume)))


def _audio_transition(item: ET.Element) -> None:
    effect = item.find("effect")
    if effect is None:
        return
    name, effect_id = AUDIO_CROSSFADE
    for tag, text in (("name", name), ("effectid", effect_id), ("mediatype", "audio")):
        e = effect.find(tag)
        if e is not None:
            e.text = text


def _whole_clipitems(seq: ET.Element) -> None:
    """Replace each bare clip item (a reference to one defined earlier) with a copy of that
    one under an id of its own: its markers stay on the first, its file is referred to."""
    items = list(seq.iter("clipitem"))
    numbers = [int(m[1]) for i in items if (m := re.fullmatch(r"clipitem-(\d+)", i.get("id", "")))]
    fresh = max(numbers, default=0)
    defined: dict[str, ET.Element] = {}
    for track in seq.iter("track"):
        for pos, item in enumerate(list(track)):
            if item.tag != "clipitem":
                continue
            ref = item.get("id", "")
            if item.find("name") is not None or ref not in defined:
                defined.setdefault(ref, item)
                continue
            whole = copy.deepcopy(defined[ref])
            fresh += 1
            whole.set("id", f"clipitem-{fresh}")
            for marker in whole.findall("marker"):
                whole.remove(marker)
            f = whole.find("file")
            if f is not None:
                whole.insert(list(whole).index(f), ET.Element("file", id=f.get("id", "")))
                whole.remove(f)
            whole.extend(list(item))
            track.remove(item)
            track.insert(pos, whole)


def _links(seq: ET.Element, timeline: otio.schema.Timeline) -> None:
    """Link each shot's picture (V1) and its sound (A1): the clip items made from one clip."""
    groups: dict[int, list[tuple[ET.Element, str, int, int]]] = {}
    for kind, otio_kind in (("video", otio.schema.TrackKind.Video), ("audio", otio.schema.TrackKind.Audio)):
        tracks = [t for t in timeline.tracks if t.kind == otio_kind]
        for t, (xml_track, track) in enumerate(
            zip(seq.findall(f"./media/{kind}/track"), tracks, strict=True), start=1
        ):
            clips = [c for c in track if isinstance(c, otio.schema.Clip)]
            for n, (item, clip) in enumerate(zip(xml_track.findall("clipitem"), clips, strict=True), start=1):
                index = clip.metadata.get(META, {}).get("index")
                if clip.metadata.get(META, {}).get("shot") is not None and isinstance(index, int):
                    groups.setdefault(index, []).append((item, kind, t, n))
    for members in groups.values():
        if len(members) < 2:
            continue
        for item, *_ in members:
            for other, kind, t, n in members:
                link = _el("link", None, _el("linkclipref", other.get("id")), _el("mediatype", kind))
                link.extend([_el("trackindex", t), _el("clipindex", n)])
                if kind == "audio":
                    link.append(_el("groupindex", 1))
                item.append(link)


def fcp_xml(timeline: otio.schema.Timeline, cut: Cut) -> str:
    """The timeline as FCP 7 XML, with everything a conforming editor needs."""
    with warnings.catch_warnings():
        # The adapter tests elements' truth (deprecated in Python 3.12); nothing we rely on.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="otio_fcp_adapter")
        text = otio.adapters.write_to_string(timeline, "fcp_xml")
    root = ET.fromstring(text)
    seq = root.find("./project/children/sequence")
    assert seq is not None, "the adapter writes one sequence for a timeline"
    _sequence(seq, cut)
    _whole_clipitems(seq)
    lengths = _files(root, cut)
    for kind, otio_kind in (("video", otio.schema.TrackKind.Video), ("audio", otio.schema.TrackKind.Audio)):
        xml_tracks = seq.findall(f"./media/{kind}/track")
        tracks = [t for t in timeline.tracks if t.kind == otio_kind]
        for xml_track, track in zip(xml_tracks, tracks, strict=True):
            clips = [c for c in track if isinstance(c, otio.schema.Clip)]
            for item, clip in zip(xml_track.findall("clipitem"), clips, strict=True):
                _clipitem(item, clip, kind == "audio", lengths)
            if kind == "audio":
                for t in xml_track.findall("transitionitem"):
                    _audio_transition(t)
    _links(seq, timeline)
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>\n{body}\n'
