"""Real media for tests, made with the ffmpeg that imageio-ffmpeg ships. Keep it tiny."""

from __future__ import annotations

from pathlib import Path

from storyboard.media.ffmpeg import run


def make_clip(
    path: Path,
    seconds: float = 2.0,
    size: tuple[int, int] = (160, 90),
    fps: float = 24,
    color: str = "red",
    audio: bool = True,
    tone: float = 440.0,
    sample_rate: int = 48000,
    gop: int | None = None,
) -> Path:
    """An H.264 (+ AAC) MP4 of one flat colour and a sine tone, shaped like a Veo clip."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    w, h = size
    args = ["-y", "-f", "lavfi", "-i", f"color=c={color}:s={w}x{h}:r={fps}:d={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=f={tone}:sample_rate={sample_rate}:d={seconds}"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if gop:
        args += ["-g", str(gop)]
    if audio:
        args += ["-c:a", "aac", "-ac", "2", "-b:a", "64k"]
    args += ["-t", str(seconds), "-movflags", "+faststart", str(path)]
    run(args, what="make_clip")
    return path


def make_image(path: Path, size: tuple[int, int] = (64, 36), color: str = "blue") -> Path:
    """A small still (format from the extension: .png, .jpg or .webp)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    w, h = size
    run(
        ["-y", "-f", "lavfi", "-i", f"color=c={color}:s={w}x{h}", "-frames:v", "1", str(path)],
        what="make_image",
    )
    return path


def make_tone(path: Path, seconds: float = 3.0, tone: float = 330.0) -> Path:
    """A short sound file (format from the extension: .mp3, .m4a, .wav)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    run(
        ["-y", "-f", "lavfi", "-i", f"sine=f={tone}:sample_rate=48000:d={seconds}", str(path)],
        what="make_tone",
    )
    return path
