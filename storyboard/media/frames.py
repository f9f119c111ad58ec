"""Stills taken from clips: the last frame (a `continues` shot starts from it) and a frame at t.

Only the ffmpeg binary is used (no moviepy, no numpy), so the executor can call this cheaply.
Each still is written to a temporary file beside `out` and renamed when complete
(atomic.py).
"""

from __future__ import annotations

from pathlib import Path

from storyboard.atomic import replacing
from storyboard.errors import StitchError
from storyboard.media.ffmpeg import run

# Seek this far before the end, then keep the last frame decoded: robust to clips whose final
# packets carry no picture or whose stated duration overshoots the last frame.
_TAIL_SECONDS = 0.5


def _write_png(args: list[str], out: Path, what: str) -> bool:
    """Run ffmpeg writing one PNG to a temp file beside `out`; it becomes `out` (atomically)
    only if a frame came out."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)

    class _NoFrame(Exception):
        pass

    try:
        # unique per call: threads of one render may extract the same frame at once
        with replacing(out, ".part") as tmp:
            run([*args, "-f", "image2", "-c:v", "png", "-pix_fmt", "rgb24", str(tmp)], what=what)
            if not tmp.is_file() or tmp.stat().st_size == 0:
                raise _NoFrame
    except _NoFrame:
        return False
    return True


def last_frame(clip: Path, out: Path) -> Path:
    """Write the clip's last picture to `out` as PNG; StitchError if the clip has none."""
    clip, out = Path(clip), Path(out)
    if not clip.is_file():
        raise StitchError(f"last frame: {clip} does not exist")
    what = f"last frame of {clip.name}"
    # -update 1 overwrites the one output file with each decoded frame: the last one stays.
    tail = ["-y", "-sseof", f"-{_TAIL_SECONDS}", "-i", str(clip), "-map", "0:v:0", "-an"]
    tail += ["-fps_mode", "passthrough", "-update", "1"]
    try:
        if _write_png(tail, out, what):
            return out
    except StitchError:
        pass  # an odd tail (or a clip shorter than the seek): decode the whole clip instead
    whole = ["-y", "-i", str(clip), "-map", "0:v:0", "-an", "-fps_mode", "passthrough"]
    whole += ["-update", "1"]
    if _write_png(whole, out, what):
        return out
    raise StitchError(f"{what}: the clip has no video frames")


def frame_at(clip: Path, t: float, out: Path) -> Path:
    """Write the picture shown at `t` seconds into the clip to `out` as PNG."""
    clip, out = Path(clip), Path(out)
    if not clip.is_file():
        raise StitchError(f"frame at {t:g} s: {clip} does not exist")
    if t < 0:
        raise StitchError(f"frame at {t:g} s of {clip.name}: the time must be >= 0")
    what = f"frame at {t:g} s of {clip.name}"
    args = [
        "-y",
        "-ss",
        f"{t:.6f}",
        "-i",
        str(clip),
        "-map",
        "0:v:0",
        "-an",
        "-frames:v",
        "1",
        "-update",
        "1",
    ]
    if _write_png(args, out, what):
        return out
    raise StitchError(f"{what}: no frame there (the clip is shorter)")


def first_frame(clip: Path, out: Path) -> Path:
    """Write the clip's first picture to `out` as PNG."""
    return frame_at(clip, 0.0, out)
