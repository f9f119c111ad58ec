"""Stitching 21 clips of 8 s (1280x720, 24 fps, H.264 + AAC): ours against baselines.

Cuts only:   ours | moviepy concatenate_videoclips + write_videofile (defaults)
             | ffmpeg concat demuxer, stream copy (the floor) | ffmpeg concat filter, x264 veryfast
Crossfades:  ours | moviepy CrossFadeIn + compose with padding=-0.5
             | ffmpeg xfade + acrossfade chain, x264 veryfast (0.5 s at every join)
Service-like clips (B-frames, edit lists, no x264 SEI; media.py): the same two groups.

The crossfaded films are compared at the middle of every join (a 64x36 RGB frame, mean
absolute difference in 0-255 levels), to check that ours shows the same picture.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from measure import Result, run_measured
from media import CACHE, FPS, N_CLIPS, SECONDS, ensure_clips

from storyboard.media.ffmpeg import ffmpeg_exe, probe
from storyboard.media.verify import strict_decode as clean_decode

XFADE = 0.5
ENC = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]
AENC = ["-c:a", "aac", "-b:a", "192k", "-ar", "48000", "-ac", "2", "-movflags", "+faststart"]
THUMB = (64, 36)
SAME_PICTURE = 4.0  # mean absolute difference (0-255) under which two frames are "the same"


def out_dir() -> Path:
    d = CACHE / "out"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _ff(*args: str) -> list[str]:
    return [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]


def cmd_concat_copy(clips: list[Path], out: Path) -> list[str]:
    lst = out.with_suffix(".txt")
    lst.write_text("".join(f"file '{c}'\n" for c in clips), encoding="utf-8")
    return _ff(
        "-f", "concat", "-safe", "0", "-i", str(lst), "-c", "copy", "-movflags", "+faststart", str(out)
    )


def _inputs(clips: list[Path]) -> list[str]:
    return [a for c in clips for a in ("-i", str(c))]


def cmd_concat_filter(clips: list[Path], out: Path) -> list[str]:
    n = len(clips)
    graph = "".join(f"[{i}:v][{i}:a]" for i in range(n)) + f"concat=n={n}:v=1:a=1[v][a]"
    return _ff(*_inputs(clips), "-filter_complex", graph, "-map", "[v]", "-map", "[a]", *ENC, *AENC, str(out))


def cmd_xfade(clips: list[Path], out: Path, d: float = XFADE) -> list[str]:
    chains, v, a = [], "0:v", "0:a"
    for k in range(1, len(clips)):
        offset = k * (SECONDS - d)
        chains.append(f"[{v}][{k}:v]xfade=transition=fade:duration={d}:offset={offset:g}[v{k}]")
        chains.append(f"[{a}][{k}:a]acrossfade=d={d}[a{k}]")
        v, a = f"v{k}", f"a{k}"
    return _ff(
        *_inputs(clips), "-filter_complex", ";".join(chains), "-map", f"[{v}]", "-map", f"[{a}]",
        *ENC, *AENC, str(out),
    )  # fmt: skip


def cmd_worker(case: str, clips: list[Path], out: Path, crossfade: float) -> list[str]:
    args = {"clips": [str(c) for c in clips], "output": str(out), "crossfade": crossfade}
    return [sys.executable, str(Path(__file__).with_name("worker.py")), case, json.dumps(args)]


def join_frames(n_clips: int = N_CLIPS, d: float = XFADE) -> list[int]:
    """Frame numbers at the middle of every crossfade (exact at 24 fps)."""
    return [round((k * (SECONDS - d) + d / 2) * FPS) for k in range(1, n_clips)]


def thumbs(path: Path, frames: list[int]) -> dict[int, bytes]:
    """The given frames of a film, each scaled to THUMB as RGB bytes (one decoding pass)."""
    w, h = THUMB
    frames = sorted(set(frames))  # the filter emits them in stream order
    sel = "+".join(f"eq(n\\,{n})" for n in frames)
    import subprocess

    proc = subprocess.run(
        _ff("-i", str(path), "-an", "-vf", f"select='{sel}',scale={w}:{h}:flags=area",
            "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"),
        capture_output=True, check=True,
    )  # fmt: skip
    size = w * h * 3
    data = proc.stdout
    got = [data[i : i + size] for i in range(0, len(data), size)]
    if len(got) != len(frames):
        raise RuntimeError(f"{path.name}: asked for {len(frames)} frames, got {len(got)}")
    return dict(zip(frames, got, strict=True))


def mad(a: bytes, b: bytes) -> float:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


def compare_joins(ours: Path, other: Path) -> dict[str, float]:
    """Mean absolute difference at the middle of every join (worst and mean), and a control:
    ours at mid-join against ours 0.5 s earlier (clip before the join alone), i.e. what a
    different picture scores."""
    mids = join_frames()
    before = [n - round(XFADE * FPS) for n in mids]
    a = thumbs(ours, mids + before)
    b = thumbs(other, mids)
    diffs = [mad(a[n], b[n]) for n in mids]
    control = [mad(a[n], a[m]) for n, m in zip(mids, before, strict=True)]
    return {
        "max": max(diffs),
        "mean": sum(diffs) / len(diffs),
        "control_min": min(control),
        "same": max(diffs) < SAME_PICTURE,
        "threshold": SAME_PICTURE,
    }


def _measure(group: str, name: str, cmd: list[str], runs: int, baseline: bool) -> Result:
    got = []
    for i in range(runs):
        print(f"  {group}: {name} (run {i + 1}/{runs}) ...", file=sys.stderr, flush=True)
        got.append(run_measured(cmd, timeout=1800))
    return Result(group, name, got, baseline="yes" if baseline else None)


def bench(runs: int = 3, moviepy: bool = True, ours: bool = True) -> list[Result]:
    results: list[Result] = []
    for kind in ("x264", "service"):
        results += _bench(kind, runs, moviepy, ours)
    return results


def _bench(kind: str, runs: int, moviepy: bool, ours: bool) -> list[Result]:
    clips = ensure_clips(kind=kind)
    out = out_dir() / kind
    out.mkdir(parents=True, exist_ok=True)
    results: list[Result] = []
    # Warm the page cache so the first measured case does not pay for reading the clips.
    for c in clips:
        c.read_bytes()
    label = "" if kind == "x264" else " (service clips)"

    g = "stitch cuts" + label
    if ours:
        r = _measure(g, "ours", cmd_worker("ours", clips, out / "ours-cuts.mp4", 0.0), runs, False)
        r.note = f"method={r.runs[-1].report.get('method')}"
        results.append(r)
    results.append(
        _measure(
            g, "ffmpeg concat demuxer, -c copy (floor)", cmd_concat_copy(clips, out / "copy.mp4"), runs, True
        )
    )
    if kind == "x264":  # (the service group measures what its issue asks: the crossfades)
        results.append(
            _measure(
                g,
                "ffmpeg concat filter, x264 veryfast",
                cmd_concat_filter(clips, out / "concatf.mp4"),
                runs,
                True,
            )
        )
    if moviepy and kind == "x264":
        results.append(
            _measure(
                g,
                "moviepy concatenate + write_videofile",
                cmd_worker("moviepy", clips, out / "moviepy-cuts.mp4", 0.0),
                1,
                True,
            )
        )

    g = "stitch crossfades" + label
    if ours:
        r = _measure(g, "ours", cmd_worker("ours", clips, out / "ours-xfade.mp4", XFADE), runs, False)
        r.note = f"method={r.runs[-1].report.get('method')}"
        results.append(r)
    results.append(
        _measure(
            g, "ffmpeg xfade+acrossfade chain, x264 veryfast", cmd_xfade(clips, out / "xfade.mp4"), runs, True
        )
    )
    if moviepy:
        results.append(
            _measure(
                g,
                "moviepy CrossFadeIn, compose, padding=-0.5",
                cmd_worker("moviepy", clips, out / "moviepy-xfade.mp4", XFADE),
                1,
                True,
            )
        )

    # Output lengths, and the picture at the joins.
    for r in results:
        path = _output_of(r.name, r.group, out)
        if path and path.is_file():
            r.extra["output_seconds"] = probe(path).duration
    if ours and (out / "ours-xfade.mp4").is_file():
        ours_r = next(r for r in results if r.group == g and r.name == "ours")
        ours_r.extra["clean_decode"] = clean_decode(out / "ours-xfade.mp4")
        for label_, path in (("xfade", out / "xfade.mp4"), ("moviepy", out / "moviepy-xfade.mp4")):
            if path.is_file() and (label_ != "moviepy" or moviepy):
                ours_r.extra[f"joins_vs_{label_}"] = compare_joins(out / "ours-xfade.mp4", path)
    return results


def _output_of(name: str, group: str, out: Path) -> Path | None:
    xf = "crossfades" in group
    if name == "ours":
        return out / ("ours-xfade.mp4" if xf else "ours-cuts.mp4")
    if name.startswith("moviepy"):
        return out / ("moviepy-xfade.mp4" if xf else "moviepy-cuts.mp4")
    if "demuxer" in name:
        return out / "copy.mp4"
    if "concat filter" in name:
        return out / "concatf.mp4"
    if "xfade" in name:
        return out / "xfade.mp4"
    return None
