"""`storyboard mcp`: a Model Context Protocol server over stdio, for assistants asked for a film.

Each tool runs the command a user would, `storyboard COMMAND ... --json`, in a process of its
own, and returns the JSON that command prints (its exit code beside it): the same decision,
the same messages, nothing that the CLI would not do. A process of its own keeps stdout, which
carries the protocol here, for the protocol alone, and lets a long render be stopped.

Money: `render` spends only within the `budget` it is given (the argument is required; no
default spends), never asks, and a plan over the budget is refused with the plan, as the
CLI's own `--budget` refuses it. Storyboards are files under the server's root folder (the
folder it was started in, or `--root`): a path outside it is refused.

Resources: the JSON Schema of the format, and any storyboard's current plan
(`storyboard://plan/{file}`).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

INSTRUCTIONS = """\
storyboard compiles a short film written as one YAML storyboard into Veo 3.1 requests,
generates the shots and cuts the film. Check a file with `validate`, see exactly what a
render would send and cost with `plan`, then `render` with an explicit `budget` (credits,
or '$5' in dollars): nothing is spent beyond it. `status` says where each shot stands;
`adopt` attaches a task id whose answer was lost; `report` writes a contact sheet."""


@dataclass(frozen=True)
class Root:
    folder: Path

    def file(self, name: str) -> Path:
        """A storyboard under the root; the tool's error for one outside it."""
        path = (self.folder / name).resolve()
        if path != self.folder and self.folder not in path.parents:
            raise ToolError(f"{name} is outside the folder this server serves ({self.folder})")
        return path


async def run_cli(root: Root, *args: str) -> dict[str, Any]:
    """`storyboard ARGS` in the root folder: its JSON document (or its words), and exit code."""
    env = dict(os.environ)
    env.pop("_STORYBOARD_COMPLETE", None)
    done = await anyio.run_process(
        [sys.executable, "-m", "storyboard", *args], cwd=root.folder, env=env, check=False, stdin=None
    )
    out, err = done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
    try:
        result: dict[str, Any] = {"result": json.loads(out)} if out.strip() else {}
    except json.JSONDecodeError:
        result = {"output": out}
    result["exit_code"] = done.returncode
    if err.strip():
        result["messages"] = err.strip()
    return result


def _provider(provider: str | None) -> list[str]:
    return ["-p", provider] if provider else []


def build(folder: Path) -> MCPServer:
    root = Root(folder.resolve())
    app = MCPServer("storyboard", instructions=INSTRUCTIONS)

    @app.tool()
    async def validate(file: str, provider: str | None = None) -> dict[str, Any]:
        """Check a storyboard: every problem with its line and column, and what its provider
        (or `provider`) cannot do. Sends nothing; needs no key."""
        return await run_cli(root, "validate", str(root.file(file)), *_provider(provider), "--json")

    @app.tool()
    async def plan(file: str, provider: str | None = None, force: list[str] | None = None) -> dict[str, Any]:
        """Every request a render would send, and what it costs, shot by shot (`force`: shot ids
        to make again). Sends nothing."""
        forced = [a for shot in force or [] for a in ("--force", shot)]
        return await run_cli(root, "plan", str(root.file(file)), *_provider(provider), *forced, "--json")

    @app.tool()
    async def status(file: str, provider: str | None = None) -> dict[str, Any]:
        """Where each shot stands: new, submitted (task id, age), made, failed, uncertain."""
        return await run_cli(root, "status", str(root.file(file)), *_provider(provider), "--json")

    @app.tool()
    async def render(
        file: str, budget: str, provider: str | None = None, force: list[str] | None = None
    ) -> dict[str, Any]:
        """Generate what is missing within `budget` (required: credits like '500', or dollars
        like '$5'; '0' for a free preview), then cut the film. A plan that costs more is refused
        with the plan, and nothing is sent. Never asks; never pays twice for a shot."""
        path = str(root.file(file))
        forced = [a for shot in force or [] for a in ("--force", shot)]
        done = await run_cli(
            root, "render", path, *_provider(provider), *forced, "--yes", "--budget", budget, "--json"
        )
        if done["exit_code"] == 2 and "budget" in json.dumps(done.get("result", done)).lower():
            done["plan"] = (await run_cli(root, "plan", path, *_provider(provider), *forced, "--json")).get(
                "result"
            )
        return done

    @app.tool()
    async def adopt(file: str, shot: str, task_id: str, provider: str | None = None) -> dict[str, Any]:
        """Attach a task id (from the service's dashboard) to a shot whose answer was lost, so a
        render fetches it instead of paying again."""
        return await run_cli(root, "adopt", str(root.file(file)), shot, task_id, *_provider(provider))

    @app.tool()
    async def report(file: str, provider: str | None = None) -> dict[str, Any]:
        """Write the contact sheet (an HTML page beside the film): every shot's frames, prompt,
        cost and state. Generates and sends nothing."""
        return await run_cli(root, "report", str(root.file(file)), *_provider(provider))

    @app.resource(
        "storyboard://schema", name="schema", mime_type="application/schema+json", description="The format"
    )
    def schema() -> str:
        return resources.files("storyboard.schemas").joinpath("storyboard.schema.json").read_text("utf-8")

    @app.resource(
        "storyboard://plan/{+file}",
        name="plan",
        mime_type="application/json",
        description="A storyboard's current plan: what a render would send, and its cost",
    )
    async def current_plan(file: str) -> str:
        done = await run_cli(root, "plan", str(root.file(file)), "--json")
        return json.dumps(done.get("result", done), ensure_ascii=False, indent=2)

    return app


def serve(folder: Path) -> None:
    """Speak MCP on stdin and stdout until the client closes them."""
    build(folder).run("stdio")
