"""The pipeline as its diagram reads: load, validate, compile, generate, stitch.

Each step is one call into its own module; the CLI calls these in order and does the talking
(plans, confirmations, progress) between them. Nothing here prints.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from storyboard import config
from storyboard.compiler import Plan, compile_plan
from storyboard.model import Storyboard
from storyboard.validate import load_storyboard

if TYPE_CHECKING:  # the stitcher pulls in video code: only the commands that cut import it
    from storyboard.stitch.spec import CutSpec, StitchResult


def load(path: Path) -> Storyboard:
    """Load and validate: every problem of the file at once, or a Storyboard."""
    return load_storyboard(Path(path))


def compile(sb: Storyboard, provider: str | None = None, *, need_key: bool = False) -> Plan:
    """Render prompts and build each shot's exact request for the provider; no network."""
    name = provider or sb.provider
    return compile_plan(sb, config.make_provider(name, sb.root, need_key=need_key))


@dataclass(frozen=True)
class PlannedShot:
    """A shot in a plan, with what render would do about it."""

    id: str
    symbol: str  # "+" generate, "~" changed since made (regenerate), "=" already made
    kind: str
    fingerprint: str
    credits: float | None
    usd: float | None


def plan_view(plan: Plan, force: Iterable[str] = ()) -> list[PlannedShot]:
    from storyboard.executor import shot_states

    forced = set(force)
    out = []
    for sp, st in zip(plan.shots, shot_states(plan), strict=True):
        symbol = {"made": "=", "changed": "~"}.get(st.state, "+")
        if sp.id in forced:
            symbol = "~" if symbol == "=" else symbol
        out.append(
            PlannedShot(sp.id, symbol, sp.compiled.shot.kind, sp.fingerprint, sp.cost.credits, sp.cost.usd)
        )
    return out


def output_path(sb: Storyboard, override: Path | None) -> Path:
    """`-o` wins over the storyboard's `output:`; a storyboard's own output stays in its folder."""
    if override is not None:
        return Path(override).resolve()
    return sb.output


def clips_made(sb: Storyboard, plan: Plan) -> tuple[dict[str, Path], list[str], list[str]]:
    """The clip of every shot that has one: (clips, shots using an older clip, shots with none).

    A shot whose current fingerprint is not made yet falls back to the last clip made for it,
    so `stitch` can re-cut after an edit without generating anything.
    """
    from storyboard.cache import Cache
    from storyboard.state import State

    cache = Cache(sb.state_dir)
    state = State.load(sb.state_dir)
    clips: dict[str, Path] = {}
    stale: list[str] = []
    missing: list[str] = []
    for sp in plan.shots:
        if cache.has(sp.fingerprint):
            clips[sp.id] = cache.path(sp.fingerprint)
            continue
        last = state.last_made(sp.id)
        if last and cache.has(last):
            clips[sp.id] = cache.path(last)
            stale.append(sp.id)
        else:
            missing.append(sp.id)
    return clips, stale, missing


def cut_spec(plan: Plan, clips: dict[str, Path], output: Path) -> CutSpec:
    """What the stitcher makes: the shots in order with their trims, transitions and captions."""
    from storyboard.stitch.ffmpeg import probe
    from storyboard.stitch.spec import ClipCut, CutSpec, MusicSpec

    sb = plan.storyboard
    cuts = []
    for sp in plan.shots:
        shot = sp.compiled.shot
        cuts.append(
            ClipCut(
                shot_id=shot.id,
                path=clips[shot.id],
                trim=shot.trim,
                transition=shot.transition.type,
                transition_duration=shot.transition.duration,
                caption=sp.compiled.caption,
                keep_audio=shot.settings.audio,
            )
        )
    # The film takes the frame size most of its clips have (the storyboard's own size when
    # they disagree evenly), so that odd clips are fitted and matching ones can be copied.
    sizes = Counter(probe(c.path).size for c in cuts)
    size, n = sizes.most_common(1)[0]
    if size is None or (len(sizes) > 1 and n * 2 <= len(cuts)):
        size = sb.settings.size
    music = None
    if sb.music:
        m = sb.music
        music = MusicSpec(m.file, m.volume, m.duck, m.fade_out, m.loop, m.start)
    return CutSpec(
        clips=tuple(cuts),
        output=output,
        size=size,
        fps=24.0,
        music=music,
        burn_captions=sb.captions.burn,
        caption_position=sb.captions.position,
        caption_size=sb.captions.size,
    )


def stitch(
    plan: Plan,
    clips: dict[str, Path],
    output: Path,
    progress: Callable[[float], None] | None = None,
) -> StitchResult:
    """Cut the final film from the clips; the output is complete or absent."""
    from storyboard.stitch.cut import stitch as run_stitch

    output.parent.mkdir(parents=True, exist_ok=True)
    return run_stitch(cut_spec(plan, clips, output), progress)
