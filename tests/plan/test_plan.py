"""`storyboard plan`: every example on every provider either compiles to requests that match
the provider's documented request schema, priced from the documents' tables, or is refused
with a clear message; no network is touched and the key never appears."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from storyboard.cli import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(ROOT.glob("examples/*/*.yaml"))
SCHEMAS = ROOT / "tests" / "provider_schemas"
PROVIDERS = ("veo3o1", "nanophoto", "aivideoapi", "kie")
KEY = "sk-known-key-DO-NOT-LEAK-0123456789"

# The documents' price tables, restated here from the documents, not from the code.
NANOPHOTO = {"720p": 10, "1080p": 14, "4k": 30}
AIVIDEOAPI = {  # mode -> resolution -> (credits, usd)
    "fast": {"720p": (40, 0.20), "1080p": (50, 0.25), "4k": (120, 0.60)},
    "quality": {"720p": (300, 1.50), "1080p": (310, 1.55), "4k": (380, 1.90)},
    "lite": {"720p": (20, 0.10), "1080p": (30, 0.15), "4k": (100, 0.50)},
}


# Which examples are written to be made by which providers (the rest are refused, checked above).
MUST_PLAN = {
    *(("three-shot", p) for p in PROVIDERS),
    *(("long-21", p) for p in PROVIDERS),
    ("lighthouse", "aivideoapi"),
    ("lighthouse", "kie"),
    ("vertical", "veo3o1"),
}


def schema_for(provider: str, url: str) -> dict[str, Any]:
    kind = (
        "upload"
        if url.endswith("/upload-video-image")
        else "extend"
        if url.endswith("/extend")
        else "generate"
    )
    return json.loads((SCHEMAS / f"{provider}.{kind}.schema.json").read_text())


def run_plan(path: Path, provider: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in PROVIDERS:
        monkeypatch.setenv(f"{name.upper()}_API_KEY", KEY)
        # a closed port: if plan touched the network it would fail
        monkeypatch.setenv(f"{name.upper()}_BASE_URL", "http://127.0.0.1:9")
    return CliRunner().invoke(cli, ["plan", str(path), "--provider", provider, "--json"])


# Prices an example declares itself (`providers: {NAME: {price: ...}}`), restated: a clip is 8 s.
DECLARED = {("long-21", "veo3o1"): (None, 0.05 * 8)}


def expected_cost(
    provider: str, body: dict[str, Any], example: str = ""
) -> tuple[float | None, float | None]:
    if (example, provider) in DECLARED:
        return DECLARED[example, provider]
    if provider == "nanophoto":
        return NANOPHOTO[body.get("resolution", "720p")] * len(body["shots"]), None
    if provider == "aivideoapi":
        inp = body["input"]
        credits, usd = AIVIDEOAPI[inp.get("mode", "fast")][inp.get("resolution", "720p")]
        return credits, usd
    return None, None  # veo3o1 and kie publish no price table


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_on_every_provider(
    example: Path, provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_plan(example, provider, monkeypatch)
    assert KEY not in result.output
    if result.exit_code == 2:
        # refused before any request: each problem names the file, line, shot, field and who can
        assert "Traceback" not in result.output
        errors = json.loads(result.stdout)["errors"]  # with --json, errors are JSON objects too
        assert errors
        for e in errors:
            assert e["file"] in (str(example), example.name) and e["line"] and e["column"]
            assert (e["path"].startswith("shots[") and "shot '" in e["message"]) or (
                e["path"].startswith("settings.") and e["message"].startswith("shots '")  # given once
            ), e
            assert "providers that can" in e["message"] or "no provider can" in e["message"]
        assert (example.stem, provider) not in MUST_PLAN
        return
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["provider"] == provider and data["requests"]
    covered: list[str] = []
    credits: list[float | None] = []
    usd: list[float | None] = []
    for req in data["requests"]:
        assert req["method"] == "POST" and req["url"].startswith("http://127.0.0.1:9")
        if "multipart" in req:  # veo3o1 uploads a local image first
            continue
        body = json.dumps(req["body"])
        for need in req.get("needs", []):  # filled at render time
            if need["kind"] == "task_id":  # the parent's task, for an extension
                body = body.replace(need["placeholder"], "task-of-" + need["source"])
            else:  # an uploaded image's URL: only veo3o1 takes uploads
                assert provider == "veo3o1"
                body = body.replace(need["placeholder"], "https://uploads.example.com/image.png")
        jsonschema.validate(json.loads(body), schema_for(provider, req["url"]))
        covered += req["shots"]
        c, u = expected_cost(provider, req["body"], example.stem)
        credits.append(c)
        usd.append(u)
    assert covered == [s["id"] for s in data["shots"]]  # every shot, once, in order
    if provider == "nanophoto":  # a request a shot, sent together (the default `batch: 1`)
        assert len([r for r in data["requests"] if "body" in r]) == len(data["shots"])
    total_credits = None if None in credits else sum(c for c in credits if c is not None)
    total_usd = None if None in usd else round(sum(u for u in usd if u is not None), 2)
    assert data["cost"]["credits"] == total_credits
    assert data["cost"]["usd"] == total_usd


def test_plan_text_shows_symbols_and_totals(monkeypatch: pytest.MonkeyPatch) -> None:
    example = ROOT / "examples" / "three-shot" / "three-shot.yaml"
    result = run_plan(example, "aivideoapi", monkeypatch)
    assert result.exit_code == 0
    result = CliRunner().invoke(cli, ["plan", str(example), "--provider", "aivideoapi"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [ln.split()[0] for ln in lines[1:5]] == ["+", "+", "+", "+"]  # crowd has two takes
    assert "crowd@2" in lines[4] and "[take 2; seed " in lines[4]
    assert "Plan: 4 to generate, 0 to regenerate, 0 already made. Cost: 160 credits ($0.80)." in lines
    # a service that is not the documented one is named, so a key is not sent somewhere unseen
    assert lines[-1] == "Requests go to http://127.0.0.1:9 (not https://api.aivideoapi.ai)."


def test_unknown_price_says_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    example = ROOT / "examples" / "three-shot" / "three-shot.yaml"
    result = CliRunner().invoke(cli, ["plan", str(example), "--provider", "kie"])
    assert result.exit_code == 0, result.output
    assert "Cost: unknown (4 shots unpriced: kie's documents give no prices)." in result.output  # a take


def test_plan_imports_neither_moviepy_nor_numpy() -> None:
    example = ROOT / "examples" / "long-21" / "long-21.yaml"
    code = (
        "import sys\nfrom storyboard.cli import main\n"
        f"sys.argv=['storyboard','plan',{str(example)!r},'-p','nanophoto','--json']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "bad=[m for m in sys.modules if m.split('.')[0] in ('moviepy','numpy','PIL')]\n"
        "assert not bad, bad\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["cost"]["credits"] == 210  # 21 shots x 10 credits at 720p
