"""storyboard: a multi-shot storyboard compiler for Veo 3.1 services.

The pipeline reads like its diagram: load, validate, compile, generate, stitch.

A small public Python API (importing it loads nothing heavy; moviepy only when called):

    import storyboard
    film = storyboard.film("lighthouse.yaml")   # the cut as a moviepy clip
    film = film.with_effects([...])              # add a logo, a title card, an effect
    film.write_videofile("mine.mp4", pixel_format="yuv420p")
    film.close()
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__version__ = "0.1.0"
__all__ = ["film"]


def film(path: str | Path, provider: str | None = None) -> Any:
    """The storyboard's cut as a moviepy clip, from the clips already made (nothing is
    generated): the same timeline the fast path stitches (trims, crossfades, fades, burned
    captions when `captions.burn` says so, the shots' sound, music with ducking). Readers
    open as the clip plays, two at most; close() the clip when done.

    StoryboardError (InputError for the file, ConfigError when a shot has no clip yet).
    """
    from storyboard import pipeline  # lazy: start-up
    from storyboard.stitch.compose import build  # lazy: start-up

    sb = pipeline.load(Path(path))
    plan = pipeline.make_plan(sb, provider)
    made = pipeline.clips_made(plan)
    clips, missing = made.clips, made.missing
    if missing:
        raise made.refusal(Path(path))
    clip, _timeline, _warnings = build(pipeline.cut_spec(plan, clips, pipeline.output_path(sb, None)))
    return clip
