"""Money in the user's units: amounts and prices as users write them, shown in their own unit."""

from __future__ import annotations

import pytest

from storyboard.money import Amount, Money, Unit, parse_amount, parse_price, parse_rate, price_problems, total


@pytest.mark.parametrize(
    ("written", "amount"),
    [
        ("100", Amount(100, Unit.CREDITS)),
        (100, Amount(100, Unit.CREDITS)),
        ("100 credits", Amount(100, Unit.CREDITS)),
        ("1 credit", Amount(1, Unit.CREDITS)),
        ("$5", Amount(5, Unit.USD)),
        ("$5.00", Amount(5, Unit.USD)),
        ("5USD", Amount(5, Unit.USD)),
        ("5 usd", Amount(5, Unit.USD)),
        ("$0.30", Amount(0.3, Unit.USD)),
        (" $ 2.5 ", Amount(2.5, Unit.USD)),
    ],
)
def test_an_amount_is_credits_unless_it_says_dollars(written: str | int, amount: Amount) -> None:
    assert parse_amount(written) == amount


@pytest.mark.parametrize("written", ["five", "$", "-5", "$-5", "5 EUR", "£5", "1e3", "nan", "", "5 $ 5"])
def test_what_is_not_an_amount_says_what_is(written: str) -> None:
    with pytest.raises(ValueError, match=r"amount|zero") as e:
        parse_amount(written)
    assert "'" in str(e.value)  # it quotes what was written


def test_each_unit_is_shown_as_itself() -> None:
    assert Money(60, 0.3).text() == "60 credits ($0.30)"
    assert Money(None, 3.2).text() == "$3.20"
    assert Money(60, None).text() == "60 credits"
    assert Money().text() == "unknown"
    assert Money(1, None).text() == "1 credit"
    assert Money(None, 0.005).text() == "$0.005"  # a fraction of a cent is not rounded away


def test_a_total_is_known_in_a_unit_only_where_every_shot_is() -> None:
    both = total([Money(40, 0.2), Money(40, 0.2)])
    assert both.cost == Money(80, 0.4) and both.text() == "80 credits ($0.40)"
    mixed = total([Money(40, 0.2), Money(None, 0.4)])
    assert mixed.cost == Money(None, 0.6) and mixed.unpriced == {Unit.CREDITS: 1, Unit.USD: 0}
    apart = total([Money(40, None), Money(None, 0.4)])
    assert apart.text() == "unknown (2 shots priced in different units: declare a price to compare them)"
    none = total([Money(), Money()])
    assert none.text("kie") == "unknown (2 shots unpriced: kie's documents give no prices)"
    assert total([Money(None, 0.1), Money(None, 0.2)]).usd == 0.3  # not 0.30000000000000004
    assert total([]).text() == "nothing"


def test_a_budget_is_exceeded_only_in_its_own_unit() -> None:
    assert Amount(5, Unit.USD).exceeded_by(Money(None, 5.01))
    assert not Amount(5, Unit.USD).exceeded_by(Money(None, 5.0))
    assert not Amount(5, Unit.USD).exceeded_by(Money(10_000, None))  # unknown is not "within"...
    assert not Amount(100, Unit.CREDITS).exceeded_by(Money(None, 1000))  # ...plan.budget refuses it


@pytest.mark.parametrize(
    ("written", "money", "per_second"),
    [
        (80, Money(80, None), False),
        ("$0.40", Money(None, 0.4), False),
        ("$0.40 a shot", Money(None, 0.4), False),
        ("80 credits ($0.40)", Money(80, 0.4), False),
        ("$0.15/s", Money(None, 0.15), True),
        ("$0.15 per second", Money(None, 0.15), True),
        ("10 credits a second", Money(10, None), True),
        ("0.40USD/clip", Money(None, 0.4), False),
    ],
)
def test_a_declared_price_is_a_shot_or_a_second_in_either_unit(
    written: str | int, money: Money, per_second: bool
) -> None:
    rate = parse_rate(written)
    assert (rate.money, rate.per_second) == (money, per_second)
    assert rate.for_clip(8).text() == money.times(8 if per_second else 1).text()


def test_a_price_by_model_falls_to_nothing_for_a_model_it_does_not_name() -> None:
    price = parse_price({"fast": "$0.40", "quality": "$2"}, "providers.kie.price")
    assert price.rate("fast") is not None and price.rate("fast").money == Money(None, 0.4)
    assert price.rate("lite") is None
    assert price.rate("quality").path == "providers.kie.price.quality"


@pytest.mark.parametrize(
    ("raw", "where", "words"),
    [
        ("cheap", (), "'cheap' is not a price"),
        (-3, (), "a price is 0 or more"),
        ("$1 ($2)", (), "gives dollars twice"),
        ({"turbo": 3}, ("turbo",), "there is no model 'turbo'"),
        ({"fast": "x"}, ("fast",), "'x' is not a price"),
        ({}, (), "no price given"),
        ([1], (), "a number or text"),
    ],
)
def test_a_bad_price_says_where_and_what(raw: object, where: tuple[str, ...], words: str) -> None:
    [(path, message)] = price_problems(raw)
    assert path == where and words in message
