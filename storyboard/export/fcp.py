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

This is FCP 7 XML, not FCPX's fcpxml: OpenTimelineIO's FCPX adapter drops dissolves.
"""

from __future__ import annotations

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
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>\n{body}\n'
