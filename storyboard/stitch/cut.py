"""The final cut: clips in order, trimmed, joined by cuts, crossfades or fades, with music
and captions, written as H.264 + AAC MP4 (yuv420p, +faststart).

The fastest method the clips allow is used (methods.py; StitchResult.why says what ruled out
the faster ones): the picture copied whole, copied between encoded joins (splice.py), or
encoded piece by piece (pieces.py). Re-encoded sound is made the same way for all
(audio.py): each clip's sound cut to exactly its picture's length, so sound never drifts at
the joins, and clips without sound get silence.

Scratch work lives in a folder beside the output (workspace.py), removed on every exit; the
film and its .srt are written to temporary files beside them and renamed only when complete
(atomic.py); a manifest of the inputs written after them (manifest.py) lets the next
stitch of the same inputs say the film is up to date and write nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from storyboard.atomic import replacing, write_atomic
from storyboard.errors import StitchError
from storyboard.media import mp4
from storyboard.media.ffmpeg import probe, run_progress
from storyboard.media.h264 import AvcConfig
from storyboard.media.packets import extract_audio, inspect_all
from storyboard.media.verify import verify_film
from storyboard.stitch import manifest, splice
from storyboard.stitch.audio import audio_graph, music_input_args
from storyboard.stitch.captions import CaptionImage, caption_images, timeline_srt
from storyboard.stitch.compose import write_film  # light: moviepy is imported when it is called
from storyboard.stitch.methods import Method, copy_blockers, joins_blockers, sound_copy_blockers
from storyboard.stitch.pieces import Copy, Piece, encode_pieces, merge_joins, plan, split_for_copy
from storyboard.stitch.sources import Source, common_size, inspect_sources
from storyboard.stitch.spec import CutSpec, StitchResult
from storyboard.stitch.timeline import Timeline, layout
from storyboard.stitch.workspace import workspace

AUDIO_BITRATE = "192k"
Entry = tuple[Path, float, float, float | None]


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


def _concat_input(path: Path) -> list[str]:
    # auto_convert would pass H.264 through h264_mp4toannexb, which repeats SPS/PPS in
    # every keyframe: copied packets stay as they were instead.
    return ["-f", "concat", "-auto_convert", "0", "-safe", "0", "-i", str(path)]


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


def _encode_joins(
    spec: CutSpec,
    sources: Sequence[Source],
    timeline: Timeline,
    pieces: Sequence[Piece],
    caps: Sequence[CaptionImage],
    work: Path,
    progress: Callable[[float], None] | None,
) -> tuple[list[Entry], list[str], bytes | None]:
    """Encode only what the transitions touch and copy the GOPs between them (splice.py).

    Returns the picture's concat entries and the film's avcC (every parameter set used), or
    no entries and why, when the whole picture must be encoded.
    """
    why = joins_blockers(spec, sources, timeline)
    if why:
        return [], why, None
    first = sources[0]
    try:
        config = AvcConfig.parse(mp4.avcc(first.track.path))
        points = [splice.copy_points(s.track, spec.fps) for s in sources]
    except StitchError as e:
        return [], [f"the clips' H.264 cannot be read for copying: {e.message}"], None
    delays = sorted({p.delay for p in points})
    if len(delays) > 1:
        return [], [f"the clips reorder pictures by different delays ({delays} frames)"], None
    encoder, reason = splice.encoder(config, delays[0])
    if encoder is None:
        return [], [reason], None
    gops = [
        # A burned caption is on screen the whole time its shot is: that shot is encoded.
        None if spec.burn_captions and (p.clip.caption or "").strip() else splice.gops(spec, s.track, p, pt)
        for s, p, pt in zip(sources, timeline.placed, points, strict=True)
    ]
    items = merge_joins(split_for_copy(pieces, gops))
    if not any(isinstance(it, Copy) for it in items):
        return [], ["no whole closed GOP lies between the joins"], None
    todo = [it for it in items if isinstance(it, Piece)]
    anchors = {i: splice.anchors(s.track, pt) for i, (s, pt) in enumerate(zip(sources, points, strict=True))}
    made_files = encode_pieces(todo, spec, caps, work, progress, encoder, anchors)
    files = dict(zip(map(id, todo), made_files, strict=True))
    made = inspect_all(list(files.values()), work=work)
    if made is None or any(m.video is None for m in made):
        return [], ["an encoded piece cannot be read"], None
    for m in made:
        assert m.video is not None
        got = splice.delay_of(m.video, spec.fps)
        if got != delays[0]:
            return [], [f"our pieces reorder by {got} frames, the clips by {delays[0]}"], None
    try:
        merged = splice.merged_config(config, list(files.values()))
    except StitchError as e:
        return [], [f"the encoded pieces cannot share the clips' track: {e.message}"], None
    entries: list[Entry] = []
    for it in items:
        if isinstance(it, Copy):
            entries.append((it.placed.clip.path, it.inpoint, it.length, it.outpoint))
        else:
            entries.append((files[id(it)], 0.0, it.length, None))
    return entries, [], merged.build()


def _anchors(spec: CutSpec, sources: Sequence[Source]) -> dict[int, list[float]]:
    """Where decoding each H.264 clip at the cut's rate may start (splice.anchors), for the
    clips whose GOPs can be read; the others are sought by time."""
    out = {}
    for i, s in enumerate(sources):
        frame = s.track.timebase[1] / (s.track.timebase[0] * spec.fps)
        if s.track.codec != "h264" or any(abs(d - frame) > 0.5 for d in s.track.durations):
            continue
        try:
            out[i] = splice.anchors(s.track, splice.copy_points(s.track, spec.fps))
        except StitchError:
            continue
    return out


def _sound_inputs(
    spec: CutSpec,
    sources: Sequence[Source],
    timeline: Timeline,
    work: Path,
    shots: dict[int, str],
    first_index: int,
) -> list[str]:
    """Inputs (numbered from first_index) and graph for the re-encoded sound track,
    ending in [aout]; fills `shots` with which input is which shot."""
    args: list[str] = []
    k = first_index
    audio_in: list[int | None] = []
    for clip, src in zip(spec.clips, sources, strict=True):
        if clip.keep_audio and src.info.audio is not None:
            args += ["-i", str(clip.path)]
            shots.setdefault(k, clip.shot_id)
            audio_in.append(k)
            k += 1
        else:
            audio_in.append(None)
    music_in = None
    if spec.music is not None:
        args += music_input_args(spec.music)
        music_in = k
    sound = audio_graph(
        timeline, audio_in, sample_rate=spec.sample_rate, music=spec.music, music_input=music_in
    )
    graph = work / f"graph-{first_index}.txt"
    graph.write_text(";".join(sound), encoding="utf-8")
    return [*args, "-/filter_complex", str(graph)]  # read from the file


def _copied_sound(sources: Sequence[Source], work: Path) -> Path:
    """A concat list of each clip's sound track alone (see methods.sound_copy_blockers)."""
    pairs = [(s.track.path, work / f"sound-{i:03d}.mp4") for i, s in enumerate(sources)]
    extract_audio(pairs)
    path = work / "sound.ffconcat"
    entries = [(out, s.track.start, s.track.length, None) for (_, out), s in zip(pairs, sources, strict=True)]
    _concat_list(entries, path)
    return path


def decide(spec: CutSpec, sources: Sequence[Source], timeline: Timeline) -> tuple[Method, list[str]]:
    """The fastest whole-picture method the clips allow, and what ruled out the faster."""
    blockers = copy_blockers(spec, sources, timeline)
    if blockers:
        return Method.ENCODE, blockers
    blockers = sound_copy_blockers(spec, sources)
    return (Method.COPY_PICTURE if blockers else Method.COPY), blockers


ENGINES = ("ffmpeg", "reencode", "moviepy")


def stitch(
    spec: CutSpec, progress: Callable[[float], None] | None = None, *, engine: str = "ffmpeg"
) -> StitchResult:
    """Make the final cut described by `spec`; progress(0..1) while it is made.

    engine: "ffmpeg" (the fastest safe method), "reencode" (ffmpeg, every frame encoded: no
    copied GOPs, for a player that refuses a spliced film) or "moviepy" (compose.py).

    StitchError (naming the shot where it can) on failure; the output is then left as it
    was (absent, or the previous cut), never partly written. When the film is up to date
    (the manifest beside it matches the inputs and the engine), nothing is written.
    """
    if engine not in ENGINES:
        raise StitchError(f"unknown engine {engine!r} (use {', '.join(ENGINES)})")
    output = Path(spec.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    fresh = manifest.up_to_date(spec, engine)
    if fresh is not None:
        return fresh
    with workspace(spec.work_dir or output.parent) as work:
        if engine == "moviepy":
            result = write_film(spec, output, work, progress)
        else:
            result = _stitch(spec, output, work, progress, smart=engine == "ffmpeg")
    manifest.record(spec, engine, result)
    return result


def _stitch(
    spec: CutSpec, output: Path, work: Path, progress: Callable[[float], None] | None, *, smart: bool
) -> StitchResult:
    sources = inspect_sources(spec, work)
    if spec.size is None:
        spec = replace(spec, size=common_size(sources, spec.fallback_size))
    _check_spec(spec)
    timeline = layout(spec, [s.track.length for s in sources])
    method, blockers = decide(spec, sources, timeline)
    if not smart:
        method, blockers = Method.ENCODE, ["asked to encode every frame (--engine reencode)"]
    warnings: list[str] = []
    avcc = None
    sound_list = None
    if method != Method.ENCODE:
        entries: list[Entry] = [(s.track.path, s.track.start, s.track.length, None) for s in sources]
        assemble = progress
        if method == Method.COPY:
            sound_list = _copied_sound(sources, work)
    else:
        caps: list[CaptionImage] = []
        if spec.burn_captions:
            caps, warnings = caption_images(spec, timeline, work)
        pieces = plan(timeline)
        # Encoding the picture is most of the work; assembling is quick.
        encode_progress = (lambda f: progress(0.9 * f)) if progress else None
        # (Encoding the sound meanwhile, in its own ffmpeg, gained no clear wall time on
        # two busy cores and took the process tree over 500 MB: it is made at the end.)
        joins_why: list[str] = []
        entries, avcc = [], None
        if smart:
            entries, joins_why, avcc = _encode_joins(
                spec, sources, timeline, pieces, caps, work, encode_progress
            )
        if entries:
            method = Method.ENCODE_JOINS
        else:
            blockers += joins_why
            files = encode_pieces(pieces, spec, caps, work, encode_progress, anchors=_anchors(spec, sources))
            entries = [(f, 0.0, p.length, None) for f, p in zip(files, pieces, strict=True)]
        assemble = (lambda f: progress(0.9 + 0.1 * f)) if progress else None
    _concat_list(entries, work / "picture.ffconcat")
    # The concat demuxer's first file may hold AAC priming before 0 (copied, or unused
    # beside the picture): -copyts keeps timestamps as they are (an edit list skips
    # the priming) instead of shifting the whole picture 21 ms later than its sound.
    args: list[str] = ["-y", "-copyts", *_concat_input(work / "picture.ffconcat")]
    shots: dict[int, str] = {}
    if sound_list is not None:
        # Picture and sound copied: no decoding at all.
        args += [*_concat_input(sound_list), "-map", "0:v:0", "-map", "1:a:0", "-c", "copy"]
    else:
        args += _sound_inputs(spec, sources, timeline, work, shots, 1)
        args += ["-map", "0:v:0", "-c:v", "copy", "-map", "[aout]"]
        args += ["-c:a", "aac", "-b:a", AUDIO_BITRATE, "-ar", str(spec.sample_rate), "-ac", "2"]
    # With our own avcC to write, moov goes to the front in the same rewrite (mp4.rewrite).
    args += ([] if avcc else ["-movflags", "+faststart"]) + ["-f", "mp4"]
    srt = output.with_suffix(".srt")
    with replacing(output, ".part", shared=True) as tmp:
        raw = work / "film.mp4" if avcc else tmp
        try:
            run_progress(
                [*args, str(raw)],
                duration=timeline.duration,
                progress=assemble,
                what=f"stitching {output.name}",
            )
        except StitchError as e:
            raise _name_shot(e, spec, shots) from e
        if avcc:
            mp4.rewrite(raw, tmp, avcc=avcc)
        verify_film(tmp, timeline.duration, timeline.fps)
        write_atomic(srt, timeline_srt(timeline), shared=True)
    return StitchResult(
        output=output,
        srt=srt,
        duration=timeline.duration,
        method=method,
        why=tuple(blockers),
        warnings=tuple(warnings),
    )
