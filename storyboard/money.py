"""Money in the user's units: a service's credits, US dollars, or both, each known or not.

    Money(credits, usd)     an amount; a unit left None is not known (never taken as 0)
    Cost(Money)             a shot's price, with where each unit's figure came from
    Amount(value, unit)     one figure in one unit: a `--budget`
    Price                   what `providers: {NAME: {price: ...}}` declares: a rate a shot or
                            a second, in credits, dollars or both, for every model or by model

Credits are a service's own and mean nothing at another; dollars compare across services
(`provider: auto` picks by them). A budget is checked only in its own unit: a plan priced in
credits cannot be held to a budget in dollars, nor the other way round, unless a price is
declared. Nothing heavy here: the CLI parses `--budget` with it at start-up.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from storyboard.errors import Location


class Unit(str, Enum):
    CREDITS = "credits"
    USD = "usd"

    @property
    def words(self) -> str:
        return "credits" if self is Unit.CREDITS else "dollars"


def credits_text(value: float) -> str:
    return f"{value:g} credit{'' if value == 1 else 's'}"


def usd_text(value: float) -> str:
    """$0.30, $3.20; a fraction of a cent is shown, not rounded away ($0.005)."""
    cents = f"{value:.2f}"
    return f"${cents}" if abs(float(cents) - value) < 1e-9 else f"${value:.6f}".rstrip("0")


def _sum(values: Iterable[float]) -> float:
    return round(math.fsum(values), 6)  # 0.1 + 0.2 is $0.30, not more than a $0.30 budget


@dataclass(frozen=True)
class Money:
    credits: float | None = None  # None: not known in credits
    usd: float | None = None  # None: not known in dollars

    def of(self, unit: Unit) -> float | None:
        return self.credits if unit is Unit.CREDITS else self.usd

    @property
    def known(self) -> bool:
        return self.credits is not None or self.usd is not None

    def times(self, factor: float) -> Money:
        return Money(
            None if self.credits is None else _sum([self.credits * factor]),
            None if self.usd is None else _sum([self.usd * factor]),
        )

    def text(self) -> str:
        """As plans show it: "60 credits ($0.30)", "60 credits", "$3.20", "unknown"."""
        if self.credits is not None and self.usd is not None:
            return f"{credits_text(self.credits)} ({usd_text(self.usd)})"
        if self.credits is not None:
            return credits_text(self.credits)
        if self.usd is not None:
            return usd_text(self.usd)
        return "unknown"

    def json(self) -> dict[str, float | None]:
        return {"credits": self.credits, "usd": self.usd}


@dataclass(frozen=True)
class PriceSource:
    """Where a figure came from: a provider's document (with the date its prices held), or
    the storyboard's own `providers.NAME.price` line."""

    kind: str  # "document" | "storyboard"
    name: str  # the document, as the provider names it; or the key's path in the storyboard
    date: str | None = None  # a document's: ISO 8601
    location: Location | None = None  # a storyboard's line
    written: str | None = None  # a storyboard's price, as written

    @classmethod
    def document(cls, name: str, date: str | None = None) -> PriceSource:
        return cls("document", name, date)

    def text(self) -> str:
        if self.kind == "storyboard":
            where = f"{self.location}: " if self.location else ""
            return f"{where}{self.name}: {self.written}" if self.written else f"{where}{self.name}"
        return f"{self.name}, {self.date}" if self.date else f"{self.name} (undated)"

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "name": self.name}
        if self.date:
            out["date"] = self.date
        if self.location:
            out["file"], out["line"], out["column"] = (
                self.location.file,
                self.location.line,
                self.location.column,
            )
        if self.written:
            out["price"] = self.written
        return out


@dataclass(frozen=True)
class Cost(Money):
    """A shot's price as a provider gives it (`Cost(credits, usd)`); the plan adds where each
    unit came from."""

    credits_from: PriceSource | None = field(default=None, compare=False)
    usd_from: PriceSource | None = field(default=None, compare=False)

    def source(self, unit: Unit) -> PriceSource | None:
        return self.credits_from if unit is Unit.CREDITS else self.usd_from

    def json(self) -> dict[str, Any]:
        sources = {u.value: s.json() for u in Unit if (s := self.source(u)) is not None}
        return {**super().json(), "from": sources}


@dataclass(frozen=True)
class Totals:
    """The price of some shots: each unit's sum where every shot is priced in it."""

    shots: int
    cost: Money  # a unit is None where some shot's price in it is not known
    unpriced: Mapping[Unit, int]  # shots without a price in each unit
    unknown: int  # shots without a price in any unit

    @property
    def credits(self) -> float | None:
        return self.cost.credits

    @property
    def usd(self) -> float | None:
        return self.cost.usd

    def text(self, who: str = "") -> str:
        """ "120 credits ($0.60)", "$3.20", or "unknown (2 shots unpriced: the provider's documents
        give no prices)"; a unit some shots lack is left out rather than shown short."""
        if not self.shots:
            return "nothing"
        if self.cost.known:
            return self.cost.text()
        return f"unknown ({self.why_unknown(who)})"

    def why_unknown(self, who: str = "") -> str:
        if not self.unknown:  # each shot priced, but not all in one unit
            return f"{self.shots} shots priced in different units: declare a price to compare them"
        why = f": {who}'s documents give no prices" if who and self.unknown == self.shots else ""
        return f"{self.unknown} shot{'s' if self.unknown != 1 else ''} unpriced{why}"

    def json(self) -> dict[str, Any]:
        return {
            "shots": self.shots,
            "credits": self.credits,
            "usd": self.usd,
            "unknown_shots": self.unknown,
            "unpriced": {u.value: self.unpriced[u] for u in Unit},
            "text": self.text(),
        }


def total(costs: Iterable[Money]) -> Totals:
    items = list(costs)
    sums: dict[Unit, float | None] = {}
    unpriced: dict[Unit, int] = {}
    for unit in Unit:
        figures = [c.of(unit) for c in items]
        unpriced[unit] = sum(1 for f in figures if f is None)
        sums[unit] = None if unpriced[unit] else _sum(f for f in figures if f is not None)
    return Totals(
        shots=len(items),
        cost=Money(sums[Unit.CREDITS], sums[Unit.USD]),
        unpriced=unpriced,
        unknown=sum(1 for c in items if not c.known),
    )


# what users write -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Amount:
    """One figure in one unit, as `--budget` takes it: 100 (credits), '$5', 5USD, $5.00."""

    value: float
    unit: Unit

    def text(self) -> str:
        return credits_text(self.value) if self.unit is Unit.CREDITS else usd_text(self.value)

    def exceeded_by(self, money: Money) -> bool:
        figure = money.of(self.unit)
        return figure is not None and figure > self.value + 1e-9


_NUMBER = r"(\d+(?:\.\d+)?|\.\d+)"
_DOLLARS = re.compile(rf"^(?:\$\s*{_NUMBER}|{_NUMBER}\s*(?:usd|dollars?|\$))$", re.IGNORECASE)
_CREDITS = re.compile(rf"^{_NUMBER}(?:\s*credits?)?$", re.IGNORECASE)
AMOUNT_FORMS = "100 or '100 credits' (credits), '$5', '$5.00' or 5USD (US dollars)"


def parse_amount(raw: str | float) -> Amount:
    """An amount as a user writes it; ValueError saying what it takes."""
    if isinstance(raw, bool):
        raise ValueError(f"expected an amount such as {AMOUNT_FORMS}, not {raw!r}")
    if isinstance(raw, (int, float)):
        if not math.isfinite(raw) or raw < 0:
            raise ValueError(f"{raw!r} is not an amount: give a number of 0 or more")
        return Amount(float(raw), Unit.CREDITS)
    text = str(raw).strip()
    m = _DOLLARS.match(text)
    if m:
        return Amount(float(next(g for g in m.groups() if g is not None)), Unit.USD)
    m = _CREDITS.match(text)
    if m:
        return Amount(float(m.group(1)), Unit.CREDITS)
    if text.startswith("-"):
        raise ValueError(f"{text!r} is below zero: an amount is 0 or more")
    raise ValueError(f"{text!r} is not an amount: write {AMOUNT_FORMS}")


@dataclass(frozen=True)
class Rate:
    """A declared price: `money` a shot (a clip), or a second of clip."""

    money: Money
    per_second: bool = False
    written: str = ""  # as plans show it: "$0.40 a shot"
    path: str = field(default="", compare=False)  # where the storyboard says it: providers.NAME.price
    location: Location | None = field(default=None, compare=False)

    def for_clip(self, seconds: float) -> Money:
        return self.money.times(seconds) if self.per_second else self.money


PRICE_MODELS = ("fast", "quality", "lite")
PRICE_FORMS = (
    "e.g. price: '$0.40' (dollars a shot), 80 (credits a shot), '80 credits ($0.40)', "
    "'$0.15/s' (a second of clip), or by model: {fast: '$0.40', quality: '$2.00'}"
)
_PER = re.compile(
    r"\s*(?:(/\s*|\ba\s+|\bper\s+|\beach\s+)(s|sec|secs|second|seconds|shot|clip))\s*$", re.IGNORECASE
)
_BOTH = re.compile(r"^(?P<first>[^()]+?)\s*\((?P<second>[^()]+)\)$")


def parse_rate(raw: Any) -> Rate:
    """One declared price (see PRICE_FORMS); ValueError saying what is wrong."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise ValueError(f"a price is a number or text, not {type(raw).__name__}")
    if not isinstance(raw, str):
        if not math.isfinite(raw) or raw < 0:
            raise ValueError(f"{raw!r} is not a price: a price is 0 or more")
        return Rate(Money(float(raw), None), written=f"{credits_text(raw)} a shot")
    text = raw.strip()
    per_second = False
    m = _PER.search(text)
    if m:
        per_second = m.group(2).lower() not in ("shot", "clip")
        text = text[: m.start()].strip()
    both = _BOTH.match(text)
    parts = [both.group("first"), both.group("second")] if both else [text]
    figures: dict[Unit, float] = {}
    for part in parts:
        try:
            amount = parse_amount(part)
        except ValueError:
            raise ValueError(f"{raw!r} is not a price") from None
        if amount.unit in figures:
            raise ValueError(f"{raw!r} gives {amount.unit.words} twice: write '80 credits ($0.40)'")
        figures[amount.unit] = amount.value
    money = Money(figures.get(Unit.CREDITS), figures.get(Unit.USD))
    return Rate(money, per_second, f"{money.text()} a {'second' if per_second else 'shot'}")


@dataclass(frozen=True)
class Price:
    """`providers: {NAME: {price: ...}}`: one rate for every shot, or a rate by model."""

    every: Rate | None = None
    by_model: tuple[tuple[str, Rate], ...] = ()

    def rate(self, model: str) -> Rate | None:
        return dict(self.by_model).get(model, self.every)

    def source(self, rate: Rate) -> PriceSource:
        """Where the storyboard says it, for plans."""
        return PriceSource("storyboard", rate.path, location=rate.location, written=rate.written)


def price_problems(raw: Any) -> list[tuple[tuple[str, ...], str]]:
    """What is wrong with a `price:` as written: (the path below `price`, the message)."""
    if isinstance(raw, Mapping):
        if not raw:
            return [((), "no price given: name a model and its price, or give one price")]
        out: list[tuple[tuple[str, ...], str]] = []
        for key, value in raw.items():
            if key not in PRICE_MODELS:
                models = ", ".join(PRICE_MODELS)
                out.append(((str(key),), f"there is no model {key!r}: a price by model names {models}"))
                continue
            try:
                parse_rate(value)
            except ValueError as e:
                out.append(((str(key),), str(e)))
        return out
    try:
        parse_rate(raw)
    except ValueError as e:
        return [((), str(e))]
    return []


Locate = Callable[[str | None], Location | None]


def parse_price(raw: Any, path: str = "", locate: Locate | None = None) -> Price:
    """A `price:` already checked by `price_problems` (ValueError otherwise); `locate(model)`
    says where the price (of a model, or the whole) stands in the file."""

    def placed(value: Any, model: str | None) -> Rate:
        where = locate(model) if locate else None
        return replace(parse_rate(value), path=f"{path}.{model}" if model else path, location=where)

    if isinstance(raw, Mapping):
        return Price(None, tuple((str(k), placed(v, str(k))) for k, v in raw.items()))
    return Price(placed(raw, None))
