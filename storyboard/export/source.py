"""The cut to export: the stitcher's own layout of the clips, and what an editor needs to
know of each file (its length in frames, its picture, whether it has sound).

Nothing here places a clip: `stitch.timeline.layout` does, given the clips' real picture
lengths measured as the stitcher measures them (one ffmpeg run over every clip), so the
timeline and the film agree to the frame.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from storyboard.errors import StitchError
from storyboard.media.ffmpeg import probe
from storyboard.media.packets import inspect_all, inspect_file
from storyboard.pipeline import cut_spec
from storyboard.stitch.spec import CutSpec
from storyboard.stitch.timeline import Timeline, layout

if TYPE_CHECKING:
    from storyboard.plan.compiler import Plan

_FINGERPRINT = re.compile(r"^[0-9a-f]{16,128}$")  # as store.cache names clips


@dataclass(frozen=True)
class Source:
    """One clip's file."""

    path: Path
    seconds: float  # the picture's length, as the stitcher measures it (its packets)
    frames: int  # that length in whole frames of the cut: the media's available range
    size: tuple[int, int]
    fps: float
    sound: bool  # the file has an audio stream
    sample_rate: int | None = None
    channels: int | None = None


@dataclass(frozen=True)
class MusicSource:
    path: Path
    seconds: float
    sample_rate: int
    channels: int


@dataclass(frozen=True)
class Cut:
    """Everything a timeline says, settled once: the formats only translate it."""

    title: str
    spec: CutSpec
    timeline: Timeline
    sources: tuple[Source, ...]  # one per clip, in cut order
    fingerprints: tuple[str | None, ...]  # one per clip: the clip's fingerprint (its cache key)
    size: tuple[int, int]  # the film's frame size
    film: Path
    music: MusicSource | None = None
    providers: tuple[str, ...] = ()  # one per clip where known: the provider that made it

    @property
    def fps(self) -> float:
        return self.timeline.fps

    def frames(self, seconds: float) -> int:
        """Seconds of the cut as whole frames (the layout's own starts are exact multiples)."""
        return int(seconds * self.timeline.fps + 0.5 + 1e-9)


def read_cut(plan: Plan, clips: dict[str, Path], film: Path) -> Cut:
    """The cut of `plan` from `clips`, as stitched into `film` (which must exist: its frame
    size is the sequence's)."""
    cut = cut_of(cut_spec(plan, clips, film), film, title=plan.storyboard.title)
    return replace(
        cut, providers=tuple(sp.maker.name for sp in plan.shots)
    )  # a film's shots: several providers


def _fingerprint(clip: Path) -> str | None:
    """A cached clip is named by its fingerprint: the clip's, even when the shot has changed
    since and the cut falls back to it."""
    stem = Path(clip).stem
    return stem if _FINGERPRINT.match(stem) else None


def cut_of(spec: CutSpec, film: Path, *, title: str) -> Cut:
    """The cut described by `spec`, stitched into `film`."""
    film = Path(film)
    if not film.is_file():
        raise StitchError(f"the film {film} is not there: a timeline describes a cut that was made")
    made = probe(film)
    if made.video is None:
        raise StitchError(f"{film.name} has no picture")
    sources = _sources(spec)
    timeline = layout(spec, [s.seconds for s in sources])
    music = None
    if spec.music is not None:
        info = probe(Path(spec.music.path))
        if info.audio is None:
            raise StitchError(f"music file {Path(spec.music.path).name} has no sound")
        music = MusicSource(Path(spec.music.path), info.duration, info.audio.sample_rate, info.audio.channels)
    return Cut(
        title=title,
        spec=spec,
        timeline=timeline,
        sources=tuple(sources),
        fingerprints=tuple(_fingerprint(c.path) for c in spec.clips),
        size=(made.video.width, made.video.height),
        film=film,
        music=music,
    )


def _sources(spec: CutSpec) -> list[Source]:
    paths = [Path(c.path) for c in spec.clips]
    for clip, path in zip(spec.clips, paths, strict=True):
        if not path.is_file():
            raise StitchError(f"shot {clip.shot_id!r}: clip not found: {path}", hint="render the shot again")
    found = inspect_all(paths)
    if found is None:  # some clip is unreadable: read each alone to say which
        found = []
        for clip, path in zip(spec.clips, paths, strict=True):
            try:
                found.append(inspect_file(path))
            except StitchError as e:
                raise StitchError(f"shot {clip.shot_id!r}: {e.message}") from e
    out = []
    for clip, path, f in zip(spec.clips, paths, found, strict=True):
        v = f.info.video
        if f.video is None or v is None:
            raise StitchError(f"shot {clip.shot_id!r}: {path.name} has no picture")
        a = f.info.audio
        out.append(
            Source(
                path=path.resolve(),
                seconds=f.video.length,
                frames=round(f.video.length * spec.fps),
                size=(v.width, v.height),
                fps=v.fps,
                sound=a is not None and f.audio is not None,
                sample_rate=a.sample_rate if a else None,
                channels=a.channels if a else None,
            )
        )
    return out
