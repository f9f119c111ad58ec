"""The cut's sound: music looped or cut to the film's length, faded out, ducked."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.stitch.audio import audio_graph
from storyboard.stitch.cut import stitch
from storyboard.stitch.spec import CutSpec, MusicSpec
from storyboard.stitch.timeline import layout
from tests.stitch.conftest import clip, level
from tests.stitch.test_cut import SILENT, check_streams, spec


def test_graph_gives_silence_to_clips_without_sound() -> None:
    s = CutSpec(
        clips=(clip("a", Path("a.mp4"), (0, 2)), clip("b", Path("b.mp4"), (0.5, 2))),
        output=Path("o.mp4"),
        size=(160, 90),
    )
    chains = audio_graph(layout(s), [0, None])
    assert chains[0].startswith("[0:a:0]") and "atrim=duration=2" in chains[0]
    assert chains[1].startswith("anullsrc=r=48000:cl=stereo,atrim=duration=1.5")
    assert chains[-1].endswith("[aout]")


def test_music_loops_to_length_and_fades_out(tmp_path: Path, media) -> None:  # type: ignore[no-untyped-def]
    music = MusicSpec(path=media["music"], volume=1.0, fade_out=1.0)
    s = spec(tmp_path, clip("a", media["mute"]), clip("b", media["mute"]), music=music)
    result = stitch(s)
    check_streams(result.output, 4.0)
    assert result.method == "copy-picture"  # the picture is copied, the music mixed in
    loud = level(result.output, 0.2, 1.2, music_only=True)
    assert loud > -30
    assert level(result.output, 1.8, 2.8, music_only=True) > loud - 2  # looped (1.5 s file)
    assert level(result.output, 3.75, 4.0, music_only=True) < loud - 10  # faded out
    once = stitch(
        spec(
            tmp_path,
            clip("a", media["mute"]),
            clip("b", media["mute"]),
            music=MusicSpec(path=media["music"], loop=False, fade_out=0),
        )
    )
    assert level(once.output, 0.2, 1.2, music_only=True) > -36
    assert level(once.output, 1.7, 3.9) < SILENT  # played once, then silence


@pytest.mark.parametrize("duck", [True, False])
def test_music_ducks_under_the_shots_sound(tmp_path: Path, media, duck: bool) -> None:  # type: ignore[no-untyped-def]
    music = MusicSpec(path=media["music"], volume=0.5, duck=duck, fade_out=0)
    s = spec(tmp_path, clip("a", media["mute"]), clip("b", media["red"]), music=music)
    result = stitch(s)
    alone = level(result.output, 0.5, 1.5, music_only=True)
    under = level(result.output, 2.5, 3.5, music_only=True)
    if duck:
        assert alone > under + 5
    else:
        assert abs(alone - under) < 1.5
    assert level(result.output, 2.5, 3.5) > -30  # the shot's own sound is kept
