"""The `preview` provider: plan-time answers with no heavy imports, and real local renders,
made the way every provider makes them: submit, a task id, polls, done with a (file://) link."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pytest
from PIL import Image

from storyboard.board.model import Asset, Settings, Shot
from storyboard.errors import ConfigError, TaskNotFound
from storyboard.media.ffmpeg import probe
from storyboard.media.frames import frame_at, last_frame
from storyboard.providers.base import CompiledShot, HttpRequest, NeedKind, Task, TaskState, TaskStatus
from storyboard.providers.preview.animatic import RENDERER, SCALE_ENV
from storyboard.providers.preview.provider import PreviewProvider
from tests.clips import make_image

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def small(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SCALE_ENV, "0.125")


def compiled(prompt: str = "A lighthouse at dawn", **kw: object) -> CompiledShot:
    fields: dict[str, object] = {
        "index": 0,
        "id": "establishing",
        "prompt": prompt,
        "kind": "text",
        "settings": Settings(),
    }
    fields.update(kw)
    return CompiledShot(shot=Shot(**fields), prompt=prompt)  # type: ignore[arg-type]


def local(path: Path, label: str = "images.x") -> Asset:
    return Asset(ref=path.name, label=label, path=path)


def wait(p: PreviewProvider, task: Task) -> TaskStatus:
    """Poll as the executor does until the task is done or failed (the drawing takes ~1 s)."""
    for _ in range(6000):
        status = p.poll([task])[task.task_id]
        if status.state in (TaskState.DONE, TaskState.FAILED):
            return status
        time.sleep(0.02)
    raise AssertionError(f"task {task.task_id} never finished: {status}")


def clip_of(status: TaskStatus) -> Path:
    assert status.state is TaskState.DONE and status.url, status
    parts = urlsplit(status.url)
    assert parts.scheme == "file"
    return Path(url2pathname(parts.path))


def made(shot: CompiledShot, tmp: Path, frame: Path | None = None, p: PreviewProvider | None = None) -> Path:
    """The shot's clip, through submit and poll as a render makes it (`frame`: the last frame
    of the clip a `continues` shot follows, as the executor fills it in)."""
    p = p or PreviewProvider()
    p.workdir = tmp / "work"
    [req] = p.requests([shot])
    if req.needs:
        [need] = req.needs
        assert need.kind is NeedKind.LAST_FRAME_FILE and frame is not None
        files = {k: str(frame) if v == need.placeholder else v for k, v in (req.multipart or {}).items()}
        req = replace(req, multipart=files, needs=())
    ids = p.submit(req)
    task = Task(shot.id, ids[shot.id], "preview", "fp", time.time())
    return clip_of(wait(p, task))


def colour_at(clip: Path, t: float, tmp: Path, xy: tuple[int, int] = (80, 45)) -> tuple:
    return Image.open(frame_at(clip, t, tmp / f"f{t}.png")).convert("RGB").getpixel(xy)


def near(rgb: tuple, want: tuple[int, int, int], tol: int = 40) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(rgb[:3], want, strict=True))


def test_class_attributes_and_plan_answers() -> None:
    p = PreviewProvider()
    assert (p.name, p.env, p.base_url) == ("preview", "", "local:")  # it reads no variable
    assert p.needs_key is False
    shot = compiled()
    assert p.check(shot) == []
    cost = p.cost(shot)
    assert cost.credits == 0 and cost.usd == 0.0
    body, needs = p.shot_body(shot)
    assert needs == ()
    assert body["renderer"] == RENDERER == "preview/4"  # the look's version: a new look redraws
    assert body["size"] == [160, 90] and body["scale"] == 0.125
    assert (body["fps"], body["seconds"], body["audio"]) == (24, 8.0, True)
    json.dumps(body)  # the compiler hashes it
    [req] = p.requests([shot])
    assert isinstance(req, HttpRequest) and req.method == "LOCAL" and req.shots == ("establishing",)
    assert (p.free, p.clip_schemes, p.burns_captions) == (True, ("file",), True)


def test_url_only_images_are_accepted_as_placeholders(tmp_path: Path) -> None:
    url = Asset(
        ref="https://example.com/storm.jpg", label="images.storm", url="https://example.com/storm.jpg"
    )
    shot = compiled(kind="frames", first=local(tmp_path / "a.png"), last=url)
    p = PreviewProvider()
    assert p.check(shot) == []
    images = p.shot_body(shot)[0]["images"]
    assert images[0] == {"role": "first", "ref": "a.png", "placeholder": "images.x: a.png"}  # no file there
    assert images[1]["role"] == "last" and "storm" in images[1]["placeholder"]
    make_image(tmp_path / "a.png", color="red")
    images = p.shot_body(shot)[0]["images"]
    assert images[0]["sha256"] and "placeholder" not in images[0]  # its bytes select the clip
    [req] = p.requests([shot])
    assert req.multipart == {"image.0": str(tmp_path / "a.png")}  # the file it reads, where it is


def test_body_changes_with_what_changes_the_clip(monkeypatch: pytest.MonkeyPatch) -> None:
    p = PreviewProvider()
    base = compiled()
    body = p.shot_body(base)[0]
    assert p.shot_body(compiled())[0] == body  # stable
    changed = [
        compiled("Another prompt"),
        compiled(settings=Settings(aspect_ratio="9:16")),
        compiled(settings=Settings(resolution="1080p")),
        compiled(settings=Settings(audio=False)),
        compiled(index=3),
        compiled(id="other"),
        compiled(kind="frames", first=Asset(ref="a.png", label="images.a", path=Path("/x/a.png"))),
    ]
    for shot in changed:
        assert p.shot_body(shot)[0] != body, shot
    assert p.shot_body(compiled(settings=Settings(aspect_ratio="9:16")))[0]["size"] == [90, 160]
    monkeypatch.setenv(SCALE_ENV, "0.25")
    scaled = p.shot_body(base)[0]
    assert scaled != body and scaled["size"] == [320, 180]
    monkeypatch.delenv(SCALE_ENV)
    assert p.shot_body(base)[0]["size"] == [1280, 720]
    monkeypatch.setenv(SCALE_ENV, "lots")
    with pytest.raises(ConfigError, match=SCALE_ENV):
        p.shot_body(base)


def test_plan_time_imports_no_media_libraries() -> None:
    code = (
        "import sys\n"
        "from storyboard.board.model import Settings, Shot\n"
        "from storyboard.providers.base import CompiledShot\n"
        "from storyboard.providers.preview.provider import PreviewProvider\n"
        "s = CompiledShot(Shot(0, 'a', 'p', 'text', Settings()), 'p')\n"
        "p = PreviewProvider(); p.check(s); p.shot_body(s); p.cost(s); p.requests([s])\n"
        "heavy = [m for m in ('PIL', 'numpy', 'moviepy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_render_text_shot(tmp_path: Path) -> None:
    t = time.perf_counter()
    dest = made(compiled(), tmp_path)
    print(f"preview provider, text shot at 160x90: {time.perf_counter() - t:.2f} s")
    info = probe(dest)
    assert info.size == (160, 90) and abs(info.duration - 8.0) <= 1 / 24
    assert info.audio is not None and info.audio.sample_rate == 48000


def test_render_frames_and_portrait(tmp_path: Path) -> None:
    red = make_image(tmp_path / "red.png", color="red")
    blue = make_image(tmp_path / "blue.png", color="blue")
    shot = compiled(kind="frames", first=local(red), last=local(blue), settings=Settings(aspect_ratio="9:16"))
    dest = made(shot, tmp_path)
    assert probe(dest).size == (90, 160)
    assert near(colour_at(dest, 0.1, tmp_path, (45, 80)), (255, 0, 0))
    assert near(colour_at(dest, 7.9, tmp_path, (45, 80)), (0, 0, 255))


def test_continues_starts_from_the_given_frame(tmp_path: Path) -> None:
    """The executor passes the previous clip's last frame; it replaces the shot's first."""
    green = make_image(tmp_path / "green.png", color="lime")
    red = make_image(tmp_path / "red.png", color="red")
    first_clip = made(compiled(kind="frames", first=local(green)), tmp_path)
    frame = last_frame(first_clip, tmp_path / "one-last.png")
    second = compiled(kind="frames", continues="establishing", index=1, first=local(red))
    second = replace(second, shot=replace(second.shot, id="next"))
    dest = made(second, tmp_path, frame)
    assert near(colour_at(dest, 0.1, tmp_path), (0, 255, 0))  # the frame, not its own first image


def test_url_only_image_renders_a_placeholder(tmp_path: Path) -> None:
    url = Asset(ref="https://example.com/a.jpg", label="images.a", url="https://example.com/a.jpg")
    dest = made(compiled(kind="frames", first=url), tmp_path)
    r, g, b = colour_at(dest, 0.1, tmp_path)
    assert max(r, g, b) - min(r, g, b) < 30  # the grey placeholder panel


def test_a_file_gone_since_the_request_fails_the_task_in_words(tmp_path: Path) -> None:
    """Never a silent placeholder for a file the request named: the task fails, saying which."""
    p = PreviewProvider()
    p.workdir = tmp_path / "work"
    red = make_image(tmp_path / "red.png", color="red")
    [req] = p.requests([compiled(kind="frames", first=local(red))])
    red.unlink()
    ids = p.submit(req)
    status = wait(p, Task("establishing", ids["establishing"], "preview", "fp", 0.0))
    assert status.state is TaskState.FAILED and "red.png" in (status.reason or "")


def test_render_references(tmp_path: Path) -> None:
    red = make_image(tmp_path / "red.png", color="red")
    blue = make_image(tmp_path / "blue.png", color="blue")
    shot = compiled(kind="reference", references=(local(red), local(blue)))
    dest = made(shot, tmp_path)
    assert near(colour_at(dest, 1.0, tmp_path, (40, 45)), (255, 0, 0))
    assert near(colour_at(dest, 1.0, tmp_path, (120, 45)), (0, 0, 255))


def test_submit_answers_at_once_and_poll_follows_the_task(tmp_path: Path) -> None:
    """A task id in the shape adopt accepts; pending or running, then done with a file:// link;
    once fetched, its files are gone and a poll of it says it failed (so it is made again)."""
    p = PreviewProvider()
    p.workdir = tmp_path / "work"
    [req] = p.requests([compiled()])
    ids = p.submit(req)
    tid = ids["establishing"]
    assert p.task_id_problem(tid) is None and (p.workdir / f"{tid}.json").is_file()  # kept before the answer
    task = Task("establishing", tid, "preview", "fp", 0.0)
    assert p.poll([task])[tid].state in (TaskState.PENDING, TaskState.RUNNING, TaskState.DONE)
    clip = clip_of(wait(p, task))
    assert clip.parent == p.workdir and probe(clip).size == (160, 90)
    p.fetched(task)
    assert list(p.workdir.iterdir()) == []
    assert p.poll([task])[tid].state is TaskState.FAILED
    with pytest.raises(TaskNotFound) as info:
        p.poll([task, Task("x", "task-1", "preview", "fp", 0.0)])
    assert info.value.task_ids == ("task-1",) and tid in info.value.found
    p.close()


def test_a_task_left_by_a_render_that_died_is_drawn_again_from_its_request(tmp_path: Path) -> None:
    """Another process (a new provider) polls a task whose drawing died with its render: the
    request kept in the work folder is drawn again, with no new submission."""
    first = PreviewProvider()
    first.workdir = tmp_path / "work"
    [req] = first.requests([compiled()])
    tid = first.submit(req)["establishing"]
    clip_of(wait(first, Task("establishing", tid, "preview", "fp", 0.0)))
    first.close()
    (first.workdir / f"{tid}.mp4").unlink()  # as if the render died mid-drawing: the request stays
    again = PreviewProvider()
    again.workdir = tmp_path / "work"
    clip = clip_of(wait(again, Task("establishing", tid, "preview", "fp", 0.0)))
    assert probe(clip).size == (160, 90)


def test_each_take_is_labelled_and_drawn_with_the_seed_its_own_request_carries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A seeded storyboard's takes: the plan's label, the request kept in the work folder and
    the card drawn all carry that take's own seed, and the takes look different."""
    from click.testing import CliRunner

    from storyboard import pipeline
    from storyboard.cli import cli
    from storyboard.providers.preview import animatic
    from tests.run.boards import write_board

    shots = [{"id": "crane", "prompt": "a crane at dawn", "takes": 3, "select": 2}]
    board = write_board(tmp_path / "film", "preview", shots, settings={"seed": 24680})
    plan = pipeline.make_plan(pipeline.load(board), None)
    takes = [sp for sp in plan.entries if sp.id == "crane"]
    seeds = [sp.seed for sp in takes]
    assert seeds[0] == 24680 and len(set(seeds)) == 3 and all(isinstance(s, int) for s in seeds)
    shown = CliRunner().invoke(cli, ["plan", str(board)])
    assert shown.exit_code == 0, shown.output
    assert f"[take 1; seed {seeds[0]}]" in shown.stdout
    assert f"[take 2, the cut's; seed {seeds[1]}]" in shown.stdout
    assert f"[take 3; seed {seeds[2]}]" in shown.stdout
    data = json.loads(CliRunner().invoke(cli, ["plan", str(board), "--json"]).stdout)
    assert [s["seed"] for s in data["shots"]] == seeds

    drawn: list[str] = []
    real = animatic.render_preview

    def recording(dest: Path, **kw: object) -> None:
        drawn.append(str(kw["shot_id"]))  # the card's title and corner label
        real(dest, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(animatic, "render_preview", recording)
    p = plan.provider
    assert isinstance(p, PreviewProvider)
    p.workdir = tmp_path / "work"
    colours = []
    for sp, req in zip(takes, plan.requests([sp.key for sp in takes]), strict=True):
        tid = p.submit(req)["crane"]
        kept = json.loads((p.workdir / f"{tid}.json").read_text(encoding="utf-8"))
        assert kept["body"]["seed"] == sp.seed and kept["body"]["take"] == sp.take  # the request record
        clip = clip_of(wait(p, Task("crane", tid, "preview", sp.fingerprint, 0.0)))
        colours.append(colour_at(clip, 1.0, tmp_path / f"t{sp.take}", (8, 80)))
    p.close()
    assert drawn == [
        f"crane · seed {seeds[0]}",
        f"crane · take 2 · seed {seeds[1]}",
        f"crane · take 3 · seed {seeds[2]}",
    ]
    assert len(set(colours)) == 3, colours  # each seed its own colours
