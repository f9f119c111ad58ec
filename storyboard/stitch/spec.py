"""What a final cut is made of: the contract between the renderer and the stitcher.

Plain frozen dataclasses; this module imports nothing heavy (no moviepy, numpy or ffmpeg).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

TRANSITIONS = ("cut", "crossfade", "fade")


@dataclass(frozen=True)
class ClipCut:
    shot_id: str
    path: Path  # the generated (or preview) clip, ~8 s
    trim: tuple[float, float]  # seconds of the clip kept
    transition: str = "cut"  # how this clip enters: cut | crossfade | fade
    transition_duration: float = 0.0
    caption: str | None = None
    keep_audio: bool = True  # False: the shot's own sound is replaced by silence


@dataclass(frozen=True)
class MusicSpec:
    path: Path
    volume: float = 0.5
    duck: bool = False  # lower the music under the shots' own sound
    fade_out: float = 2.0
    loop: bool = True  # loop to the film's length (else cut, or pad with silence)
    start: float = 0.0  # seconds into the music file


@dataclass(frozen=True)
class CutSpec:
    clips: tuple[ClipCut, ...]
    output: Path
    # The output frame size, e.g. (1280, 720); None: the size most clips have (so matching
    # clips can be copied and odd ones fitted), `fallback_size` when they disagree evenly.
    size: tuple[int, int] | None
    fps: float = 24.0
    music: MusicSpec | None = None
    burn_captions: bool = False
    caption_position: str = "bottom"  # bottom | top
    caption_size: float = 0.05  # text height as a fraction of frame height
    caption_font: Path | None = None  # the user's font file (captions: {font: FILE})
    fallback_size: tuple[int, int] = (1280, 720)
    sample_rate: int = 48000
    # Seconds over which the film's picture fades to black and its sound to silence at its
    # end (`ending: fade`), its last frame black; 0: it ends on a cut.
    ending: float = 0.0
    # Where scratch work goes (the state folder's tmp/); None: beside the output.
    work_dir: Path | None = None


@dataclass(frozen=True)
class StitchResult:
    output: Path
    srt: Path
    duration: float
    # "copy": picture and sound stream-copied; "copy-picture": picture copied, sound
    # re-encoded; "encode-joins": only the joins encoded; "encode": picture re-encoded;
    # "moviepy": composed by moviepy (methods.Method; a str, so it compares with these).
    method: str
    why: tuple[str, ...] = ()  # what kept the cut from the next faster method
    # Things the user should know that did not stop the cut, each naming its shot (e.g.
    # caption characters that no installed font can draw).
    warnings: tuple[str, ...] = ()
    up_to_date: bool = False  # True: the film already matched its inputs; nothing written
