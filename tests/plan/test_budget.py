"""`--budget` in credits or dollars, and prices a storyboard declares, against loopback services:
every refusal sends nothing (the services' requests are counted), every budget that holds
renders exactly the shots the plan priced, and plan says where each price came from."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.money import Cost, PriceSource
from storyboard.providers.kie import KieProvider
from tests.run.boards import use, write_board
from tests.servers import FakeProvider, start_server

TWO = [{"id": "a", "prompt": "a red door in the rain"}, {"id": "b", "prompt": "a blue door at dawn"}]


pytestmark = pytest.mark.usefixtures("fast")  # tests/conftest.py


@pytest.fixture
def served(clip: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """start(name): a loopback service of that name, this process's key and URL on it."""
    running: list[FakeProvider] = []

    def start(name: str) -> FakeProvider:
        srv = start_server(name, clip=clip)
        running.append(srv)
        use(monkeypatch, srv)
        return srv

    yield start
    for srv in running:
        srv.close()


def invoke(*args: object) -> Any:
    return CliRunner().invoke(cli, [str(a) for a in args])


def submitted(srv: FakeProvider) -> int:
    """Every request that asked for a generation, accepted or not."""
    return sum(1 for r in srv.requests if r.method == "POST")


def test_a_dollar_budget_on_a_provider_without_prices_sends_nothing_and_says_what_to_do(
    served: Any, tmp_path: Path
) -> None:
    kie = served("kie")
    board = write_board(tmp_path / "film", "kie", TWO)
    result = invoke("render", board, "--yes", "--budget", "$5")
    assert result.exit_code == 2, result.output
    assert "--budget $5.00: kie's documents give no price" in result.output
    assert "providers: {kie: {price: '$0.40'}}" in result.output and "Traceback" not in result.output
    assert kie.requests == []


def test_a_declared_dollar_price_is_planned_held_to_a_dollar_budget_and_rendered(
    served: Any, tmp_path: Path
) -> None:
    kie = served("kie")
    board = write_board(tmp_path / "film", "kie", TWO, providers={"kie": {"price": "$0.05/s"}})
    plan = invoke("plan", board)
    assert plan.exit_code == 0, plan.output
    assert "  + a  kie        text       $0.40" in plan.output  # 8 s at $0.05
    assert "Cost: $0.80." in plan.output
    line = next(i for i, t in enumerate(board.read_text().splitlines(), 1) if "price:" in t)
    assert f"Prices: dollars from {board}:{line}:5: providers.kie.price: $0.05 a second." in plan.output
    data = json.loads(invoke("plan", board, "--json").stdout)
    assert data["cost"]["usd"] == 0.8 and data["cost"]["credits"] is None
    source = data["shots"][0]["cost"]["from"]
    assert source == {
        "usd": {
            "kind": "storyboard",
            "name": "providers.kie.price",
            "file": str(board),
            "line": line,
            "column": 5,
            "price": "$0.05 a second",
        }
    }

    assert "A render now pays for 2 shots: $0.80." in invoke("status", board).output

    over = invoke("render", board, "--yes", "--budget", "$0.79")
    assert over.exit_code == 2 and "the plan costs $0.80, more than --budget $0.79" in over.output
    credits = invoke("render", board, "--yes", "--budget", "100")
    assert credits.exit_code == 2, credits.output
    assert "--budget 100 credits is in credits, but the 2 shots to pay for have no price in credits" in (
        credits.output
    )
    assert "give the budget in dollars (the plan costs $0.80: --budget '$0.80')" in credits.output
    assert kie.requests == []  # three refusals, not one request

    done = invoke("render", board, "--yes", "--quiet", "--budget", "0.80USD")  # exactly the budget
    assert done.exit_code == 0, done.output
    assert len(kie.accepted) == 2 and submitted(kie) == 2
    again = invoke("render", board, "--yes", "--quiet", "--budget", "$0.01")  # nothing to pay: holds
    assert again.exit_code == 0, again.output
    assert submitted(kie) == 2


def test_a_price_by_model_leaves_a_model_it_does_not_name_unpriced(served: Any, tmp_path: Path) -> None:
    kie = served("kie")
    shots = [TWO[0], {**TWO[1], "model": "quality"}]
    prices = {"kie": {"price": {"fast": "80 credits ($0.40)"}}}
    board = write_board(tmp_path / "film", "kie", shots, providers=prices)
    data = json.loads(invoke("plan", board, "--json").stdout)
    assert [s["cost"]["usd"] for s in data["shots"]] == [0.4, None]
    assert data["cost"]["unpriced"] == {"credits": 1, "usd": 1} and data["cost"]["text"].startswith("unknown")
    result = invoke("render", board, "--yes", "--budget", "$5")
    assert result.exit_code == 2 and "1 of the 2 shots to pay for has no price in dollars" in result.output
    assert kie.requests == []


@pytest.mark.parametrize(("budget", "code", "sent"), [("$0.39", 2, 0), ("$0.40", 0, 2), ("80", 0, 2)])
def test_a_documented_price_in_both_units_holds_either_budget(
    served: Any, tmp_path: Path, budget: str, code: int, sent: int
) -> None:
    srv = served("aivideoapi")  # fast 720p: 40 credits ($0.20) a clip, in its document
    board = write_board(tmp_path / "film", "aivideoapi", TWO)
    plan = invoke("plan", board)
    assert "Cost: 80 credits ($0.40)." in plan.output
    assert "Prices: credits and dollars from aivideoapi's API document 003_" in plan.output
    result = invoke("render", board, "--yes", "--quiet", "--budget", budget)
    assert result.exit_code == code, result.output
    assert submitted(srv) == sent


def test_a_credits_only_provider_refuses_a_dollar_budget_and_names_the_credits(
    served: Any, tmp_path: Path
) -> None:
    srv = served("nanophoto")  # 10 credits a shot at 720p, no dollars in its document
    board = write_board(tmp_path / "film", "nanophoto", TWO)
    result = invoke("render", board, "--yes", "--budget", "$1")
    assert result.exit_code == 2, result.output
    assert "no price in dollars (the plan costs 20 credits)" in result.output
    assert "--budget 20)" in result.output and "providers: {nanophoto: {price: '$0.40'}}" in result.output
    assert srv.requests == []
    # a declared dollar price fills in the unit the document lacks; its credits stay the document's
    board = write_board(tmp_path / "film", "nanophoto", TWO, providers={"nanophoto": {"price": "$0.05"}})
    plan = invoke("plan", board)
    assert "Cost: 20 credits ($0.10)." in plan.output
    assert "credits from nanophoto's API document 002_1e7b2f8240923c45.txt (undated)" in plan.output
    assert f"dollars from {board}:5:5: providers.nanophoto.price: $0.05 a shot" in plan.output
    done = invoke("render", board, "--yes", "--quiet", "--budget", "$0.10")
    assert done.exit_code == 0, done.output
    assert len(srv.accepted) == 2


def test_a_provider_that_prices_in_dollars_only_renders_within_a_dollar_budget(
    served: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service that bills in dollars (`Cost(None, usd)`, as gemini's will), with a dated source."""
    monkeypatch.setattr(KieProvider, "cost", lambda self, shot: Cost(None, 0.35))
    monkeypatch.setattr(KieProvider, "price_source", PriceSource.document("a price page", "2026-11-30"))
    kie = served("kie")
    board = write_board(tmp_path / "film", "kie", TWO)
    plan = invoke("plan", board)
    assert "Cost: $0.70." in plan.output and "Prices: dollars from a price page, 2026-11-30." in plan.output
    data = json.loads(invoke("plan", board, "--json").stdout)
    assert data["shots"][1]["cost"] == {
        "credits": None,
        "usd": 0.35,
        "from": {"usd": {"kind": "document", "name": "a price page", "date": "2026-11-30"}},
    }
    refused = invoke("render", board, "--yes", "--budget", "70")
    assert refused.exit_code == 2 and "no price in credits (the plan costs $0.70)" in refused.output
    over = invoke("render", board, "--yes", "--budget", "$0.69")
    assert over.exit_code == 2 and "costs $0.70, more than --budget $0.69" in over.output
    assert kie.requests == []
    done = invoke("render", board, "--yes", "--quiet", "--budget", "$1")
    assert done.exit_code == 0, done.output
    assert len(kie.accepted) == 2
    status = json.loads(invoke("status", board, "--json").stdout)
    assert status["cost"]["shots"] == 0  # made: nothing left to pay for


def test_a_declared_price_changes_no_fingerprint(tmp_path: Path) -> None:
    """What a shot costs is not what it is: declaring or changing a price pays for nothing again."""
    seen = []
    for price in (None, "$0.40", {"fast": "80 credits ($0.40)"}):
        extra = {"providers": {"kie": {"price": price}}} if price else {}
        board = write_board(tmp_path / "film", "kie", TWO, **extra)
        data = json.loads(invoke("plan", board, "--json").stdout)
        seen.append([s["fingerprint"] for s in data["shots"]])
    assert seen[0] == seen[1] == seen[2]


@pytest.mark.parametrize("budget", ["five", "-3", "$-1", "5 EUR", "$"])
def test_a_budget_that_is_not_an_amount_is_refused_before_anything(
    served: Any, tmp_path: Path, budget: str
) -> None:
    kie = served("kie")
    board = write_board(tmp_path / "film", "kie", TWO, providers={"kie": {"price": "$0.40"}})
    result = invoke("render", board, "--yes", "--budget", budget)
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--budget'" in result.output and "Traceback" not in result.output
    assert kie.requests == []


def test_a_bad_price_is_located_and_nothing_is_sent(served: Any, tmp_path: Path) -> None:
    kie = served("kie")
    prices = {"kie": {"price": {"fast": "cheap", "turbo": 3}}, "nanophoto": {"price": -1, "batch": 2}}
    board = write_board(tmp_path / "film", "kie", TWO, providers=prices)
    lines = board.read_text().splitlines()
    result = invoke("render", board, "--yes", "--budget", "$5")
    assert result.exit_code == 2, result.output
    fast = next(i for i, t in enumerate(lines, 1) if "fast: cheap" in t)
    assert f"board.yaml:{fast}:" in result.output
    assert "providers.kie.price.fast: 'cheap' is not a price" in result.output
    assert "providers.kie.price.turbo: there is no model 'turbo'" in result.output
    assert "providers.nanophoto.price: -1 is not a price" in result.output
    assert "there is no option" not in result.output  # price is the storyboard's, not an option
    assert "3 problems" in result.output and kie.requests == []
