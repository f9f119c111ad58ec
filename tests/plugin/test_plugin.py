"""A provider plugin from outside (tests/plugin, registered for the test session as an installed
distribution: see tests/plugin/__init__.py) works exactly like a built-in one, through the real
CLI against its own loopback server: plan, render, status, adopt; its capability checks are
located, its errors mapped, its prices and options counted; and the README's example plugin
keeps the contract."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from loopvid.server import LoopvidServer

from storyboard import providers
from storyboard.providers import registry
from tests.cli_run import FAST, Ran, invoke
from tests.plugin import PLUGIN

ROOT = Path(__file__).resolve().parents[2]
KEY = "lv-Tq8Wm3Zr6Yp1Kc5Nd9"


@pytest.fixture
def srv(veo_clip: Path) -> Iterator[Any]:
    with LoopvidServer(clip=veo_clip, key=KEY, job_seconds=0.1).start() as server:
        yield server
        assert server.errors == []


def board(folder: Path, shots: list[dict[str, Any]] | None = None, **top: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    doc = {
        "storyboard": 1,
        "provider": "loopvid",
        "providers": {"loopvid": {"grain": 2}},
        "settings": {"seed": 12345},
        "images": {"dawn": {"url": "https://images.test/dawn.png"}},
        **top,
        "shots": shots
        or [
            {"id": "a", "prompt": "a red door in the rain"},
            {"id": "b", "prompt": "a blue door at dawn", "frames": {"first": "dawn"}},
            {"id": "c", "prompt": "a green door at night"},
        ],
    }
    path = folder / "board.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def cli(folder: Path, srv: Any, *args: str, key: str = KEY) -> Ran:
    """The real CLI, in this process (the plugin is loaded as the CLI would load it)."""
    proc = invoke(folder, "LOOPVID", srv.base_url, key, *args, **FAST)
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    assert key not in proc.stderr + proc.stdout
    return proc


def test_it_is_installed_like_any_provider() -> None:
    (entry,) = registry.entries()["loopvid"]
    assert entry.dist == "storyboard-loopvid" and entry.target == "loopvid.provider:LoopvidProvider"
    assert providers.get("loopvid").name == "loopvid"


def test_the_users_storyboard_does_not_list_it() -> None:
    """Registered for the tests alone: the environment the README's install makes (without
    the session's PYTHONPATH) knows no loopvid; with it, the help names its key."""

    def help_text(pythonpath: list[str]) -> str:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(pythonpath)}
        proc = subprocess.run(
            [sys.executable, "-m", "storyboard", "--help"], capture_output=True, text=True, env=env, cwd=ROOT
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    session = os.environ["PYTHONPATH"].split(os.pathsep)
    assert "LOOPVID_API_KEY" in help_text(session)
    users = [p for p in session if p not in (str(PLUGIN), os.environ["STORYBOARD_TEST_PLUGIN_SITE"])]
    assert "loopvid" not in help_text(users).lower()


def test_plan_shows_its_requests_prices_and_options(tmp_path: Path, srv: Any) -> None:
    path = board(tmp_path / "film")
    proc = cli(path.parent, srv, "plan", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["provider"] == "loopvid" and data["base_url"] == srv.base_url
    bodies = [r["body"] for r in data["requests"]]
    assert bodies == [
        {"scene": "a red door in the rain", "frame": "16:9", "seed": 12345, "grain": 2},
        {
            "scene": "a blue door at dawn",
            "frame": "16:9",
            "still": "https://images.test/dawn.png",
            "seed": 12345,
            "grain": 2,
        },
        {"scene": "a green door at night", "frame": "16:9", "seed": 12345, "grain": 2},
    ]
    assert all(r["url"] == f"{srv.base_url}/v2/clips" for r in data["requests"])
    assert data["cost"]["credits"] == 21
    # an image on a test host (RFC 2606 `.test`) is no example.com placeholder: no warning
    assert data["warnings"] == []
    text = cli(path.parent, srv, "plan", str(path))
    assert text.returncode == 0 and "7 credits" in text.stdout and "21 credits" in text.stdout
    assert srv.requests == []  # a plan sends nothing
    # an option that changes the clip changes the fingerprints: grain 3 is another clip
    again = board(tmp_path / "film", providers={"loopvid": {"grain": 3}})
    other = json.loads(cli(again.parent, srv, "plan", str(again), "--json").stdout)
    assert {s["fingerprint"] for s in other["shots"]}.isdisjoint(s["fingerprint"] for s in data["shots"])


def test_what_it_cannot_do_is_refused_with_a_location(tmp_path: Path, srv: Any) -> None:
    shots = [
        {"id": "ok", "prompt": "fine"},
        {"id": "tall", "prompt": "a tower", "aspect_ratio": "9:16"},
        {"id": "refs", "prompt": "a face", "references": ["dawn"]},
        {"id": "sharp", "prompt": "a harbour", "resolution": "1080p"},
        {"id": "next", "prompt": "it goes on", "continues": "ok"},
    ]
    path = board(tmp_path / "film", shots)
    proc = cli(path.parent, srv, "plan", str(path))
    assert proc.returncode == 2
    errors = [ln for ln in proc.stderr.splitlines() if ": error: " in ln]
    by_field = {re.search(r"error: (shots\[\d\]\.[\w.]+):", ln).group(1): ln for ln in errors}  # type: ignore[union-attr]
    assert set(by_field) == {
        "shots[1].aspect_ratio",
        "shots[2].references",
        "shots[3].resolution",
        "shots[4].continues",
    }
    for line in errors:
        assert re.match(r"^board\.yaml:\d+:\d+: error: ", line) or line.startswith(f"{path}:"), line
        assert "providers that can:" in line or "no provider can" in line
    assert "loopvid has no aspect ratio '9:16' (16:9 only)" in by_field["shots[1].aspect_ratio"]
    assert "kie" in by_field["shots[1].aspect_ratio"]  # the built-ins are asked the same rules
    assert "loopvid has no resolution setting: it makes 720p only" in by_field["shots[3].resolution"]
    assert srv.requests == []
    # the built-ins' messages now count loopvid among those that can, where it can
    tall = board(
        tmp_path / "other", [{"id": "a", "prompt": "x", "aspect_ratio": "auto"}], provider="nanophoto"
    )
    proc = cli(tall.parent, srv, "plan", str(tall))
    assert proc.returncode == 2 and "providers that can: aivideoapi, kie, veo3o1" in proc.stderr
    wide = board(tmp_path / "other", [{"id": "a", "prompt": "x", "model": "quality"}], provider="veo3o1")
    said = cli(wide.parent, srv, "plan", str(wide)).stderr.splitlines()
    (model,) = [ln for ln in said if "error: shots[0].model:" in ln]
    assert "providers that can: aivideoapi" in model and "loopvid" not in model  # fast only


def test_a_wrong_name_or_option_is_located_with_did_you_mean(tmp_path: Path, srv: Any) -> None:
    path = board(tmp_path / "film", provider="loopvd", providers={"loopvid": {"grian": 1}})
    proc = cli(path.parent, srv, "validate", str(path))
    assert proc.returncode == 2
    assert re.search(
        r"board\.yaml:\d+:\d+: error: provider: unknown provider 'loopvd': .*loopvid", proc.stderr
    )
    assert "(did you mean 'loopvid'?)" in proc.stderr
    assert re.search(
        r"error: providers\.loopvid\.grian: there is no option 'grian' \(options: grain\)", proc.stderr
    )
    assert "(did you mean 'grain'?)" in proc.stderr
    path = board(tmp_path / "film", providers={"loopvid": {"grain": 9}})
    proc = cli(path.parent, srv, "plan", str(path))
    assert proc.returncode == 2 and "providers.loopvid.grain: 9 is above the most allowed, 3" in proc.stderr


def test_render_status_and_a_second_render_that_pays_nothing(tmp_path: Path, srv: Any) -> None:
    path = board(tmp_path / "film")
    proc = cli(path.parent, srv, "render", str(path), "--yes", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert (path.parent / "renders" / "board.mp4").is_file()
    assert len(srv.accepted) == 3 and [a["body"]["grain"] for a in srv.accepted] == [2, 2, 2]
    downloads = srv.downloads()
    assert len(downloads) == 3 and all("authorization" not in d.headers for d in downloads)
    status = json.loads(cli(path.parent, srv, "status", str(path), "--json").stdout)
    assert [(s["id"], s["state"], s["provider"]) for s in status["shots"]] == [
        ("a", "made", "loopvid"),
        ("b", "made", "loopvid"),
        ("c", "made", "loopvid"),
    ]
    assert {s["task_id"] for s in status["shots"]} == {a["clip"] for a in srv.accepted}
    again = cli(path.parent, srv, "render", str(path), "--yes", "--quiet")
    assert again.returncode == 0 and len(srv.accepted) == 3
    for file in path.parent.rglob("*"):
        if file.is_file():
            assert KEY.encode() not in file.read_bytes(), file


def test_its_errors_read_like_the_built_ins(tmp_path: Path, srv: Any) -> None:
    path = board(tmp_path / "film")
    wrong = cli(path.parent, srv, "render", str(path), "--yes", "--quiet", key=KEY + "x")
    assert wrong.returncode == 1 and "set LOOPVID_API_KEY" in wrong.stderr and srv.accepted == []
    srv.tokens = 10
    broke = cli(path.parent, srv, "render", str(path), "--yes", "--quiet", "--concurrency", "1")
    assert broke.returncode == 1
    assert re.search(
        r"not enough credits: 7 needed, 3 available \(OUT_OF_TOKENS: not enough tokens\)", broke.stderr
    )
    assert len(srv.accepted) == 1
    srv.tokens = 1000
    refused = board(tmp_path / "film", [{"id": "a", "prompt": "a FORBIDDEN door"}])
    proc = cli(refused.parent, srv, "render", str(refused), "--yes", "--quiet")
    assert (
        proc.returncode == 1
        and "the scene was refused (NOT_ALLOWED: the scene breaks the rules)" in proc.stderr
    )


def test_a_lost_answer_is_uncertain_until_adopted(tmp_path: Path, srv: Any) -> None:
    path = board(tmp_path / "film")
    srv.fault("lose")  # the first clip is made and charged, and its answer never comes back
    lost = cli(path.parent, srv, "render", str(path), "--yes", "--quiet", "--concurrency", "1")
    assert lost.returncode == 1 and "adopt" in lost.stderr
    status = {
        s["id"]: s for s in json.loads(cli(path.parent, srv, "status", str(path), "--json").stdout)["shots"]
    }
    (shot,) = [s for s, v in status.items() if v["state"] == "uncertain"]
    assert len(srv.accepted) == 3  # paid for all three, one of them in the dark
    paid = {a["body"]["scene"]: a["clip"] for a in srv.accepted}
    prompt = {"a": "a red door in the rain", "b": "a blue door at dawn", "c": "a green door at night"}[shot]
    wrong = cli(path.parent, srv, "adopt", str(path), shot, "nosuchclip")
    assert wrong.returncode == 2 and "no such clip" in wrong.stderr  # NO_SUCH_CLIP: nothing recorded
    adopted = cli(path.parent, srv, "adopt", str(path), shot, paid[prompt])  # from "the dashboard"
    assert adopted.returncode == 0, adopted.stderr
    done = cli(path.parent, srv, "render", str(path), "--yes", "--quiet")
    assert done.returncode == 0, done.stderr
    assert len(srv.accepted) == 3  # nothing paid twice
    assert (path.parent / "renders" / "board.mp4").is_file()


def test_a_status_page_of_a_proxy_fails_no_job(tmp_path: Path, srv: Any) -> None:
    path = board(tmp_path / "film", [{"id": "a", "prompt": "a red door"}])
    for _ in range(3):
        srv.fault("bare404")  # a plain 404 page: no word about the clip
    proc = cli(path.parent, srv, "render", str(path), "--yes", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert len(srv.accepted) == 1


# the README's example ---------------------------------------------------------------------------
def _readme_plugin() -> tuple[str, str]:
    text = (ROOT / "README.md").read_text("utf-8")
    section = text.split("## Writing a provider plugin", 1)[1].split("\n## ", 1)[0]
    toml = re.search(r"```toml\n(.*?)```", section, re.S)
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert toml and code
    return toml.group(1), code.group(1)


def test_the_readmes_plugin_keeps_the_contract_and_plans() -> None:
    from storyboard.errors import Severity
    from tests.providers.conftest import compiled, url_asset

    toml, code = _readme_plugin()
    assert re.search(r'^acme = "acme_storyboard:AcmeProvider"', toml, re.M)
    module = types.ModuleType("acme_storyboard")  # as if installed: dataclasses look it up
    sys.modules[module.__name__] = module
    try:
        exec(compile(code, "README.md", "exec"), vars(module))
    finally:
        del sys.modules[module.__name__]
    cls = module.AcmeProvider
    assert registry.contract_problems(cls, "acme") == []
    p = cls(options={"grain": 2})
    (req,) = p.requests([compiled("a", prompt="dawn")])
    assert (req.url, req.body) == ("https://api.acme.example/v1/jobs", {"text": "dawn", "grain": 2})
    assert p.cost(compiled()).credits == 5
    assert p.check(compiled(first=url_asset("x"))) == []
    (tall,) = p.check(compiled(aspect_ratio="9:16"))
    assert tall.severity is Severity.ERROR and "acme has no aspect ratio '9:16'" in tall.message
