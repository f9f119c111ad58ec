"""The final cut: clips in order, trimmed, joined by cuts, crossfades or fades, with music
and captions, written as H.264 + AAC MP4 (yuv420p, +faststart) in one ffmpeg run.

Two methods:
- "copy": every join is a cut, nothing is trimmed or burned in, and every clip's picture has
  the same codec parameters as the others and the output (codec, profile, size, fps,
  pix_fmt, timebase, SPS/PPS): the picture is joined by the concat demuxer without
  re-encoding.
- "encode": one filter graph (trim, fps, scale+pad, xfade, fade, overlay) encoded by x264.
Both make the sound the same way (audio.py): each clip's sound cut to exactly its picture's
length, so sound never drifts at the joins (concat+copy of AAC would keep every file's
priming samples) and clips without sound get silence.

The film is written to a temporary file beside the output and renamed only when complete.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from storyboard.errors import StitchError
from storyboard.stitch.audio import audio_graph, music_input_args
from storyboard.stitch.captions import caption_images, timeline_srt
from storyboard.stitch.ffmpeg import MediaInfo, VideoTrack, inspect, probe, run_progress
from storyboard.stitch.pieces import encode_pieces, plan
from storyboard.stitch.spec import CutSpec, StitchResult
from storyboard.stitch.timeline import Timeline, layout

AUDIO_BITRATE = "192k"


@dataclass(frozen=True)
class _Source:
    info: MediaInfo
    track: VideoTrack


def _t(seconds: float) -> str:
    return f"{seconds:.6f}".rstrip("0").rstrip(".") or "0"


def _inspect_clip(shot_id: str, path: Path) -> _Source:
    who = f"shot {shot_id!r}"
    if not path.is_file():
        raise StitchError(f"{who}: clip not found: {path}", hint="render the shot again")
    try:
        info, track = inspect(path)
    except StitchError as e:
        raise StitchError(f"{who}: {e.message}", hint="the clip may be damaged; regenerate it") from e
    if track is None or not track.pts or info.video is None:
        raise StitchError(f"{who}: {path.name} has no picture")
    return _Source(info=info, track=track)


def _inspect_all(spec: CutSpec) -> list[_Source]:
    paths = [(c.shot_id, Path(c.path)) for c in spec.clips]
    # Each look is a short ffmpeg run that mostly waits on I/O: a few at once.
    with ThreadPoolExecutor(max_workers=min(4, len(paths))) as pool:
        futures = [pool.submit(_inspect_clip, sid, p) for sid, p in paths]
        return [f.result() for f in futures]


def _common_size(sources: Sequence[_Source], fallback: tuple[int, int]) -> tuple[int, int]:
    sizes = Counter((s.info.video.width, s.info.video.height) for s in sources if s.info.video)
    if not sizes:
        return fallback
    size, n = sizes.most_common(1)[0]
    return size if len(sizes) == 1 or n * 2 > len(sources) else fallback


def _size(spec: CutSpec) -> tuple[int, int]:
    assert spec.size is not None, "stitch() settles the size before anything reads it"
    return spec.size


def _check_spec(spec: CutSpec) -> None:
    w, h = _size(spec)
    if w <= 0 or h <= 0 or w % 2 or h % 2:
        raise StitchError(f"output size {w}x{h} must be positive and even (H.264 4:2:0)")
    if spec.caption_position not in ("bottom", "top"):
        raise StitchError(f"caption position {spec.caption_position!r} is not bottom or top")
    if spec.sample_rate <= 0:
        raise StitchError(f"sample rate {spec.sample_rate} must be positive")
    music = spec.music
    if music is not None:
        if not Path(music.path).is_file():
            raise StitchError(f"music file not found: {music.path}")
        info = probe(Path(music.path))
        if info.audio is None:
            raise StitchError(f"music file {Path(music.path).name} has no sound")
        if music.start < 0 or music.volume < 0 or music.fade_out < 0:
            raise StitchError("music start, volume and fade_out must not be negative")


def copy_blockers(spec: CutSpec, sources: Sequence[_Source], timeline: Timeline) -> list[str]:
    """Why the picture cannot be stream-copied; empty when it can."""
    why: list[str] = []
    if spec.burn_captions and timeline.caption_windows():
        why.append("captions are burned in")
    w, h = _size(spec)
    first = sources[0]
    for p, src in zip(timeline.placed, sources, strict=True):
        who = f"shot {p.clip.shot_id!r}"
        v, tr = src.info.video, src.track
        assert v is not None
        if p.clip.transition != "cut":
            why.append(f"{who} enters by {p.clip.transition}")
        if p.source_start > 0.5 / spec.fps or p.frames != tr.frames:
            why.append(f"{who} is trimmed")
        if v.codec != "h264" or v.pix_fmt != "yuv420p":
            why.append(f"{who} is {v.codec}/{v.pix_fmt}, not h264/yuv420p")
        if (v.width, v.height) != (w, h):
            why.append(f"{who} is {v.width}x{v.height}, not {w}x{h}")
        # Constant frame rate at exactly the output's: every packet one frame long.
        frame = tr.timebase[1] / (tr.timebase[0] * spec.fps)
        if abs(v.fps - spec.fps) > 0.01 or any(abs(d - frame) > 0.5 for d in tr.durations):
            why.append(f"{who} is not {spec.fps:g} fps")
        f0, fv = first.info.video, v
        assert f0 is not None
        same = (
            fv.profile == f0.profile
            and tr.timebase == first.track.timebase
            and tr.extradata == first.track.extradata
            and tr.codec == first.track.codec
        )
        if not same:
            why.append(f"{who} is encoded unlike shot {spec.clips[0].shot_id!r}")
    return why


def _concat_list(entries: Sequence[tuple[Path, float, float]], path: Path) -> None:
    """An ffconcat file of (file, picture start, picture length) entries."""
    lines = ["ffconcat version 1.0"]
    for file, start, length in entries:
        quoted = str(file.resolve()).replace("'", "'\\''")
        lines.append(f"file '{quoted}'")
        # inpoint = the picture's start: otherwise the demuxer offsets each file by its
        # earliest stream (AAC priming starts ~21 ms early) and the picture drifts.
        lines.append(f"inpoint {start:.6f}")
        # Each file's exact picture length, so the next starts where its sound does.
        lines.append(f"duration {length:.6f}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _audio_inputs(
    spec: CutSpec, sources: Sequence[_Source], first_index: int, args: list[str]
) -> tuple[list[int | None], int]:
    """Add an input per clip with sound to use; return each clip's index and the next free."""
    k = first_index
    out: list[int | None] = []
    for clip, src in zip(spec.clips, sources, strict=True):
        if clip.keep_audio and src.info.audio is not None:
            args += ["-i", str(clip.path)]
            out.append(k)
            k += 1
        else:
            out.append(None)
    return out, k


def _name_shot(err: StitchError, spec: CutSpec, inputs: dict[int, str]) -> StitchError:
    """Say which shot an ffmpeg failure came from when its message tells."""
    text = err.message
    for k, shot in inputs.items():
        if re.search(rf"#{k}:\d", text) or re.search(rf"input #{k}\b", text, re.I):
            return StitchError(f"shot {shot!r}: {text}")
    for clip in spec.clips:
        if str(clip.path) in text or Path(clip.path).name in text:
            return StitchError(f"shot {clip.shot_id!r}: {text}")
    return err


def _output_args(spec: CutSpec) -> list[str]:
    return [
        "-c:a", "aac", "-b:a", AUDIO_BITRATE, "-ar", str(spec.sample_rate), "-ac", "2",
        "-movflags", "+faststart", "-f", "mp4",
    ]  # fmt: skip


def stitch(spec: CutSpec, progress: Callable[[float], None] | None = None) -> StitchResult:
    """Make the final cut described by `spec`; progress(0..1) while ffmpeg runs.

    StitchError (naming the shot where it can) on failure; the output is then left as it
    was (absent, or the previous cut), never partly written.
    """
    output = Path(spec.output)
    sources = _inspect_all(spec)
    if spec.size is None:
        spec = replace(spec, size=_common_size(sources, spec.fallback_size))
    _check_spec(spec)
    timeline = layout(spec, [s.track.length for s in sources])
    blockers = copy_blockers(spec, sources, timeline)
    method = "encode" if blockers else "copy"
    output.parent.mkdir(parents=True, exist_ok=True)
    srt = output.with_suffix(".srt")

    with tempfile.TemporaryDirectory(prefix="storyboard-stitch-") as work_dir:
        work = Path(work_dir)
        total = timeline.duration
        if method == "copy":
            entries = [(s.track.path, s.track.start, s.track.length) for s in sources]
            assemble = progress
        else:
            caps = caption_images(spec, timeline, work) if spec.burn_captions else []
            pieces = plan(timeline)
            # Encoding the picture is most of the work; assembling is quick.
            encode_progress = (lambda f: progress(0.9 * f)) if progress else None
            files = encode_pieces(pieces, spec, caps, work, encode_progress)
            entries = [(f, 0.0, p.length) for f, p in zip(files, pieces, strict=True)]
            assemble = (lambda f: progress(0.9 + 0.1 * f)) if progress else None
        _concat_list(entries, work / "picture.ffconcat")
        args: list[str] = ["-y", "-f", "concat", "-safe", "0", "-i", str(work / "picture.ffconcat")]
        audio_in, k = _audio_inputs(spec, sources, 1, args)
        shots: dict[int, str] = {}
        music_in = None
        if spec.music is not None:
            args += music_input_args(spec.music)
            music_in = k
        for clip, idx in zip(spec.clips, audio_in, strict=True):
            if idx is not None:
                shots.setdefault(idx, clip.shot_id)
        sound = audio_graph(
            timeline,
            audio_in,
            sample_rate=spec.sample_rate,
            music=spec.music,
            music_input=music_in,
        )
        graph = ";".join(sound)
        (work / "graph.txt").write_text(graph, encoding="utf-8")
        args += ["-/filter_complex", str(work / "graph.txt")]  # read from the file
        args += ["-map", "0:v:0", "-c:v", "copy", "-map", "[aout]", *_output_args(spec)]

        fd, tmp_name = tempfile.mkstemp(prefix=f".{output.stem}.", suffix=".part", dir=output.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        srt_tmp = srt.with_name(f".{srt.name}.part")
        try:
            try:
                run_progress(
                    [*args, str(tmp)],
                    duration=total,
                    progress=assemble,
                    what=f"stitching {output.name}",
                )
            except StitchError as e:
                raise _name_shot(e, spec, shots) from e
            _verify(tmp, timeline)
            _shareable(tmp)
            srt_tmp.write_text(timeline_srt(timeline), encoding="utf-8")
            os.replace(srt_tmp, srt)
            os.replace(tmp, output)
        finally:
            for leftover in (tmp, srt_tmp):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
    return StitchResult(output=output, srt=srt, duration=timeline.duration, method=method)


def _shareable(path: Path) -> None:
    """mkstemp makes files only their owner can read; a film is an ordinary file (umask)."""
    umask = os.umask(0)
    os.umask(umask)
    path.chmod(0o666 & ~umask)


def _verify(path: Path, timeline: Timeline) -> None:
    """Refuse a film that is not what the timeline says (wrong length, a missing stream)."""
    info = probe(path)
    if info.video is None or info.audio is None:
        raise StitchError(f"{path.name}: the stitched film lacks picture or sound")
    if abs(info.duration - timeline.duration) > 2 / timeline.fps + 0.05:
        raise StitchError(f"the stitched film lasts {info.duration:.3f} s, not {timeline.duration:.3f} s")
