"""The cut's sound track as an ffmpeg filter graph, shared by every stitching method.

Each clip's sound is decoded, cut to exactly its picture's kept length (silence where a clip
has none or keep_audio is off), joined with the picture's transitions (acrossfade for a
crossfade, afade dips for a fade), then mixed with the music (looped or cut to length, faded
out, ducked under the shots' sound by sidechaincompress when asked).
"""

from __future__ import annotations

from collections.abc import Sequence

from storyboard.stitch.spec import MusicSpec
from storyboard.stitch.timeline import Timeline


def _t(seconds: float) -> str:
    return f"{seconds:.6f}".rstrip("0").rstrip(".") or "0"


def music_input_args(music: MusicSpec) -> list[str]:
    """Input options for the music file (looping happens in the demuxer)."""
    return [*(["-stream_loop", "-1"] if music.loop else []), "-i", str(music.path)]


def audio_graph(
    timeline: Timeline,
    inputs: Sequence[int | None],
    *,
    sample_rate: int = 48000,
    music: MusicSpec | None = None,
    music_input: int | None = None,
    out: str = "aout",
) -> list[str]:
    """Filter-graph chains ending in [out]: 48 kHz (sample_rate) stereo float.

    `inputs[i]` is the ffmpeg input index holding clip i's sound, None for silence.
    """
    fmt = f"aresample={sample_rate},aformat=sample_fmts=fltp:channel_layouts=stereo"
    chains: list[str] = []
    for p, k in zip(timeline.placed, inputs, strict=True):
        n = p.length
        if k is None:
            src = f"anullsrc=r={sample_rate}:cl=stereo,atrim=duration={_t(n)},{fmt}"
        else:
            # Cut by timestamps, then pad with silence: exactly the picture's length.
            src = (
                f"[{k}:a:0]{fmt},atrim=start={_t(p.source_start)},asetpts=PTS-STARTPTS,"
                f"apad=whole_dur={_t(n)},atrim=duration={_t(n)}"
            )
        if p.fade_in > 0:
            src += f",afade=t=in:st=0:d={_t(p.fade_in)}"
        if p.fade_out > 0:
            src += f",afade=t=out:st={_t(n - p.fade_out)}:d={_t(p.fade_out)}"
        chains.append(f"{src}[sa{p.index}]")

    # Runs of cuts are concatenated in one go; a crossfade overlaps the run so far.
    label = "sound"
    cur: str | None = None
    run: list[str] = []
    step = 0

    def flush() -> str:
        nonlocal step
        if len(run) == 1:
            return run[0]
        step += 1
        chains.append(f"{''.join(f'[{r}]' for r in run)}concat=n={len(run)}:v=0:a=1[sj{step}]")
        return f"sj{step}"

    for p in timeline.placed:
        if p.overlap > 0:
            cur = flush()
            step += 1
            chains.append(f"[{cur}][sa{p.index}]acrossfade=d={_t(p.overlap)}:c1=tri:c2=tri[sx{step}]")
            run = [f"sx{step}"]
        else:
            run.append(f"sa{p.index}")
    cur = flush()
    total = timeline.duration
    # The film's own fade at its end takes the whole mix, with the picture: silent over the
    # last frame, as the picture is black.
    mixed = "mixed" if timeline.ending > 0 else out

    if music is None or music_input is None:
        chains.append(f"[{cur}]anull[{mixed}]")
    else:
        m = (
            f"[{music_input}:a:0]{fmt},atrim=start={_t(music.start)},asetpts=PTS-STARTPTS,"
            f"apad,atrim=duration={_t(total)},volume={music.volume:g}"
        )
        fade = min(music.fade_out, total)
        if fade > 0:
            m += f",afade=t=out:st={_t(total - fade)}:d={_t(fade)}"
        chains.append(f"{m}[music]")
        if music.duck:
            chains.append(f"[{cur}]asplit=2[{label}][sidechain]")
            chains.append(
                "[music][sidechain]sidechaincompress=threshold=0.02:ratio=8:attack=10:release=400[ducked]"
            )
            chains.append(f"[{label}][ducked]amix=inputs=2:duration=first:normalize=0[{mixed}]")
        else:
            chains.append(f"[{cur}][music]amix=inputs=2:duration=first:normalize=0[{mixed}]")
    if mixed != out:
        start = max(timeline.ending_start, 0.0)
        chains.append(f"[{mixed}]afade=t=out:st={_t(start)}:d={_t(timeline.ending)}[{out}]")
    return chains
