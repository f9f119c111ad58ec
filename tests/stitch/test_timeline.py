"""Where each clip lands in the cut, to the frame."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.errors import StitchError
from storyboard.stitch.spec import CutSpec
from storyboard.stitch.timeline import layout
from tests.stitch.conftest import clip


def cut(*clips) -> CutSpec:  # type: ignore[no-untyped-def]
    return CutSpec(clips=tuple(clips), output=Path("film.mp4"), size=(1280, 720))


def test_length_is_kept_lengths_minus_crossfades() -> None:
    t = layout(
        cut(
            clip("a", Path("a"), (0, 8)),
            clip("b", Path("b"), (1, 5), transition="crossfade", transition_duration=0.5),
            clip("c", Path("c"), (0, 3), transition="fade", transition_duration=1),
            clip("d", Path("d"), (0, 2.5)),
        )
    )
    assert t.duration == pytest.approx(8 + 4 - 0.5 + 3 + 2.5)
    _, b, c, d = t.placed
    assert (b.start, b.overlap, b.source_start) == (7.5, 0.5, 1.0)
    assert b.fade_out == 0.5 and c.fade_in == 0.5 and c.start == 11.5
    assert d.start == 14.5 and d.frames == 60


def test_lengths_snap_to_whole_frames() -> None:
    t = layout(
        cut(
            clip("a", Path("a"), (0, 1.01)),
            clip("b", Path("b"), (0, 8), transition="crossfade", transition_duration=0.51),
        ),
        [None, 7.96],
    )
    assert t.placed[0].frames == 24 and t.placed[1].frames == 191
    assert t.placed[1].overlap == 12 / 24
    assert t.duration == (24 + 191 - 12) / 24


@pytest.mark.parametrize(
    ("clips", "message"),
    [
        ((clip("a", Path("a"), (2, 1)),), "shot 'a': trim"),
        (
            (clip("a", Path("a"), (0, 8), transition="crossfade", transition_duration=1),),
            "first shot cannot crossfade",
        ),
        (
            (clip("a", Path("a"), (0, 8)), clip("b", Path("b"), (0, 8), transition="wipe")),
            "unknown transition",
        ),
        ((clip("a", Path("a"), (0, 8)), clip("b", Path("b"), (0, 8), transition="fade")), "needs a duration"),
        (
            (
                clip("a", Path("a"), (0, 8)),
                clip("b", Path("b"), (0, 1), transition="crossfade", transition_duration=0.6),
                clip("c", Path("c"), (0, 8), transition="crossfade", transition_duration=0.6),
            ),
            "too short for the crossfades",
        ),
    ],
)
def test_impossible_cuts_name_the_shot(clips, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StitchError, match=message):
        layout(cut(*clips))
