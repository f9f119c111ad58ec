"""`storyboard mcp` through the `mcp` package's own client session over stdio, as an
assistant would use it: it lists its tools, plans a film, and renders only within the budget
it is given (a plan over it is refused with the plan, and the service is asked nothing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.run.boards import three, write_board
from tests.servers import FakeProvider

FAST = {"STORYBOARD_POLL_INTERVAL": "0.05", "STORYBOARD_RETRY_BASE": "0.01"}


def _env(**more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    return {**env, **FAST, **more}


async def _session(folder: Path, env: dict[str, str], work: Any) -> Any:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "storyboard", "mcp", "--root", str(folder)], env=env
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        return await work(session)


def _json(result: Any) -> dict[str, Any]:
    assert not result.is_error, result
    if result.structured_content is not None:
        data = result.structured_content
        return dict(data.get("result", data)) if "exit_code" not in data else dict(data)
    return dict(json.loads(result.content[0].text))


def run(folder: Path, env: dict[str, str], work: Any) -> Any:
    """The session on a thread of its own: a test before it in this process may have left an
    event loop running in the main thread (Playwright's sync API does), and anyio runs one
    loop a thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, _session, folder, env, work).result()


@pytest.mark.parametrize("provider_server", ["aivideoapi"], indirect=True)
def test_an_assistant_lists_the_tools_plans_and_renders_within_its_budget(
    tmp_path: Path, provider_server: FakeProvider
) -> None:
    srv = provider_server
    board = write_board(tmp_path / "film", "aivideoapi", three())
    env = _env(AIVIDEOAPI_API_KEY=srv.api_key, AIVIDEOAPI_BASE_URL=srv.base_url)

    async def work(s: ClientSession) -> dict[str, Any]:
        tools = {t.name for t in (await s.list_tools()).tools}
        plan = _json(await s.call_tool("plan", {"file": "board.yaml"}))
        over = _json(await s.call_tool("render", {"file": "board.yaml", "budget": "1"}))
        asked = len(srv.requests)
        done = _json(await s.call_tool("render", {"file": "board.yaml", "budget": "1000"}))
        status = _json(await s.call_tool("status", {"file": "board.yaml"}))
        resources = {str(r.uri) for r in (await s.list_resources()).resources}
        schema = await s.read_resource("storyboard://schema")
        current = await s.read_resource("storyboard://plan/board.yaml")
        return {
            "tools": tools,
            "plan": plan,
            "over": over,
            "asked": asked,
            "done": done,
            "status": status,
            "resources": resources,
            "schema": schema,
            "current": current,
        }

    cli_plan = json.loads(
        subprocess.run(
            [sys.executable, "-m", "storyboard", "plan", "board.yaml", "--json"],
            cwd=board.parent,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    got = run(board.parent, env, work)
    assert {"validate", "plan", "render", "status", "adopt", "report"} <= got["tools"]
    plan = got["plan"]
    assert plan["exit_code"] == 0
    assert plan["result"] == cli_plan  # the same JSON as --json
    over = got["over"]
    assert over["exit_code"] == 2 and over["plan"] == cli_plan  # refused, with the plan
    assert got["asked"] == 0  # nothing was sent for the refused render
    assert got["done"]["exit_code"] == 0, got["done"]
    assert sum(1 for r in srv.requests if r.method == "POST") == 3  # one paid submission a shot
    assert [s["state"] for s in got["status"]["result"]["shots"]] == ["made"] * 3
    assert "storyboard://schema" in got["resources"]
    assert json.loads(got["schema"].contents[0].text)["title"]
    assert json.loads(got["current"].contents[0].text)["shots"]


def test_render_requires_a_budget_and_a_file_inside_the_root(tmp_path: Path) -> None:
    board = write_board(tmp_path / "film", "preview", three())
    (tmp_path / "outside.yaml").write_text(board.read_text())

    async def work(s: ClientSession) -> tuple[Any, Any]:
        no_budget = await s.call_tool("render", {"file": "board.yaml"})
        outside = await s.call_tool("validate", {"file": "../outside.yaml"})
        return no_budget, outside

    no_budget, outside = run(board.parent, _env(), work)
    assert no_budget.is_error and "budget" in no_budget.content[0].text
    assert outside.is_error and "outside the folder" in outside.content[0].text
