"""`storyboard init`: a storyboard with its own media that validates and renders at once."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.errors import InputError
from storyboard.media.ffmpeg import probe
from storyboard.resources import schema_file
from storyboard.scaffold import init_project
from storyboard.validate.checks import image_kind, load_storyboard, placeholder_urls


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
    # the first line names the schema, for the editor's YAML language server: a copy beside
    # the storyboard, named relatively, so that the modeline works in any clone
    first = path.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=storyboard.schema.json", first
    copy = path.parent / first.split("=", 1)[1]
    assert copy.read_bytes() == schema_file().read_bytes()
    schema = json.loads(copy.read_text())
    assert schema["title"] and "shots" in schema["properties"]
    clone = tmp_path / "clone"  # the folder moved (a clone elsewhere): still found
    path.parent.rename(clone)
    assert json.loads((clone / first.split("=", 1)[1]).read_text()) == schema


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
    assert f"storyboard init {tmp_path / 'film-2'}" in result.output  # a name that is free


def test_init_keeps_keys_and_clips_out_of_git(tmp_path: Path) -> None:
    init_project(tmp_path / "film")
    ignored = (tmp_path / "film" / ".gitignore").read_text().split()
    assert {".env", ".storyboard/", "renders/"} <= set(ignored)
    # an existing .gitignore is the user's: kept, with what keeps keys and clips out added
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / ".gitignore").write_text("mine\n")
    init_project(tmp_path / "other")
    assert (tmp_path / "other" / ".gitignore").read_text() == "mine\n.env\n.storyboard/\nrenders/\n"


def _run(args: list[str]) -> object:
    return CliRunner().invoke(cli, args)


def test_every_command_init_suggests_works_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYBOARD_PREVIEW_SCALE", "0.125")
    monkeypatch.chdir(tmp_path)
    result = _run(["init", "my film"])  # a space: the suggestions must quote it
    assert result.exit_code == 0, result.output
    suggested = [line.split("   ")[0].strip() for line in result.stderr.split("next:\n")[1].splitlines()]
    assert [s.split()[1] for s in suggested] == ["validate", "render", "plan"]
    for command in suggested:
        words = shlex.split(command)
        assert words[0] == "storyboard"
        result = _run(words[1:])
        assert result.exit_code == 0, (command, result.output)
    # the storyboard's own header, run from its folder
    monkeypatch.chdir(tmp_path / "my film")
    header = [
        line.removeprefix("#").strip().split("  ")[0]
        for line in Path("storyboard.yaml").read_text().splitlines()
        if line.startswith("#   storyboard ")
    ]
    assert len(header) == 3
    for command in header:
        result = _run(shlex.split(command)[1:])
        assert result.exit_code == 0, (command, result.output)


def test_plan_v_shows_what_would_be_sent(tmp_path: Path) -> None:
    path = init_project(tmp_path / "film")
    result = _run(["plan", str(path), "-p", "aivideoapi", "-v"])
    assert result.exit_code == 0, result.output
    # what would be sent is the plan's data: on stdout (`plan -v > requests.txt` keeps it)
    sent = [line for line in result.stdout.splitlines() if line.startswith("  POST https://")]
    assert len(sent) == 3 and sent[0].endswith("[opening]"), result.stdout
    assert '"image_urls": ["https://example.com/my-first-film/sunrise.png"]' in result.stdout
    assert "POST" not in result.stderr
    assert "POST" not in _run(["plan", str(path), "-p", "aivideoapi"]).output  # only with -v


def test_the_plan_on_a_hosted_provider_shows_the_placeholder_urls(tmp_path: Path) -> None:
    path = init_project(tmp_path / "film")
    result = _run(["plan", str(path), "-p", "kie", "--json"])
    assert result.exit_code == 0, result.output
    sent = json.dumps(json.loads(result.stdout)["requests"])
    assert "https://example.com/my-first-film/sunrise.png" in sent
    assert "https://example.com/my-first-film/hero.png" in sent
    # and they are known for what they are: a hosted render can refuse them before paying
    problems = placeholder_urls(load_storyboard(path))
    lines = path.read_text().splitlines()
    line_of = {
        word: 1 + next(i for i, t in enumerate(lines) if word in t) for word in ("sunrise.png}", "hero.png}")
    }
    assert [(p.path, p.location.line) for p in problems] == [
        ("images.sunrise.url", line_of["sunrise.png}"]),
        ("characters.hero.images[0].url", line_of["hero.png}"]),
    ]
    assert "is a placeholder (example.com is reserved for examples)" in problems[0].message


def test_init_is_quiet_with_q_and_lists_its_files_with_v(tmp_path: Path) -> None:
    result = _run(["init", "-q", str(tmp_path / "a")])
    assert result.exit_code == 0 and result.output == ""
    result = _run(["init", "-v", str(tmp_path / "b")])
    assert f"  wrote {tmp_path / 'b' / 'images' / 'hero.png'}" in result.stdout  # as `cp -v`


def test_editing_a_frames_shots_prompt_changes_its_clip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYBOARD_PREVIEW_SCALE", "0.125")
    board = init_project(tmp_path / "film")
    assert _run(["render", str(board), "-q"]).exit_code == 0
    clips = tmp_path / "film" / ".storyboard" / "clips"
    before = {p.read_bytes() for p in clips.rglob("*.mp4")}
    text = board.read_text()
    board.write_text(text.replace("The sun rises over the sea", "The sun sinks into the sea"))
    result = _run(["render", str(board), "-q"])
    assert result.exit_code == 0, result.output
    new = [p for p in clips.rglob("*.mp4") if p.read_bytes() not in before]
    assert len(new) == 1  # the frames shot, drawn again with its new prompt: the edit shows


def test_init_into_a_folder_with_its_own_gitignore_adds_what_it_lacks(tmp_path: Path) -> None:
    folder = tmp_path / "film"
    folder.mkdir()
    (folder / ".gitignore").write_text("node_modules\n.env\n")
    result = CliRunner().invoke(cli, ["init", str(folder)])
    assert result.exit_code == 0, result.output
    lines = (folder / ".gitignore").read_text().splitlines()
    assert lines == ["node_modules", ".env", ".storyboard/", "renders/"]  # kept, and the rest added
