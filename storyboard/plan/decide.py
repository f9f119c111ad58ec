"""What a render does to each shot: the one decision that plan, status, the spend prompt,
`--budget`, render, stitch, report, select and diff all read. Nothing else decides.

It is the whole render: every shot and take (Decision), the clip the cut uses for each
(Decision.clip: its own, or the last intact one made for it, stale), the tasks of earlier
versions still running that a render polls for free (Decisions.orphans), and the cost
(Decisions.cost). Where a shot stands is a store.stand.Stand (Decision.state).

    forced (or continuing a forced shot)     -> regenerate (forced | parent), or generate if never made
    its clip is in the cache, intact         -> cached
    the journal has its task                 -> resume (submitted: poll it; done: fetch the clip
                                                again), or uncertain (sending / uncertain: the
                                                service may have it; adopt or force)
                                                failed -> generate again where the provider
                                                refunds failed jobs; else failed: it stays so
                                                (nothing sent) until --force, which plan prices
    an earlier clip of the shot exists       -> regenerate (edited), or (parent) where only the
                                                shot it continues changed since
    otherwise                                -> generate (new)
    a paid shot continuing one that cannot be made in this render -> blocked

A free provider (Provider.free: the preview) is journaled like any other, and a shot it
would fetch again or leave uncertain is simply made again: nothing can be paid twice.

Only `generate` and `regenerate` spend. Two shots with the same fingerprint share one
request and one clip: the second `shares` the first and costs nothing. No network, nothing
heavy: plan and status import this, not the executor.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from enum import Enum

from storyboard.errors import ConfigError
from storyboard.money import Totals
from storyboard.plan.compiler import Plan, ShotPlan, fingerprint, totals
from storyboard.providers.base import Provider, Task
from storyboard.store.cache import Cache, Integrity
from storyboard.store.stand import Stand
from storyboard.store.state import State, TaskRecord


class Action(str, Enum):
    GENERATE = "generate"  # never made: a paid request
    REGENERATE = "regenerate"  # made before (or forced): a paid request again
    RESUME = "resume"  # paid already: poll the recorded task, download its clip (free)
    CACHED = "cached"  # its clip is made and intact
    UNCERTAIN = "uncertain"  # a request whose answer was lost: adopt its task id, or force it
    BLOCKED = "blocked"  # it continues a shot this render cannot make
    FAILED = "failed"  # its job failed at a service that may have charged: --force makes it again

    @property
    def symbol(self) -> str:
        return SYMBOLS[self]

    @property
    def paid(self) -> bool:
        return self in (Action.GENERATE, Action.REGENERATE)


SYMBOLS = {
    Action.GENERATE: "+",
    Action.REGENERATE: "~",
    Action.RESUME: ">",
    Action.CACHED: "=",
    Action.UNCERTAIN: "?",
    Action.BLOCKED: "!",
    Action.FAILED: "x",
}


class Why(str, Enum):
    NEW = "new"  # never generated
    EDITED = "edited"  # its request changed since its clip was made
    FORCED = "forced"  # --force names it
    PARENT = "parent"  # it continues a shot that is regenerated: its first frame changes
    RETRY = "retry"  # its last request failed (refunded) or was not taken
    CHARGED = "charged"  # its job failed, and the service charges (or may charge) for that
    REFETCH = "refetch"  # paid for; its clip is missing or damaged: fetched again, free
    POLL = "poll"  # submitted: the task is polled
    LOST = "lost"  # the answer to its request was lost
    WAITS = "waits"  # it continues a shot that cannot be made in this render
    MADE = "made"


@dataclass(frozen=True)
class Decision:
    shot: ShotPlan
    action: Action
    why: Why
    record: TaskRecord | None = None  # the journal's latest request for this fingerprint
    parent: str | None = None  # PARENT, WAITS: the shot it continues
    shares: str | None = None  # an earlier shot with the same request: its clip serves both
    integrity: Integrity | None = None  # the cached clip's check, when one is cached
    charges: str = ""  # CHARGED: whether the provider charges for failed jobs, in words
    clip: str | None = None  # the fingerprint of the clip the cut (or, for a take, its row) uses
    #   now: its own when cached, else for the cut's take the last intact one made for the shot

    @property
    def shot_id(self) -> str:
        """Its key: the shot's id for the take the cut uses, `id@K` for another take."""
        return self.shot.key

    @property
    def is_take(self) -> bool:
        """Another take of a shot, made and kept beside the one the cut uses."""
        return not self.shot.selected

    @property
    def fingerprint(self) -> str:
        return self.shot.fingerprint

    @property
    def paid(self) -> bool:
        """This shot is sent, and paid for, by the render."""
        return self.action.paid and self.shares is None

    @property
    def state(self) -> Stand:
        """Where the shot stands, as status says: new, submitted, made, failed, uncertain."""
        if self.action is Action.CACHED:
            return Stand.MADE
        if self.action is Action.RESUME:
            return Stand.SUBMITTED
        if self.action is Action.UNCERTAIN:
            return Stand.UNCERTAIN
        if self.action is Action.FAILED:
            return Stand.FAILED
        if (
            self.record is not None
            and self.record.status is Stand.FAILED
            and self.why in (Why.RETRY, Why.WAITS)
        ):
            return Stand.FAILED
        return Stand.NEW

    @property
    def stale(self) -> bool:
        """The cut uses an older clip of the shot (it changed since, and is not made yet)."""
        return self.clip is not None and self.clip != self.fingerprint

    @property
    def journal_behind(self) -> bool:
        """Its clip is cached and the journal still has its request in flight: a render was
        killed between caching the clip and recording it. Render records it, free."""
        return (
            self.action is Action.CACHED
            and self.record is not None
            and self.record.status in (Stand.SUBMITTED, Stand.SENDING)
        )

    @property
    def reason(self) -> str:
        """Why, in words, for plan and status."""
        rec = self.record
        if self.shares:
            return f"same request as shot {self.shares!r}: one clip serves both"
        return {
            Why.NEW: "not made yet",
            Why.EDITED: "changed since its clip was made",
            Why.FORCED: "forced",
            Why.PARENT: f"it continues shot {self.parent!r}, which is regenerated",
            Why.RETRY: f"its last request failed: {rec.reason}" if rec and rec.reason else "retry",
            Why.CHARGED: (
                f"its job failed: {rec.reason if rec and rec.reason else 'no reason given'}; "
                f"{self.charges} for failed jobs, so it is not sent again on its own: "
                f"--force {self.shot_id} makes it again"
            ),
            Why.REFETCH: "paid for; its clip is fetched again (free)",
            Why.POLL: _submitted(rec),
            Why.LOST: (rec.reason if rec and rec.reason else "its request's answer was lost"),
            Why.WAITS: f"it continues shot {self.parent!r}, which cannot be made in this render",
            Why.MADE: "made",
        }[self.why]


def _submitted(rec: TaskRecord | None) -> str:
    if rec is None:
        return "submitted"
    stalled = f"; left stalled last time: {rec.reason}" if rec.reason else ""  # polled again, free
    return f"submitted as task {rec.task_id}{stalled}"


class Decisions:
    """Every shot's decision, in storyboard order."""

    def __init__(
        self,
        plan: Plan,
        items: list[Decision],
        forced: frozenset[str],
        orphans: Iterable[Task] = (),
    ) -> None:
        self.plan = plan
        self.items = tuple(items)
        self.forced = forced  # the shots forced, followers included
        # tasks of earlier versions of shots, still running at the service: paid for, so a
        # render polls them (free) and keeps their clips (a later edit back reuses them)
        self.orphans = tuple(orphans)
        # a job that fails in this render is sent again on its own only where that is free
        self.refunded = all(p.refunds_failures is True for p in plan.providers)
        self._by_id = {d.shot_id: d for d in items}

    def __iter__(self) -> Iterator[Decision]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, shot_id: str) -> Decision:
        return self._by_id[shot_id]

    def of(self, *actions: Action) -> list[Decision]:
        return [d for d in self.items if d.action in actions]

    @property
    def paid(self) -> list[Decision]:
        return [d for d in self.items if d.paid]

    def cost(self) -> Totals:
        return totals(d.shot for d in self.paid)

    def counts(self) -> dict[Action, int]:
        return {a: sum(1 for d in self.items if d.action is a) for a in Action}

    @property
    def cut(self) -> list[Decision]:
        """The decisions of the takes the cut uses, one per shot, in storyboard order."""
        return [d for d in self.items if not d.is_take]

    def clips(self) -> dict[str, str]:
        """The clip (fingerprint) the cut uses for every shot that has one."""
        return {d.shot_id: d.clip for d in self.cut if d.clip is not None}


def check_force(plan: Plan, force: Iterable[str]) -> frozenset[str]:
    """The forced shots (by key: a shot's id, or `id@K` for another of its takes), or
    ConfigError when one names no shot of the storyboard."""
    names = list(force)
    unknown = sorted(n for n in names if plan.key_of(n) is None)
    if unknown:
        known = [s.key for s in plan.entries]
        raise ConfigError(
            f"--force names no shot of this storyboard: {', '.join(unknown)}",
            hint="shots: " + ", ".join(known),
        )
    return frozenset(k for k in map(plan.key_of, names) if k is not None)


def followers(plan: Plan, forced: frozenset[str]) -> dict[str, str]:
    """Every shot that continues a forced one, transitively: {shot: the shot it continues}.
    Its first frame (or extended task) changes, so it must be made again too."""
    out: dict[str, str] = {}
    chosen = set(forced)
    for sp in plan.shots:  # a shot continues only an earlier one: one pass is transitive
        parent = sp.compiled.shot.continues
        if parent in chosen and sp.id not in chosen:
            chosen.add(sp.id)
            out[sp.id] = parent
    return out


def decide(
    plan: Plan,
    state: State | None = None,
    cache: Cache | None = None,
    force: Iterable[str] = (),
    *,
    deep: bool = False,
) -> Decisions:
    """What a render of `plan` does to each shot, from the journal and the cache (see the
    module docstring). `deep` checks cached clips by hash as well as by size (render and
    stitch do; plan and status, which must be quick, check sizes)."""
    sd = plan.storyboard.state_dir
    state = State.of(plan.storyboard) if state is None else state
    cache = Cache(sd) if cache is None else cache
    named = check_force(plan, force)
    follows = followers(plan, named)
    forced = named | frozenset(follows)
    seen: dict[str, Decision] = {}  # fingerprint -> the first shot's decision
    out: list[Decision] = []
    for sp in plan.entries:
        first = seen.get(sp.fingerprint)
        if first is not None:
            out.append(Decision(sp, first.action, first.why, first.record, first.parent, first.shot_id))
            continue
        maker = sp.maker  # each shot's own provider (plan.route, where the film names several)
        free = maker.free
        rec = state.task(sp.fingerprint)
        if rec is not None and (rec.provider != maker.name or (free and rec.status in _MADE_AGAIN_WHEN_FREE)):
            rec = None
        integrity = cache.integrity(sp.fingerprint, state.clip(sp.fingerprint), deep=deep)
        last = state.last_made(sp.id, maker.name) if sp.selected else None  # other takes: their own
        d = _one(sp, rec, integrity, last, forced, follows, free, charges(plan, maker))
        if d.why is Why.EDITED and _only_parent_changed(plan, state, sp, last):
            d = Decision(sp, d.action, Why.PARENT, parent=sp.compiled.shot.continues, integrity=integrity)
        seen[sp.fingerprint] = d
        out.append(d)
    made = [replace(d, clip=_clip(d, state, cache, d.shot.maker.name, deep)) for d in _blocked(plan, out)]
    ours = {sp.fingerprint for sp in plan.entries}
    orphans = [
        t for p in plan.reachable if not p.free for t in state.pending(p.name) if t.fingerprint not in ours
    ]
    return Decisions(plan, made, forced, orphans)


def _clip(d: Decision, state: State, cache: Cache, provider: str, deep: bool) -> str | None:
    """The clip its row uses now: its own when cached; for the take the cut uses, else the last
    intact clip made for the shot (stale: `stitch` re-cuts after an edit without generating)."""
    if d.action is Action.CACHED:
        return d.fingerprint
    if d.is_take:
        return None
    last = state.last_made(d.shot.id, provider)
    if last and cache.integrity(last, state.clip(last), deep=deep) is Integrity.INTACT:
        return last
    return None


def _one(
    sp: ShotPlan,
    rec: TaskRecord | None,
    integrity: Integrity,
    last: str | None,
    forced: frozenset[str],
    follows: dict[str, str],
    free: bool,
    charged: str | None,
) -> Decision:
    made_before = integrity is not Integrity.ABSENT or rec is not None or last is not None
    if sp.key in forced:
        why = Why.PARENT if sp.key in follows else Why.FORCED
        action = Action.REGENERATE if made_before else Action.GENERATE
        return Decision(sp, action, why, rec, follows.get(sp.key), integrity=integrity)
    if integrity is Integrity.INTACT:
        return Decision(sp, Action.CACHED, Why.MADE, rec, integrity=integrity)
    if rec is not None:
        if rec.status is Stand.SUBMITTED:
            return Decision(sp, Action.RESUME, Why.POLL, rec, integrity=integrity)
        if rec.status is Stand.MADE:  # paid and fetched once; the clip is gone or damaged
            return Decision(sp, Action.RESUME, Why.REFETCH, rec, integrity=integrity)
        if rec.status in (Stand.SENDING, Stand.UNCERTAIN):
            return Decision(sp, Action.UNCERTAIN, Why.LOST, rec, integrity=integrity)
        # a job the service took and failed, where that may be paid for: the user decides (a
        # request it provably did not take has no task id, and is sent again: nothing was charged)
        if charged is not None and rec.status is Stand.FAILED and rec.task_id is not None:
            return Decision(sp, Action.FAILED, Why.CHARGED, rec, integrity=integrity, charges=charged)
        action = Action.REGENERATE if last is not None else Action.GENERATE
        return Decision(sp, action, Why.RETRY, rec, integrity=integrity)
    if integrity is Integrity.DAMAGED:  # a free provider makes it again
        action = Action.REGENERATE if free else Action.RESUME
        return Decision(sp, action, Why.REFETCH, None, integrity=integrity)
    if last is not None and last != sp.fingerprint:
        return Decision(sp, Action.REGENERATE, Why.EDITED, integrity=integrity)
    return Decision(sp, Action.GENERATE, Why.NEW, integrity=integrity)


def _only_parent_changed(plan: Plan, state: State, sp: ShotPlan, last: str | None) -> bool:
    """Whether a shot's request is as it was when its last clip was made, and only the shot
    it continues has changed since: its fingerprint, with the parent's last clip in place of
    the parent's new one, is its last clip's."""
    parent = sp.compiled.shot.continues
    if parent is None or last is None:
        return False
    before = state.last_made(parent, plan.shot(parent).maker.name)
    return before is not None and fingerprint(sp.maker, sp.compiled, before, sp.take) == last


def charges(plan: Plan, provider: Provider | None = None) -> str | None:
    """None where the provider (the plan's, unless given: a shot's) refunds failed jobs
    (resubmitting one is free); else what it does, in words: it charges for them, or nobody knows."""
    provider = plan.provider if provider is None else provider
    if provider.refunds_failures is True:
        return None
    if provider.refunds_failures is False:
        return f"{provider.name} charges"
    return f"{provider.name} may charge"


_MADE_AGAIN_WHEN_FREE = (Stand.MADE, Stand.SENDING, Stand.UNCERTAIN)


def _blocked(plan: Plan, decisions: list[Decision]) -> list[Decision]:
    """A paid shot whose parent is uncertain or blocked waits: it is not sent this render."""
    by_id: dict[str, Decision] = {}  # by key: a parent is the take of it the cut uses (its id)
    out = []
    for d in decisions:
        parent = d.shot.compiled.shot.continues
        up = by_id.get(parent) if parent else None
        if (
            d.action.paid
            and up is not None
            and up.action in (Action.UNCERTAIN, Action.BLOCKED, Action.FAILED)
        ):
            d = Decision(d.shot, Action.BLOCKED, Why.WAITS, d.record, parent, d.shares, d.integrity)
        by_id[d.shot_id] = d
        out.append(d)
    return out
