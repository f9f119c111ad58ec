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
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from storyboard.board.model import CLIP_SECONDS, SETTING_NAMES, Storyboard
from storyboard.errors import Problem, Severity, ValidationError
from storyboard.hashing import file_sha256
from storyboard.money import Cost, Price, PriceSource, Totals, total
from storyboard.prompts.templating import render_caption, render_prompt
from storyboard.providers.base import CompiledShot, HttpRequest, Provider
from storyboard.validate.checks import placeholder_urls, sort_problems
from storyboard.validate.glyphs import caption_warnings

FINGERPRINT_VERSION = 3  # 3: the request's method and path are part of it


@dataclass(frozen=True)
class ShotPlan:
    compiled: CompiledShot
    fingerprint: str
    cost: Cost
    take: int = 1  # which variation of the shot (1-based; see `takes:`)
    seed: int | None = None  # the seed its request carries (None: it sends none)

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
    provider: Provider
    shots: tuple[ShotPlan, ...]  # the take of each shot the cut uses, in storyboard order
    warnings: tuple[Problem, ...] = ()  # what the provider will not do as asked, located
    takes: tuple[ShotPlan, ...] = ()  # every other take, made and kept beside (`takes:`)

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
        entries = self.entries
        position = {s.key: i for i, s in enumerate(entries)}
        chosen = [s for s in entries if s.key in wanted]
        out: list[HttpRequest] = []
        for take in sorted({s.take for s in chosen}):
            group = [s for s in chosen if s.take == take]
            names = {s.id: s.key for s in group}
            for req in self.provider.requests([s.compiled for s in group]):
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


def compile_plan(sb: Storyboard, provider: Provider, *, takes: int = 1) -> Plan:
    """Render, check, build and price every shot; raise ValidationError with every problem.
    The plan's `warnings` are what the provider will not do as asked. `takes`: at least this
    many takes of every shot (render --takes)."""
    problems: list[Problem] = []
    placed: list[Problem] = []  # located already (at the template's own text): kept as they are
    compiled: list[CompiledShot] = []
    for shot in sb.shots:
        try:
            prompt = render_prompt(sb, shot)
            caption = render_caption(sb, shot)
        except ValidationError as e:
            placed.extend(e.problems)
            continue
        cs = CompiledShot(shot, prompt, sb.location(("shots", shot.index)), caption)
        problems.extend(provider.check(cs))
        compiled.append(cs)
    warnings = [p for p in problems if p.severity is Severity.WARNING]
    problems = [p for p in problems if p.severity is not Severity.WARNING]
    drawn: list[Problem] = []
    if sb.captions.burn or provider.burns_captions:  # drawn into the picture (an animatic always)
        drawn = caption_warnings(sb, ((cs.shot, cs.caption) for cs in compiled))
    if not problems and not placed:
        problems.extend(provider.check_batch(compiled))
    if problems or placed:
        refused = _one_per_setting([_relocate(sb, p) for p in problems])
        told = _once(_relocate(sb, w, inherited=True) for w in warnings)  # beside the errors, not hidden
        raise ValidationError(sort_problems(placed + refused + list(told)))
    fingerprints: dict[str, str] = {}  # the take the cut uses, by shot: what a continuation follows
    plans: list[ShotPlan] = []
    others: list[ShotPlan] = []
    for cs in compiled:
        parent = fingerprints.get(cs.shot.continues) if cs.shot.continues else None
        for take in range(1, max(cs.shot.takes, takes, cs.shot.select) + 1):
            tcs = cs if take == 1 else replace(_take(provider, cs, take), take=take)
            cost = price(provider, tcs, sb.prices.get(provider.name))
            seed = tcs.shot.settings.seed if provider.sends_seed(tcs.shot) else None
            sp = ShotPlan(tcs, fingerprint(provider, tcs, parent, take), cost, take, seed)
            if sp.selected:
                fingerprints[cs.id] = sp.fingerprint
                plans.append(sp)
            else:
                others.append(sp)
    found = _once([*(_relocate(sb, w, inherited=True) for w in warnings), *drawn])
    return Plan(sb, provider, tuple(plans), found, tuple(others))


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
    """What these shots cost, each unit summed where every shot is priced in it."""
    return total(s.cost for s in shots)


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
    if not plan.provider.free:
        placeholders = placeholder_urls(plan.storyboard, plan.provider.sends_url)
        found += [replace(p, severity=Severity.WARNING) for p in placeholders]
    return sort_problems(found)
