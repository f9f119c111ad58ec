"""Where each clip lands in the final cut, to the frame. Pure arithmetic, no ffmpeg.

Every clip is kept for a whole number of output frames and every crossfade overlaps a whole
number of frames, so picture, sound and captions agree exactly on the cut's length:
sum of kept lengths - crossfade overlaps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from storyboard.errors import StitchError
from storyboard.stitch.spec import TRANSITIONS, ClipCut, CutSpec


@dataclass(frozen=True)
class Placed:
    """One clip in the cut."""

    index: int
    clip: ClipCut
    source_start: float  # seconds into the clip where the kept part starts
    frames: int  # output frames kept
    length: float  # frames / fps
    start: float  # seconds into the cut where this clip starts
    overlap: float  # seconds shared with the previous clip (crossfade), else 0
    fade_in: float  # seconds fading in from black at the start (a fade transition), else 0
    fade_out: float  # seconds fading to black at the end (the next clip fades), else 0
    # the last clip: seconds of the film's own fade to black (`ending`), its last frame black
    ending: float = 0.0

    @property
    def end(self) -> float:
        return self.start + self.length


@dataclass(frozen=True)
class Timeline:
    placed: tuple[Placed, ...]
    fps: float
    duration: float

    @property
    def ending(self) -> float:
        """Seconds of the film's fade to black and silence at its end (0: none)."""
        return self.placed[-1].ending if self.placed else 0.0

    @property
    def ending_start(self) -> float:
        """Where the ending's fade starts in the film: its last untouched frame's time, so
        that its frames darken evenly and the film's last frame is black."""
        return self.duration - self.ending - 1 / self.fps

    def caption_windows(self) -> list[tuple[float, float, str]]:
        """(start, end, text) per captioned clip: the time the shot is on screen.

        A crossfade is shared: each side's caption holds until the overlap's midpoint, so
        captions never overlap and one is always on screen while either shot is.
        """
        return [(a, b, text) for a, b, text, _ in self.caption_shots()]

    def caption_shots(self) -> list[tuple[float, float, str, str]]:
        """caption_windows() with each caption's shot id."""
        out = []
        for i, p in enumerate(self.placed):
            text = (p.clip.caption or "").strip()
            if not text:
                continue
            nxt = self.placed[i + 1].overlap if i + 1 < len(self.placed) else 0.0
            out.append((p.start + p.overlap / 2, p.end - nxt / 2, text, p.clip.shot_id))
        return out


def _frames(seconds: float, fps: float) -> int:
    return round(seconds * fps + 1e-9)


def layout(spec: CutSpec, available: Sequence[float | None] | None = None) -> Timeline:
    """Place spec's clips; `available[i]` is clip i's real picture length when known.

    A trim end beyond the clip's real length keeps the clip to its end (Veo clips run a few
    milliseconds short of 8 s). StitchError, naming the shot, when the cut cannot be made.
    """
    fps = float(spec.fps)
    if not spec.clips:
        raise StitchError("the cut has no clips")
    if fps <= 0:
        raise StitchError(f"frame rate must be positive, not {spec.fps}")
    placed: list[Placed] = []
    t = 0  # frames so far, so starts are exact multiples of a frame
    for i, clip in enumerate(spec.clips):
        who = f"shot {clip.shot_id!r}"
        ts, te = (float(x) for x in clip.trim)
        if ts < 0 or te <= ts:
            raise StitchError(f"{who}: trim {list(clip.trim)} must have 0 <= start < end")
        have = available[i] if available is not None else None
        if have is not None:
            if ts >= have:
                raise StitchError(f"{who}: trim starts at {ts:g} s but the clip is only {have:.2f} s long")
            te = min(te, have)
        frames = _frames(te - ts, fps)
        if frames < 1:
            raise StitchError(f"{who}: trim {list(clip.trim)} keeps less than one frame")
        length = frames / fps
        kind = clip.transition
        if kind not in TRANSITIONS:
            raise StitchError(f"{who}: unknown transition {kind!r} (use cut, crossfade or fade)")
        d = float(clip.transition_duration)
        overlap = fade_in = 0.0
        ov = 0
        if kind != "cut":
            if d <= 0:
                raise StitchError(f"{who}: a {kind} needs a duration > 0")
            if kind == "crossfade" and i == 0:
                raise StitchError(f"{who}: the first shot cannot crossfade (use fade)")
            prev = placed[-1].length if placed else length
            if d >= length or d >= prev:
                raise StitchError(
                    f"{who}: the {d:g} s {kind} must be shorter than both shots it joins "
                    f"({prev:.2f} s and {length:.2f} s)"
                )
        if kind == "crossfade":
            ov = max(_frames(d, fps), 1)
            overlap = ov / fps
            prev_p = placed[-1]
            if prev_p.overlap + overlap > prev_p.length + 1e-9:
                raise StitchError(
                    f"{who}: shot {prev_p.clip.shot_id!r} ({prev_p.length:.2f} s) is too short "
                    "for the crossfades on both its sides"
                )
        elif kind == "fade":
            fade_in = d / 2  # the first shot just fades in from black
            if placed:
                prev_p = placed[-1]
                placed[-1] = replace(prev_p, fade_out=d / 2)
        start = (t - ov) / fps
        placed.append(
            Placed(
                index=i,
                clip=clip,
                source_start=ts,
                frames=frames,
                length=length,
                start=start,
                overlap=overlap,
                fade_in=fade_in,
                fade_out=0.0,
            )
        )
        t += frames - ov
    if spec.ending:
        placed[-1] = _ending(placed[-1], float(spec.ending), fps)
    return Timeline(placed=tuple(placed), fps=fps, duration=t / fps)


def _ending(last: Placed, seconds: float, fps: float) -> Placed:
    """The last clip with the film's fade to black: whole frames, after its own entrance."""
    if seconds < 0:
        raise StitchError(f"the film's fade to black lasts {seconds:g} s: it must not be negative")
    frames = max(_frames(seconds, fps), 1)
    entering = _frames(last.overlap, fps) + _frames(last.fade_in, fps)
    if frames >= last.frames - entering:
        raise StitchError(
            f"shot {last.clip.shot_id!r}: the film's {seconds:g} s fade to black must be shorter "
            f"than its last shot as it is on screen ({(last.frames - entering) / fps:.2f} s)"
        )
    return replace(last, ending=frames / fps)
