"""The cut as a moviepy clip, built from the same timeline layout the fast path uses (trims,
crossfades, fades, burned captions, the shots' sound, music with ducking): what
`storyboard.film(path)` returns for a user to add a logo, a title card or an effect in
Python, and what `storyboard stitch --engine moviepy` writes. The tests use it as the
reference the fast path must agree with.

moviepy 2 opens an ffmpeg reader per VideoFileClip when it is made (21 clips: 21 decoders,
3 GB); here each shot is a plain VideoClip whose frames come from a small pool of readers
(_Readers) that opens a clip's reader when its shot first needs a frame and closes the
least recently used: two of each kind at most (a crossfade shows two shots at once).
The only module of the package that imports moviepy (and numpy), and only when called.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from storyboard.atomic import replacing, write_atomic
from storyboard.errors import StitchError
from storyboard.media.fonts import choose_font
from storyboard.media.verify import verify_film
from storyboard.stitch.captions import caption_image, missing_glyphs, timeline_srt
from storyboard.stitch.methods import Method
from storyboard.stitch.sources import Source, common_size, inspect_sources
from storyboard.stitch.spec import CutSpec, StitchResult
from storyboard.stitch.timeline import Placed, Timeline, layout

READERS = 2  # of each kind open at once: the two shots of a crossfade
# The sidechain compressor of audio.py (threshold, ratio), applied per chunk of sound.
DUCK_THRESHOLD = 0.02
DUCK_RATIO = 8.0


class _Readers:
    """moviepy file readers, opened when first needed, at most `limit` of each kind."""

    def __init__(self, limit: int = READERS) -> None:
        self.limit = limit
        self.open: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self.most = 0  # the most readers ever open at once (tests read it)

    def get(self, kind: str, path: Path, rate: int) -> Any:
        from moviepy import AudioFileClip, VideoFileClip  # lazy: start-up

        key = (kind, str(path))
        clip = self.open.get(key)
        if clip is None:
            same = [k for k in self.open if k[0] == kind]
            while len(same) >= self.limit:
                self.open.pop(same.pop(0)).close()
            clip = (
                VideoFileClip(str(path), audio=False)
                if kind == "video"
                else AudioFileClip(str(path), fps=rate)
            )
            self.open[key] = clip
            self.most = max(self.most, len(self.open))
        self.open.move_to_end(key)
        return clip

    def close(self) -> None:
        while self.open:
            self.open.popitem()[1].close()


def _fit(frame: Any, size: tuple[int, int]) -> Any:
    """A frame scaled to fit `size`, keeping its shape, centred on black (as the fast path's
    scale+pad)."""
    import numpy as np  # lazy: start-up
    from PIL import Image  # lazy: start-up

    w, h = size
    fh, fw = frame.shape[:2]
    if (fw, fh) == (w, h):
        return frame
    scale = min(w / fw, h / fh)
    nw, nh = max(round(fw * scale / 2) * 2, 2), max(round(fh * scale / 2) * 2, 2)
    img = Image.fromarray(frame).resize((nw, nh), Image.Resampling.BICUBIC)
    out = np.zeros((h, w, 3), dtype=np.uint8)
    x, y = (w - nw) // 2, (h - nh) // 2
    out[y : y + nh, x : x + nw] = np.asarray(img)[:, :, :3]
    return out


def _picture(p: Placed, src: Source, size: tuple[int, int], readers: _Readers) -> Any:
    import numpy as np  # lazy: start-up
    from moviepy import VideoClip, vfx  # lazy: start-up

    last = src.track.length - 1e-3
    built = [False]  # moviepy asks for a frame while making the clip: no reader for that

    def frame(t: float) -> Any:
        if not built[0]:
            return np.zeros((size[1], size[0], 3), dtype=np.uint8)
        clip = readers.get("video", p.clip.path, 0)
        return _fit(clip.get_frame(min(p.source_start + t, last)), size)

    shot = VideoClip(frame_function=frame, duration=p.length).with_start(p.start)
    built[0] = True
    effects = []
    if p.overlap > 0:
        effects.append(vfx.CrossFadeIn(p.overlap))
    if p.fade_in > 0:
        effects.append(vfx.FadeIn(p.fade_in))
    if p.fade_out > 0:
        effects.append(vfx.FadeOut(p.fade_out))
    return shot.with_effects(effects) if effects else shot


def _sound(p: Placed, src: Source, rate: int, readers: _Readers, next_overlap: float) -> Any:
    import numpy as np  # lazy: start-up
    from moviepy import AudioClip, afx  # lazy: start-up

    has = p.clip.keep_audio and src.audio is not None
    end = src.track.start + (src.audio.length if src.audio else 0.0)

    def samples(t: Any) -> Any:
        t = np.asarray(t, dtype=float)
        out = np.zeros((t.size, 2)) if t.ndim else np.zeros(2)
        if not has or not t.ndim:  # a single instant: moviepy probing the channels
            return out
        ts = p.source_start + t
        inside = ts < end - 1.0 / rate
        if not np.any(inside):
            return out
        # Only the instants the file has, in order (moviepy's reader misreads others).
        got = np.asarray(readers.get("audio", p.clip.path, rate).get_frame(ts[inside]))
        if got.ndim == 1:
            got = got[:, None]
        out[inside] = got[:, :2] if got.shape[1] >= 2 else np.repeat(got, 2, axis=1)
        return out

    clip = AudioClip(frame_function=samples, duration=p.length, fps=rate).with_start(p.start)
    effects = []
    fade_in = max(p.overlap, p.fade_in)
    fade_out = max(next_overlap, p.fade_out)
    if fade_in > 0:
        effects.append(afx.AudioFadeIn(fade_in))
    if fade_out > 0:
        effects.append(afx.AudioFadeOut(fade_out))
    return clip.with_effects(effects) if effects else clip


def _music(spec: CutSpec, total: float, shots: Any, rate: int) -> Any:
    import numpy as np  # lazy: start-up
    from moviepy import AudioClip, AudioFileClip, afx  # lazy: start-up

    music = spec.music
    assert music is not None
    song = AudioFileClip(str(music.path), fps=rate)
    if music.start > 0:
        song = song.subclipped(min(music.start, song.duration - 1e-3))
    if music.loop:
        song = song.with_effects([afx.AudioLoop(duration=total)])
    effects = [afx.MultiplyVolume(music.volume)]
    if min(music.fade_out, total) > 0:
        effects.append(afx.AudioFadeOut(min(music.fade_out, total)))
    song = song.with_duration(min(total, song.duration)).with_effects(effects)
    song_end = song.duration

    def samples(t: Any) -> Any:
        t = np.asarray(t, dtype=float)
        if not t.ndim:
            return np.zeros(2)
        got = np.zeros((t.size, 2))
        inside = t < song_end - 1.0 / rate
        if np.any(inside):
            part = np.asarray(song.get_frame(t[inside]))
            part = part[:, None] if part.ndim == 1 else part
            got[inside] = part[:, :2] if part.shape[1] >= 2 else np.repeat(part, 2, axis=1)
        if not music.duck:
            return got
        # Lowered under the shots' sound as a compressor keyed on it would (per chunk).
        level = float(np.sqrt(np.mean(np.square(shots.get_frame(t))))) if t.size else 0.0
        gain = 1.0
        if level > DUCK_THRESHOLD:
            gain = DUCK_THRESHOLD * (level / DUCK_THRESHOLD) ** (1 / DUCK_RATIO) / level
        return got * gain

    return AudioClip(frame_function=samples, duration=total, fps=rate)


def _ending(film: Any, timeline: Timeline) -> Any:
    """The film's fade to black and silence at its end, as the fast path makes it: level 1
    at `ending_start`, 0 from the last frame on (captions and music included)."""
    import numpy as np  # lazy: start-up

    start, length = timeline.ending_start, timeline.ending

    def level(t: Any) -> Any:
        return np.clip(1 - (np.asarray(t, dtype=float) - start) / length, 0.0, 1.0)

    def picture(get_frame: Callable[[float], Any], t: float) -> Any:
        k = float(level(t))
        frame = get_frame(t)
        return frame if k >= 1 else (frame * k).astype(frame.dtype)

    def samples(get_frame: Callable[[Any], Any], t: Any) -> Any:
        got = get_frame(t)
        return got * float(level(t)) if np.ndim(t) == 0 else got * level(t)[:, None]

    sound = film.audio.transform(samples)
    return film.transform(picture, apply_to=[]).with_audio(sound)


def build(spec: CutSpec, sources: list[Source] | None = None) -> tuple[Any, Timeline, list[str]]:
    """The cut as a moviepy clip (with its sound), its timeline, and the warnings."""
    from moviepy import CompositeAudioClip, CompositeVideoClip, ImageClip  # lazy: start-up

    sources = sources if sources is not None else inspect_sources(spec)
    if spec.size is None:
        spec = replace(spec, size=common_size(sources, spec.fallback_size))
    assert spec.size is not None
    timeline = layout(spec, [s.track.length for s in sources])
    readers = _Readers()
    rate = spec.sample_rate
    placed = timeline.placed
    layers = [_picture(p, s, spec.size, readers) for p, s in zip(placed, sources, strict=True)]
    warnings: list[str] = []
    if spec.burn_captions:
        import numpy as np  # lazy: start-up

        for a, b, text, shot in timeline.caption_shots():
            choice = choose_font(text, spec.caption_font)
            if (warning := missing_glyphs(shot, choice)) is not None:
                warnings.append(warning)
            img, x, y = caption_image(
                text, spec.size, size=spec.caption_size, position=spec.caption_position, choice=choice
            )
            card = ImageClip(np.asarray(img), transparent=True).with_start(a).with_duration(b - a)
            layers.append(card.with_position((x, y)))
    film = CompositeVideoClip(layers, size=spec.size, bg_color=(0, 0, 0)).with_duration(timeline.duration)
    nxt = [q.overlap for q in placed[1:]] + [0.0]
    sounds = [_sound(p, s, rate, readers, n) for p, s, n in zip(placed, sources, nxt, strict=True)]
    shots = CompositeAudioClip(sounds).with_duration(timeline.duration)
    sound = shots
    if spec.music is not None:
        sound = CompositeAudioClip([shots, _music(spec, timeline.duration, shots, rate)])
    film = film.with_audio(sound.with_duration(timeline.duration).with_fps(rate)).with_fps(spec.fps)
    if timeline.ending > 0:
        film = _ending(film, timeline)
    close = film.close

    def close_all() -> None:
        readers.close()
        close()

    film.close = close_all  # the readers go with the film
    film.storyboard_readers = readers  # how many were open at once, for the tests
    return film, timeline, warnings


class _Progress:
    """A proglog logger that reports the picture's frames as progress(0..1)."""

    def __new__(cls, progress: Callable[[float], None]) -> Any:
        from proglog import ProgressBarLogger  # type: ignore[import-untyped]

        class Logger(ProgressBarLogger):
            def bars_callback(self, bar: str, attr: str, value: Any, old_value: Any = None) -> None:
                total = self.bars[bar].get("total") or 0
                if bar == "frame_index" and attr == "index" and total:
                    progress(min(value / total, 1.0))

        return Logger()


def write_film(
    spec: CutSpec, output: Path, work: Path, progress: Callable[[float], None] | None = None
) -> StitchResult:
    """The moviepy cut written as the film (H.264 yuv420p + AAC, +faststart) and its .srt."""
    film, timeline, warnings = build(spec, inspect_sources(spec, work))
    srt = output.with_suffix(".srt")
    try:
        with replacing(output, ".part", shared=True) as tmp:
            try:
                film.write_videofile(
                    str(tmp),
                    fps=spec.fps,
                    codec="libx264",
                    preset="veryfast",
                    audio_codec="aac",
                    audio_fps=spec.sample_rate,
                    audio_bitrate="192k",
                    temp_audiofile_path=str(work),
                    pixel_format="yuv420p",  # moviepy's compose writes yuva420p otherwise
                    ffmpeg_params=["-crf", "20", "-movflags", "+faststart", "-f", "mp4"],
                    logger=_Progress(progress) if progress else None,
                    threads=2,
                )
            except (OSError, ValueError, IndexError) as e:  # moviepy's errors, with the cut named
                raise StitchError(f"moviepy could not write {output.name}: {e}") from e
            verify_film(tmp, timeline.duration, timeline.fps)
            write_atomic(srt, timeline_srt(timeline), shared=True)
    finally:
        film.close()
    return StitchResult(
        output=output,
        srt=srt,
        duration=timeline.duration,
        method=Method.MOVIEPY,
        why=("asked for moviepy (--engine moviepy)",),
        warnings=tuple(warnings),
    )
