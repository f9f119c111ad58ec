"""A storyboard's plan, state and clips as the contact sheet's model.

Everything comes from one decision (plan.decide, clips checked by hash): each shot's state,
the clips a `stitch` would cut (the shot's own, else the last made for it, marked stale) and
the other takes made, as the cache has them intact; their stills are taken in a few threads (each is one short
ffmpeg run).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

from storyboard import pipeline
from storyboard.board.model import Asset
from storyboard.board.model import Shot as ShotSpec
from storyboard.media.ffmpeg import probe
from storyboard.media.packets import inspect_all
from storyboard.plan.compiler import ShotPlan
from storyboard.plan.decide import Decisions
from storyboard.report.model import Image, Report, Shot, Still, Take, Video
from storyboard.report.status import standing
from storyboard.report.stills import data_uri, stills
from storyboard.report.webfont import web_font
from storyboard.stitch.manifest import clips_of
from storyboard.store.cache import Cache

THUMB = 160  # pixels wide: the images a shot is sent with


def href(path: Path, page: Path) -> str:
    """A link from the page to a file, relative so the folder can move as a whole."""
    rel = os.path.relpath(Path(path).resolve(), Path(page).resolve().parent)
    return quote(Path(rel).as_posix())


def _transition(shot: ShotSpec) -> str:
    t = shot.transition
    return "cut" if t.type == "cut" else f"{t.type} {t.duration:g} s"


def _images(shot: ShotSpec) -> tuple[Image, ...]:
    """The images the shot is sent with, small and embedded where they are local files."""
    out = []
    if shot.kind != "reference" and shot.continues:
        out.append(Image(role="first frame", label=f"the last frame of {shot.continues}"))
    roles: list[tuple[str, Asset]] = (
        [("reference", a) for a in shot.references]
        if shot.kind == "reference"
        else [(r, a) for r, a in (("first frame", shot.first), ("last frame", shot.last)) if a is not None]
    )
    for role, asset in roles:
        uri = data_uri(asset.path, THUMB) if asset.path is not None and asset.path.is_file() else None
        out.append(Image(role=role, label=asset.label, data_uri=uri, url=asset.url))
    return tuple(out)


def _video(clip: Path, page: Path, seconds: float, size: tuple[int, int]) -> Video:
    return Video(href=href(clip, page), seconds=seconds, size=size)


def takes(
    decisions: Decisions,
    sp: ShotPlan,
    clip: Path | None,
    stale: bool,
    still_of: Callable[[Path], tuple[Video, tuple[Still, ...]]],
) -> tuple[Take, ...]:
    """The shot's takes side by side, the one the cut uses selected: its clip as a stitch
    would cut it (maybe an older one, stale), the others where decided made (intact)."""
    cache = Cache(decisions.plan.storyboard.state_dir)
    out = []
    for d in (d for d in decisions if d.shot.id == sp.id):
        entry = d.shot
        if entry.selected:
            path, old = clip, stale
        else:
            path, old = (cache.path(d.clip) if d.clip is not None else None), False
        if path is None:
            out.append(Take(number=entry.take, fingerprint=entry.fingerprint, selected=entry.selected))
            continue
        video, frames = still_of(path)
        out.append(Take(entry.take, path.stem, entry.selected, video=video, stills=frames, stale=old))
    return tuple(out)


def gather(plan: pipeline.Plan, film: Path, page: Path) -> Report:
    """The contact sheet of `plan` whose film is (or will be) `film`, for a page at `page`."""
    sb = plan.storyboard
    decisions = pipeline.decide(plan, deep=True)
    made = pipeline.clips_made(plan, decisions)
    clips, stale = made.clips, made.stale
    now = standing(decisions)
    found = inspect_all(list(clips.values())) if clips else []
    facts: dict[Path, tuple[float, float, tuple[int, int]]] = {}
    for path, f in zip(clips.values(), found or [], strict=False):
        v = f.info.video
        if f.video is not None and v is not None:
            facts[path] = (f.video.length, v.fps, (v.width, v.height))
    with tempfile.TemporaryDirectory(prefix="storyboard-report-") as tmp:

        def still_of(clip: Path) -> tuple[Video, tuple[Still, ...]]:
            seconds, fps, size = facts.get(clip) or _probe(clip)
            return _video(clip, page, seconds, size), stills(clip, seconds, fps, Path(tmp) / clip.stem[:16])

        def shot(sp: ShotPlan) -> Shot:
            s = sp.compiled.shot
            return Shot(
                index=s.index,
                id=s.id,
                kind=s.kind,
                prompt=sp.compiled.prompt,
                provider=sp.maker.name,  # a film's shots may go to several
                cost=sp.cost,
                free=sp.maker.free,
                status=now.shots[s.id],
                trim=s.trim,
                transition=_transition(s),
                caption=sp.compiled.caption,
                caption_missing=_missing(sp.compiled.caption, sb.captions.font),
                images=_images(s),
                takes=takes(decisions, sp, clips.get(s.id), s.id in stale, still_of),
            )

        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 2)) as pool:
            shots = tuple(pool.map(shot, plan.shots))
    cost = now.cost
    film_video = None
    cut_from = clips_of(film)
    ours = [made.clips[sp.id].resolve() for sp in plan.shots if sp.id in made.clips]
    other = film.is_file() and cut_from is not None and cut_from != ours
    if film.is_file() and not other:  # the page plays the film of these shots, not another's
        info = probe(film)
        size = (info.video.width, info.video.height) if info.video else (0, 0)
        film_video = Video(href=href(film, page), seconds=info.duration, size=size)
    shown = sb.title + "".join(sp.compiled.caption or "" for sp in plan.shots)
    shown += "".join(c for sp in plan.shots for c in sp.compiled.prompt if not c.isascii())
    return Report(
        font=web_font(sb.captions.font, shown),
        title=sb.title,
        storyboard=str(sb.path),
        provider=", ".join(p.name for p in plan.providers),
        free=all(p.free for p in plan.providers),
        shots=shots,
        film=film_video,
        film_other=other,
        provider_option=plan.provider.name != sb.provider and not plan.routed,
        cost=cost,
        generated=dt.datetime.now(dt.timezone.utc).astimezone().isoformat(timespec="seconds"),
    )


def _missing(caption: str | None, font: Path | None) -> str | None:
    """The caption's characters no font can draw, said as validate says them."""
    if not caption or caption.isascii():
        return None
    from storyboard.media.fonts import choose_font, describe_missing  # lazy: start-up

    missing = choose_font(caption, font).missing
    return describe_missing(missing) if missing else None


def _probe(clip: Path) -> tuple[float, float, tuple[int, int]]:
    info = probe(clip)
    v = info.video
    return info.duration, (v.fps if v else 24.0), ((v.width, v.height) if v else (0, 0))
