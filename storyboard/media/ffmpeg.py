"""The ffmpeg binary that the imageio-ffmpeg wheel ships: run it and read what a file holds.

No system ffmpeg or ffprobe is assumed; imageio-ffmpeg ships ffmpeg alone, so probing parses
`ffmpeg -i`. This module imports neither moviepy nor numpy: download verification uses it.
A file's packets (exact lengths, keyframes, priming) are read by packets.py.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from storyboard.errors import StitchError


@cache
def ffmpeg_exe() -> str:
    import imageio_ffmpeg  # lazy: start-up

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def run(args: list[str], *, what: str = "ffmpeg", timeout: float | None = None) -> str:
    """Run ffmpeg with `args` (without the binary); return stderr; StitchError on failure."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise StitchError(f"{what}: ffmpeg took longer than {timeout:.0f} s") from e
    if proc.returncode != 0:
        raise failure(f"{what}: ffmpeg failed (exit {proc.returncode})", proc.returncode, proc.stderr)
    return proc.stderr


# The system's own words, when ffmpeg passes them on: said first, so that a full disk reads
# as a full disk and not as six lines of ffmpeg's stream mapping.
_SYSTEM_ERRORS = re.compile(
    r"No space left on device|Disk quota exceeded|Read-only file system|File too large|"
    r"Permission denied|Input/output error|Too many open files|Cannot allocate memory",
    re.IGNORECASE,
)
_SIGNALS = {
    "SIGXFSZ": "a file grew past the size limit (ulimit -f)",
    "SIGKILL": "killed from outside (out of memory?)",
    "SIGSEGV": "it crashed",
}


def cause(code: int, stderr: str, writes: Sequence[Path] = ()) -> str | None:
    """Why ffmpeg failed, in a few words, or None when it does not say: the system error it
    reports, the signal that stopped it, or a full disk where it was writing (`writes`)."""
    found = _SYSTEM_ERRORS.findall(stderr)
    if found:
        words = found[-1]
        return words[0].lower() + words[1:]
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        why = _SIGNALS.get(name)
        return f"ffmpeg was stopped by {name}" + (f": {why}" if why else "")
    for folder in dict.fromkeys(Path(p) for p in writes):
        try:
            free = shutil.disk_usage(folder).free
        except OSError:
            continue
        if free < FULL:
            return f"no space left on device ({free // 1024} KB free in {folder})"
    return None


FULL = 1 << 20  # less free space than this where ffmpeg writes: the disk is the likely cause


def failure(headline: str, code: int, stderr: str, writes: Sequence[Path] = ()) -> StitchError:
    """`headline: cause`, then the last lines ffmpeg wrote (its own account, if any)."""
    why = cause(code, stderr, writes)
    tail = "\n".join(stderr.strip().splitlines()[-6:])
    return StitchError(headline + (f": {why}" if why else "") + (f"\n{tail}" if tail else ""))


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
    profile: str = ""


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
_AUDIO = re.compile(r"Stream #0:\d+[^:]*: Audio: (\w+)(?: \(([^)]*)\))?[^,]*, (\d+) Hz, ([^,]+)")


def probe(path: Path) -> MediaInfo:
    """What a media file holds; StitchError if ffmpeg cannot read it as media."""
    path = Path(path)
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
    )
    return parse_media(path, proc.stderr)


def parse_media(path: Path, err: str) -> MediaInfo:
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
            layout = ma.group(4).strip()
            channels = {"mono": 1, "stereo": 2}.get(layout)
            if channels is None:
                n = re.match(r"(\d+)", layout)
                channels = int(n.group(1)) if n else 2
            audio = AudioStream(
                codec=ma.group(1),
                profile=ma.group(2) or "",
                sample_rate=int(ma.group(3)),
                channels=channels,
            )
    return MediaInfo(path=path, duration=duration, format=m_in.group(1), video=video, audio=audio)


def run_progress(
    args: list[str],
    *,
    duration: float,
    progress: Callable[[float], None] | None = None,
    what: str = "ffmpeg",
    timeout: float | None = None,
) -> str:
    """Like run(), reporting progress(0..1) from `-progress pipe:1` against `duration` s.

    ffmpeg is killed if progress() raises (e.g. KeyboardInterrupt) or the timeout passes.
    """
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-progress", "pipe:1", *args]
    with tempfile.TemporaryFile("w+", errors="replace") as errf:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errf, text=True)
        timer = None
        timed_out = threading.Event()
        if timeout is not None:

            def _kill() -> None:
                timed_out.set()
                proc.kill()

            timer = threading.Timer(timeout, _kill)
            timer.start()
        try:
            assert proc.stdout is not None
            said = -1.0  # ffmpeg's out_time can step back (copied timestamps): progress never does
            for line in proc.stdout:
                key, _, value = line.strip().partition("=")
                if progress is None:
                    continue
                now = None
                if key == "out_time_us" and value.lstrip("-").isdigit() and duration > 0:
                    now = min(max(int(value) / 1e6 / duration, 0.0), 1.0)
                elif key == "progress" and value == "end":
                    now = 1.0
                if now is not None and now > said:
                    said = now
                    progress(now)
            code = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            if timer is not None:
                timer.cancel()
        errf.seek(0)
        stderr = errf.read()
    if timed_out.is_set():
        raise StitchError(f"{what}: ffmpeg took longer than {timeout:.0f} s")
    if code != 0:  # its stderr went to a temporary file: a full temporary folder loses it
        raise failure(f"{what}: ffmpeg failed (exit {code})", code, stderr, [Path(tempfile.gettempdir())])
    return stderr
