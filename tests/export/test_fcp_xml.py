"""The FCP 7 XML against what DaVinci Resolve and Premiere need of it: a sequence format
with the film's width, height and rate, files they can find and whose content they are
told, clip items with in and out inside their media, dissolves they recognise."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from storyboard.media.ffmpeg import probe
from tests.export.conftest import Rendered


@pytest.fixture(scope="module")
def xml(lighthouse: Rendered) -> ET.Element:
    return ET.parse(lighthouse.timelines[".xml"]).getroot()


def _text(e: ET.Element | None, path: str) -> str:
    assert e is not None
    found = e.find(path)
    assert found is not None and found.text is not None, f"<{e.tag}> has no {path}"
    return found.text


def test_document(lighthouse: Rendered, xml: ET.Element) -> None:
    head = lighthouse.timelines[".xml"].read_text().splitlines()[:2]
    assert head == ['<?xml version="1.0" encoding="UTF-8"?>', "<!DOCTYPE xmeml>"]
    assert xml.tag == "xmeml" and xml.get("version") == "4"
    assert len(xml.findall("./project/children/sequence")) == 1


def test_sequence_format_has_width_height_and_rate(lighthouse: Rendered, xml: ET.Element) -> None:
    """Resolve ignores a sequence whose <format> lacks them."""
    film = probe(lighthouse.film)
    assert film.video is not None
    seq = xml.find("./project/children/sequence")
    assert _text(seq, "rate/timebase") == "24" and _text(seq, "rate/ntsc") == "FALSE"
    assert _text(seq, "duration") == "857"
    sc = xml.find("./project/children/sequence/media/video/format/samplecharacteristics")
    assert sc is not None
    assert (int(_text(sc, "width")), int(_text(sc, "height"))) == (film.video.width, film.video.height)
    assert _text(sc, "rate/timebase") == "24" and _text(sc, "rate/ntsc") == "FALSE"
    assert _text(sc, "pixelaspectratio") == "square" and _text(sc, "fielddominance") == "none"
    sound = xml.find("./project/children/sequence/media/audio/format/samplecharacteristics")
    assert sound is not None and _text(sound, "samplerate") == "48000"


def test_files_are_found_and_described(lighthouse: Rendered, xml: ET.Element) -> None:
    defined: dict[str, ET.Element] = {}
    for f in xml.iter("file"):
        if f.find("pathurl") is not None:
            assert f.get("id") not in defined, "each file is defined once, then referred to"
            defined[f.get("id", "")] = f
    assert len(defined) == 6  # five clips and the music
    for f in defined.values():
        url = _text(f, "pathurl")
        assert url.startswith("file://localhost/")
        path = Path(unquote(urlparse(url).path))
        assert path.is_file(), path
        info = probe(path)
        assert int(_text(f, "duration")) == int(info.duration * 24 + 1e-9)  # whole frames it holds
        if info.video is not None:
            sc = f.find("media/video/samplecharacteristics")
            assert sc is not None
            assert (int(_text(sc, "width")), int(_text(sc, "height"))) == (
                info.video.width,
                info.video.height,
            )
        else:
            assert f.find("media/video") is None  # the music: sound only
        assert (f.find("media/audio") is not None) == (info.audio is not None)
    for f in xml.iter("file"):  # every reference resolves
        assert f.get("id") in defined


def test_clip_items_stay_inside_their_media(xml: ET.Element) -> None:
    lengths = {
        f.get("id"): int(_text(f, "duration")) for f in xml.iter("file") if f.find("duration") is not None
    }
    items = list(xml.iter("clipitem"))
    assert len(items) == 5 + 4 + 6  # picture, shot sound (the-wave is muted), music
    for item in items:
        assert len(item.findall("rate")) == 1
        file_id = item.find("file")
        assert file_id is not None
        media = lengths[file_id.get("id")]
        start, end = int(_text(item, "in")), int(_text(item, "out"))
        assert 0 <= start < end <= media, (_text(item, "name"), start, end, media)
        assert int(_text(item, "duration")) == media
        for tag in ("start", "end"):
            assert int(_text(item, tag)) >= -1


def test_dissolves_are_recognised(xml: ET.Element) -> None:
    seq = xml.find("./project/children/sequence/media")
    assert seq is not None
    video = seq.findall("video/track/transitionitem")
    sound = seq.findall("audio/track/transitionitem")
    assert [_text(t, "alignment") for t in video] == [
        "start-black",
        "center",
        "center",
        "end-black",
        "start-black",
        "end-black",  # the film's `ending: fade`
    ]
    for t in video:
        assert _text(t, "effect/effectid") == "Cross Dissolve" and _text(t, "effect/mediatype") == "video"
        assert int(_text(t, "start")) < int(_text(t, "end"))
    # the shots' sound (no fade out of the muted shot; the last shot's to silence at the end)
    # and the music's fade
    assert len(sound) == 6
    for t in sound:
        assert _text(t, "effect/mediatype") == "audio"
        assert _text(t, "effect/effectid") == "KGAudioTransCrossFade0dB"


def test_sound_clips_name_their_source_track(xml: ET.Element) -> None:
    for track in xml.findall("./project/children/sequence/media/audio/track"):
        for item in track.findall("clipitem"):
            assert _text(item, "sourcetrack/mediatype") == "audio"
    for track in xml.findall("./project/children/sequence/media/video/track"):
        for item in track.findall("clipitem"):
            assert item.find("sourcetrack") is None
