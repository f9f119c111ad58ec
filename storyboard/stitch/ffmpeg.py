"""The ffmpeg binary that the imageio-ffmpeg wheel ships: run it and read what a file holds.

No system ffmpeg or ffprobe is assumed; imageio-ffmpeg ships ffmpeg alone, so probing parses
`ffmpeg -i`. This module imports neither moviepy nor numpy: download verification uses it.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from storyboard.errors import StitchError


@cache
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def run(args: list[str], *, what: str = "ffmpeg", timeout: float | None = None) -> str:
    """Run ffmpeg with `args` (without the binary); return stderr; StitchError on failure."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", *args]
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, errors="replace", timeout=timeout
        )
    except subprocess.TimeoutExpired as e:
        raise StitchError(f"{what}: ffmpeg took longer than {timeout:.0f} s") from e
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-6:])
        raise StitchError(f"{what}: ffmpeg failed (exit {proc.returncode}):\n{tail}")
    return proc.stderr


@dataclass(frozen=True)
class VideoStream:
    codec: str
    width: int
    height: int
    fps: float
    pix_fmt: str
    profile: str = ""


@dataclass(frozen=True)
class AudioStream:
    codec: str
    sample_rate: int
    channels: int


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    duration: float
    format: str
    video: VideoStream | None
    audio: AudioStream | None

    @property
    def size(self) -> tuple[int, int] | None:
        return (self.video.width, self.video.height) if self.video else None


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_INPUT = re.compile(r"Input #0, ([^,\n]+)")
_VIDEO = re.compile(
    r"Stream #0:\d+[^:]*: Video: (\w+)(?: \(([^)]*)\))?[^,]*, (\w+)[^,]*(?:\([^)]*\))?, "
    r"(\d+)x(\d+)"
)
_FPS = re.compile(r"(\d+(?:\.\d+)?) fps")
_AUDIO = re.compile(r"Stream #0:\d+[^:]*: Audio: (\w+)[^,]*, (\d+) Hz, ([^,]+)")


def probe(path: Path) -> MediaInfo:
    """What a media file holds; StitchError if ffmpeg cannot read it as media."""
    path = Path(path)
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
    )
    err = proc.stderr
    m_in = _INPUT.search(err)
    m_dur = _DURATION.search(err)
    if not m_in or "Invalid data found" in err or "moov atom not found" in err:
        raise StitchError(f"{path.name} is not a readable media file")
    duration = 0.0
    if m_dur:
        h, mi, s = m_dur.groups()
        duration = int(h) * 3600 + int(mi) * 60 + float(s)
    video = audio = None
    for line in err.splitlines():
        if video is None and (mv := _VIDEO.search(line)):
            fps = _FPS.search(line)
            video = VideoStream(
                codec=mv.group(1),
                profile=mv.group(2) or "",
                pix_fmt=mv.group(3),
                width=int(mv.group(4)),
                height=int(mv.group(5)),
                fps=float(fps.group(1)) if fps else 0.0,
            )
        elif audio is None and (ma := _AUDIO.search(line)):
            layout = ma.group(3).strip()
            channels = {"mono": 1, "stereo": 2}.get(layout)
            if channels is None:
                n = re.match(r"(\d+)", layout)
                channels = int(n.group(1)) if n else 2
            audio = AudioStream(codec=ma.group(1), sample_rate=int(ma.group(2)), channels=channels)
    return MediaInfo(path=path, duration=duration, format=m_in.group(1), video=video, audio=audio)
