"""The final cut: clips in order, trimmed, joined by cuts, crossfades or fades, with music
and captions, written as H.264 + AAC MP4 (yuv420p, +faststart).

Four methods, fastest first (StitchResult.why says what ruled out the faster ones):
- "copy": every join is a cut, nothing is trimmed or burned in, every clip's picture has
  the same codec parameters as the others and the output (codec, profile, size, fps,
  pix_fmt, timebase, SPS/PPS), and every clip's sound is AAC that can be copied exactly
  (sound_copy_blockers): one concat-demuxer run with -c copy, nothing decoded.
- "copy-picture": as "copy", but the sound is re-encoded (music, a clip without sound,
  other sample rates...).
- "encode-joins": the clips were made alike by x264: only what a transition, fade or trim
  touches is encoded, with settings that reproduce the clips' SPS/PPS; the whole GOPs
  between are copied (pieces.py).
- "encode": the whole picture is encoded, piece by piece (pieces.py).
Re-encoded sound is made the same way for all (audio.py): each clip's sound cut to exactly
its picture's length, so sound never drifts at the joins, and clips without sound get
silence.

The film is written to a temporary file beside the output and renamed only when complete.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from storyboard.errors import StitchError
from storyboard.media.ffmpeg import (
    AudioTrack,
    Inspection,
    MediaInfo,
    VideoTrack,
    extract_audio,
    inspect_all,
    inspect_file,
    probe,
    run_progress,
    x264_options,
)
from storyboard.stitch.audio import audio_graph, music_input_args
from storyboard.stitch.captions import CaptionImage, caption_images, timeline_srt
from storyboard.stitch.pieces import (
    Copy,
    Part,
    Piece,
    SourceGops,
    encode_pieces,
    matching_encoder,
    merge_joins,
    piece_args,
    plan,
    split_for_copy,
)
from storyboard.stitch.spec import CutSpec, StitchResult
from storyboard.stitch.timeline import Placed, Timeline, layout

AUDIO_BITRATE = "192k"


@dataclass(frozen=True)
class _Source:
    info: MediaInfo
    track: VideoTrack
    audio: AudioTrack | None = None


def _t(seconds: float) -> str:
    return f"{seconds:.6f}".rstrip("0").rstrip(".") or "0"


def _source(shot_id: str, path: Path, found: Inspection) -> _Source:
    if found.video is None or not found.video.pts or found.info.video is None:
        raise StitchError(f"shot {shot_id!r}: {path.name} has no picture")
    return _Source(info=found.info, track=found.video, audio=found.audio)


def _inspect_clip(shot_id: str, path: Path) -> _Source:
    who = f"shot {shot_id!r}"
    try:
        found = inspect_file(path)
    except StitchError as e:
        raise StitchError(f"{who}: {e.message}", hint="the clip may be damaged; regenerate it") from e
    return _source(shot_id, path, found)


def _inspect_all(spec: CutSpec) -> list[_Source]:
    paths = [(c.shot_id, Path(c.path)) for c in spec.clips]
    for sid, p in paths:
        if not p.is_file():
            raise StitchError(f"shot {sid!r}: clip not found: {p}", hint="render the shot again")
    # One ffmpeg reads every clip's packets (process start-up dominated one run per clip).
    found = inspect_all([p for _, p in paths])
    if found is not None:
        return [_source(sid, p, f) for (sid, p), f in zip(paths, found, strict=True)]
    # Some clip is unreadable: look at each alone to say which.
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


def sound_copy_blockers(spec: CutSpec, sources: Sequence[_Source]) -> list[str]:
    """Why the clips' sound cannot be stream-copied with a copied picture; empty when it can.

    Copying AAC through the concat demuxer is exact when each entry starts at the picture's
    start (inpoint) and lasts exactly the picture (duration): each file's priming is then
    skipped as it is when decoding. What it cannot do is change the sound: so no music,
    every clip keeps sound of its own, all of it AAC with the same parameters (the output
    is 48 kHz stereo AAC and the MP4 sample entry holds one decoder configuration), each
    starting with its picture and lasting exactly as long, in whole AAC frames (8 s at
    48 kHz is 375 frames of 1024 samples), heard from the start of a packet. At each join
    the copied sound dips for ~10 ms (the decoder starts the next clip without its priming
    frame): acceptable at a cut.

    The sound is read from copies of each clip's sound track alone: in a clip with B-frames
    the demuxer's seek to the inpoint follows the picture's first decoding time, which lies
    before 0, and so keeps the sound's priming packet, one AAC frame (21.3 ms) per join.
    """
    why: list[str] = []
    if spec.music is not None:
        why.append("music is mixed in")
    first = sources[0].audio
    for clip, src in zip(spec.clips, sources, strict=True):
        who = f"shot {clip.shot_id!r}"
        a, info = src.audio, src.info.audio
        if not clip.keep_audio:
            why.append(f"{who} is muted")
            continue
        if a is None or info is None:
            why.append(f"{who} has no sound")
            continue
        if a.codec != "aac" or info.profile != "LC":
            why.append(f"{who}'s sound is {a.codec} {info.profile}, not AAC LC")
        if info.sample_rate != spec.sample_rate or a.timebase != (1, spec.sample_rate):
            why.append(f"{who}'s sound is {info.sample_rate} Hz, not {spec.sample_rate}")
        if info.channels != 2:
            why.append(f"{who}'s sound has {info.channels} channels, not 2")
        if first is not None and (a.extradata != first.extradata or a.codec != first.codec):
            why.append(f"{who}'s sound is encoded unlike shot {spec.clips[0].shot_id!r}")
        # Any difference would add up join after join: the sound must fill exactly whole
        # AAC frames (a trimmed last frame keeps its padding when copied) and the picture.
        sample = 1 / spec.sample_rate + 1e-9
        if abs(a.start - src.track.start) > sample:
            why.append(f"{who}'s sound starts {a.start - src.track.start:+.4f} s from its picture")
        if a.uneven:
            why.append(f"{who}'s sound does not end on a whole AAC frame")
        if not a.whole_priming:
            why.append(f"{who}'s sound does not start on a whole AAC frame")
        if abs(a.length - src.track.length) > sample:
            why.append(f"{who}'s sound lasts {a.length:.4f} s, its picture {src.track.length:.4f} s")
    return why


Entry = tuple[Path, float, float, float | None]


def _concat_list(entries: Sequence[Entry], path: Path) -> None:
    """An ffconcat file of (file, picture start, picture length, outpoint) entries; the
    outpoint (a decoding time: packets from there on are dropped) ends a copied run of
    GOPs inside a file."""
    lines = ["ffconcat version 1.0"]
    for file, start, length, outpoint in entries:
        quoted = str(file.resolve()).replace("'", "'\\''")
        lines.append(f"file '{quoted}'")
        # inpoint = the picture's start: otherwise the demuxer offsets each file by its
        # earliest stream (AAC priming starts ~21 ms early) and the picture drifts.
        # Just after the keyframe (printing rounds to the microsecond): the demuxer seeks
        # to the last keyframe at or before the inpoint.
        lines.append(f"inpoint {start + 2e-6:.6f}" if start > 0 else "inpoint 0")
        # Each file's exact picture length, so the next starts where its sound does.
        lines.append(f"duration {length:.6f}")
        if outpoint is not None:
            lines.append(f"outpoint {outpoint:.6f}")
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


def _gops(spec: CutSpec, src: _Source, placed: Placed) -> SourceGops | None:
    """Where the clip's source may be cut for copying, in the clip's output frames."""
    tr = src.track
    tb = tr.timebase[0] / tr.timebase[1]
    offset = placed.source_start * spec.fps
    if abs(offset - round(offset)) > 1e-3:
        return None  # trimmed between frames: the copy would not line up
    keys = []
    for pts, dts in zip(tr.keyframes, tr.keyframe_dts, strict=True):
        frame = round((pts * tb - tr.start) * spec.fps)
        if frame >= round(offset):
            # Half a frame before the keyframe's decoding time: the outpoint drops packets
            # from there on, so the keyframe goes and the frames before it stay.
            keys.append((frame - round(offset), pts * tb, dts * tb - 0.5 / spec.fps))
    return SourceGops(keyframes=tuple(keys), frames=tr.frames, offset=round(offset))


def joins_blockers(spec: CutSpec, sources: Sequence[_Source], timeline: Timeline) -> list[str]:
    """Why the clips' GOPs away from the joins cannot be copied (empty when they can)."""
    why = []
    if spec.burn_captions and timeline.caption_windows():
        why.append("captions are burned in")
    w, h = _size(spec)
    first = sources[0]
    for p, src in zip(timeline.placed, sources, strict=True):
        who = f"shot {p.clip.shot_id!r}"
        v, tr = src.info.video, src.track
        assert v is not None
        if v.codec != "h264" or v.pix_fmt != "yuv420p" or (v.width, v.height) != (w, h):
            why.append(f"{who} is {v.codec}/{v.pix_fmt} {v.width}x{v.height}")
        frame = tr.timebase[1] / (tr.timebase[0] * spec.fps)
        if abs(v.fps - spec.fps) > 0.01 or any(abs(d - frame) > 0.5 for d in tr.durations):
            why.append(f"{who} is not {spec.fps:g} fps")
        if tr.extradata != first.track.extradata or tr.codec != first.track.codec:
            why.append(f"{who} is encoded unlike shot {spec.clips[0].shot_id!r}")
        if len(tr.keyframe_dts) != len(tr.keyframes):
            why.append(f"{who}'s keyframes are unknown")
    return why


def _encode_joins(
    spec: CutSpec,
    sources: Sequence[_Source],
    timeline: Timeline,
    pieces: Sequence[Piece],
    caps: Sequence[CaptionImage],
    work: Path,
    progress: Callable[[float], None] | None,
) -> tuple[list[Entry], list[str]]:
    """Encode only what the transitions touch and copy the GOPs between them.

    Copied and encoded pictures share one MP4 sample entry, so the encoded ones must have
    exactly the sources' SPS/PPS: possible when x264 made the sources (its options are in
    the stream); checked on a two-frame trial and again on every piece. Returns the
    picture's concat entries, or none and why when the whole picture must be encoded.
    """
    why = joins_blockers(spec, sources, timeline)
    if why:
        return [], why
    first = sources[0]
    options = x264_options(first.track.path)
    if options is None:
        return [], [f"shot {spec.clips[0].shot_id!r} was not made by x264"]
    assert first.info.video is not None
    encoder, reason = matching_encoder(options, first.info.video.profile)
    if encoder is None:
        return [], [f"shot {spec.clips[0].shot_id!r}: {reason}"]
    items = split_for_copy(pieces, [_gops(spec, s, p) for s, p in zip(sources, timeline.placed, strict=True)])
    items = merge_joins(items)
    if not any(isinstance(it, Copy) for it in items):
        return [], ["no whole GOP lies between the joins"]
    # A two-frame trial through the same filters: the same SPS/PPS, or encode it all.
    p0 = timeline.placed[0]
    trial = Piece(parts=(Part(p0, 0, min(2, p0.frames)),), start=0.0, frames=min(2, p0.frames), fps=spec.fps)
    try:
        run_progress(piece_args(trial, spec, [], work / "trial.mp4", encoder), duration=trial.length)
        got = inspect_file(work / "trial.mp4").video
    except StitchError as e:
        return [], [f"a trial encode failed: {e.message}"]
    if got is None or got.extradata != first.track.extradata:
        return [], ["re-encoded pictures would not match the clips' SPS/PPS"]
    todo = [it for it in items if isinstance(it, Piece)]
    files = dict(zip(map(id, todo), encode_pieces(todo, spec, caps, work, progress, encoder), strict=True))
    made = inspect_all(list(files.values()))
    if made is None or any(m.video is None or m.video.extradata != first.track.extradata for m in made):
        return [], ["re-encoded pictures did not match the clips' SPS/PPS"]
    entries: list[Entry] = []
    for it in items:
        if isinstance(it, Copy):
            entries.append((it.placed.clip.path, it.inpoint, it.length, it.outpoint))
        else:
            entries.append((files[id(it)], 0.0, it.length, None))
    return entries, []


def _sound_inputs(
    spec: CutSpec,
    sources: Sequence[_Source],
    timeline: Timeline,
    work: Path,
    shots: dict[int, str],
    first_index: int,
) -> list[str]:
    """Inputs (numbered from first_index) and graph for the re-encoded sound track,
    ending in [aout]; fills `shots` with which input is which shot."""
    args: list[str] = []
    audio_in, k = _audio_inputs(spec, sources, first_index, args)
    music_in = None
    if spec.music is not None:
        args += music_input_args(spec.music)
        music_in = k
    for clip, idx in zip(spec.clips, audio_in, strict=True):
        if idx is not None:
            shots.setdefault(idx, clip.shot_id)
    sound = audio_graph(
        timeline, audio_in, sample_rate=spec.sample_rate, music=spec.music, music_input=music_in
    )
    graph = work / f"graph-{first_index}.txt"
    graph.write_text(";".join(sound), encoding="utf-8")
    return [*args, "-/filter_complex", str(graph)]  # read from the file


def _output_args(spec: CutSpec) -> list[str]:
    return [
        "-c:a", "aac", "-b:a", AUDIO_BITRATE, "-ar", str(spec.sample_rate), "-ac", "2",
        "-movflags", "+faststart",
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
    if blockers:
        method = "encode"
    else:
        blockers = sound_copy_blockers(spec, sources)
        method = "copy-picture" if blockers else "copy"
    output.parent.mkdir(parents=True, exist_ok=True)
    srt = output.with_suffix(".srt")

    with tempfile.TemporaryDirectory(prefix="storyboard-stitch-") as work_dir:
        work = Path(work_dir)
        total = timeline.duration
        sound_list = None
        if method != "encode":
            entries: list[Entry] = [(s.track.path, s.track.start, s.track.length, None) for s in sources]
            assemble = progress
            if method == "copy":
                pairs = [(s.track.path, work / f"sound-{i:03d}.mp4") for i, s in enumerate(sources)]
                extract_audio(pairs)
                sound_list = work / "sound.ffconcat"
                _concat_list(
                    [
                        (out, s.track.start, s.track.length, None)
                        for (_, out), s in zip(pairs, sources, strict=True)
                    ],
                    sound_list,
                )
        else:
            caps = caption_images(spec, timeline, work) if spec.burn_captions else []
            pieces = plan(timeline)
            # Encoding the picture is most of the work; assembling is quick.
            encode_progress = (lambda f: progress(0.9 * f)) if progress else None
            # (Encoding the sound meanwhile, in its own ffmpeg, gained no clear wall time on
            # two busy cores and took the process tree over 500 MB: it is made at the end.)
            entries, joins_why = _encode_joins(spec, sources, timeline, pieces, caps, work, encode_progress)
            if entries:
                method = "encode-joins"
            else:
                blockers += joins_why
                files = encode_pieces(pieces, spec, caps, work, encode_progress)
                entries = [(f, 0.0, p.length, None) for f, p in zip(files, pieces, strict=True)]
            assemble = (lambda f: progress(0.9 + 0.1 * f)) if progress else None
        _concat_list(entries, work / "picture.ffconcat")
        # The concat demuxer's first file may hold AAC priming before 0 (copied, or unused
        # beside the picture): -copyts keeps timestamps as they are (an edit list skips
        # the priming) instead of shifting the whole picture 21 ms later than its sound.
        args: list[str] = ["-y", "-copyts"]
        # auto_convert would pass H.264 through h264_mp4toannexb, which repeats SPS/PPS in
        # every keyframe: copied packets stay as they were instead.
        args += ["-f", "concat", "-auto_convert", "0", "-safe", "0", "-i", str(work / "picture.ffconcat")]
        shots: dict[int, str] = {}
        if sound_list is not None:
            # Picture and sound copied: no decoding at all.
            args += ["-f", "concat", "-auto_convert", "0", "-safe", "0", "-i", str(sound_list)]
            args += ["-map", "0:v:0", "-map", "1:a:0", "-c", "copy", "-movflags", "+faststart"]
        else:
            args += _sound_inputs(spec, sources, timeline, work, shots, 1)
            args += ["-map", "0:v:0", "-c:v", "copy", "-map", "[aout]", *_output_args(spec)]
        args += ["-f", "mp4"]

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
    return StitchResult(
        output=output, srt=srt, duration=timeline.duration, method=method, why=tuple(blockers)
    )


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
