"""Storyboards, plans and event recorders for the tests that render against loopback services."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from storyboard import providers
from storyboard.plan.compiler import Plan, compile_plan
from storyboard.plan.decide import decide
from storyboard.run.events import Ended, Event
from storyboard.store.stand import Stand
from storyboard.validate.checks import load_storyboard
from tests.servers import FakeProvider


def write_board(root: Path, provider: str, shots: list[dict[str, Any]], **top: Any) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "board.yaml"
    doc = {"storyboard": 1, "provider": provider, **top, "shots": shots}
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def make_plan(board: Path, srv: FakeProvider, api_key: str | None = None) -> Plan:
    sb = load_storyboard(board)
    cls = providers.get(srv.name)
    options = sb.provider_options.get(srv.name)  # `providers: {name: {...}}` of the board
    return compile_plan(sb, cls(base_url=srv.base_url, api_key=api_key or srv.api_key, options=options))


def preview_plan(board: Path) -> Plan:
    return compile_plan(load_storyboard(board), providers.get("preview")())


def three() -> list[dict[str, Any]]:
    return [
        {"id": "a", "prompt": "a red door in the rain"},
        {"id": "b", "prompt": "a blue door at dawn"},
        {"id": "c", "prompt": "a green door at night"},
    ]


class Events:
    """A Reporter that keeps every event."""

    def __init__(self) -> None:
        self.seen: list[Event] = []

    def on(self, event: Event) -> None:
        self.seen.append(event)

    def of(self, kind: type[Event]) -> list[str]:
        return [e.shot_id for e in self.seen if isinstance(e, kind)]

    def all(self, kind: type[Event]) -> list[Any]:
        return [e for e in self.seen if isinstance(e, kind)]

    def ended(self, outcome: Stand) -> list[str]:
        return [e.shot_id for e in self.seen if isinstance(e, Ended) and e.outcome is outcome]


def states(plan: Plan) -> list[str]:
    """Each shot's state as `storyboard status` says it."""
    return [d.state for d in decide(plan)]


def actions(plan: Plan, force: tuple[str, ...] = ()) -> list[str]:
    return [d.action.value for d in decide(plan, force=force)]


def prompts_accepted(srv: FakeProvider) -> list[str]:
    return [a["body"].get("prompt") for a in srv.accepted]


def downloads(srv: FakeProvider) -> int:
    return sum(1 for r in srv.requests if r.path.startswith("/files/"))


ROOT = Path(__file__).resolve().parents[2]


def use(monkeypatch: pytest.MonkeyPatch, srv: FakeProvider) -> None:
    """Point the provider's key and base URL at the loopback server, in this process."""
    monkeypatch.setenv(f"{srv.name.upper()}_API_KEY", srv.api_key)
    monkeypatch.setenv(f"{srv.name.upper()}_BASE_URL", srv.base_url)


def cli_env(srv: FakeProvider) -> dict[str, str]:
    """The environment of a `storyboard` child process that talks to the loopback server (and
    to no other service: the keys and base URLs of this shell are left out)."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    env.update(
        {
            f"{srv.name.upper()}_API_KEY": srv.api_key,
            f"{srv.name.upper()}_BASE_URL": srv.base_url,
            "STORYBOARD_RETRY_BASE": "0.01",
            "STORYBOARD_POLL_INTERVAL": "0.05",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env
