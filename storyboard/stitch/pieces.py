"""The picture of an encoded cut, made piece by piece so memory stays small.

A piece is a run of output frames that needs at most two clips: the body of a clip (between
its crossfades) or a crossfade itself. Each piece is one short ffmpeg run (trim, fps,
scale+pad, fade, xfade, caption overlays) encoded with identical x264 settings, so the
pieces share codec parameters and are joined by the concat demuxer without re-encoding.
Decoding 21 clips at once in one filter graph took over 2 GB; a piece holds two decoders.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from storyboard.errors import StitchError
from storyboard.stitch.captions import CaptionImage
from storyboard.stitch.ffmpeg import run_progress
from storyboard.stitch.spec import CutSpec
from storyboard.stitch.timeline import Placed, Timeline

CRF = 20
PRESET = "veryfast"


def _t(seconds: float) -> str:
    return f"{seconds:.6f}".rstrip("0").rstrip(".") or "0"


@dataclass(frozen=True)
class Part:
    """Output frames [a, b) of one placed clip."""

    placed: Placed
    a: int
    b: int


@dataclass(frozen=True)
class Piece:
    parts: tuple[Part, ...]  # one (a body) or two (a crossfade: outgoing, incoming)
    start: float  # seconds into the cut
    frames: int
    fps: float

    @property
    def length(self) -> float:
        return self.frames / self.fps

    @property
    def shots(self) -> str:
        return " and ".join(repr(p.placed.clip.shot_id) for p in self.parts)


def plan(timeline: Timeline) -> list[Piece]:
    """Bodies and crossfades in film order; together exactly the cut's frames."""
    fps = timeline.fps
    placed = timeline.placed
    ov = [round(p.overlap * fps) for p in placed] + [0]
    pieces: list[Piece] = []
    for i, p in enumerate(placed):
        if ov[i]:
            prev = placed[i - 1]
            pieces.append(
                Piece(
                    parts=(Part(prev, prev.frames - ov[i], prev.frames), Part(p, 0, ov[i])),
                    start=p.start,
                    frames=ov[i],
                    fps=fps,
                )
            )
        a, b = ov[i], p.frames - ov[i + 1]
        if b > a:
            pieces.append(Piece(parts=(Part(p, a, b),), start=p.start + a / fps, frames=b - a, fps=fps))
    return pieces


def _part_chain(part: Part, k: int, spec: CutSpec, label: str) -> str:
    """Input k (already sought to the part's start) normalised to the cut's frames."""
    assert spec.size is not None
    w, h = spec.size
    p = part.placed
    n = part.b - part.a
    c = (
        f"[{k}:v:0]setpts=PTS-STARTPTS,fps={spec.fps:g},"
        f"scale={w}:{h}:force_original_aspect_ratio=decrease:force_divisible_by=2,"
        f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,format=yuv420p,"
        # Exactly n frames, whatever the source's rate and ending.
        f"tpad=stop=2:stop_mode=clone,trim=end_frame={n}"
    )
    t0 = part.a / spec.fps  # this part's start within the placed clip
    if p.fade_in > 0 and part.a == 0:
        c += f",fade=t=in:st=0:d={_t(p.fade_in)}"
    if p.fade_out > 0:
        st = p.length - p.fade_out - t0
        if st < n / spec.fps:
            c += f",fade=t=out:st={_t(st)}:d={_t(p.fade_out)}"
    return f"{c}[{label}]"


def piece_args(piece: Piece, spec: CutSpec, captions: Sequence[CaptionImage], out: Path) -> list[str]:
    args = ["-y", "-threads", "2"]
    for part in piece.parts:
        seek = part.placed.source_start + part.a / spec.fps
        if seek > 0:
            args += ["-ss", _t(seek)]
        args += ["-i", str(part.placed.clip.path)]
    chains = [_part_chain(part, k, spec, f"p{k}") for k, part in enumerate(piece.parts)]
    if len(piece.parts) == 2:
        chains.append(f"[p0][p1]xfade=transition=fade:duration={_t(piece.length)}:offset=0[v]")
    else:
        chains.append("[p0]null[v]")
    cur = "v"
    k = len(piece.parts)
    eps = 0.25 / spec.fps  # half-open windows, robust to rounding of frame times
    end = piece.start + piece.length
    for n, cap in enumerate(captions):
        if cap.end <= piece.start + eps or cap.start >= end - eps:
            continue
        args += ["-i", str(cap.path)]
        a, b = cap.start - piece.start - eps, cap.end - piece.start - eps
        chains.append(
            f"[{cur}][{k}:v]overlay=x={cap.x}:y={cap.y}:enable='gte(t,{_t(a)})*lt(t,{_t(b)})'[c{n}]"
        )
        cur = f"c{n}"
        k += 1
    chains.append(f"[{cur}]format=yuv420p[out]")
    args += ["-filter_complex", ";".join(chains), "-map", "[out]", "-an"]
    args += ["-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF), "-pix_fmt", "yuv420p"]
    args += ["-r", f"{spec.fps:g}", "-frames:v", str(piece.frames), "-f", "mp4", str(out)]
    return args


def encode_pieces(
    pieces: Sequence[Piece],
    spec: CutSpec,
    captions: Sequence[CaptionImage],
    folder: Path,
    progress: Callable[[float], None] | None = None,
) -> list[Path]:
    """Encode every piece (two at a time); progress(0..1) by frames done."""
    total = sum(p.frames for p in pieces) or 1
    done = [0.0] * len(pieces)
    lock = threading.Lock()
    last = [0.0]

    def report(i: int, fraction: float) -> None:
        if progress is None:
            return
        with lock:
            done[i] = fraction * pieces[i].frames
            now = sum(done) / total
            if now > last[0]:
                last[0] = now
                progress(now)

    def one(i: int) -> Path:
        piece = pieces[i]
        out = folder / f"piece-{i:03d}.mp4"
        try:
            run_progress(
                piece_args(piece, spec, captions, out),
                duration=piece.length,
                progress=lambda f: report(i, f),
                what=f"shot {piece.shots}",
            )
        except StitchError as e:
            raise StitchError(e.message, hint="check that the clip plays") from e
        return out

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(one, i) for i in range(len(pieces))]
        try:
            return [f.result() for f in futures]
        except BaseException:
            for f in futures:
                f.cancel()
            raise
