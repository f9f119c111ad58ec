"""What changed in a storyboard between a revision and the working copy, and what it costs.

Shots are matched by id. For each: how it changed (its prompt as sent, the images it is sent
with, its settings, its type, what it continues, the provider; or only how the film is cut:
trim, transition, caption, its sound, its place) and whether its request, hence its
fingerprint, changed. What it costs is not worked out here: both revisions are decided
(plan.decide, each from this folder's state and cache) and compared. The change costs what the
working copy's decisions pay for that the revision's did not (a new or changed shot whose clip
is not made; a request the revision also had to pay for is not the change's); beside it, what a
render here would do now (the working copy's decisions), in the plan's symbols.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field

from storyboard.board.model import Storyboard
from storyboard.hashing import file_sha256
from storyboard.money import Money, Totals
from storyboard.plan.compiler import Plan, ShotPlan, totals
from storyboard.plan.decide import Action, Decisions


class Change(str, enum.Enum):
    ADDED = "added"  # + a new shot: generated
    CHANGED = "changed"  # ~ its request changed: generated again
    CUT = "cut"  # = its clip serves as it is: only how the film uses it changed (or what the
    #               provider is not sent: a setting it ignores, an image file behind the same URL)
    SAME = "same"  # = nothing changed
    REMOVED = "removed"  # - no longer in the film

    @property
    def symbol(self) -> str:
        return {"added": "+", "changed": "~", "cut": "=", "same": "=", "removed": "-"}[self.value]


# What can differ about a shot: what it is sent as (its request), and how the film uses it.
REQUEST_ASPECTS = ("provider", "prompt", "images", "settings", "type", "continues")
CUT_ASPECTS = ("trim", "transition", "caption", "sound", "order")


@dataclass(frozen=True)
class ShotDiff:
    id: str
    change: Change
    aspects: tuple[str, ...] = ()  # of REQUEST_ASPECTS and CUT_ASPECTS, in that order
    old_fingerprint: str | None = None
    new_fingerprint: str | None = None
    cost: Money = field(default_factory=Money)  # what generating it costs (added or changed)
    render: Action | None = None  # what a render here would do now (plan.decide's action)
    render_symbol: str | None = None
    notes: tuple[str, ...] = ()  # e.g. an image file changed but the request did not
    pays: bool = False  # the change pays for it (as the two revisions' decisions say)

    @property
    def paid(self) -> bool:
        """It is generated to merge the change: added or changed (its cost may be 0, made already)."""
        return self.change in (Change.ADDED, Change.CHANGED)


@dataclass(frozen=True)
class Diff:
    rev: str
    commit: str
    path: str  # the storyboard's path in the repository
    old_provider: str | None  # None: the storyboard did not exist at the revision
    new_provider: str
    free: bool  # the working copy's provider costs nothing (Provider.free)
    shots: tuple[ShotDiff, ...]
    film: tuple[str, ...] = ()  # what changed about the whole film (music, captions, title...)
    cost: Totals = field(default_factory=lambda: totals([]))  # of the change
    render_cost: Totals = field(default_factory=lambda: totals([]))  # of a render here, now

    def count(self, change: Change) -> int:
        return sum(1 for s in self.shots if s.change is change)

    @property
    def changed(self) -> bool:
        return bool(self.film) or any(s.change is not Change.SAME for s in self.shots)


def _images(sp: ShotPlan) -> list[tuple[str | None, str | None]]:
    """What identifies each image the shot is sent with: its URL and its bytes."""
    out = []
    for a in sp.compiled.shot.images:
        digest = file_sha256(a.path) if a.path is not None and a.path.is_file() else None
        out.append((a.url, digest))
    return out


def _settings(sp: ShotPlan) -> tuple[object, ...]:
    s = sp.compiled.shot.settings
    return (s.aspect_ratio, s.resolution, s.model, s.seed)


def _request_aspects(old: ShotPlan, new: ShotPlan, old_plan: Plan, new_plan: Plan) -> list[str]:
    o, n = old.compiled.shot, new.compiled.shot
    checks = {
        "provider": old_plan.provider.name != new_plan.provider.name,
        "prompt": old.compiled.prompt != new.compiled.prompt,
        "images": _images(old) != _images(new),
        "settings": _settings(old) != _settings(new),
        "type": o.kind != n.kind,
        "continues": o.continues != n.continues,
    }
    return [name for name in REQUEST_ASPECTS if checks[name]]


def _cut_aspects(old: ShotPlan, new: ShotPlan) -> list[str]:
    o, n = old.compiled.shot, new.compiled.shot
    checks = {
        "trim": o.trim != n.trim,
        "transition": o.transition != n.transition,
        "caption": old.compiled.caption != new.compiled.caption,
        "sound": o.settings.audio != n.settings.audio,
        "order": o.index != n.index,
    }
    return [name for name in CUT_ASPECTS if checks[name]]


def _film(old: Storyboard, new: Storyboard) -> list[str]:
    """What changed about the whole film, beyond its shots."""

    def music(sb: Storyboard) -> tuple[object, ...] | None:
        m = sb.music
        if m is None:
            return None
        digest = file_sha256(m.file) if m.file.is_file() else None
        return (digest, m.volume, m.duck, m.fade_out, m.loop, m.start)

    out = []
    if music(old) != music(new):
        out.append("music")

    def captions(sb: Storyboard) -> tuple[object, ...]:
        c = sb.captions  # the font by what it holds, not where this revision's copy lies
        font: object = None
        if c.font is not None:
            font = file_sha256(c.font) if c.font.is_file() else os.path.relpath(c.font, sb.root)
        return (c.burn, c.position, c.size, font)

    if captions(old) != captions(new):
        out.append("captions")
    if old.ending != new.ending:
        out.append("ending")
    if old.title != new.title:
        out.append("title")
    if old.output.relative_to(old.root) != new.output.relative_to(new.root):
        out.append("output")
    return out


def compare(
    old: Decisions | None,
    new: Decisions,
    *,
    rev: str = "HEAD",
    commit: str = "",
    path: str = "",
) -> Diff:
    """The change from the revision's decisions (`old`; None: the storyboard is new) to the
    working copy's (`new`), both decided from this folder's state."""
    old_plan, new_plan = (old.plan if old else None), new.plan
    old_shots = {s.id: s for s in old_plan.shots} if old_plan else {}
    new_ids = {s.id: s for s in new_plan.shots}
    paid_before = {d.fingerprint for d in old.paid} if old else set()
    shots: list[ShotDiff] = []
    paid: list[ShotPlan] = []  # what the change pays for: one per request (`shares` costs nothing)
    for d in new.cut:
        sp = d.shot
        pays = d.paid and d.fingerprint not in paid_before  # the decisions say, not this module
        cost: Money = sp.cost if pays else Money()
        if pays:
            paid.append(sp)
        action, symbol = d.action, d.action.symbol
        before = old_shots.get(sp.id)
        if before is None or old_plan is None:
            shots.append(
                ShotDiff(sp.id, Change.ADDED, (), None, sp.fingerprint, cost, action, symbol, (), pays)
            )
            continue
        request = _request_aspects(before, sp, old_plan, new_plan)
        cut = _cut_aspects(before, sp)
        notes: list[str] = []
        if before.fingerprint != sp.fingerprint:
            change = Change.CHANGED
            if not d.paid and not d.shares:
                notes.append("its clip is made already: nothing to pay")
            parent = sp.compiled.shot.continues
            if parent and "continues" not in request:
                p_old, p_new = old_shots.get(parent), new_ids.get(parent)
                if p_old and p_new and p_old.fingerprint != p_new.fingerprint:
                    request.append("continues")
                    notes.append(f"it continues {parent!r}, which changed: its first frame changes")
            if not request:
                request = ["request"]  # something else in what the provider is sent changed
        else:
            if request:
                notes.append(
                    f"{', '.join(request)} changed, but {new_plan.provider.name} is sent the same "
                    "request: its clip serves as it is"
                )
            change = Change.CUT if request or cut else Change.SAME
        shots.append(
            ShotDiff(
                sp.id,
                change,
                tuple(request + cut),
                before.fingerprint,
                sp.fingerprint,
                cost,
                action,
                symbol,
                tuple(notes),
                pays,
            )
        )
    for sid, gone in old_shots.items():
        if sid not in new_ids:
            shots.append(ShotDiff(sid, Change.REMOVED, (), gone.fingerprint, None))
    return Diff(
        rev=rev,
        commit=commit,
        path=path,
        old_provider=old_plan.provider.name if old_plan else None,
        new_provider=new_plan.provider.name,
        free=new_plan.provider.free,
        shots=tuple(shots),
        film=tuple(_film(old_plan.storyboard, new_plan.storyboard)) if old_plan else (),
        cost=totals(paid),
        render_cost=new.cost(),
    )
