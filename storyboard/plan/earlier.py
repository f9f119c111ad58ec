"""Clips and tasks made under the fingerprint's version 2, found once and kept under version 3.

Version 3 of the fingerprint (plan.compiler) added the request's method and URL path, so every
fingerprint changed once: without this, a shot made before would look edited and be paid for
again. A shot with nothing under its fingerprint is looked up under the one version 2 gave it
(the same material without the request line); what the journal or the cache holds there for
the same shot is re-keyed to the new fingerprint: the clip by a second name (a hard link, or
an atomic copy), the records in one atomic write of the state, under the render lock. The
shot is then cached, resumed, uncertain or failed exactly as it was: never sent again.

Only where version 2 told the shot's request apart from every other that version 3 tells
apart; otherwise the old record may be another request's, and is left alone:

- the path depends on something version 2 did not hash: the model named only in the URL path
  (a version-2 record may then be of another model's endpoint), or a provider option that
  changes the path without being in the body (another model named for `quality`);
- an image sent inline: version 2 hashed its placeholder (the file's name), not its bytes;
- a shot continuing one that is itself not told apart;
- a free provider: nothing is paid, it renders again.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from storyboard.atomic import second_name
from storyboard.errors import LockError
from storyboard.plan.compiler import Plan, ShotPlan, digest, material, request_line
from storyboard.providers.base import CompiledShot, NeedKind, Provider
from storyboard.store.cache import Cache
from storyboard.store.layout import Layout
from storyboard.store.lock import acquire
from storyboard.store.state import State

VERSION = 2
# what version 2 knew of a need: an upload's bytes were hashed; a parent's frame or task stood
# by the parent's fingerprint. Inline bytes and local frame files came later.
_KNOWN_NEEDS = (NeedKind.UPLOAD, NeedKind.LAST_FRAME, NeedKind.TASK_ID)


def _v2(provider: Provider, compiled: CompiledShot, parent: str | None, take: int) -> dict[str, Any]:
    out = material(provider, compiled, parent, take)
    out.pop("request")
    out["v"] = VERSION
    return out


def _others(provider: Provider, compiled: CompiledShot) -> Iterator[tuple[Provider, CompiledShot]]:
    """The requests version 2 might have confused this one with: the shot at each of the
    provider's models, with its options as given and as they are by default."""
    makers = [provider]
    default = provider.Options.parse(None, provider.name)
    if default != provider.options:
        other = copy.copy(provider)
        other.options = default
        makers.append(other)
    caps = provider.capabilities
    models = caps.models if caps is not None and caps.models else (compiled.shot.settings.model,)
    for maker in makers:
        for model in models:
            shot = replace(compiled.shot, settings=replace(compiled.shot.settings, model=model))
            yield maker, replace(compiled, shot=shot)


def fingerprint_v2(
    provider: Provider, compiled: CompiledShot, parent: str | None, take: int = 1
) -> str | None:
    """The shot's fingerprint as version 2 computed it (`parent`: the version-2 fingerprint of
    the shot it continues), or None where version 2 could not tell it from another request."""
    if provider.free:
        return None
    if compiled.shot.continues and parent is None:
        return None
    _, needs = provider.shot_body(compiled)
    if any(n.kind not in _KNOWN_NEEDS for n in needs):
        return None
    mine = _v2(provider, compiled, parent, take)
    line = request_line(provider, compiled)
    for maker, other in _others(provider, compiled):
        try:
            theirs = _v2(maker, other, parent, take)
        except Exception:  # a request the provider would not build is no one's record
            continue
        if theirs == mine and request_line(maker, other) != line:
            return None
    return digest(mine)


def earlier_keys(plan: Plan) -> list[tuple[ShotPlan, str]]:
    """(shot, its version-2 fingerprint) for every take version 2 told apart."""
    parents: dict[str, str | None] = {}
    out: list[tuple[ShotPlan, str]] = []
    for sp in plan.entries:  # a shot continues only an earlier one
        up = sp.compiled.shot.continues
        old = fingerprint_v2(
            sp.maker, sp.compiled, parents.get(up) if up else None, sp.take
        )  # the shot's own
        if sp.selected:
            parents[sp.id] = old
        if old is not None and old != sp.fingerprint:
            out.append((sp, old))
    return out


@dataclass(frozen=True)
class Found:
    shot: ShotPlan
    old: str  # its version-2 fingerprint, under which the state or the cache has it


def found(plan: Plan, state: State, cache: Cache) -> list[Found]:
    """The shots with nothing under their fingerprint and a record of the same shot, by the
    same provider, under their version-2 fingerprint."""
    out: list[Found] = []
    for sp, old in earlier_keys(plan):
        provider = sp.maker.name  # a film's shots may go to several
        new = sp.fingerprint
        if state.task(new) is not None or state.clip(new) is not None:
            continue  # it has its own: nothing to look up
        names = {sp.id, sp.key}
        rec = state.task(old)
        if rec is not None:
            if rec.provider == provider and (rec.shot_id in names or names & set(rec.shots)):
                out.append(Found(sp, old))
            continue
        if state.clip(old) is not None or cache.has(old):
            made = (state.last_made(sp.id), state.last_made(sp.id, provider)) if sp.selected else ()
            if old in made:
                out.append(Found(sp, old))
    return out


def adopt_earlier(plan: Plan, state: State | None = None) -> list[str]:
    """Re-key what version 2 left for the plan's shots (see the module docstring); the keys
    of the shots adopted. `state`: the render's own, its lock held; without it the lock is
    taken only when there is something to adopt, and nothing is done while another command
    holds it (a render adopts for itself)."""
    sb = plan.storyboard
    cache = Cache(sb.state_dir)
    if state is not None:
        return _adopt(plan, state, cache)
    if not found(plan, State.of(sb), cache):
        return []
    with contextlib.suppress(LockError), acquire(sb.state_dir, "storyboard", storyboard=sb.path) as lock:
        return _adopt(plan, State.of(sb, lock=lock), cache)
    return []


def _adopt(plan: Plan, state: State, cache: Cache) -> list[str]:
    todo = found(plan, state, cache)
    if not todo:
        return []
    layout = Layout(plan.storyboard.state_dir)
    moves = {f.old: f.shot.fingerprint for f in todo}
    for old, new in moves.items():  # second names first: the state never names a missing file
        cache.link(old, new)
        second_name(layout.frame(old), layout.frame(new))
    state.rekey(moves)
    for old in moves:  # the state names only the new ones now
        cache.path(old).unlink(missing_ok=True)
        layout.frame(old).unlink(missing_ok=True)
    return [f.shot.key for f in todo]
