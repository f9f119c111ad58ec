"""`storyboard init`: a storyboard with its own media that validates and renders at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.errors import InputError
from storyboard.media.ffmpeg import probe
from storyboard.scaffold import init_project
from storyboard.spec.checks import image_kind, load_storyboard


def test_init_creates_a_valid_storyboard_with_its_own_media(tmp_path: Path) -> None:
    path = init_project(tmp_path / "film")
    assert path == tmp_path / "film" / "storyboard.yaml"
    sb = load_storyboard(path)
    assert [s.kind for s in sb.shots] == ["text", "frames", "reference"]
    assert sb.provider == "preview" and sb.music is not None and sb.music.file.is_file()
    assert any(s.caption for s in sb.shots)
    assert any(s.transition.type == "crossfade" for s in sb.shots)
    assert sb.shots[2].references[0].label.startswith("characters.hero")
    for shot in sb.shots:
        for asset in shot.images:
            assert asset.path is not None and asset.path.is_relative_to(tmp_path / "film")
            assert image_kind(asset.path.read_bytes()[:16]) == "PNG"


def test_init_into_an_existing_empty_folder(tmp_path: Path) -> None:
    assert init_project(tmp_path).is_file()


def test_init_refuses_an_existing_storyboard(tmp_path: Path) -> None:
    (tmp_path / "storyboard.yaml").write_text("mine\n")
    with pytest.raises(InputError) as e:
        init_project(tmp_path)
    assert "already exists" in e.value.message
    assert (tmp_path / "storyboard.yaml").read_text() == "mine\n"
    assert not (tmp_path / "images").exists()


def test_init_refuses_to_overwrite_media(tmp_path: Path) -> None:
    (tmp_path / "audio").mkdir()
    (tmp_path / "audio" / "theme.mp3").write_bytes(b"my song")
    with pytest.raises(InputError) as e:
        init_project(tmp_path)
    assert "audio/theme.mp3" in e.value.message
    assert (tmp_path / "audio" / "theme.mp3").read_bytes() == b"my song"
    assert not (tmp_path / "storyboard.yaml").exists()


def test_init_refuses_a_file_as_folder(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="is a file, not a folder"):
        init_project(tmp_path / "f")


def test_init_then_render_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOARD_PREVIEW_SCALE", "0.125")  # 160x90 panels: fast
    runner = CliRunner()
    result = runner.invoke(cli, ["init", str(tmp_path / "film")])
    assert result.exit_code == 0, result.output
    board = tmp_path / "film" / "storyboard.yaml"
    result = runner.invoke(cli, ["validate", str(board)])
    assert result.exit_code == 0 and "ok: 'My First Film', 3 shots, 21.5 s" in result.output
    result = runner.invoke(cli, ["render", str(board), "--quiet"])
    assert result.exit_code == 0, result.output
    film = tmp_path / "film" / "renders" / "my-first-film.mp4"
    info = probe(film)
    assert abs(info.duration - 21.5) < 0.15, info
    assert info.video is not None and info.audio is not None
    assert "And someone was already there" in film.with_suffix(".srt").read_text()
    result = runner.invoke(cli, ["init", str(tmp_path / "film")])
    assert result.exit_code == 2 and "already exists" in result.output


def test_init_keeps_keys_and_clips_out_of_git(tmp_path: Path) -> None:
    init_project(tmp_path / "film")
    ignored = (tmp_path / "film" / ".gitignore").read_text().split()
    assert {".env", ".storyboard/", "renders/"} <= set(ignored)
    # an existing .gitignore is the user's: left as it is
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / ".gitignore").write_text("mine\n")
    init_project(tmp_path / "other")
    assert (tmp_path / "other" / ".gitignore").read_text() == "mine\n"
