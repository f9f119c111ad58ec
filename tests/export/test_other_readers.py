"""Timelines read by tools this project did not write, as an editor's tools read them:
pycmx (a CMX 3600 parser that reads by column), OpenTimelineIO's own command-line tools
converting our .otio to the other formats, and a plain XML parser for the FCP 7 XML.

The film: it fades in from black, has two crossfades, a trim, a caption in Chinese drawn
with the storyboard's own font, a fade to black between two shots, and the film's own fade
to black at its end."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pycmx
import pytest
from click.testing import CliRunner

from storyboard.cli import cli

ROOT = Path(__file__).resolve().parents[2]
FPS = 24
FILM = 29 * FPS  # frames: 8 + 6.5 + 8 + 8 s, less the crossfades (0.5 + 1 s)

BOARD = """\
storyboard: 1
title: 最后 The Last Boat
provider: preview
shots:
  - id: quay
    prompt: The empty quay at dusk
    transition: {type: fade, duration: 1}
    caption: 最后一班船
  - id: boat
    prompt: A fishing boat rounds the harbour wall
    trim: [0.5, 7.0]
    transition: {type: crossfade, duration: 0.5}
  - id: rope
    prompt: A rope thrown around a bollard
    transition: {type: crossfade, duration: 1.0}
    caption: Café at the quay
  - id: night
    prompt: The harbour lights at night
    transition: {type: fade, duration: 1}
ending: {type: fade, duration: 0.75}
captions:
  burn: true
  font: fonts/example-cjk.otf
"""


@dataclass(frozen=True)
class Film:
    folder: Path
    timelines: dict[str, Path]  # by extension


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> Film:
    folder = tmp_path_factory.mktemp("readers") / "boat"
    shutil.copytree(ROOT / "examples/vertical/fonts", folder / "fonts")
    board = folder / "boat.yaml"
    board.write_text(BOARD, encoding="utf-8")
    paths = {ext: folder / "editor" / f"cut{ext}" for ext in (".otio", ".edl", ".xml")}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STORYBOARD_PREVIEW_SCALE", "0.125")  # tiny clips, the same timing
        runner = CliRunner()
        r = runner.invoke(cli, ["render", str(board), "--quiet", "--timeline", str(paths[".otio"])])
        assert r.exit_code == 0, r.output
        for ext in (".edl", ".xml"):
            r = runner.invoke(cli, ["stitch", str(board), "--quiet", "--timeline", str(paths[ext])])
            assert r.exit_code == 0, r.output
    return Film(folder, paths)


def otio_tool(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    """One of OpenTimelineIO's console tools, from the installed package."""
    return subprocess.run(
        [sys.executable, "-m", f"opentimelineio.console.{name}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def frames(tc: str) -> int:
    h, m, s, f = (int(x) for x in tc.replace(";", ":").split(":"))
    return ((h * 60 + m) * 60 + s) * FPS + f


def test_pycmx_reads_every_dissolve_with_its_duration(film: Film) -> None:
    with film.timelines[".edl"].open(encoding="ascii") as f:
        edl = pycmx.parse_cmx3600(f)
    dissolves = [
        (e.source, int(e.transition.operand), frames(e.record_in), frames(e.record_out))
        for ev in edl.events
        for e in ev.edits
        if e.transition.kind == pycmx.Transition.Dissolve
    ]
    # the opening fade (12 frames: half of 1 s), the crossfades of 0.5 s and 1 s, the fade
    # from black into the last shot (after the fade to black out of the third), and the
    # film's own fade to black at its end (0.75 s: 18 frames, all of it seen)
    assert [d[1] for d in dissolves] == [12, 12, 24, 12, 12, 18], dissolves
    assert dissolves[0][2] == 0  # the film opens on it
    assert all(0 <= d[2] < d[3] for d in dissolves)
    assert all(len(d[0]) <= 8 for d in dissolves)  # reels of at most 8 characters
    # the end: a dissolve to the black source as an event of its own, ending with the film
    assert dissolves[-1][0] == "BL" and dissolves[-1][2:] == (FILM - 18, FILM)
    last = list(edl.events)[-1]
    assert [e.transition.kind for e in last.edits] == [pycmx.Transition.Cut, pycmx.Transition.Dissolve]
    assert last.edits[0].source != "BL" and frames(last.edits[0].record_in) == FILM - 18


def test_fcp_xml_ends_in_a_dissolve_to_black(film: Film) -> None:
    root = ET.parse(film.timelines[".xml"]).getroot()
    seq = root.find("./project/children/sequence")
    assert seq is not None
    for kind in ("video", "audio"):  # the picture to black, the shots' sound to silence
        track = seq.findall(f"./media/{kind}/track")[0]
        last = list(track)[-1]
        assert last.tag == "transitionitem", kind
        assert (last.findtext("start"), last.findtext("end")) == (str(FILM - 18), str(FILM)), kind
        assert last.findtext("alignment") == "end-black", kind


def test_every_event_line_is_in_cmx_3600_columns(film: Film) -> None:
    lines = [x for x in film.timelines[".edl"].read_text("ascii").splitlines() if x[:3].isdigit()]
    assert lines
    for line in lines:
        # event 1-3, reel 6-13, channel 15-18, transition code 21-24, its duration 26-28,
        # then the four timecodes from column 30 (pycmx's table)
        assert line[3:5] == "  " and line[13] == " " and line[18:20] == "  " and line[24] == " ", line
        code, duration = line[20:24].strip(), line[25:28].strip()
        assert code in ("C", "D"), line
        assert duration.isdigit() if code == "D" else duration == "", line
        assert [frames(t) >= 0 for t in line[29:].split()] == [True] * 4, line


def test_the_edl_is_ascii_and_the_captions_are_in_the_srt_beside_it(film: Film) -> None:
    edl = film.timelines[".edl"]
    text = edl.read_bytes().decode("ascii")  # raises on anything beyond ASCII
    assert "TITLE: The Last Boat" in text
    assert "CAFE AT THE QUAY" in text  # transliterated (the adapter writes locators upper case)
    assert "CAPTION 1 (IN THE .SRT)" in text  # the Chinese caption: its words are not in the EDL
    srt = edl.with_suffix(".srt").read_text("utf-8")
    assert "最后一班船" in srt and "Café at the quay" in srt


@pytest.mark.parametrize("ext", [".edl", ".xml"])
def test_otioconvert_converts_the_otio_to_each_format(film: Film, tmp_path: Path, ext: str) -> None:
    out = tmp_path / f"converted{ext}"
    r = otio_tool("otioconvert", "-i", str(film.timelines[".otio"]), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 0
    # the film's fade to black at its end, as OpenTimelineIO's own writers put it
    if ext == ".edl":  # its last event: a dissolve to black of 18 frames, ending with the film
        events = [x.split() for x in out.read_text("utf-8").splitlines() if x[:3].isdigit()]
        reel, channel, code, duration, *times = events[-1][1:]
        assert (reel, channel, code, int(duration)) == ("BL", "V", "D", 18), events[-1]
        assert (frames(times[2]), frames(times[3])) == (FILM - 18, FILM)
    else:
        seq = ET.parse(out).getroot().find("./project/children/sequence")
        assert seq is not None
        last = list(seq.findall("./media/video/track")[0])[-1]
        assert last.tag == "transitionitem" and last.findtext("end") == str(FILM)


def test_otiostat_reports_the_films_length(film: Film) -> None:
    r = otio_tool("otiostat", str(film.timelines[".otio"]))
    assert r.returncode == 0, r.stderr
    # 8 + 6.5 + 8 + 8 s, less the two crossfades (0.5 + 1 s): fades keep the length
    assert "total duration in timecode: 00:00:29:00" in r.stdout, r.stdout


def test_no_time_in_the_otio_is_negative(film: Film) -> None:
    import opentimelineio as otio

    timeline = otio.adapters.read_from_file(str(film.timelines[".otio"]))
    for track in timeline.tracks:
        for item in track:
            if isinstance(item, otio.schema.Transition):
                assert item.in_offset.value >= 0 and item.out_offset.value >= 0
            else:
                assert item.source_range.start_time.value >= 0, (track.name, item.name)
                assert item.source_range.duration.value >= 0, (track.name, item.name)


def test_every_fcp_clipitem_is_whole(film: Film) -> None:
    root = ET.parse(film.timelines[".xml"]).getroot()
    described = {f.get("id") for f in root.iter("file") if f.find("pathurl") is not None}
    seen_files: set[str] = set()
    ids = []
    items = list(root.iter("clipitem"))
    assert len(items) >= 8  # four shots' picture and their sound
    for item in items:
        ids.append(item.get("id"))
        for tag in ("name", "start", "end", "in", "out"):
            assert item.find(tag) is not None and (item.findtext(tag) or "").strip(), (item.get("id"), tag)
        f = item.find("file")
        assert f is not None, item.get("id")
        if f.find("pathurl") is None:  # a reference: to a file described earlier
            assert f.get("id") in seen_files, (item.get("id"), f.get("id"))
        seen_files.add(f.get("id") or "")
        assert f.get("id") in described
    assert len(ids) == len(set(ids))  # each its own id


def test_each_shots_picture_and_sound_are_linked(film: Film) -> None:
    root = ET.parse(film.timelines[".xml"]).getroot()
    seq = root.find("./project/children/sequence") or root.find(".//sequence")
    assert seq is not None
    video = seq.findall("./media/video/track")[0].findall("clipitem")
    sound = seq.findall("./media/audio/track")[0].findall("clipitem")
    assert len(video) == len(sound) == 4
    for v, a in zip(video, sound, strict=True):
        assert v.findtext("name") == a.findtext("name")
        refs = {(x.findtext("linkclipref"), x.findtext("mediatype")) for x in v.findall("link")}
        assert refs == {(v.get("id"), "video"), (a.get("id"), "audio")}
        assert {(x.findtext("linkclipref"), x.findtext("mediatype")) for x in a.findall("link")} == refs


def test_the_film_ends_as_its_timelines_say(film: Film) -> None:
    from tests.stitch.conftest import level, pixel

    made = film.folder / "renders" / "boat.mp4"
    end = FILM / FPS
    assert max(pixel(made, end - 1 / FPS)) <= 2 and level(made, end - 1 / FPS, end) < -80  # black, silent
    assert min(pixel(made, end - 1.0)) > 10  # the shot itself, a quarter second before the fade
