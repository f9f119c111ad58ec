"""Every example renders offline with the preview provider, as the README's first command
does: the film lasts the sum of its trimmed shots less the crossfades (within a frame), has
picture and sound all the way through, and its captions are written beside it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from storyboard import pipeline
from storyboard.media.ffmpeg import probe
from tests.examples import NAMES, Rendered
from tests.stitch.conftest import level, stream_lengths


# The render is the run's (tests/examples.py): tests/report reads the same one.
@pytest.mark.parametrize("name", NAMES)
def test_example_renders_offline(name: str, examples: Callable[[str], Rendered]) -> None:
    result = examples(name)
    board = result.board
    sb = pipeline.load(board)
    film = sb.output
    expected = sum(s.length for s in sb.shots) - sum(
        s.transition.duration for s in sb.shots if s.transition.type == "crossfade"
    )
    lengths = stream_lengths(film)
    assert abs(lengths["video"] - expected) <= 1 / 24 and abs(lengths["audio"] - expected) <= 1 / 24
    info = probe(film)
    assert info.video and info.video.codec == "h264" and info.video.pix_fmt == "yuv420p"
    assert info.audio and info.audio.codec == "aac" and info.audio.sample_rate == 48000
    # sound in the middle second of every shot (fades dip at the joins, nowhere else)
    start = 0.0
    for i, shot in enumerate(sb.shots):
        if i and shot.transition.type == "crossfade":
            start -= shot.transition.duration
        middle = start + shot.length / 2
        assert level(film, middle - 0.5, middle + 0.5) > -50, (shot.id, middle)
        start += shot.length
    if name == "three-shot":
        # an animatic always shows its captions, so they are burned: today that takes the full
        # encode (the stitch engineer's smart render encodes only the pieces a caption touches)
        assert "encode" in result.output
    captions = [s for s in sb.shots if s.caption]
    assert film.with_suffix(".srt").read_text().count("-->") == len(captions)
