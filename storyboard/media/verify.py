"""Is a file a whole, readable clip? The checks a download or a cached clip must pass.

- the MP4's top-level boxes tile the file exactly (a cut-short file fails here even when its
  index at the front still reads fine), with ftyp, moov and mdat present;
- ffmpeg reads it, with an H.264 video stream, and it lasts about the expected time;
- it decodes without errors (a corrupted transfer fails here).
"""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

from storyboard.board.model import CLIP_SECONDS
from storyboard.errors import StitchError, VerifyError
from storyboard.media.ffmpeg import MediaInfo, ffmpeg_exe, probe

__all__ = ["MAX_BYTES", "VerifyError", "check_boxes", "verify_clip", "verify_film"]

MAX_BYTES = 500 * 1024 * 1024  # a 4k 8 s clip is ~50-100 MB
MIN_BYTES = 1024
TOLERANCE = 1.5  # seconds a clip may differ from the expected length


def check_boxes(path: Path) -> None:
    """The MP4's top-level boxes must tile the file exactly and include ftyp, moov, mdat."""
    size = path.stat().st_size
    seen: list[bytes] = []
    with open(path, "rb") as f:
        pos = 0
        while pos < size:
            f.seek(pos)
            head = f.read(8)
            if len(head) < 8:
                raise VerifyError(f"cut short inside a box header at byte {pos} of {size}")
            box_size, kind = struct.unpack(">I4s", head)
            if box_size == 1:
                large = f.read(8)
                if len(large) < 8:
                    raise VerifyError(f"cut short inside a box header at byte {pos} of {size}")
                box_size = struct.unpack(">Q", large)[0]
            elif box_size == 0:  # the last box runs to the end of the file
                box_size = size - pos
            if box_size < 8 or not all(32 <= c < 127 for c in kind):
                raise VerifyError(f"not an MP4 file (bad box at byte {pos})")
            if pos + box_size > size:
                name = kind.decode("ascii")
                raise VerifyError(
                    f"cut short: its {name!r} box needs {pos + box_size} bytes, the file has {size}"
                )
            seen.append(kind)
            pos += box_size
    if not seen or seen[0] not in (b"ftyp", b"styp"):
        raise VerifyError("not an MP4 file (no ftyp box at the start)")
    for need in (b"moov", b"mdat"):
        if need not in seen:
            raise VerifyError(f"not a whole MP4 file (no {need.decode()} box)")


def _decode_errors(path: Path) -> str:
    """ffmpeg's complaints when decoding the clip ('' when it decodes cleanly)."""
    proc = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
        errors="replace",
    )
    text = proc.stderr.strip()
    if proc.returncode != 0 and not text:
        text = f"ffmpeg exit {proc.returncode}"
    return text


def strict_decode(path: Path) -> str:
    """What ffmpeg says, warnings included, decoding every frame and sample with -xerror
    (stop at the first error): '' when the file is clean. How a spliced film is judged."""
    proc = subprocess.run(
        [
            ffmpeg_exe(),
            "-hide_banner",
            "-nostdin",
            "-v",
            "warning",
            "-xerror",
            "-i",
            str(path),
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        errors="replace",
    )
    return (proc.stderr + (f"exit {proc.returncode}" if proc.returncode else "")).strip()


def verify_clip(
    path: Path,
    *,
    expected_seconds: float = CLIP_SECONDS,
    tolerance: float = TOLERANCE,
    min_bytes: int = MIN_BYTES,
    max_bytes: int = MAX_BYTES,
    decode: bool = True,
) -> MediaInfo:
    """What the clip holds, or VerifyError saying why it is not a whole H.264 MP4 clip of
    about `expected_seconds`."""
    path = Path(path)
    size = path.stat().st_size
    if size < min_bytes:
        raise VerifyError(f"only {size} bytes: too small to be a clip")
    if size > max_bytes:
        raise VerifyError(f"{size} bytes: larger than the {max_bytes} byte limit")
    check_boxes(path)
    try:
        info = probe(path)
    except StitchError as e:
        raise VerifyError(f"unreadable ({e.message})") from None
    if info.video is None:
        raise VerifyError("it holds no video stream")
    if info.video.codec != "h264":
        raise VerifyError(f"its video is {info.video.codec}, not H.264")
    if abs(info.duration - expected_seconds) > tolerance:
        raise VerifyError(f"it lasts {info.duration:.2f} s, expected about {expected_seconds:.1f} s")
    if decode:
        complaints = _decode_errors(path)
        if complaints:
            lines = [ln for ln in complaints.splitlines() if "Last message repeated" not in ln]
            raise VerifyError("it does not decode: " + (lines or ["?"])[0].strip()[:200], decode_only=True)
    return info


def verify_film(path: Path, duration: float, fps: float) -> None:
    """Refuse a stitched film that is not what its timeline says: a missing stream, or a length
    more than two frames (and 50 ms) off `duration`."""
    info = probe(path)
    if info.video is None or info.audio is None:
        raise StitchError(f"{path.name}: the stitched film lacks picture or sound")
    if abs(info.duration - duration) > 2 / fps + 0.05:
        raise StitchError(f"the stitched film lasts {info.duration:.3f} s, not {duration:.3f} s")
