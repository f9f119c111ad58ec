"""The clips of a cut as the stitcher sees them: what each file holds and its packets, read
once (one ffmpeg run for all of them, no decoding)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from storyboard.errors import StitchError
from storyboard.media.ffmpeg import MediaInfo
from storyboard.media.packets import AudioTrack, Inspection, VideoTrack, inspect_all, inspect_file
from storyboard.stitch.spec import CutSpec


@dataclass(frozen=True)
class Source:
    info: MediaInfo
    track: VideoTrack
    audio: AudioTrack | None = None


def _source(shot_id: str, path: Path, found: Inspection) -> Source:
    if found.video is None or not found.video.pts or found.info.video is None:
        raise StitchError(f"shot {shot_id!r}: {path.name} has no picture")
    return Source(info=found.info, track=found.video, audio=found.audio)


def _inspect_clip(shot_id: str, path: Path) -> Source:
    who = f"shot {shot_id!r}"
    try:
        found = inspect_file(path)
    except StitchError as e:
        raise StitchError(f"{who}: {e.message}", hint="the clip may be damaged; regenerate it") from e
    return _source(shot_id, path, found)


def inspect_sources(spec: CutSpec, work: Path | None = None) -> list[Source]:
    """Every clip of the cut, inspected; StitchError naming the shot of a missing or
    unreadable one."""
    paths = [(c.shot_id, Path(c.path)) for c in spec.clips]
    for sid, p in paths:
        if not p.is_file():
            raise StitchError(f"shot {sid!r}: clip not found: {p}", hint="render the shot again")
    # One ffmpeg reads every clip's packets (process start-up dominated one run per clip).
    found = inspect_all([p for _, p in paths], work=work)
    if found is not None:
        return [_source(sid, p, f) for (sid, p), f in zip(paths, found, strict=True)]
    # Some clip is unreadable: look at each alone to say which.
    with ThreadPoolExecutor(max_workers=min(4, len(paths))) as pool:
        futures = [pool.submit(_inspect_clip, sid, p) for sid, p in paths]
        return [f.result() for f in futures]


def common_size(sources: Sequence[Source], fallback: tuple[int, int]) -> tuple[int, int]:
    """The size most clips have (so they can be copied), or `fallback` when none has most."""
    sizes = Counter((s.info.video.width, s.info.video.height) for s in sources if s.info.video)
    if not sizes:
        return fallback
    size, n = sizes.most_common(1)[0]
    return size if len(sizes) == 1 or n * 2 > len(sources) else fallback
