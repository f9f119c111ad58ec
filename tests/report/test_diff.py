"""`storyboard diff [REV] [FILE]`: the storyboard at a git revision against the working copy,
read without a checkout, each shot's change and what it costs."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from storyboard import pipeline
from storyboard.cli import cli
from tests.clips import make_image
from tests.report.conftest import ROOT


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository holding the lighthouse example (every field) in a sub-folder, committed."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    shutil.copytree(ROOT / "examples/lighthouse", tmp_path / "films/lighthouse")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "the lighthouse")
    return tmp_path


def board(repo: Path) -> Path:
    return repo / "films/lighthouse/lighthouse.yaml"


def edit(repo: Path, old: str, new: str) -> None:
    path = board(repo)
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def diff(repo: Path, *args: str, code: int = 0) -> Any:
    r = CliRunner().invoke(cli, ["diff", *args, "--json"])
    assert r.exit_code == code, r.output
    return json.loads(r.output) if code == 0 else r.output


def by_id(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in data["shots"]}


def test_nothing_changed(repo: Path) -> None:
    data = diff(repo, str(board(repo)))
    assert data["changed"] is False and data["film"] == []
    assert {s["change"] for s in data["shots"]} == {"same"}
    assert data["cost"]["shots"] == 0
    assert data["revision"]["commit"] == git(repo, "rev-parse", "HEAD")
    assert data["revision"]["path"] == "films/lighthouse/lighthouse.yaml"


def test_exit_code_says_whether_anything_changed(repo: Path) -> None:
    """As `git diff --exit-code`: 0 when nothing changed, 1 when something did (a CI gate)."""
    quiet = ["diff", str(board(repo)), "-q", "--exit-code"]
    assert CliRunner().invoke(cli, quiet).exit_code == 0
    edit(repo, "trim: [0, 6]", "trim: [0, 5]")  # only the cut: still a change
    r = CliRunner().invoke(cli, quiet)
    # -q keeps the data (the shots that changed), not the title and the totals around it
    assert r.exit_code == 1 and r.output == "  = the-wave  cut only: trim  (its clip serves)\n", r.output
    assert CliRunner().invoke(cli, ["diff", str(board(repo)), "-q"]).exit_code == 0  # only when asked


def test_fingerprints_at_the_revision_are_those_of_its_files(repo: Path, tmp_path_factory: Any) -> None:
    """The revision's side is the storyboard as committed, images included: its fingerprints
    are the ones a plan of a copy of that commit gives (here: before any edit)."""
    then = tmp_path_factory.mktemp("then") / "lighthouse"
    shutil.copytree(board(repo).parent, then)
    before = {s.id: s.fingerprint for s in pipeline.make_plan(pipeline.load(then / "lighthouse.yaml")).shots}
    make_image(board(repo).parent / "images/dawn.jpg", color="red")  # a new picture, same name
    data = diff(repo, str(board(repo)))
    assert {s["id"]: s["fingerprint"]["old"] for s in data["shots"]} == before
    # the preview renders from the file itself: both shots with dawn.jpg are made again
    changed = {s["id"]: s["aspects"] for s in data["shots"] if s["change"] == "changed"}
    assert changed == {"storm-arrives": ["images"], "the-wave": ["continues"], "night-watch": ["images"]}
    assert by_id(data)["the-wave"]["notes"] == [
        "it continues 'storm-arrives', which changed: its first frame changes"
    ]


def test_an_image_behind_the_same_url_is_not_sent_again(repo: Path) -> None:
    """aivideoapi is sent the image's URL: a new file under it changes nothing it is sent."""
    make_image(board(repo).parent / "images/dawn.jpg", color="red")
    data = diff(repo, str(board(repo)), "-p", "aivideoapi")
    shots = by_id(data)
    assert shots["storm-arrives"]["change"] == "cut" and shots["storm-arrives"]["aspects"] == ["images"]
    assert shots["storm-arrives"]["notes"] == [
        "images changed, but aivideoapi is sent the same request: its clip serves as it is"
    ]
    assert data["cost"]["shots"] == 0
    r = CliRunner().invoke(cli, ["diff", str(board(repo)), "-p", "aivideoapi"])
    assert "  = storm-arrives  images  (its clip serves)" in r.output.splitlines()


def test_a_prompt_edit_costs_its_shot(repo: Path) -> None:
    edit(repo, "wakes, lights the oil lamp", "wakes, lights the old oil lamp")
    data = diff(repo, str(board(repo)), "-p", "aivideoapi")
    shots = by_id(data)
    assert shots["keeper-wakes"]["change"] == "changed" and shots["keeper-wakes"]["symbol"] == "~"
    assert shots["keeper-wakes"]["aspects"] == ["prompt"]
    plan = pipeline.make_plan(pipeline.load(board(repo)), "aivideoapi")
    cost = plan.shot("keeper-wakes").cost
    assert shots["keeper-wakes"]["cost"] == {"credits": cost.credits, "usd": cost.usd}
    assert data["cost"] == {
        "shots": 1,
        "credits": cost.credits,
        "usd": cost.usd,
        "unknown_shots": 0,
        "unpriced": {"credits": 0, "usd": 0},
        "text": cost.text(),
    }
    assert [s["change"] for s in data["shots"]].count("same") == 4


def test_a_template_edit_changes_every_prompt_through_it(repo: Path) -> None:
    tpl = board(repo).parent / "templates/storm.j2"
    tpl.write_text(tpl.read_text() + " Thunder.")
    data = diff(repo, str(board(repo)), "-p", "aivideoapi")
    changed = sorted(s["id"] for s in data["shots"] if s["change"] == "changed")
    assert changed == ["storm-arrives", "the-wave"]  # the two shots that use templates/storm.j2
    assert all("prompt" in by_id(data)[s]["aspects"] for s in changed)


def test_settings_type_and_cut_only_changes(repo: Path) -> None:
    edit(repo, "    seed: 31337", "    seed: 31338")  # storm-arrives: a request setting
    edit(repo, "trim: [0, 6]", "trim: [0, 5]")  # the-wave: the cut only
    edit(repo, "caption: The light never went out", "caption: The light never, ever went out")
    edit(repo, "transition: {type: crossfade, duration: 0.8}", "transition: {type: crossfade, duration: 1}")
    data = diff(repo, str(board(repo)), "-p", "aivideoapi")
    s = by_id(data)
    assert (s["storm-arrives"]["change"], s["storm-arrives"]["aspects"]) == ("changed", ["settings"])
    assert (s["the-wave"]["change"], s["the-wave"]["aspects"]) == ("changed", ["continues", "trim"])
    assert (s["night-watch"]["change"], s["night-watch"]["aspects"]) == ("cut", ["caption"])
    assert (s["keeper-wakes"]["change"], s["keeper-wakes"]["aspects"]) == ("cut", ["transition"])
    assert s["night-watch"]["symbol"] == "=" and s["night-watch"]["cost"] is None
    assert data["cost"]["shots"] == 2  # storm-arrives and the-wave, which continues it


def test_added_removed_and_the_whole_film(repo: Path) -> None:
    text = board(repo).read_text()
    start = text.index("  - id: night-watch")
    end = text.index("music:")
    text = text[:start] + "  - id: coda\n    prompt: The lighthouse at dawn, its lamp out\n" + text[end:]
    text = text.replace("volume: 0.4", "volume: 0.6")
    text = text.replace("ending: {type: fade, duration: 1.5}", "ending: {type: fade, duration: 2}")
    board(repo).write_text(text)
    data = diff(repo, str(board(repo)), "-p", "aivideoapi")
    s = by_id(data)
    assert (s["coda"]["change"], s["coda"]["symbol"]) == ("added", "+")
    assert (s["night-watch"]["change"], s["night-watch"]["symbol"]) == ("removed", "-")
    assert data["shots"][-1]["id"] == "night-watch"  # removed shots come last
    assert data["film"] == ["music", "ending"]
    assert data["counts"] == {"added": 1, "changed": 0, "cut": 0, "same": 4, "removed": 1}
    assert data["cost"]["shots"] == 1 and data["cost"]["credits"] == s["coda"]["cost"]["credits"]


def test_an_older_revision_and_the_text_output(repo: Path) -> None:
    edit(repo, "wakes, lights the oil lamp", "wakes, lights the old oil lamp")
    git(repo, "commit", "-qam", "an older lamp")
    edit(repo, "trim: [0, 6]", "trim: [0, 5]")
    data = diff(repo, "HEAD~1", str(board(repo)), "-p", "aivideoapi")
    assert by_id(data)["keeper-wakes"]["change"] == "changed" and by_id(data)["the-wave"]["change"] == "cut"
    r = CliRunner().invoke(cli, ["diff", "HEAD~1", str(board(repo)), "-p", "aivideoapi"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].startswith(f"Changes to {board(repo)} since HEAD~1 (") and lines[0].endswith(
        "on aivideoapi:"
    )
    assert "  ~ keeper-wakes  prompt  (regenerate, 40 credits ($0.20))" in lines
    assert "  = the-wave      cut only: trim  (its clip serves)" in lines
    assert "Diff: 0 to add, 1 to regenerate, 1 cut only, 0 removed, 3 unchanged. " in r.output
    assert "Cost of the change: 40 credits ($0.20)." in r.output


def test_what_a_render_here_would_do(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Beside the change, the plan's decision from this folder's state."""
    monkeypatch.setenv("STORYBOARD_PREVIEW_SCALE", "0.125")
    assert CliRunner().invoke(cli, ["render", str(board(repo)), "-q"]).exit_code == 0
    edit(repo, "wakes, lights the oil lamp", "wakes, lights the old oil lamp")
    data = diff(repo, str(board(repo)))
    render = {s["id"]: s["render"]["action"] for s in data["shots"]}
    assert render == {
        "establishing": "cached",
        "keeper-wakes": "regenerate",
        "storm-arrives": "cached",
        "the-wave": "cached",
        "night-watch": "cached",
    }
    assert data["render"]["cost"]["shots"] == 1


def test_the_repository_is_left_as_it_was(repo: Path) -> None:
    edit(repo, "wakes, lights the oil lamp", "wakes, lights the old oil lamp")
    before = (git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain"), git(repo, "stash", "list"))
    index = (repo / ".git/index").read_bytes()
    diff(repo, str(board(repo)))
    after = (git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain"), git(repo, "stash", "list"))
    assert before == after and (repo / ".git/index").read_bytes() == index
    assert "old oil lamp" in board(repo).read_text()


def test_a_storyboard_not_yet_committed_is_all_new(repo: Path) -> None:
    new = board(repo).with_name("second.yaml")
    shutil.copy(board(repo), new)
    data = diff(repo, str(new))
    assert data["revision"]["existed"] is False and data["provider"]["old"] is None
    assert {s["change"] for s in data["shots"]} == {"added"}


def test_an_invalid_storyboard_at_the_revision_says_where(repo: Path) -> None:
    edit(repo, "storyboard: 1", "storyboard: 1\nbogus: 2")
    git(repo, "commit", "-qam", "broken")
    edit(repo, "storyboard: 1\nbogus: 2", "storyboard: 1")
    out = diff(repo, str(board(repo)), code=2)
    (error,) = json.loads(out)["errors"]  # with --json, errors are JSON objects too
    assert error["file"] == "HEAD:films/lighthouse/lighthouse.yaml" and error["line"] > 1
    assert "bogus" in error["message"]
    assert "storyboard-rev-" not in out  # no temporary path in the message


def test_refusals(repo: Path, tmp_path_factory: Any) -> None:
    out = diff(repo, "no-such-rev", str(board(repo)), code=2)
    assert "no revision 'no-such-rev'" in out
    out = diff(repo, "HEAD~1", str(board(repo)), code=2)  # the fixture's repository: one commit
    assert "the repository has one commit: HEAD is the only revision" in out, out
    lone = tmp_path_factory.mktemp("not-a-repo") / "lighthouse"
    shutil.copytree(ROOT / "examples/lighthouse", lone)
    out = diff(repo, str(lone / "lighthouse.yaml"), code=2)
    assert "is not in a git repository" in out


def test_the_storyboard_of_the_current_folder(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(board(repo).parent)
    edit(repo, "trim: [0, 6]", "trim: [0, 5]")
    data = diff(repo)  # neither REV nor FILE
    assert by_id(data)["the-wave"]["change"] == "cut"
    data = diff(repo, "HEAD")  # REV only
    assert by_id(data)["the-wave"]["change"] == "cut"
    monkeypatch.chdir(repo)
    assert "name the storyboard to compare: found none" in diff(repo, code=2)


def test_a_shot_moved_is_a_change_of_the_cut(repo: Path) -> None:
    text = board(repo).read_text()
    wave, night, music = (
        text.index("  - id: the-wave"),
        text.index("  - id: night-watch"),
        text.index("music:"),
    )
    board(repo).write_text(text[:wave] + text[night:music] + text[wave:night] + text[music:])
    data = diff(repo, str(board(repo)), "-p", "aivideoapi")
    s = by_id(data)
    assert [x["id"] for x in data["shots"]][3:] == ["night-watch", "the-wave"]
    assert (s["night-watch"]["change"], s["night-watch"]["aspects"]) == ("cut", ["order"])
    assert (s["the-wave"]["change"], s["the-wave"]["aspects"]) == ("cut", ["order"])
    assert data["cost"]["shots"] == 0


def test_a_revision_s_storyboard_over_the_size_limit_is_refused_unread(repo: Path) -> None:
    good = board(repo).read_text()
    board(repo).write_text(good + "# " + "x" * 1_100_000 + "\n")
    git(repo, "commit", "-qam", "a huge comment")
    board(repo).write_text(good)
    out = diff(repo, str(board(repo)), code=2)
    assert "HEAD:films/lighthouse/lighthouse.yaml is 1.1 MB; a storyboard is at most 1 MB" in out


def test_an_unchanged_storyboard_with_a_caption_font_has_nothing_to_say(tmp_path: Path) -> None:
    """The font of the revision lies in a copy elsewhere: what it holds is compared, not where."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    shutil.copytree(ROOT / "examples/vertical", tmp_path / "vertical")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "vertical")
    path = tmp_path / "vertical/vertical.yaml"
    r = CliRunner().invoke(cli, ["diff", str(path), "--exit-code"])
    assert r.exit_code == 0, r.output
    assert "nothing changed" in r.output
    font = tmp_path / "vertical/fonts/example-cjk.otf"
    font.write_bytes(font.read_bytes() + b"\0")  # another font under the same name: a change
    r = CliRunner().invoke(cli, ["diff", str(path), "--exit-code"])
    assert r.exit_code == 1 and "captions" in r.output, r.output


def test_selecting_a_made_take_costs_nothing_as_plan_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.clips import make_clip
    from tests.servers import start_server

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    shutil.copytree(ROOT / "examples/three-shot", tmp_path / "film")
    path = tmp_path / "film/three-shot.yaml"
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "three shots")
    clip = make_clip(tmp_path / "clip.mp4", seconds=8.0, size=(160, 90), fps=24)
    with start_server("aivideoapi", clip=clip) as srv:
        monkeypatch.setenv("AIVIDEOAPI_API_KEY", srv.api_key)
        monkeypatch.setenv("AIVIDEOAPI_BASE_URL", srv.base_url)
        monkeypatch.setenv("STORYBOARD_POLL_INTERVAL", "0.05")
        r = CliRunner().invoke(cli, ["render", str(path), "-p", "aivideoapi", "--yes", "-q"])
        assert r.exit_code == 0, r.output
        sent = len(srv.requests)
        r = CliRunner().invoke(cli, ["select", str(path), "crowd", "2"])
        assert r.exit_code == 0, r.output
        plan = json.loads(CliRunner().invoke(cli, ["plan", str(path), "-p", "aivideoapi", "--json"]).stdout)
        assert plan["requests"] == [] and plan["cost"]["shots"] == 0
        data = diff(tmp_path, str(path), "-p", "aivideoapi")
        crowd = by_id(data)["crowd"]
        assert crowd["change"] == "changed" and crowd["cost"]["credits"] is None, crowd
        assert data["cost"]["shots"] == 0 and data["cost"]["credits"] == 0
        assert data["render"]["cost"]["shots"] == plan["cost"]["shots"] == 0
        assert len(srv.requests) == sent  # nothing was asked of the service


def _written(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every file diff writes into its copy of the revision, with the limit it was written under."""
    from storyboard.report import revision

    seen: list[tuple[str, int]] = []
    stream = revision._stream

    def counted(root: Path, oid: str, into: Path, limit: int) -> None:
        inside = into.parts[into.parts.index("tree") + 1 :]  # the copy's folder is named tree
        seen.append(("/".join(inside), limit))
        stream(root, oid, into, limit)

    monkeypatch.setattr(revision, "_stream", counted)
    return seen


def test_diff_writes_only_the_storyboard_and_the_files_it_names(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A commit that adds a big file beside the storyboard (64 MB of zeros, sparse on disk; git
    stores it in a few KB): diff's copy holds the storyboard and what it names, not that."""
    folder = repo / "films/lighthouse"
    with (folder / "raw-footage.mov").open("wb") as f:
        f.truncate(64 * 2**20)
    (folder / "notes").mkdir()
    (folder / "notes/todo.txt").write_text("not named by the storyboard\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "footage beside the storyboard")
    from storyboard.report.revision import storyboard_at

    written = _written(monkeypatch)
    with storyboard_at(board(repo), "HEAD") as then:
        assert then.storyboard is not None
        copy = then.storyboard.root
        on_disk = sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file())
        size = sum(p.stat().st_size for p in copy.rglob("*") if p.is_file())
    named = sorted(
        [f"images/{n}" for n in ("dawn.jpg", "keeper-front.png", "keeper-side.webp", "lamp.jpg")]
        + ["images/night.png", "images/storm.webp", "audio/theme.mp3", "templates/storm.j2"]
    )
    assert on_disk == sorted(["lighthouse.yaml", *named])
    assert sorted(w for w, _ in written) == sorted(
        f"films/lighthouse/{n}" for n in ["lighthouse.yaml", *named]
    )
    assert size < 2**20  # the example's own media: the footage was never written
    limits = dict(written)
    assert limits["films/lighthouse/lighthouse.yaml"] == 1_000_000
    assert limits["films/lighthouse/images/dawn.jpg"] == 50 * 2**20
    assert limits["films/lighthouse/audio/theme.mp3"] == 256 * 2**20
    assert diff(repo, str(board(repo)))["cost"]["shots"] == 0  # and diff reads it as before


def test_a_named_file_over_its_limit_at_the_revision_is_a_located_problem_unwritten(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = repo / "films/lighthouse"
    good = (folder / "images/lamp.jpg").read_bytes()
    with (folder / "images/lamp.jpg").open("r+b") as f:  # a JPEG's bytes, then 51 MB of zeros
        f.truncate(51 * 2**20)
    git(repo, "commit", "-qam", "an image too big to send")
    (folder / "images/lamp.jpg").write_bytes(good)
    written = _written(monkeypatch)
    (error,) = json.loads(diff(repo, str(board(repo)), code=2))["errors"]
    assert (error["file"], error["line"], error["path"]) == (
        "HEAD:films/lighthouse/lighthouse.yaml",
        39,
        "shots[1].references[1].file",
    )
    assert error["message"].startswith(
        "'images/lamp.jpg': the image is 51 MB; the providers take at most 50 MB"
    )
    assert [w for w, _ in written] == ["films/lighthouse/lighthouse.yaml"]
