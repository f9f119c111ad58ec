"""`--timeline` on render and stitch: refused before anything is made when it cannot be
written, and written whole."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from tests.export.conftest import ROOT, Rendered


@pytest.fixture
def board(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STORYBOARD_PREVIEW_SCALE", "0.125")
    folder = tmp_path / "three-shot"
    shutil.copytree(
        ROOT / "examples/three-shot", folder, ignore=shutil.ignore_patterns(".storyboard", "renders")
    )
    return folder / "three-shot.yaml"


def _nothing_made(board: Path) -> bool:
    clips = board.parent / ".storyboard" / "clips"
    return not clips.exists() or not any(clips.iterdir())


@pytest.mark.parametrize("name", ["cut.mov", "cut", "cut.fcpxml"])
def test_an_unknown_extension_is_refused_before_rendering(board: Path, name: str) -> None:
    r = CliRunner().invoke(cli, ["render", str(board), "-q", "--timeline", str(board.parent / name)])
    assert r.exit_code == 2, r.output
    assert "must end in .otio, .edl, .xml" in r.output
    assert "Traceback" not in r.output
    assert _nothing_made(board)


def test_a_folder_is_refused_with_a_file_to_give_instead(board: Path) -> None:
    folder = board.parent / "renders"
    folder.mkdir()
    r = CliRunner().invoke(cli, ["render", str(board), "-q", "--timeline", str(folder)])
    assert r.exit_code == 2, r.output
    assert f"error: the timeline {folder} is a folder: give a file in it" in r.output
    assert f"e.g. --timeline {folder / 'cut.otio'}" in r.output and "Invalid value" not in r.output
    assert _nothing_made(board)


def test_a_file_that_is_not_a_timeline_is_not_overwritten(board: Path) -> None:
    notes = board.parent / "notes.xml"
    notes.write_text("<notes>mine</notes>\n")
    r = CliRunner().invoke(cli, ["render", str(board), "-q", "--timeline", str(notes)])
    assert r.exit_code == 2, r.output
    assert "is not a timeline (FCP 7 XML): refusing to overwrite it" in r.output
    assert notes.read_text() == "<notes>mine</notes>\n"
    assert _nothing_made(board)


def test_a_folder_is_refused(board: Path) -> None:
    (board.parent / "cut.otio").mkdir()
    r = CliRunner().invoke(cli, ["stitch", str(board), "--timeline", str(board.parent / "cut.otio")])
    assert r.exit_code == 2, r.output


def test_a_missing_adapter_says_how_to_install_it(board: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "otio_fcp_adapter" else real(name, *a)
    )
    r = CliRunner().invoke(cli, ["render", str(board), "-q", "--timeline", str(board.parent / "cut.xml")])
    assert r.exit_code == 2, r.output
    assert "needs otio-fcp-adapter" in r.output and "pip install otio-fcp-adapter" in r.output
    assert _nothing_made(board)


def test_an_older_timeline_is_replaced(lighthouse: Rendered, monkeypatch: pytest.MonkeyPatch) -> None:
    """Writing again over the fixture's timelines replaces them whole."""
    monkeypatch.setenv("STORYBOARD_PREVIEW_SCALE", "0.125")  # as rendered: the same clips
    for ext in (".otio", ".edl", ".xml"):
        path = lighthouse.timelines[ext]
        before = path.read_text()
        r = CliRunner().invoke(cli, ["stitch", str(lighthouse.board), "-q", "--timeline", str(path)])
        assert r.exit_code == 0, r.output
        assert path.read_text() == before  # the same cut, the same timeline
    leftovers = [p.name for p in lighthouse.timelines[".otio"].parent.iterdir() if p.name.startswith(".")]
    assert not leftovers  # no temp files


def test_stitch_without_clips_writes_no_timeline(board: Path) -> None:
    target = board.parent / "cut.otio"
    r = CliRunner().invoke(cli, ["stitch", str(board), "--timeline", str(target)])
    assert r.exit_code == 2 and "no clip made yet" in r.output
    assert not target.exists()


def test_a_newline_in_the_title_cannot_add_an_event_to_the_edl(board: Path) -> None:
    import opentimelineio as otio

    from tests.export.readback import read, video

    injected = "001  AX       V     C        00:00:00:00 00:01:00:00 00:00:00:00 00:01:00:00"
    board.write_text(board.read_text().replace("title: ", f'title: "Market\\n{injected}\\n" #', 1))
    target = board.parent / "cut.edl"
    r = CliRunner().invoke(cli, ["render", str(board), "-q", "--timeline", str(target)])
    assert r.exit_code == 0, r.output
    text = target.read_text()
    assert text.splitlines()[0] == "TITLE: " + " ".join(f"Market {injected}".split())  # one line
    tl = read(target)
    # the shots' clips (the ending's fade goes to a clip of black)
    clips = [
        c for c in video(tl).find_clips() if isinstance(c.media_reference, otio.schema.ExternalReference)
    ]
    assert len(clips) == 3, text


def test_a_fifo_is_not_replaced_by_a_timeline(board: Path) -> None:
    import os

    fifo = board.parent / "cut.otio"
    os.mkfifo(fifo)
    r = CliRunner().invoke(cli, ["render", str(board), "-q", "--timeline", str(fifo)])
    assert r.exit_code == 2 and "is a named pipe (FIFO): refusing to replace it" in r.output, r.output
    assert fifo.is_fifo() and _nothing_made(board)


def test_a_fifo_beside_the_timeline_or_the_film_is_not_replaced_by_its_subtitles(board: Path) -> None:
    import os

    srt = board.parent / "cut.srt"
    os.mkfifo(srt)
    r = CliRunner().invoke(cli, ["render", str(board), "-q", "--timeline", str(board.parent / "cut.xml")])
    assert (
        r.exit_code == 2
        and f"the subtitles beside the timeline, {srt}, would replace a named pipe" in r.output
    )
    film_srt = board.parent / "renders" / "film.srt"
    film_srt.parent.mkdir()
    os.mkfifo(film_srt)
    r = CliRunner().invoke(cli, ["render", str(board), "-q", "-o", str(film_srt.with_suffix(".mp4"))])
    assert (
        r.exit_code == 2
        and f"the captions beside the film, {film_srt}, would replace a named pipe" in r.output
    )
    assert srt.is_fifo() and film_srt.is_fifo() and _nothing_made(board)
