"""The offline animatic renderer: real clips, checked by their streams, pixels and sound."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from storyboard.errors import ConfigError, StitchError
from storyboard.media.ffmpeg import probe, run
from storyboard.media.frames import frame_at, last_frame
from storyboard.providers.preview.animatic import SCALE_ENV, preview_scale, render_preview, scaled_size
from tests.clips import make_image

PROMPT = (
    "A wide aerial shot circling a rocky island in the North Sea at dawn, the lighthouse "
    "beam fading as the sun rises.\n\nTeal and orange, 35 mm film grain."
)


@pytest.fixture(autouse=True)
def small(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SCALE_ENV, "0.125")  # 160x90 from 1280x720: fast tests


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("images")
    return {
        "red": make_image(d / "red.png", color="red"),
        "blue": make_image(d / "blue.png", color="blue"),
        "lime": make_image(d / "lime.jpg", color="lime"),
        "tall": make_image(d / "tall.png", size=(36, 64), color="red"),
    }


def render(out: Path, kind: str = "text", **kw: object) -> Path:
    args: dict[str, object] = {
        "shot_id": "establishing",
        "prompt": PROMPT,
        "kind": kind,
        "first": None,
        "last": None,
        "references": (),
        "size": (1280, 720),
    }
    args.update(kw)
    t = time.perf_counter()
    clip = render_preview(out, **args)  # type: ignore[arg-type]
    size = probe(clip).size
    print(f"preview {kind} {size}: {time.perf_counter() - t:.2f} s")
    return clip


def still(clip: Path, t: float, tmp: Path) -> Image.Image:
    return Image.open(frame_at(clip, t, tmp / f"frame-{t}.png")).convert("RGB")


def near(rgb: tuple[int, ...], want: tuple[int, int, int], tol: int = 40) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(rgb[:3], want, strict=True))


def volume(clip: Path) -> tuple[float, float]:
    """Mean and max volume in dB (about -91 is digital silence)."""
    err = run(["-i", str(clip), "-map", "0:a:0", "-af", "volumedetect", "-f", "null", "-"])
    mean = re.search(r"mean_volume: (-?[\d.]+) dB", err)
    peak = re.search(r"max_volume: (-?[\d.]+) dB", err)
    assert mean and peak, err
    return float(mean.group(1)), float(peak.group(1))


# ---- shape --------------------------------------------------------------------------------
def test_clip_is_shaped_like_a_provider_clip(tmp_path: Path) -> None:
    info = probe(render(tmp_path / "card.mp4"))
    assert abs(info.duration - 8.0) <= 1 / 24
    assert info.video is not None and info.audio is not None
    assert (info.video.codec, info.video.pix_fmt) == ("h264", "yuv420p")
    assert info.video.fps == 24
    assert info.size == (160, 90)
    assert (info.audio.codec, info.audio.sample_rate, info.audio.channels) == ("aac", 48000, 2)


def test_portrait_size(tmp_path: Path) -> None:
    info = probe(render(tmp_path / "tall.mp4", size=(720, 1280)))
    assert info.size == (90, 160)
    assert abs(info.duration - 8.0) <= 1 / 24


def test_scale_changes_the_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SCALE_ENV, "0.25")
    assert probe(render(tmp_path / "quarter.mp4")).size == (320, 180)


def test_full_size_720p(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, images: dict) -> None:
    monkeypatch.delenv(SCALE_ENV)
    t = time.perf_counter()
    clip = render(tmp_path / "full.mp4", "frames", first=images["red"], last=images["blue"])
    print(f"1280x720 frames clip with a dissolve: {time.perf_counter() - t:.2f} s")
    info = probe(clip)
    assert info.size == (1280, 720)
    assert abs(info.duration - 8.0) <= 1 / 24
    assert info.video is not None and info.video.profile == "High"


def test_scale_values() -> None:
    assert preview_scale({}) == 1.0
    assert preview_scale({SCALE_ENV: "0.125"}) == 0.125
    assert scaled_size((1280, 720), 0.125) == (160, 90)
    assert scaled_size((720, 1280), 0.1) == (72, 128)
    assert scaled_size((1920, 1080), 0.3) == (576, 324)
    w, h = scaled_size((1280, 720), 0.013)
    assert w % 2 == 0 and h % 2 == 0 and min(w, h) >= 16
    for bad in ("0", "-1", "2", "abc", "nan"):
        with pytest.raises(ConfigError, match=SCALE_ENV):
            preview_scale({SCALE_ENV: bad})


# ---- look ---------------------------------------------------------------------------------
def test_frames_shot_goes_from_first_to_last_image(tmp_path: Path, images: dict) -> None:
    clip = render(tmp_path / "frames.mp4", "frames", first=images["red"], last=images["blue"])
    assert near(still(clip, 0.1, tmp_path).getpixel((80, 45)), (255, 0, 0))
    middle = still(clip, 4.8, tmp_path).getpixel((80, 45))  # the dissolve, half way
    assert middle[0] > 60 and middle[2] > 60, middle
    assert near(still(clip, 7.9, tmp_path).getpixel((80, 45)), (0, 0, 255))
    assert near(Image.open(last_frame(clip, tmp_path / "last.png")).getpixel((80, 45)), (0, 0, 255))


def test_first_frame_alone_pushes_in(tmp_path: Path, images: dict) -> None:
    clip = render(tmp_path / "push.mp4", "frames", first=images["red"])
    for t in (0.1, 4.0, 7.9):
        assert near(still(clip, t, tmp_path).getpixel((80, 45)), (255, 0, 0))


def test_image_of_another_shape_is_fitted_not_stretched(tmp_path: Path, images: dict) -> None:
    clip = render(tmp_path / "tall.mp4", "frames", first=images["tall"])
    frame = still(clip, 0.1, tmp_path)
    assert near(frame.getpixel((80, 45)), (255, 0, 0))
    edge = frame.getpixel((20, 45))  # beside the portrait image: its darkened, blurred cover
    assert edge[0] < 180, edge


def test_references_side_by_side(tmp_path: Path, images: dict) -> None:
    refs = (images["red"], images["lime"])
    clip = render(tmp_path / "refs.mp4", "reference", references=refs)
    for t in (0.5, 7.5):
        frame = still(clip, t, tmp_path)
        assert near(frame.getpixel((40, 45)), (255, 0, 0)), frame.getpixel((40, 45))
        assert near(frame.getpixel((120, 45)), (0, 255, 0)), frame.getpixel((120, 45))


def test_url_only_image_is_a_placeholder(tmp_path: Path, images: dict) -> None:
    url = "https://example.com/storm.jpg"
    clip = render(
        tmp_path / "ph.mp4",
        "reference",
        references=(images["red"], url),
        labels=("images.red", f"images.storm: {url}"),
    )
    frame = still(clip, 1.0, tmp_path)
    assert near(frame.getpixel((40, 45)), (255, 0, 0))
    r, g, b = frame.getpixel((120, 45))[:3]
    assert max(r, g, b) - min(r, g, b) < 30, (r, g, b)  # a grey panel, no colour of its own


def test_text_card_shows_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SCALE_ENV, "0.5")  # text large enough to tell prompts apart
    one = still(render(tmp_path / "one.mp4"), 2.0, tmp_path)
    other = still(render(tmp_path / "two.mp4", prompt="Another prompt entirely."), 2.0, tmp_path)
    spread = ImageStat.Stat(one.convert("L")).stddev[0]
    assert spread > 8, spread  # not a flat colour: type is drawn
    assert one.tobytes() != other.tobytes()


def test_long_prompt_fits_without_error(tmp_path: Path) -> None:
    info = probe(render(tmp_path / "long.mp4", prompt="word " * 2000 + "x" * 500))
    assert info.size == (160, 90)


def test_corner_label_and_progress_bar_leave_a_clean_last_frame(tmp_path: Path, images: dict) -> None:
    clip = render(tmp_path / "label.mp4", "frames", first=images["blue"], last=images["blue"])
    frame = still(clip, 4.0, tmp_path)
    assert not near(frame.getpixel((8, 5)), (0, 0, 255), 20)  # the label's dark box
    assert frame.getpixel((5, 89))[0] > 120  # the bar has passed the left edge...
    assert near(frame.getpixel((150, 89)), (0, 0, 255), 50)  # ...but not yet the right
    end = Image.open(last_frame(clip, tmp_path / "end.png")).convert("RGB")
    for xy in ((8, 5), (5, 89), (150, 89), (80, 45)):
        assert near(end.getpixel(xy), (0, 0, 255)), (xy, end.getpixel(xy))


def test_sound_is_quiet_but_present(tmp_path: Path) -> None:
    clip = render(tmp_path / "sound.mp4")
    mean, peak = volume(clip)
    assert -45 < mean < -12, mean
    assert peak < -6, peak
    other = render(tmp_path / "other.mp4", seed=1)
    assert clip.read_bytes() != other.read_bytes()  # another shot, another chord


def test_no_audio_gives_a_silent_track(tmp_path: Path) -> None:
    clip = render(tmp_path / "mute.mp4", audio=False)
    info = probe(clip)
    assert info.audio is not None and info.audio.sample_rate == 48000
    assert volume(clip)[1] < -80


def test_same_inputs_same_bytes(tmp_path: Path, images: dict) -> None:
    a = render(tmp_path / "a.mp4", "frames", first=images["red"], last=images["blue"])
    b = render(tmp_path / "b.mp4", "frames", first=images["red"], last=images["blue"])
    assert a.read_bytes() == b.read_bytes()


def test_unreadable_image_is_a_clear_error_and_leaves_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    out = tmp_path / "out" / "clip.mp4"
    with pytest.raises(StitchError, match=r"establishing.*bad\.png"):
        render(out, "frames", first=bad)
    assert list(out.parent.iterdir()) == []


def test_replaces_an_existing_clip_whole(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    out.write_bytes(b"old")
    render(out)
    assert probe(out).video is not None
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]


@pytest.mark.parametrize("kind", ["frames", "reference"])
def test_frames_and_reference_shots_show_their_prompt_over_the_stills(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, images: dict, kind: str
) -> None:
    monkeypatch.setenv(SCALE_ENV, "0.5")  # 640x360: type large enough to tell prompts apart
    stills = {"first": images["blue"]} if kind == "frames" else {"references": (images["blue"],)}
    one = render(tmp_path / "one.mp4", kind, prompt="A boat leaves the harbour at dawn", **stills)
    two = render(tmp_path / "two.mp4", kind, prompt="A storm breaks over the quay", **stills)
    a, b = still(one, 2.0, tmp_path), still(two, 2.0, tmp_path)
    band, rest = (0, 0, 640, 40), (0, 120, 640, 360)

    def diff(box: tuple[int, int, int, int]) -> float:
        x = ImageStat.Stat(ImageChops.difference(a.crop(box), b.crop(box)).convert("L"))
        return x.mean[0]

    assert diff(band) > 2, diff(band)  # the prompt is drawn, and another prompt draws otherwise
    assert diff(rest) < 0.5, diff(rest)  # the stills themselves are the same
    bright = sum(1 for px in a.crop(band).convert("L").getdata() if px > 200)
    assert bright > 50, bright  # light type on the dark band
    # the last frames stay the image's own: a `continues` shot starts from them
    end_a = Image.open(last_frame(one, tmp_path / "a.png")).convert("RGB")
    end_b = Image.open(last_frame(two, tmp_path / "b.png")).convert("RGB")
    assert ImageStat.Stat(ImageChops.difference(end_a, end_b).convert("L")).mean[0] < 0.5
    assert near(end_a.getpixel((20, 12)), (0, 0, 255)) or kind == "reference"
