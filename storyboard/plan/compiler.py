"""Compile a storyboard for one provider: render prompts, check capabilities, build the exact
requests, price them (the provider's document, or the storyboard's declared price), and
fingerprint every shot.

A shot's fingerprint is a hash of everything that decides what the provider makes: the
provider, the method and URL path of the shot's request (a service may name the model in the
path), its exact body, its settings, the bytes of its local images, the provider options that
change what is made, and (for a shot that continues another) the fingerprint of that shot;
never the host (the path is taken below the base URL) nor the key. It is the key of the clip
cache and of the state render keeps: same fingerprint, same clip, never paid twice.

What a provider cannot do for a shot stops the plan (ValidationError, every problem at
once); what it will only not do as asked (a seed it cannot take) is a warning in
`Plan.warnings`, located like the errors, for the CLI to show.

Over 400 lines on purpose: a shot is rendered, checked, routed (plan.route), built, priced and
fingerprinted in one pass over the storyboard, each step reading the one before (a follower's
fingerprint is built on its parent's chosen provider); apart, each would compile it again.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from storyboard.board.model import CLIP_SECONDS, SETTING_NAMES, Storyboard
from storyboard.errors import Problem, Severity, ValidationError
from storyboard.hashing import file_sha256
from storyboard.money import Cost, Money, Price, PriceSource, Totals, total
from storyboard.prompts.templating import render_caption, render_prompt
from storyboard.providers.base import CompiledShot, HttpRequest, Provider
from storyboard.validate.checks import placeholder_urls, sort_problems
from storyboard.validate.glyphs import caption_warnings

if TYPE_CHECKING:
    from storyboard.plan.route import Route, Router

FINGERPRINT_VERSION = 3  # 3: the request's method and path are part of it


@dataclass(frozen=True)
class ShotPlan:
    compiled: CompiledShot
    fingerprint: str
    cost: Cost
    take: int = 1  # which variation of the shot (1-based; see `takes:`)
    seed: int | None = None  # the seed its request carries (None: it sends none)
    provider: Provider | None = None  # who makes it (compile_plan always sets it)
    route: Route | None = None  # why that provider, where the storyboard names several
    then: tuple[ShotPlan, ...] = ()  # the same shot at the next providers that can: a refusal passes it on

    @property
    def maker(self) -> Provider:
        """The provider that makes this shot."""
        assert self.provider is not None, "compile_plan sets every shot's provider"
        return self.provider

    @property
    def id(self) -> str:
        """The storyboard shot's id (what a provider is told)."""
        return self.compiled.id

    @property
    def selected(self) -> bool:
        """The take the cut uses."""
        return self.take == self.compiled.shot.select

    @property
    def key(self) -> str:
        """How plans, status and events name it: the shot's id for the take the cut uses,
        `id@K` for its other takes."""
        return self.id if self.selected else take_key(self.id, self.take)


def take_key(shot_id: str, take: int) -> str:
    return f"{shot_id}@{take}"


@dataclass(frozen=True)
class Plan:
    storyboard: Storyboard
    provider: Provider  # the film's (the first shot's, where shots go to several)
    shots: tuple[ShotPlan, ...]  # the take of each shot the cut uses, in storyboard order
    warnings: tuple[Problem, ...] = ()  # what the provider will not do as asked, located
    takes: tuple[ShotPlan, ...] = ()  # every other take, made and kept beside (`takes:`)

    @property
    def providers(self) -> tuple[Provider, ...]:
        """Every provider a shot of this plan goes to, in storyboard order (the main first)."""
        out = {self.provider.name: self.provider}
        for s in self.entries:
            out.setdefault(s.maker.name, s.maker)
        return tuple(out.values())

    @property
    def reachable(self) -> tuple[Provider, ...]:
        """`providers`, and those a shot may be passed on to."""
        out = {p.name: p for p in self.providers}
        for s in self.entries:
            for t in s.then:
                out.setdefault(t.maker.name, t.maker)
        return tuple(out.values())

    @property
    def routed(self) -> bool:
        """Its shots were routed across the storyboard's providers (not one for the film)."""
        return any(s.route is not None for s in self.shots)

    def shot(self, shot_id: str) -> ShotPlan:
        """A shot by its key: its id (the take the cut uses), or `id@K` for its take K (the
        cut's own take answers to `id@K` too)."""
        for s in self.shots + self.takes:
            if shot_id in (s.key, take_key(s.id, s.take)):
                return s
        raise KeyError(shot_id)

    def key_of(self, name: str) -> str | None:
        """The key a user's name for a shot stands for (`id`, or `id@K` for any take K)."""
        try:
            return self.shot(name).key
        except KeyError:
            return None

    @property
    def entries(self) -> tuple[ShotPlan, ...]:
        """Every take of every shot, each shot's takes together, in storyboard order."""
        order = {s.id: i for i, s in enumerate(self.shots)}
        return tuple(sorted(self.shots + self.takes, key=lambda s: (order[s.id], s.take)))

    def requests(self, keys: Iterable[str]) -> list[HttpRequest]:
        """The requests that generate these shots (by key), in storyboard order (batched if
        the provider takes many shots in one request). A request never carries two takes of
        one shot: a provider knows a shot by its id, so each take number goes on its own."""
        wanted = set(keys)
        return self.requests_of([s for s in self.entries if s.key in wanted])

    def requests_of(self, chosen: list[ShotPlan]) -> list[HttpRequest]:
        """`requests` of these shots as planned (a shot passed on: as planned at its next
        provider), each provider's in a request of its own."""
        position = {s.key: (s.compiled.shot.index, s.take) for s in chosen}
        out: list[HttpRequest] = []
        makers = {s.maker.name: s.maker for s in chosen}  # a request goes to one service
        for name, maker in makers.items():
            for take in sorted({s.take for s in chosen}):
                group = [s for s in chosen if s.take == take and s.maker.name == name]
                names = {s.id: s.key for s in group}
                for req in maker.requests([s.compiled for s in group]) if group else []:
                    out.append(replace(req, keys=tuple(names[i] for i in req.shots)))
        return sorted(out, key=lambda r: position[r.names[0]])


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def fingerprint(provider: Provider, compiled: CompiledShot, parent: str | None, take: int = 1) -> str:
    """Hash what decides the clip, and nothing else: editing a caption, a trim, a transition,
    `audio`, a template's name or a file's name must not make a shot be paid for again."""
    return digest(material(provider, compiled, parent, take))


def digest(material: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical(material)).hexdigest()


def material(provider: Provider, compiled: CompiledShot, parent: str | None, take: int = 1) -> dict[str, Any]:
    """What the fingerprint hashes (plan.earlier derives the earlier version's from it)."""
    body, needs = provider.shot_body(compiled)
    text = _canonical(body).decode()
    inputs: list[str] = []
    for need in needs:
        if need.kind in ("upload", "inline"):  # the bytes sent, not the path they came from
            text = text.replace(need.placeholder, "sha256:" + file_sha256(Path(need.source)))
        else:  # a parent's last frame or task: the parent's fingerprint stands for it
            inputs.append(need.kind)
    out: dict[str, Any] = {
        "v": FINGERPRINT_VERSION,
        "provider": provider.name,
        "request": request_line(provider, compiled),
        "body": json.loads(text),
        "inputs": inputs,
        "extra": provider.task_extra(compiled),  # what the service is told beside the body
        "continues": parent,
    }
    options = provider.options.fingerprinted()
    if options:  # only providers with options that change the clip: others keep their keys
        out["options"] = options
    if take > 1:  # a repeated request (no seed to vary) is still another clip: its own key
        out["take"] = take
    return out


def request_line(provider: Provider, compiled: CompiledShot) -> list[str] | None:
    """[method, path] of the shot's request, the path below the base URL (the host, and a
    base URL's own path, may move without changing what is made); None for a provider that
    sends no request (it renders on this machine)."""
    try:
        url = provider.submit_url(compiled)
    except NotImplementedError:
        return None
    base = provider.base_url.rstrip("/")
    path = url[len(base) :] if base and url.startswith(base + "/") else urlsplit(url).path
    return [provider.submit_method.upper(), "/" + path.lstrip("/")]


def compile_plan(sb: Storyboard, provider: Provider, *, takes: int = 1, router: Router | None = None) -> Plan:
    """Render, check, build and price every shot; raise ValidationError with every problem.
    The plan's `warnings` are what the provider will not do as asked. `takes`: at least this
    many takes of every shot (render --takes). `router`: each shot goes to the provider it
    chooses (plan.route), `provider` being only the film's first."""
    problems: list[Problem] = []
    placed: list[Problem] = []  # located already (at the template's own text): kept as they are
    compiled: list[CompiledShot] = []
    routes: dict[str, Route] = {}
    chosen: dict[str, tuple[Provider, str]] = {}  # by shot: its provider, and its fingerprint
    for shot in sb.shots:
        try:
            prompt = render_prompt(sb, shot)
            caption = render_caption(sb, shot)
        except ValidationError as e:
            placed.extend(e.problems)
            continue
        cs = CompiledShot(shot, prompt, sb.location(("shots", shot.index)), caption)
        compiled.append(cs)
        if router is None:
            problems.extend(provider.check(cs))
            continue
        above = chosen.get(shot.continues) if shot.continues else None
        got = router.choose(cs, above)
        if isinstance(got, Problem):
            if got not in problems:  # a cause of every shot (no key at all) once
                problems.append(got)
            continue
        routes[shot.id] = got
        chosen[shot.id] = (got.provider, fingerprint(got.provider, cs, above[1] if above else None))
        problems.extend(p for p in got.provider.check(cs) if p.severity is Severity.WARNING)
    makers = {cs.id: routes[cs.id].provider if cs.id in routes else provider for cs in compiled}
    if routes:
        provider = makers[compiled[0].id] if compiled and compiled[0].id in routes else provider
    warnings = [p for p in problems if p.severity is Severity.WARNING]
    problems = [p for p in problems if p.severity is not Severity.WARNING]
    drawn: list[Problem] = []
    if sb.captions.burn or any(p.burns_captions for p in {provider, *makers.values()}):  # an animatic always
        drawn = caption_warnings(sb, ((cs.shot, cs.caption) for cs in compiled))
    if not problems and not placed:
        for maker in {id(p): p for p in makers.values()}.values():  # the shots each sends together
            problems.extend(maker.check_batch([cs for cs in compiled if makers[cs.id] is maker]))
    if problems or placed:
        refused = _one_per_setting([_relocate(sb, p) for p in problems])
        told = _once(_relocate(sb, w, inherited=True) for w in warnings)  # beside the errors, not hidden
        raise ValidationError(sort_problems(placed + refused + list(told)))
    fingerprints: dict[str, str] = {}  # the take the cut uses, by shot: what a continuation follows
    plans: list[ShotPlan] = []
    others: list[ShotPlan] = []
    chain = {cs.shot.continues for cs in compiled if cs.shot.continues}
    for cs in compiled:
        parent = fingerprints.get(cs.shot.continues) if cs.shot.continues else None
        route = routes.get(cs.id)
        maker = makers[cs.id]
        # a shot of a chain (continued, or continuing) stays where it is planned: its
        # followers' requests and fingerprints are built on it
        later = route.then if route is not None and not cs.shot.continues and cs.id not in chain else ()
        for take in range(1, max(cs.shot.takes, takes, cs.shot.select) + 1):
            then = tuple(_shot_plan(sb, p, cs, parent, take) for p in later)
            sp = replace(_shot_plan(sb, maker, cs, parent, take), route=route, then=then)
            if sp.selected:
                fingerprints[cs.id] = sp.fingerprint
                plans.append(sp)
            else:
                others.append(sp)
    found = _once([*(_relocate(sb, w, inherited=True) for w in warnings), *drawn])
    return Plan(sb, provider, tuple(plans), found, tuple(others))


def _shot_plan(
    sb: Storyboard, provider: Provider, cs: CompiledShot, parent: str | None, take: int
) -> ShotPlan:
    """Take `take` of a shot as `provider` makes it: its request's fingerprint and price."""
    tcs = cs if take == 1 else replace(_take(provider, cs, take), take=take)
    cost = price(provider, tcs, sb.prices.get(provider.name))
    seed = tcs.shot.settings.seed if provider.sends_seed(tcs.shot) else None
    return ShotPlan(tcs, fingerprint(provider, tcs, parent, take), cost, take, seed, provider=provider)


def _take(provider: Provider, cs: CompiledShot, take: int) -> CompiledShot:
    """Take `take` (2 and on) of a shot: another seed where the provider takes one (derived
    from the shot's own, or from its id and the take), else the same request once more."""
    if not provider.sends_seed(cs.shot):
        return cs
    shot = cs.shot
    if shot.settings.seed is not None:
        seed = SEED_MIN + (shot.settings.seed - SEED_MIN + (take - 1) * 7919) % SEED_SPAN
    else:
        digest = hashlib.sha256(f"{shot.id}:take:{take}".encode()).digest()
        seed = SEED_MIN + int.from_bytes(digest[:4], "big") % SEED_SPAN
    return replace(cs, shot=replace(shot, settings=replace(shot.settings, seed=seed)))


SEED_MIN, SEED_SPAN = 10000, 90000  # the providers' seeds: 10000-99999


_SHOT_PREFIX = re.compile(r"^shot '([^']*)': ")
_WHO = re.compile(r"; (?:providers that can: (?P<can>.*)|no provider can)$")


def _one_per_setting(problems: list[Problem]) -> list[Problem]:
    """A setting given once in `settings:` and refused for every shot that inherits it is one
    problem at its line, naming the shots (and the providers that can make them all), not one
    per shot at the same place."""
    groups: dict[tuple[Any, str], list[Problem]] = {}
    out: list[Problem] = []
    for p in problems:
        m = _SHOT_PREFIX.match(p.message)
        field_ = p.path.rsplit(".", 1)[-1] if p.path.startswith("shots[") else None
        if m and field_ in SETTING_NAMES and p.location is not None:
            reason = _WHO.sub("", _SHOT_PREFIX.sub("", p.message))
            groups.setdefault((p.location, reason), []).append(p)
        else:
            out.append(p)
    for (_, reason), same in groups.items():
        first = same[0]
        if len(same) == 1:
            out.append(first)
            continue
        names = ", ".join(repr(m[1]) for p in same if (m := _SHOT_PREFIX.match(p.message)))
        can: list[str] | None = None
        for p in same:
            who = _WHO.search(p.message)
            theirs = (who["can"] or "").split(", ") if who and who["can"] else []
            can = theirs if can is None else [c for c in can if c in theirs]
        who_text = f"providers that can: {', '.join(can)}" if can else "no provider can"
        setting = first.path.rsplit(".", 1)[-1]
        out.append(replace(first, message=f"shots {names}: {reason}; {who_text}", path=f"settings.{setting}"))
    return out


def _once(problems: Iterable[Problem]) -> tuple[Problem, ...]:
    """Each warning once: a seed ignored on every shot is one warning where settings set it."""
    seen: dict[tuple[Any, str], Problem] = {}
    for p in problems:
        seen.setdefault((p.location or p.path, p.message), p)
    return tuple(seen.values())


def _relocate(sb: Storyboard, problem: Problem, *, inherited: bool = False) -> Problem:
    """Point a provider's problem at the field itself where the file has it: the shot's own
    key, else the setting it inherits from `settings:` (with `inherited`, named as that
    setting: one warning for every shot that inherits it), else the shot."""
    doc = sb.doc
    if doc is None or not problem.path.startswith("shots["):
        return problem
    parts: list[str | int] = []
    for token in re.findall(r"\[(\d+)\]|([^.\[\]]+)", problem.path):
        parts.append(int(token[0]) if token[0] else token[1])
    path = tuple(parts)
    if path in doc.key_marks:
        return replace(problem, location=doc.location(path, key=True))
    if len(path) == 3 and path[2] in SETTING_NAMES and ("settings", path[2]) in doc.key_marks:
        where = doc.location(("settings", path[2]), key=True)
        if inherited:
            return replace(problem, location=where, path=f"settings.{path[2]}")
        return replace(problem, location=where)
    return problem


def totals(shots: Iterable[ShotPlan]) -> Totals:
    """What these shots cost, each unit summed where every shot is priced in it. Credits are
    a service's own: shots of several providers are summed in dollars only."""
    items = list(shots)
    if len({s.maker.name for s in items}) > 1:
        return total(Money(None, s.cost.usd) for s in items)
    return total(s.cost for s in items)


def by_provider(shots: Iterable[ShotPlan]) -> dict[str, Totals]:
    """What these shots cost at each provider, in the order the shots come."""
    groups: dict[str, list[ShotPlan]] = {}
    for s in shots:
        groups.setdefault(s.maker.name, []).append(s)
    return {name: total(s.cost for s in group) for name, group in groups.items()}


def price(provider: Provider, cs: CompiledShot, declared: Price | None) -> Cost:
    """The shot's price and where each unit of it came from: the provider's document, or
    the storyboard's `providers.NAME.price`, which fills in (or replaces) what a document
    gives, unit by unit."""
    given = provider.cost(cs)
    source = provider.price_source or PriceSource.document(f"{provider.name}'s own price")
    credits, usd = given.credits, given.usd
    credits_from = source if credits is not None else None
    usd_from = source if usd is not None else None
    rate = declared.rate(cs.shot.settings.model) if declared else None
    if declared is not None and rate is not None:
        mine = declared.source(rate)
        money = rate.for_clip(CLIP_SECONDS)
        if money.credits is not None:
            credits, credits_from = money.credits, mine
        if money.usd is not None:
            usd, usd_from = money.usd, mine
    return Cost(credits, usd, credits_from, usd_from)


def plan_warnings(plan: Plan) -> list[Problem]:
    """What the provider will not do as asked (a seed it ignores, a caption no font draws),
    and the placeholder images a hosted render would refuse: in the file's order."""
    found = list(plan.warnings)
    hosted = [p for p in plan.providers if not p.free]
    if hosted:
        placeholders = placeholder_urls(plan.storyboard, lambda a: any(p.sends_url(a) for p in hosted))
        found += [replace(p, severity=Severity.WARNING) for p in placeholders]
    return sort_problems(found)
