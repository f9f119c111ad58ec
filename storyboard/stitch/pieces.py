"""The picture of an encoded cut, made piece by piece so memory stays small.

A piece is a run of output frames that needs at most two clips: the body of a clip (between
its crossfades) or a crossfade itself. Each piece is one short ffmpeg run (trim, fps,
scale+pad, fade, xfade, caption overlays) encoded with identical x264 settings, so the
pieces share codec parameters and are joined by the concat demuxer without re-encoding.
Decoding 21 clips at once in one filter graph took over 2 GB; a piece holds two decoders.

When the clips' GOPs can be copied (splice.py), only the frames a transition touches are
encoded (split_for_copy, merge_joins): each crossfade with the partial GOPs on either side,
in one run; whole GOPs in between are stream-copied (Copy).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from storyboard.errors import StitchError
from storyboard.media.ffmpeg import run_progress
from storyboard.stitch.captions import CaptionImage
from storyboard.stitch.spec import CutSpec
from storyboard.stitch.timeline import Placed, Timeline

CRF = 20
PRESET = "veryfast"
THREADS = 2
# The x264 settings of an encoded cut (every piece alike, so they join by copy).
ENCODER = ("-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF), "-pix_fmt", "yuv420p")


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
    # Frames the two parts share (the crossfade); 0: all of them (a crossfade alone).
    overlap: int = 0

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


@dataclass(frozen=True)
class Copy:
    """Output frames [a, b) of one placed clip, stream-copied: whole GOPs of its source,
    from the keyframe at source second `inpoint` to the one whose decoding time is
    `outpoint` (None: to the end of the file)."""

    placed: Placed
    a: int
    b: int
    inpoint: float
    outpoint: float | None
    start: float  # seconds into the cut
    fps: float

    @property
    def frames(self) -> int:
        return self.b - self.a

    @property
    def length(self) -> float:
        return self.frames / self.fps


@dataclass(frozen=True)
class SourceGops:
    """Where a clip's source can be cut without decoding: the output frame index (within
    the clip's own frames, 0 = its first frame) of each keyframe, in seconds and decoding
    time; and its frame count."""

    keyframes: tuple[tuple[int, float, float], ...]  # (frame, pts seconds, dts seconds)
    frames: int  # frames in the source file
    offset: int  # source frame of the placed clip's first frame (the trim start)


def split_for_copy(pieces: Sequence[Piece], gops: Sequence[SourceGops | None]) -> list[Piece | Copy]:
    """Bodies cut into [encoded head][copied whole GOPs][encoded tail]: only what a
    transition (or fade, or a trim off a keyframe) touches is encoded. gops[i] is None
    for a clip that must be encoded whole."""
    out: list[Piece | Copy] = []
    for piece in pieces:
        if len(piece.parts) != 1 or gops[piece.parts[0].placed.index] is None:
            out.append(piece)
            continue
        part = piece.parts[0]
        p = part.placed
        g = gops[p.index]
        assert g is not None
        fps = piece.fps
        # Fades change every frame they cover: those frames are encoded.
        lo = max(part.a, _ceil(p.fade_in * fps) if p.fade_in > 0 else 0)
        hi = min(part.b, p.frames - (_ceil(p.fade_out * fps) if p.fade_out > 0 else 0))
        hi = min(hi, p.frames - _ceil(p.ending * fps))  # the film's own fade at its end
        starts = [k for k in g.keyframes if lo <= k[0] < hi]
        # A copy ends just before a later keyframe, or at the end of the file.
        ends = [k[0] for k in g.keyframes if lo < k[0] <= hi]
        if g.offset + hi == g.frames:
            ends.append(hi)
        if not starts or not ends or max(ends) <= starts[0][0]:
            out.append(piece)
            continue
        first = starts[0]
        last = max(ends)
        key_end = next((k for k in g.keyframes if k[0] == last), None)
        if part.a < first[0]:
            out.append(_sub(piece, part.a, first[0]))
        out.append(
            Copy(
                placed=p,
                a=first[0],
                b=last,
                inpoint=first[1],
                outpoint=key_end[2] if key_end is not None else None,
                start=p.start + first[0] / fps,
                fps=fps,
            )
        )
        if last < part.b:
            out.append(_sub(piece, last, part.b))
    return out


def merge_joins(items: Sequence[Piece | Copy]) -> list[Piece | Copy]:
    """Each crossfade encoded in one run with the encoded frames just before and after it
    (the partial GOPs around a join): one x264 start, one keyframe and one seek instead
    of three."""
    out: list[Piece | Copy] = []
    i = 0
    while i < len(items):
        it = items[i]
        if isinstance(it, Piece) and len(it.parts) == 2 and not it.overlap:
            a, b = it.parts
            a0, b1 = a.a, b.b
            prev = out[-1] if out else None
            if (
                isinstance(prev, Piece)
                and len(prev.parts) == 1
                and prev.parts[0].placed is a.placed
                and prev.parts[0].b == a.a
            ):
                out.pop()
                a0 = prev.parts[0].a
            nxt = items[i + 1] if i + 1 < len(items) else None
            if (
                isinstance(nxt, Piece)
                and len(nxt.parts) == 1
                and nxt.parts[0].placed is b.placed
                and nxt.parts[0].a == b.b
            ):
                b1 = nxt.parts[0].b
                i += 1
            head = a.a - a0
            out.append(
                Piece(
                    parts=(Part(a.placed, a0, a.b), Part(b.placed, b.a, b1)),
                    start=it.start - head / it.fps,
                    frames=head + it.frames + (b1 - b.b),
                    fps=it.fps,
                    overlap=it.frames,
                )
            )
        else:
            out.append(it)
        i += 1
    return out


def _ceil(x: float) -> int:
    return int(-(-x // 1)) if abs(x - round(x)) > 1e-6 else round(x)


def _sub(piece: Piece, a: int, b: int) -> Piece:
    """The frames [a, b) of the clip of a one-part piece."""
    p = piece.parts[0].placed
    return Piece(parts=(Part(p, a, b),), start=p.start + a / piece.fps, frames=b - a, fps=piece.fps)


# Seconds (in the source's own time, 0 = its first frame) of the clean IDR pictures of each
# clip (by placed index) from which decoding gives every frame: where a piece's decoding
# starts when known (splice.copy_points). Without them, ffmpeg's seek is trusted.
Anchors = Mapping[int, Sequence[float]]


def _seek(part: Part, spec: CutSpec, anchors: Anchors) -> tuple[list[str], int]:
    """Input options that start decoding at or before the part's first frame, and how many
    decoded frames to drop before it."""
    seek = part.placed.source_start + part.a / spec.fps
    if seek <= 0:
        return [], 0
    known = anchors.get(part.placed.index)
    if known:
        # The last clean IDR at or before the first frame: the demuxer goes exactly there
        # (no discarding by time), and whole frames are counted off after it. Seeking
        # into an open GOP would lose frames; from the first frame, no seek at all.
        k = max((a for a in known if a <= seek + 0.25 / spec.fps), default=0.0)
        skip = round((seek - k) * spec.fps)
        if k <= 0.25 / spec.fps:
            return [], skip
        return ["-noaccurate_seek", "-ss", _t(k + 0.25 / spec.fps)], skip
    # Half a frame early: the seek keeps frames from there on, so the frame at `seek` is
    # kept whatever the rounding of times (an exact seek could drop it).
    return ["-ss", _t(max(seek - 0.5 / spec.fps, 0.0))], 0


def _part_chain(part: Part, k: int, spec: CutSpec, label: str, skip: int = 0) -> str:
    """Input k (already sought to the part's start, `skip` frames before it) normalised to
    the cut's frames."""
    assert spec.size is not None
    w, h = spec.size
    p = part.placed
    n = part.b - part.a
    head = f"setpts=PTS-STARTPTS,trim=start_frame={skip}," if skip else ""
    c = (
        f"[{k}:v:0]{head}setpts=PTS-STARTPTS,fps={spec.fps:g},"
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


def piece_args(
    piece: Piece,
    spec: CutSpec,
    captions: Sequence[CaptionImage],
    out: Path,
    encoder: Sequence[str] = ENCODER,
    anchors: Anchors | None = None,
) -> list[str]:
    args = ["-y"]
    skips = []
    for part in piece.parts:
        seek, skip = _seek(part, spec, anchors or {})
        args += seek
        skips.append(skip)
        # Two pieces run at once on two cores: two decoding threads per input and two x264
        # threads keep both cores busy without a frame-thread's buffers per extra thread.
        args += ["-threads", "1", "-i", str(part.placed.clip.path)]
    chains = [_part_chain(part, k, spec, f"p{k}", skips[k]) for k, part in enumerate(piece.parts)]
    if len(piece.parts) == 2:
        ov = piece.overlap or piece.frames
        offset = (piece.parts[0].b - piece.parts[0].a - ov) / spec.fps
        chains.append(f"[p0][p1]xfade=transition=fade:duration={_t(ov / spec.fps)}:offset={_t(offset)}[v]")
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
    ending = next((p.placed for p in piece.parts if p.placed.ending > 0), None)
    if ending is not None:
        # The film's fade to black, in the film's own time (the piece's frames shifted to
        # where they stand in it): over the captions too, so the last frame is black.
        end = ending.start + ending.length
        st = end - ending.ending - 1 / spec.fps
        if st < piece.start + piece.length:
            chains.append(
                f"[{cur}]setpts=PTS+{_t(piece.start)}/TB,"
                f"fade=t=out:st={_t(st)}:d={_t(ending.ending)},setpts=PTS-STARTPTS[end]"
            )
            cur = "end"
    chains.append(f"[{cur}]format=yuv420p[out]")
    args += ["-filter_complex", ";".join(chains), "-map", "[out]", "-an"]
    args += [*encoder, "-threads", str(THREADS)]
    args += ["-r", f"{spec.fps:g}", "-frames:v", str(piece.frames), "-f", "mp4", str(out)]
    return args


def encode_pieces(
    pieces: Sequence[Piece],
    spec: CutSpec,
    captions: Sequence[CaptionImage],
    folder: Path,
    progress: Callable[[float], None] | None = None,
    encoder: Sequence[str] = ENCODER,
    anchors: Anchors | None = None,
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
                piece_args(piece, spec, captions, out, encoder, anchors),
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
