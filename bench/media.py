"""The benchmark's source clips: 21 Veo-shaped clips (8 s, 1280x720, 24 fps, H.264 + AAC),
made once with the ffmpeg that imageio-ffmpeg ships and kept in bench/.cache/clips-*.

Each clip is a moving test pattern (testsrc2) turned to its own hue, with its own tone, so a
crossfade mixes two visibly different pictures. Two recipes:
- "x264" (clips-v2): x264 High with a 2 s GOP (48 frames), its options SEI in the stream;
- "service" (clips-svc-v1): as a service's encoder writes them: H.264 High with B-frames
  (-bf 3, so the picture has an edit list), closed 2 s GOPs, AAC with its priming (an edit
  list on the sound too), and no x264 options SEI (filter_units drops every SEI unit): the
  stitcher cannot read back the encoder's settings.
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
SERVICE_RECIPE = "svc-v1"


def clip_dir(kind: str = "x264") -> Path:
    return CACHE / f"clips-{RECIPE if kind == 'x264' else SERVICE_RECIPE}"


def clip_path(i: int, kind: str = "x264") -> Path:
    return clip_dir(kind) / f"clip{i:02d}.mp4"


def _make(i: int, path: Path, kind: str = "x264") -> Path:
    w, h = SIZE
    hue = (i * 137) % 360  # neighbours far apart on the colour wheel
    tone = 220 + 20 * i
    tmp = path.with_suffix(".part.mp4")
    args = ["-y", "-f", "lavfi", "-i", f"testsrc2=s={w}x{h}:r={FPS}:d={SECONDS},hue=h={hue}:s=1.5"]
    args += ["-f", "lavfi", "-i", f"sine=f={tone}:sample_rate=48000:d={SECONDS}"]
    args += ["-c:v", "libx264", "-preset", "fast", "-crf", "23", "-profile:v", "high"]
    args += ["-pix_fmt", "yuv420p", "-g", str(GOP), "-keyint_min", str(GOP)]
    if kind == "service":
        args += ["-bf", "3", "-sc_threshold", "0", "-bsf:v", "filter_units=remove_types=6"]
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


def ensure_clips(log: bool = True, kind: str = "x264") -> list[Path]:
    """The 21 clips of a recipe, made if missing (two at a time: the machine has two cores)."""
    clip_dir(kind).mkdir(parents=True, exist_ok=True)
    paths = [clip_path(i, kind) for i in range(N_CLIPS)]
    todo = [(i, p) for i, p in enumerate(paths) if not _good(p)]
    if todo:
        if log:
            print(f"making {len(todo)} bench clips in {clip_dir(kind)} (once) ...", file=sys.stderr)
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(lambda ip: _make(*ip, kind=kind), todo))
    return paths


if __name__ == "__main__":
    for kind in ("x264", "service"):
        for p in ensure_clips(kind=kind):
            print(p)
