"""Scratch work beside the output, removed on every exit (Ctrl-C or SIGTERM at any point
included), and a film that is up to date when its inputs have not changed."""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

from storyboard.stitch import cut
from storyboard.stitch.cut import stitch
from storyboard.stitch.manifest import path_for
from storyboard.stitch.spec import CutSpec
from storyboard.stitch.workspace import PREFIX
from tests.stitch.conftest import clip, make_beep_clip

XF = {"transition": "crossfade", "transition_duration": 0.5}


def _spec(folder: Path, media: dict[str, Path], **kw: object) -> CutSpec:
    clips = (clip("a", media["red"]), clip("b", media["blue"], **XF), clip("c", media["red"]))
    return CutSpec(clips=clips, output=folder / "film.mp4", size=(160, 90), **kw)  # type: ignore[arg-type]


def _interrupt(*args: object, **kw: object) -> None:
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    ("where", "kind"),
    [
        ("storyboard.stitch.sources.inspect_all", "joins"),
        ("storyboard.stitch.cut.extract_audio", "copy"),
        ("storyboard.stitch.pieces.run_progress", "joins"),
        ("storyboard.stitch.cut.run_progress", "joins"),
        ("storyboard.stitch.cut.mp4.rewrite", "joins"),
        ("storyboard.stitch.cut.write_atomic", "joins"),
    ],
)
def test_an_interrupt_at_any_point_leaves_nothing_behind(  # type: ignore[no-untyped-def]
    tmp_path: Path, media, monkeypatch: pytest.MonkeyPatch, where: str, kind: str
) -> None:
    out = tmp_path / "renders"
    out.mkdir()
    (out / "film.mp4").write_bytes(b"the previous cut")
    spec = _spec(out, media)
    if kind == "copy":  # clips whose sound can be copied too
        beeps = [make_beep_clip(tmp_path / f"{c}.mp4", c) for c in ("red", "blue")]
        spec = replace(spec, clips=(clip("a", beeps[0], (0, 8)), clip("b", beeps[1], (0, 8))))
    system_tmp = tmp_path / "system-tmp"  # where tempfile would put anything by default
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    monkeypatch.setattr(where, _interrupt)
    with pytest.raises(KeyboardInterrupt):
        stitch(spec)
    assert sorted(p.name for p in out.iterdir()) == ["film.mp4"]  # no scratch, no .part
    assert (out / "film.mp4").read_bytes() == b"the previous cut"
    assert list(system_tmp.iterdir()) == []  # nothing in /tmp either


def test_scratch_goes_where_asked_and_a_dead_stitchs_is_removed(tmp_path: Path, media) -> None:  # type: ignore[no-untyped-def]
    state_tmp = tmp_path / ".storyboard" / "tmp"
    stale = state_tmp / f"{PREFIX}999999999-abc"  # a process id no system has
    stale.mkdir(parents=True)
    (stale / "piece-000.mp4").write_bytes(b"half")
    seen = []
    real = cut.run_progress

    def spy(args, **kw):  # type: ignore[no-untyped-def]
        seen.append(next(a for a in args if a.endswith(".ffconcat")))
        return real(args, **kw)

    pytest.MonkeyPatch().setattr(cut, "run_progress", spy)
    result = stitch(_spec(tmp_path / "renders", media, work_dir=state_tmp))
    assert result.method == "encode-joins"
    assert seen and all(Path(s).parent.parent == state_tmp for s in seen)
    assert not stale.exists() and list(state_tmp.iterdir()) == []


def test_an_unchanged_film_is_up_to_date(tmp_path: Path, media) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(tmp_path, media, burn_captions=False)
    first = stitch(spec)
    assert not first.up_to_date and path_for(spec.output).is_file()
    stamp = spec.output.stat().st_mtime_ns, first.srt.stat().st_mtime_ns
    again = stitch(spec)
    assert again.up_to_date and again.method == first.method and again.duration == first.duration
    assert (spec.output.stat().st_mtime_ns, first.srt.stat().st_mtime_ns) == stamp  # nothing written
    # A clip touched but unchanged is still the same input.
    os.utime(media["red"])
    assert stitch(spec).up_to_date
    # Each input matters: a caption, a trim, the engine, the film itself.
    changed = replace(spec, clips=(replace(spec.clips[0], caption="Now with a caption"), *spec.clips[1:]))
    assert not stitch(changed).up_to_date
    assert stitch(changed).up_to_date
    trimmed = replace(changed, clips=(replace(changed.clips[0], trim=(0.5, 2)), *changed.clips[1:]))
    assert not stitch(trimmed).up_to_date
    assert not stitch(trimmed, engine="reencode").up_to_date
    assert stitch(trimmed, engine="reencode").up_to_date
    spec.output.write_bytes(spec.output.read_bytes()[:-10])  # the film damaged by hand
    assert not stitch(trimmed, engine="reencode").up_to_date


def test_a_changed_clip_is_not_up_to_date(tmp_path: Path, media) -> None:  # type: ignore[no-untyped-def]
    own = tmp_path / "red.mp4"
    own.write_bytes(media["red"].read_bytes())
    spec = CutSpec(
        clips=(clip("a", own), clip("b", media["blue"])), output=tmp_path / "f.mp4", size=(160, 90)
    )
    stitch(spec)
    assert stitch(spec).up_to_date
    own.write_bytes(media["lime"].read_bytes())  # regenerated: other content
    assert not stitch(spec).up_to_date
