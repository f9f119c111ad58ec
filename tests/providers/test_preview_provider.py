"""The `preview` provider: plan-time answers with no heavy imports, and real local renders."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from storyboard.errors import ConfigError
from storyboard.media.ffmpeg import probe
from storyboard.media.frames import frame_at, last_frame
from storyboard.providers.base import CompiledShot, HttpRequest, Task
from storyboard.providers.preview.animatic import RENDERER, SCALE_ENV
from storyboard.providers.preview.provider import PreviewProvider
from storyboard.spec.model import Asset, Settings, Shot
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


def colour_at(clip: Path, t: float, tmp: Path, xy: tuple[int, int] = (80, 45)) -> tuple:
    return Image.open(frame_at(clip, t, tmp / f"f{t}.png")).convert("RGB").getpixel(xy)


def near(rgb: tuple, want: tuple[int, int, int], tol: int = 40) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(rgb[:3], want, strict=True))


def test_class_attributes_and_plan_answers() -> None:
    p = PreviewProvider()
    assert (p.name, p.env, p.base_url) == ("preview", "", "local:")  # it reads no variable
    assert p.needs_key is False and p.local is True
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
    with pytest.raises(NotImplementedError):
        p.submit(req)
    with pytest.raises(NotImplementedError):
        p.poll([Task("establishing", "t", "preview", "fp", 0.0)])


def test_url_only_images_are_accepted_as_placeholders(tmp_path: Path) -> None:
    url = Asset(
        ref="https://example.com/storm.jpg", label="images.storm", url="https://example.com/storm.jpg"
    )
    shot = compiled(kind="frames", first=local(tmp_path / "a.png"), last=url)
    p = PreviewProvider()
    assert p.check(shot) == []
    images = p.shot_body(shot)[0]["images"]
    assert images[0] == {"role": "first", "ref": "a.png"}
    assert images[1]["role"] == "last" and "storm" in images[1]["placeholder"]


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
        "from storyboard.spec.model import Settings, Shot\n"
        "from storyboard.providers.base import CompiledShot\n"
        "from storyboard.providers.preview.provider import PreviewProvider\n"
        "s = CompiledShot(Shot(0, 'a', 'p', 'text', Settings()), 'p')\n"
        "p = PreviewProvider(); p.check(s); p.shot_body(s); p.cost(s); p.requests([s])\n"
        "heavy = [m for m in ('PIL', 'numpy', 'moviepy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_render_text_shot(tmp_path: Path) -> None:
    dest = tmp_path / "clips" / "establishing.mp4"
    t = time.perf_counter()
    PreviewProvider().render(compiled(), dest)
    print(f"preview provider, text shot at 160x90: {time.perf_counter() - t:.2f} s")
    info = probe(dest)
    assert info.size == (160, 90) and abs(info.duration - 8.0) <= 1 / 24
    assert info.audio is not None and info.audio.sample_rate == 48000


def test_render_frames_and_portrait(tmp_path: Path) -> None:
    red = make_image(tmp_path / "red.png", color="red")
    blue = make_image(tmp_path / "blue.png", color="blue")
    shot = compiled(kind="frames", first=local(red), last=local(blue), settings=Settings(aspect_ratio="9:16"))
    dest = tmp_path / "frames.mp4"
    PreviewProvider().render(shot, dest)
    assert probe(dest).size == (90, 160)
    assert near(colour_at(dest, 0.1, tmp_path, (45, 80)), (255, 0, 0))
    assert near(colour_at(dest, 7.9, tmp_path, (45, 80)), (0, 0, 255))


def test_continues_starts_from_the_given_frame(tmp_path: Path) -> None:
    """The executor passes the previous clip's last frame; it replaces the shot's first."""
    p = PreviewProvider()
    green = make_image(tmp_path / "green.png", color="lime")
    first_clip = tmp_path / "one.mp4"
    p.render(compiled(kind="frames", first=local(green)), first_clip)
    frame = last_frame(first_clip, tmp_path / "one-last.png")
    second = compiled(kind="frames", continues="establishing", index=1)
    second = replace(second, shot=replace(second.shot, id="next"))
    dest = tmp_path / "two.mp4"
    p.render(second, dest, frame)
    assert near(colour_at(dest, 0.1, tmp_path), (0, 255, 0))


def test_missing_continued_frame_and_url_only_image_render_placeholders(tmp_path: Path) -> None:
    p = PreviewProvider()
    dest = tmp_path / "cont.mp4"
    p.render(compiled(kind="frames", continues="earlier", index=1), dest)
    r, g, b = colour_at(dest, 0.1, tmp_path)
    assert max(r, g, b) - min(r, g, b) < 30  # the grey placeholder panel
    url = Asset(ref="https://example.com/a.jpg", label="images.a", url="https://example.com/a.jpg")
    dest = tmp_path / "url.mp4"
    p.render(compiled(kind="frames", first=url), dest)
    r, g, b = colour_at(dest, 0.1, tmp_path)
    assert max(r, g, b) - min(r, g, b) < 30


def test_render_references(tmp_path: Path) -> None:
    red = make_image(tmp_path / "red.png", color="red")
    blue = make_image(tmp_path / "blue.png", color="blue")
    shot = compiled(kind="reference", references=(local(red), local(blue)))
    dest = tmp_path / "refs.mp4"
    PreviewProvider().render(shot, dest)
    assert near(colour_at(dest, 1.0, tmp_path, (40, 45)), (255, 0, 0))
    assert near(colour_at(dest, 1.0, tmp_path, (120, 45)), (0, 0, 255))
