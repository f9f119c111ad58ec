"""Shared media and measuring tools for the stitch tests: tiny real clips made by ffmpeg."""

from __future__ import annotations

import re
import subprocess
from array import array
from pathlib import Path

from storyboard.media.ffmpeg import ffmpeg_exe
from storyboard.media.verify import strict_decode  # noqa: F401  (the tests take it from here)
from storyboard.stitch.spec import ClipCut

MUSIC_HZ = 3000  # far above the clips' tones, so a high-pass hears only the music


def clip(shot: str, path: Path, trim: tuple[float, float] = (0, 8), **kw: object) -> ClipCut:
    return ClipCut(shot_id=shot, path=path, trim=trim, **kw)  # type: ignore[arg-type]


def _ff(args: list[str], *, binary: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", *args],
        capture_output=True,
        text=not binary,
        check=True,
    )


def frame(path: Path, t: float) -> tuple[int, int, bytes]:
    """Width, height and RGB24 bytes of the frame shown at time t."""
    out = _ff(
        ["-ss", f"{t:.4f}", "-i", str(path), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        binary=True,
    ).stdout
    w, h = _size(path)
    assert len(out) == w * h * 3
    return w, h, out


def rgb_at(shot: tuple[int, int, bytes], x: int, y: int) -> tuple[int, int, int]:
    w, _, data = shot
    i = (y * w + x) * 3
    return data[i], data[i + 1], data[i + 2]


def pixel(path: Path, t: float, xy: tuple[int, int] | None = None) -> tuple[int, int, int]:
    """The RGB of one pixel (default: the middle) of the frame shown at time t."""
    shot = frame(path, t)
    x, y = xy if xy is not None else (shot[0] // 2, shot[1] // 2)
    return rgb_at(shot, x, y)


def _size(path: Path) -> tuple[int, int]:
    err = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True
    ).stderr
    m = re.search(r"Video: .*?, (\d{2,5})x(\d{2,5})", err)
    assert m, err
    return int(m.group(1)), int(m.group(2))


def level(path: Path, start: float, end: float, *, music_only: bool = False) -> float:
    """Mean volume (dB) of the sound between start and end; -91 is digital silence.

    music_only: hear only the music's band (a steep high-pass far above the clips' tones).
    """
    af = "volumedetect"
    if music_only:
        af = ",".join([f"highpass=f={MUSIC_HZ * 2 // 3}"] * 4 + [af])
    err = _ff(
        [
            "-ss",
            f"{start:.4f}",
            "-t",
            f"{end - start:.4f}",
            "-i",
            str(path),
            "-vn",
            "-af",
            af,
            "-f",
            "null",
            "-",
        ]
    ).stderr
    m = re.search(r"mean_volume: (-?[\d.]+|-inf) dB", err)
    assert m, err
    return -200.0 if m.group(1) == "-inf" else float(m.group(1))


def stream_lengths(path: Path) -> dict[str, float]:
    """Exact seconds of the video and audio streams, from their packets."""
    out: dict[str, float] = {}
    for kind, sel in (("video", "0:v:0"), ("audio", "0:a:0")):
        text = _ff(["-i", str(path), "-map", sel, "-c", "copy", "-f", "framecrc", "-"]).stdout
        tb = re.search(r"#tb 0: (\d+)/(\d+)", text)
        assert tb
        end = first = None
        for line in text.splitlines():
            if line.startswith("#"):
                continue
            parts = [p.strip() for p in line.split(",")]
            pts, dur = int(parts[2]), int(parts[3])
            first = pts if first is None else min(first, pts)
            end = pts + dur if end is None else max(end, pts + dur)
        assert end is not None and first is not None
        out[kind] = (end - max(first, 0)) * int(tb.group(1)) / int(tb.group(2))
    return out


def atoms(path: Path) -> list[str]:
    """Top-level MP4 box types in file order."""
    names = []
    data = path.read_bytes()
    i = 0
    while i + 8 <= len(data):
        size = int.from_bytes(data[i : i + 4], "big")
        kind = data[i + 4 : i + 8].decode("latin-1")
        if size == 1:
            size = int.from_bytes(data[i + 8 : i + 16], "big")
        names.append(kind)
        if size < 8:
            break
        i += size
    return names


def near(rgb: tuple[int, int, int], want: tuple[int, int, int], tol: int = 40) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(rgb, want, strict=True))


BEEP_AT = 0.5  # seconds into each beep clip
# 64 frames at 24 fps = 125 AAC frames of 1024 samples at 48 kHz: the shortest length whose
# picture and sound end together on whole frames (as 8 s clips do), so both can be copied.
BEEP_CLIP = 64 / 24


def make_beep_clip(
    path: Path,
    color: str = "red",
    *,
    seconds: float = BEEP_CLIP,
    sample_rate: int = 48000,
    channels: int = 2,
) -> Path:
    """A clip of one colour, silent but for a short 1 kHz beep at BEEP_AT s (x264 + AAC)."""
    beep = f"0.8*sin(2*PI*1000*t)*between(t,{BEEP_AT},{BEEP_AT + 0.1})"
    layout = "|".join([beep] * channels)
    _ff(
        [
            "-y",
            "-f", "lavfi", "-i", f"color=c={color}:s=160x90:r=24:d={seconds:.6f}",
            "-f", "lavfi", "-i", f"aevalsrc='{layout}':s={sample_rate}:d={seconds:.6f}",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "12",
            "-c:a", "aac", "-b:a", "64k", "-t", f"{seconds:.6f}", "-movflags", "+faststart", str(path),
        ]
    )  # fmt: skip
    return path


SERVICE_ENCODERS = {
    # H.264 High with B-frames and closed GOPs, as a service's encoder writes it.
    "high-bframes": ["-c:v", "libx264", "-preset", "fast", "-profile:v", "high", "-bf", "3"],
    # Open GOPs: keyframes after the first are I pictures whose leading B-frames refer back
    # (they are keyframes by their recovery-point SEI, which this clip keeps).
    "open-gop": ["-c:v", "libx264", "-preset", "fast", "-profile:v", "high", "-bf", "3",
                 "-x264-params", "open-gop=1:scenecut=0"],
    # Another encoder altogether (Cisco's OpenH264: Constrained Baseline).
    "openh264": ["-c:v", "libopenh264", "-b:v", "400k"],
}  # fmt: skip


def make_service_clip(
    path: Path,
    color: str = "red",
    *,
    tone: float | None = 440.0,
    seconds: float = BEEP_CLIP,
    gop: int = 12,
    encoder: str = "high-bframes",
    moving: bool = False,
) -> Path:
    """A clip as the services make them: H.264 High with B-frames (so an edit list on the
    picture), AAC with its priming (an edit list on the sound), no x264 options SEI (the
    services' encoder is not x264; filter_units drops every SEI unit). `moving`: a moving
    test pattern tinted by `color` instead of a flat colour (so every frame differs)."""
    source = f"color=c={color}:s=160x90:r=24:d={seconds:.6f}"
    if moving:
        source = f"testsrc2=s=160x90:r=24:d={seconds:.6f},hue=h={sum(map(ord, color)) % 360}"
    args = ["-y", "-f", "lavfi", "-i", source]
    if tone is not None:
        args += ["-f", "lavfi", "-i", f"sine=f={tone}:sample_rate=48000:d={seconds:.6f}"]
    args += [*SERVICE_ENCODERS[encoder], "-g", str(gop)]
    args += ["-pix_fmt", "yuv420p"]
    if encoder != "open-gop":
        args += ["-bsf:v", "filter_units=remove_types=6"]
    if tone is not None:
        args += ["-c:a", "aac", "-ac", "2", "-b:a", "64k"]
    _ff([*args, "-t", f"{seconds:.6f}", str(path)])
    return path


def samples(path: Path, rate: int = 48000) -> array:
    """The decoded sound, mixed to mono float samples at `rate`."""
    raw = _ff(["-i", str(path), "-vn", "-ac", "1", "-ar", str(rate), "-f", "f32le", "-"], binary=True).stdout
    out = array("f")
    out.frombytes(raw)
    return out


def onsets(path: Path, every: float, rate: int = 48000) -> list[float]:
    """Seconds where the sound first rises above half scale in each `every`-second window."""
    pcm = samples(path, rate)
    step = round(every * rate)
    found = []
    for a in range(0, len(pcm), step):
        hit = next((i for i in range(a, min(a + step, len(pcm))) if abs(pcm[i]) > 0.4), None)
        if hit is not None:
            found.append(hit / rate)
    return found


def decode_errors(path: Path) -> str:
    """What ffmpeg complains about when decoding every frame and sample ('' when clean)."""
    return subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
    ).stderr


def all_frames(path: Path, size: tuple[int, int] = (32, 18)) -> list[bytes]:
    """Every frame of the picture, scaled down, as RGB24 bytes."""
    w, h = size
    raw = _ff(
        [
            "-i",
            str(path),
            "-an",
            "-vf",
            f"scale={w}:{h}:flags=area",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        binary=True,
    ).stdout
    n = w * h * 3
    return [raw[i : i + n] for i in range(0, len(raw), n)]


def packet_crcs(path: Path) -> list[str]:
    """The CRC of every video packet, in file order (a copied packet keeps its CRC)."""
    text = _ff(["-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "framecrc", "-"]).stdout
    return [line.split(",")[5].strip() for line in text.splitlines() if line and not line.startswith("#")]
