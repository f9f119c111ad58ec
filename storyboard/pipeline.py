"""The pipeline as its diagram reads: load, validate, compile, generate, stitch.

Each step is one call into its own module; the CLI calls these in order and does the talking
(plans, confirmations, progress) between them. Nothing here prints.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from storyboard import providers as installed
from storyboard.board.model import AUTO, Partial, Storyboard
from storyboard.errors import ConfigError, InputError, Problem, StoryboardError, ValidationError
from storyboard.load import filekind
from storyboard.plan.compiler import Plan, compile_plan, fingerprint, price
from storyboard.plan.route import Router, routed
from storyboard.providers import config, registry
from storyboard.validate.checks import load_storyboard, sort_problems

if TYPE_CHECKING:  # types only: decide is imported where a decision is made (start-up)
    from storyboard.plan.decide import Decisions
    from storyboard.providers.base import Provider
    from storyboard.stitch.spec import CutSpec, StitchResult


def load(path: Path, provider: str | None = None, text: str | None = None) -> Storyboard:
    """Load and validate: every problem of the file at once, or a Storyboard. A file with
    problems is also checked against what its provider (or `provider`) can do, so that those
    come in the same pass as the rest. `text`: the file as an editor holds it, unsaved."""
    try:
        return load_storyboard(Path(path), text)
    except ValidationError as e:
        if e.partial is None:
            raise
        said = {(p.path, p.message) for p in e.problems}
        more = [p for p in _provider_problems(e.partial, provider) if (p.path, p.message) not in said]
        if not more:
            raise
        raise ValidationError(sort_problems(e.problems + more), e.partial) from None


def _provider_problems(partial: Partial, provider: str | None) -> list[Problem]:
    """What the provider cannot do for the shots of a partial model that survived whole."""
    try:
        make_plan(partial.storyboard, provider)
    except ValidationError as e:
        kept = {f"shots[{i}]" for i in partial.shots}
        return [p for p in e.problems if not p.path.startswith("shots[") or p.path.split(".")[0] in kept]
    except KeyboardInterrupt:
        raise
    except BaseException:  # a best effort on a file already refused (a plugin's SystemExit too)
        return []
    return []


def make_plan(sb: Storyboard, provider: str | None = None, *, need_key: bool = False, takes: int = 1) -> Plan:
    """Render prompts and build each shot's exact request for the provider; no network.
    `takes`: at least this many takes of every shot (--takes)."""
    if provider is None and routed(sb):
        plan = _routed_plan(sb, takes=takes)
        for chosen in (
            plan.providers if need_key else ()
        ):  # routing took only those with a key: one it can send
            config.require_key(chosen, sb.root)
        return plan
    name = sb.provider if provider is None else provider
    options = sb.provider_options.get(name)
    try:
        made = config.make_provider(name, sb.root, options=options)
        plan = compile_plan(sb, made, takes=takes)  # what it cannot do is said before a missing key
    except StoryboardError:
        raise
    except (Exception, SystemExit) as e:  # a plugin's own code failed: said as its, plainly
        failed = registry.failure(name, e)
        if failed is None:
            raise  # a bug of ours
        raise failed from None
    if need_key:
        config.require_key(made, sb.root)
    return plan


def _routed_plan(sb: Storyboard, *, takes: int) -> Plan:
    """Each shot at the provider plan.route chooses among the storyboard's (a list, `auto`,
    a shot's own): every one of them made with its options and key; the journal says where a
    shot was made or sent before (it stays there)."""
    # the journal: only a film on several providers reads it here
    from storyboard.store.stand import Stand
    from storyboard.store.state import State

    names = [n for n in sb.providers if n != AUTO] + [s.provider for s in sb.shots if s.provider]
    if AUTO in sb.providers:
        names += installed.names()
    made: dict[str, Provider] = {}
    listed = set(names) - (set(installed.names()) - set(sb.providers)) if AUTO in sb.providers else set(names)
    for name in dict.fromkeys(names):
        try:
            made[name] = config.make_provider(name, sb.root, options=sb.provider_options.get(name))
        except ConfigError:
            if name in listed:  # named by the storyboard: its error
                raise
            # auto: a plugin that cannot be made is left out (the registry warned of it)
    state = State.of(sb)

    def in_journal(fp: str) -> bool:
        rec = state.task(fp)
        return state.clip(fp) is not None or (
            rec is not None and (rec.task_id is not None or rec.status in (Stand.SENDING, Stand.UNCERTAIN))
        )

    router = Router(
        sb,
        made,
        in_journal=in_journal,
        fingerprint=lambda p, cs, parent: fingerprint(p, cs, parent),
        usd=lambda p, cs, declared: price(p, cs, declared).usd,
    )
    first = next(iter(made.values()))
    return compile_plan(sb, first, takes=takes, router=router)


def decide(
    plan: Plan, force: Iterable[str] = (), *, deep: bool = False, here: Storyboard | None = None
) -> Decisions:
    """What a render would do to each shot (plan.decide): plan, status, the spend prompt,
    stitch, report, select and diff read this, and render decides the same way under its
    lock. `deep`: cached clips checked by hash (stitch, report), not only by size. `here`: the
    storyboard whose state and clips are read (diff decides a revision's plan by this folder's)."""
    from storyboard.plan.decide import decide as decide_shots  # lazy: start-up
    from storyboard.plan.earlier import adopt_earlier  # lazy: start-up
    from storyboard.store.cache import Cache  # lazy: start-up
    from storyboard.store.state import State  # lazy: start-up

    if here is None:  # once: what fingerprint version 2 made is not paid for again
        adopt_earlier(plan)
    sb = plan.storyboard if here is None else here
    return decide_shots(plan, State.of(sb), Cache(sb.state_dir), force, deep=deep)


def output_path(sb: Storyboard, override: Path | None) -> Path:
    """`-o` wins over the storyboard's `output:`. Either way the film must not overwrite
    anything that is not a film (the storyboard, its state, a folder, a FIFO, another kind of
    file), and its folder must take new files: all checked before any work, so that a render
    never generates or encodes a film it then cannot write."""
    path = Path(override).resolve() if override is not None else sb.output
    if path.suffix.lower() != ".mp4":
        inside = path / f"{sb.path.stem}.mp4" if path.is_dir() else path.with_suffix(".mp4")
        raise InputError(f"the output {path} must end in .mp4", hint=f"e.g. -o {inside}")
    what = filekind.kind(path)
    if what:
        raise InputError(f"the output {path} is {what}", hint="give a file name ending in .mp4")
    srt = path.with_suffix(".srt")  # the captions beside the film replace what is there
    if filekind.kind(srt) or srt.is_symlink():
        raise InputError(
            f"the captions beside the film, {srt}, would replace {filekind.kind(srt) or 'a link'}",
            hint="move it away, or give the film another name with -o",
        )
    folder = next((p for p in path.parents if p.exists()), None)
    if folder is not None and filekind.kind(folder) != "a folder":
        raise InputError(f"the output's folder {folder} is {filekind.kind(folder) or 'a file'}, not a folder")
    if path == sb.path or path.is_relative_to(sb.state_dir.resolve()) or path.is_relative_to(sb.state_dir):
        raise InputError(f"the output {path} would overwrite the storyboard or its state")
    if path.is_file() and not _is_mp4(path):
        raise InputError(
            f"{path} exists and is not an MP4 film: refusing to overwrite it",
            hint="choose another output, or remove that file yourself",
        )
    if folder is not None:
        _check_writable(folder, path)
    return path


def _check_writable(folder: Path, path: Path) -> None:
    """Create and remove a file (or, for a folder still to be made, a folder) where the film
    goes: the one test that holds for read-only mounts, /proc, quotas and root alike."""
    import tempfile  # lazy: start-up

    try:
        if folder == path.parent:
            fd, probe = tempfile.mkstemp(dir=folder, prefix=".storyboard-write-")
            os.close(fd)
            os.unlink(probe)
        else:
            os.rmdir(tempfile.mkdtemp(dir=folder, prefix=".storyboard-write-"))
    except OSError as e:
        raise InputError(
            f"cannot write the film {path}: {folder} does not take new files ({e.strerror or e})",
            hint="choose a folder you can write to, e.g. -o renders/film.mp4",
        ) from None


def _is_mp4(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            head = f.read(12)
    except OSError:
        return False
    return len(head) == 0 or head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide")


@dataclass(frozen=True)
class ClipsMade:
    clips: dict[str, Path]  # every shot that has a clip to cut with
    stale: list[str]  # shots cut with an older clip of theirs (changed since)
    missing: list[str]  # shots with no clip at all
    refetch: list[str] = field(default_factory=list)  # of those, paid for: a render fetches them free
    # of the stale, those whose own request is unchanged: the shot they continue changed
    parents: dict[str, str] = field(default_factory=dict)

    def refusal(self, path: Path) -> ConfigError:
        """Why the film cannot be cut yet, and what makes it possible."""
        many = len(self.missing) > 1
        free = [s for s in self.missing if s in self.refetch]
        if free and len(free) == len(self.missing):
            return ConfigError(
                f"the clip{'s' if many else ''} of shot{'s' if many else ''} {', '.join(free)} "
                f"{'are' if many else 'is'} missing or damaged (paid for already)",
                hint=f"`storyboard render {path}` fetches {'them' if many else 'it'} again, at no charge",
            )
        return ConfigError(
            f"no clip made yet for shot{'s' if many else ''} {', '.join(self.missing)}",
            hint=f"run `storyboard render {path}` first"
            + (f" (it fetches {', '.join(free)} again at no charge)" if free else ""),
        )


def clips_made(plan: Plan, decisions: Decisions | None = None) -> ClipsMade:
    """The clip of every shot that has one, as decided (`Decision.clip`: a shot whose current
    request is not made yet is cut with the last intact clip made for it, so `stitch` can
    re-cut after an edit without generating anything)."""
    from storyboard.plan.decide import Why  # lazy: start-up
    from storyboard.store.cache import Cache  # lazy: start-up

    decisions = decide(plan, deep=True) if decisions is None else decisions
    cache = Cache(plan.storyboard.state_dir)
    cut = decisions.cut
    return ClipsMade(
        clips={d.shot_id: cache.path(d.clip) for d in cut if d.clip is not None},
        stale=[d.shot_id for d in cut if d.stale],
        missing=[d.shot_id for d in cut if d.clip is None],
        refetch=[d.shot_id for d in cut if d.clip is None and d.why is Why.REFETCH],
        parents={
            d.shot_id: d.parent for d in cut if d.stale and d.why is Why.PARENT and d.parent is not None
        },
    )


def cut_spec(plan: Plan, clips: dict[str, Path], output: Path) -> CutSpec:
    """What the stitcher makes: the shots in order with their trims, transitions and captions."""
    # lazy: start-up (validate and plan load the pipeline; only the commands that cut need these)
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
    music = None
    if sb.music:
        m = sb.music
        music = MusicSpec(m.file, m.volume, m.duck, m.fade_out, m.loop, m.start)
    return CutSpec(
        clips=tuple(cuts),
        output=output,
        size=None,  # the stitcher takes the size most clips have, having looked at them anyway
        fallback_size=sb.settings.size,
        fps=24.0,
        music=music,
        burn_captions=sb.captions.burn or any(p.burns_captions for p in plan.providers),  # an animatic always
        caption_position=sb.captions.position,
        caption_size=sb.captions.size,
        caption_font=sb.captions.font,
        ending=sb.ending.duration if sb.ending.type == "fade" else 0.0,
    )


def stitch(
    plan: Plan,
    clips: dict[str, Path],
    output: Path,
    progress: Callable[[float], None] | None = None,
    *,
    engine: str = "ffmpeg",
) -> StitchResult:
    """Cut the final film from the clips; the output is complete or absent, and nothing is
    written when it is up to date. Scratch work goes in the state folder's tmp/ (removed on
    every exit), never in /tmp."""
    # lazy: start-up (the stitcher pulls in the video code: only the commands that cut load it)
    from storyboard.stitch.cut import stitch as run_stitch
    from storyboard.store.layout import Layout

    output.parent.mkdir(parents=True, exist_ok=True)
    spec = replace(cut_spec(plan, clips, output), work_dir=Layout(plan.storyboard.state_dir).tmp)
    return run_stitch(spec, progress, engine=engine)
