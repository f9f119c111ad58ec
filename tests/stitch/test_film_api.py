"""The cut from a storyboard, as its users reach it: `storyboard stitch` (up to date when
nothing changed, `--engine moviepy`), and `storyboard.film(path)` in Python."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import storyboard
from storyboard import pipeline
from storyboard.cli import cli
from storyboard.media.ffmpeg import probe
from tests.stitch.conftest import stream_lengths

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "three-shot"


@pytest.fixture
def board(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STORYBOARD_PREVIEW_SCALE", "0.125")  # small clips; same timing
    folder = tmp_path / "three-shot"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns(".storyboard", "renders"))
    path = folder / "three-shot.yaml"
    result = CliRunner().invoke(cli, ["render", str(path), "--quiet"])
    assert result.exit_code == 0, result.output
    return path


def test_stitch_says_up_to_date_and_writes_nothing(board: Path) -> None:
    film = pipeline.load(board).output
    stamp = film.stat().st_mtime_ns
    result = CliRunner().invoke(cli, ["stitch", str(board)])
    assert result.exit_code == 0, result.output
    assert "is up to date" in result.output and "wrote" not in result.output
    assert film.stat().st_mtime_ns == stamp
    # Scratch work went to the state folder and is gone; nothing beside the film.
    tmp = board.parent / ".storyboard" / "tmp"
    assert not tmp.exists() or list(tmp.iterdir()) == []
    assert sorted(p.name for p in film.parent.iterdir()) == [
        f".{film.name}.inputs.json",
        film.name,
        film.stem + ".srt",
    ]
    # An edit to the cut (a caption) makes it stale.
    text = board.read_text().replace("The first catch", "The first catch of the day")
    board.write_text(text)
    result = CliRunner().invoke(cli, ["stitch", str(board)])
    assert result.exit_code == 0 and "wrote" in result.output, result.output
    assert "first catch of the day" in film.with_suffix(".srt").read_text()


def test_engine_moviepy_and_the_python_api(board: Path, tmp_path: Path) -> None:
    fast = pipeline.load(board).output
    out = tmp_path / "moviepy.mp4"
    result = CliRunner().invoke(cli, ["stitch", str(board), "--engine", "moviepy", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "moviepy" in result.output
    info = probe(out)
    assert info.video is not None and info.video.pix_fmt == "yuv420p"
    assert stream_lengths(out)["video"] == pytest.approx(stream_lengths(fast)["video"], abs=1e-6)
    # In Python: the same cut, to change and write as the user likes.
    clip = storyboard.film(board)
    try:
        assert clip.duration == pytest.approx(stream_lengths(fast)["video"], abs=1e-6)
        assert clip.size == list(probe(fast).size or ()) or tuple(clip.size) == probe(fast).size
        mine = clip.subclipped(0, 1).with_volume_scaled(0.5)
        mine.write_videofile(str(tmp_path / "mine.mp4"), pixel_format="yuv420p", logger=None)
    finally:
        clip.close()
    assert probe(tmp_path / "mine.mp4").duration == pytest.approx(1.0, abs=0.1)


def test_film_needs_the_clips_made(tmp_path: Path) -> None:
    folder = tmp_path / "three-shot"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns(".storyboard", "renders"))
    from storyboard.errors import ConfigError

    with pytest.raises(ConfigError, match="no clip made yet"):
        storyboard.film(folder / "three-shot.yaml")
