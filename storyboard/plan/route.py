"""Which provider makes each shot, when a storyboard names more than one.

    provider: [first, second, third]      each shot goes to the first listed provider that
                                          can make it and whose key is set
    provider: auto                        the cheapest in dollars of the installed providers
                                          with a key that can make it (ties by name; one with
                                          no price in dollars only where no priced one can)
    shots: [{provider: second, ...}]      a shot's own provider, over the list

A shot already in the journal at one of its paid providers (made, sent, uncertain) stays there: an
unchanged render after a shot was passed on sends nothing, and a shot whose answer was lost is
never sent to another service on its own. A shot that extends another's task goes to that
shot's provider; one that starts on another's last frame may go to any provider that takes a
first frame. `-p NAME` puts the whole film on one provider: no routing at all.

The compiler asks `Router.choose` for each shot in storyboard order; nothing here sends,
prints or reads more than the journal's keys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from storyboard.board.model import AUTO, Shot, Storyboard
from storyboard.errors import Problem, Severity
from storyboard.money import Price
from storyboard.providers.base import CompiledShot, Provider

# an ask a provider cannot meet, in a word (capabilities.Issue.key -> what plan shows)
WORDS = {
    "aspect_ratio": "aspect ratio",
    "resolution": "resolution",
    "model": "model",
    "images": "references",
    "last_frame": "last frame",
    "continues": "continues",
    "local_image": "local file",
    "url_image": "link only",
}
KIND_WORDS = {"reference": "references", "frames": "frames", "text": "text"}


@dataclass(frozen=True)
class Refusal:
    """Why one provider cannot make a shot: a word for plan, the reasons for an error."""

    provider: str
    word: str
    reasons: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return f"{self.provider}: {'; '.join(self.reasons) or self.word}"


@dataclass(frozen=True)
class Route:
    """Where one shot goes, and why there."""

    provider: Provider
    passed: tuple[Refusal, ...] = ()  # the providers before it that cannot, in order
    then: tuple[Provider, ...] = ()  # the ones after it that can: where a refusal passes it on
    kept: bool = False  # chosen because the journal has the shot there already
    own: bool = False  # the shot's own `provider:`
    cheapest: bool = False  # `auto` chose it by price

    @property
    def why(self) -> str:
        """In a few words, for plan: "first: references, second: no key"; "" for the first."""
        said = [f"{r.provider}: {r.word}" for r in self.passed]
        if self.kept:
            said.append("made or sent there before")
        if self.own:
            said.append("the shot's own")
        if self.cheapest:
            said.append("cheapest")
        return ", ".join(said)


def routed(sb: Storyboard) -> bool:
    """The storyboard names more than one provider (a list, `auto`, a shot's own)."""
    return len(sb.providers) > 1 or sb.providers == (AUTO,) or any(s.provider for s in sb.shots)


class Router:
    """Chooses each shot's provider (see the module docstring). `providers`: every provider
    a shot may go to, made and configured, by name; `in_journal`: whether a fingerprint has a
    request or a clip in the state; `fingerprint` and `price` are the compiler's."""

    def __init__(
        self,
        sb: Storyboard,
        providers: Mapping[str, Provider],
        *,
        in_journal: Callable[[str], bool],
        fingerprint: Callable[[Provider, CompiledShot, str | None], str],
        usd: Callable[[Provider, CompiledShot, Price | None], float | None],
    ) -> None:
        self.sb = sb
        self.providers = dict(providers)
        self.in_journal = in_journal
        self.fingerprint = fingerprint
        self.usd = usd

    def names(self, shot: Shot) -> tuple[list[str], bool]:
        """(candidates in order, whether by price) for a shot."""
        if shot.provider:
            return [shot.provider], False
        if self.sb.providers == (AUTO,):
            return [n for n, p in sorted(self.providers.items()) if not p.free], True
        return list(self.sb.providers), False

    def refusal(self, provider: Provider, cs: CompiledShot, parent: Provider | None) -> Refusal | None:
        """Why `provider` cannot make the shot, or None where it can."""
        from storyboard.providers.capabilities import issues  # as Provider.check imports it: when asked

        if provider.needs_key and not provider.api_key:
            var = f"{provider.env}_API_KEY"
            return Refusal(provider.name, "no key", (f"no key ({var} is not set)",))
        c = provider.capabilities
        shot = cs.shot
        extends = shot.continues and c is not None and c.continues == "extend"
        if extends and parent is not None and parent.name != provider.name:  # only at the parent's
            reason = (
                f"it continues a shot by extending that shot's task, and shot {shot.continues!r} "
                f"is made by {parent.name}"
            )
            return Refusal(provider.name, "extends", (reason,))
        errors = [p for p in provider.check(cs) if p.severity is not Severity.WARNING]
        if not errors:
            return None
        found = [i for i in issues(provider.name, c, shot) if not i.warning] if c is not None else []
        word = WORDS.get(found[0].key, found[0].key) if found else "cannot"
        if found and found[0].key == "type":
            word = KIND_WORDS.get(shot.kind, shot.kind)
        return Refusal(provider.name, word, tuple(_reason(p.message) for p in errors))

    def choose(self, cs: CompiledShot, parent: tuple[Provider, str] | None) -> Route | Problem:
        """The shot's route, or the located problem that no candidate can make it.
        `parent`: the provider and fingerprint of the shot it continues, if it does."""
        names, by_price = self.names(cs.shot)
        parent_provider, parent_fp = parent if parent else (None, None)
        able: list[Provider] = []
        refused: dict[str, Refusal] = {}
        for name in names:
            provider = self.providers[name]
            why = self.refusal(provider, cs, parent_provider)
            if why is None:
                able.append(provider)
            else:
                refused[name] = why
        if not able:
            return self._none(cs, [refused[n] for n in names])
        if by_price:  # dollars, then the name order; unknown prices last
            able.sort(key=lambda p: (self.usd(p, cs, self.sb.prices.get(p.name)) is None, _usd(self, p, cs)))
        # a free provider's clip (the animatic) pins nothing: it cannot be paid for twice
        pinned = (p for p in able if not p.free and self.in_journal(self.fingerprint(p, cs, parent_fp)))
        kept = next(pinned, None)
        chosen = kept or able[0]
        if by_price:
            before: tuple[Refusal, ...] = ()
            then = tuple(p for p in able if p is not chosen)
        else:
            at = names.index(chosen.name)
            before = tuple(refused[n] for n in names[:at] if n in refused)
            then = tuple(p for p in able if names.index(p.name) > at)
        return Route(
            chosen,
            before,
            then,
            kept=kept is not None and kept is not able[0],
            own=bool(cs.shot.provider),
            cheapest=by_price,
        )

    def _none(self, cs: CompiledShot, refusals: Sequence[Refusal]) -> Problem:
        shot = cs.shot
        own = bool(shot.provider)
        if refusals and all(r.word == "no key" for r in refusals) and not own:  # one cause, said once
            keys = ", ".join(f"{self.providers[r.provider].env}_API_KEY" for r in refusals)
            return Problem(
                f"none of the providers of `provider:` has its key set ({keys}): no shot can be made",
                "provider",
                self.sb.location(("provider",), key=True),
                "set one of them in the environment or in .env beside the storyboard; "
                "`-p preview` renders an offline animatic with no key",
            )
        listed = (
            "its provider" if own else ("no installed provider" if not refusals else "no listed provider")
        )
        each = "; ".join(r.text for r in refusals) or "no provider with a key is installed"
        path = f"shots[{shot.index}]" + (".provider" if own else "")
        where = self.sb.location(("shots", shot.index, "provider"), key=True) if own else None
        hint = "set the key of one of them, change what the shot asks for, or add a provider that can"
        return Problem(
            f"shot {shot.id!r}: {listed} can make it: {each}",
            path,
            where or cs.location,
            hint,
        )


def _usd(router: Router, provider: Provider, cs: CompiledShot) -> float:
    value = router.usd(provider, cs, router.sb.prices.get(provider.name))
    return 0.0 if value is None else value


def _reason(message: str) -> str:
    """A provider's problem without its "shot 'x': " and "; providers that can: ..." parts."""
    if message.startswith("shot '") and "': " in message:
        message = message.split("': ", 1)[1]
    return message.split("; providers that can:")[0].split("; no provider can")[0]
