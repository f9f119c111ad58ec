"""The benchmark's source clips: 21 Veo-shaped clips (8 s, 1280x720, 24 fps, H.264 + AAC),
made once with the ffmpeg that imageio-ffmpeg ships and kept in bench/.cache/clips.

Each clip is a moving test pattern (testsrc2) turned to its own hue, with its own tone, so a
crossfade mixes two visibly different pictures. x264 with a 2 s GOP (48 frames) and high
profile, AAC 48 kHz stereo: what a hosted Veo 3.1 clip looks like to the stitcher.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
CACHE = BENCH / ".cache"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from storyboard.media.ffmpeg import probe, run  # noqa: E402

N_CLIPS = 21
SECONDS = 8.0
SIZE = (1280, 720)
FPS = 24
GOP = 48
# Bump when the recipe changes, so an old cache is not measured by mistake.
RECIPE = "v2"


def clip_dir() -> Path:
    return CACHE / f"clips-{RECIPE}"


def clip_path(i: int) -> Path:
    return clip_dir() / f"clip{i:02d}.mp4"


def _make(i: int, path: Path) -> Path:
    w, h = SIZE
    hue = (i * 137) % 360  # neighbours far apart on the colour wheel
    tone = 220 + 20 * i
    tmp = path.with_suffix(".part.mp4")
    args = ["-y", "-f", "lavfi", "-i", f"testsrc2=s={w}x{h}:r={FPS}:d={SECONDS},hue=h={hue}:s=1.5"]
    args += ["-f", "lavfi", "-i", f"sine=f={tone}:sample_rate=48000:d={SECONDS}"]
    args += ["-c:v", "libx264", "-preset", "fast", "-crf", "23", "-profile:v", "high"]
    args += ["-pix_fmt", "yuv420p", "-g", str(GOP), "-keyint_min", str(GOP)]
    args += ["-c:a", "aac", "-ac", "2", "-ar", "48000", "-b:a", "128k"]
    args += ["-t", str(SECONDS), "-movflags", "+faststart", str(tmp)]
    run(args, what=f"bench clip {i}")
    tmp.replace(path)
    return path


def _good(path: Path) -> bool:
    if not path.is_file():
        return False
    try:
        info = probe(path)
    except Exception:
        return False
    return info.size == SIZE and abs(info.duration - SECONDS) < 0.1 and info.audio is not None


def ensure_clips(log: bool = True) -> list[Path]:
    """The 21 clips, made if missing (two at a time: the machine has two cores)."""
    clip_dir().mkdir(parents=True, exist_ok=True)
    paths = [clip_path(i) for i in range(N_CLIPS)]
    todo = [(i, p) for i, p in enumerate(paths) if not _good(p)]
    if todo:
        if log:
            print(f"making {len(todo)} bench clips in {clip_dir()} (once) ...", file=sys.stderr)
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(lambda ip: _make(*ip), todo))
    return paths


if __name__ == "__main__":
    for p in ensure_clips():
        print(p)
