"""Clips and tasks made under fingerprint version 2 (before the request line was part of it)
are found once and kept under version 3: plan says cached or resume, render pays nothing.
Only where version 2 told the request apart: a gemini record (the model only in the path)
is left alone, and that shot is paid for once.

The state here is the one the previous version wrote: a version-2 state file (its `made`
records not yet kept by storyboard), real clips in the cache under version-2 fingerprints,
computed below as that version did (git show 4a36bc7^:storyboard/plan/compiler.py), not
by the code under test."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.hashing import file_sha256
from storyboard.plan.compiler import Plan
from storyboard.providers.base import CompiledShot, Provider
from tests.clips import make_clip
from tests.run.boards import make_plan, use, write_board
from tests.servers import FakeProvider, start_server

QUALITY = "/v1beta/models/veo-3.1-generate-preview:predictLongRunning"


def v2_fingerprint(provider: Provider, compiled: CompiledShot, parent: str | None, take: int = 1) -> str:
    """The fingerprint as version 2 computed it: no request line."""
    body, needs = provider.shot_body(compiled)
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    inputs: list[str] = []
    for need in needs:
        if need.kind == "upload":
            text = text.replace(need.placeholder, "sha256:" + file_sha256(Path(need.source)))
        else:
            inputs.append(need.kind.value)
    material: dict[str, Any] = {
        "v": 2,
        "provider": provider.name,
        "body": json.loads(text),
        "inputs": inputs,
        "extra": provider.task_extra(compiled),
        "continues": parent,
    }
    options = provider.options.fingerprinted()
    if options:
        material["options"] = options
    if take > 1:
        material["take"] = take
    canonical = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def v2_keys(plan: Plan) -> dict[str, str]:
    out: dict[str, str] = {}
    for sp in plan.shots:
        parent = out.get(sp.compiled.shot.continues or "")
        out[sp.id] = v2_fingerprint(plan.provider, sp.compiled, parent)
    return out


def v2_state(
    folder: Path, provider: str, done: dict[str, str], clip: Path, submitted: dict[str, Any]
) -> None:
    """`.storyboard/` as version 2 left it: `done` {shot: fingerprint} made and cached (the
    clip's bytes under clips/<fingerprint>.mp4), `submitted` {shot: (fingerprint, task id)}."""
    sd = folder / ".storyboard"
    (sd / "clips").mkdir(parents=True)
    tasks: dict[str, Any] = {}
    clips: dict[str, Any] = {}
    now = 1_780_000_000.0
    for shot, fp in done.items():
        cached = sd / "clips" / f"{fp}.mp4"
        cached.write_bytes(clip.read_bytes())
        tasks[fp] = {
            "shot_id": shot,
            "provider": provider,
            "status": "done",
            "task_id": f"old-{shot}",
            "intent_at": now,
            "submitted_at": now + 1,
            "done_at": now + 60,
            "attempts": 1,
            "extra": {},
            "shots": [shot],
            "clip": f"clips/{fp}.mp4",
        }
        clips[fp] = {"size": cached.stat().st_size, "sha256": file_sha256(cached), "accepted_at": now + 60}
    for shot, (fp, task_id, extra) in submitted.items():
        tasks[fp] = {
            "shot_id": shot,
            "provider": provider,
            "status": "submitted",
            "task_id": task_id,
            "intent_at": now,
            "submitted_at": now + 1,
            "attempts": 1,
            "extra": extra,
            "shots": [shot],
        }
    state = {
        "version": 2,
        "lineage": "3f2b8c1e-0000-4000-8000-000000000002",
        "serial": 7,
        "tasks": tasks,
        "clips": clips,
        "made": dict(done),
        "made_by": {provider: dict(done)},
        "uploads": {},
    }
    (sd / "state.json").write_text(json.dumps(state, indent=1, sort_keys=True) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", seconds=8.0, fps=10)


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOARD_POLL_INTERVAL", "0.02")
    monkeypatch.setenv("STORYBOARD_RETRY_BASE", "0.01")
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)


def run(*args: str) -> Any:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def submissions(srv: FakeProvider, since: int = 0) -> list[str]:
    return [r.path for r in srv.requests[since:] if r.method == "POST"]


def test_clips_and_tasks_made_under_version_2_are_kept_and_not_paid_again(
    clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "film"
    shots = [
        {"id": "a", "prompt": "a red door in the rain"},
        {"id": "b", "prompt": "the door opens", "continues": "a"},
        {"id": "c", "prompt": "a green door at night"},
    ]
    board = write_board(folder, "kie", shots)
    with start_server("kie", clip=clip) as srv:
        use(monkeypatch, srv)
        plan = make_plan(board, srv)
        old = v2_keys(plan)
        new = {sp.id: sp.fingerprint for sp in plan.shots}
        assert not set(old.values()) & set(new.values())  # every fingerprint changed once
        # c was submitted by the previous version and is still running at the service
        c = plan.shot("c")
        task_id = plan.provider.submit(plan.requests(["c"])[0])["c"]
        plan.provider.close()
        extra = plan.provider.task_extra(c.compiled)
        v2_state(folder, "kie", {"a": old["a"], "b": old["b"]}, clip, {"c": (old["c"], task_id, extra)})
        before = len(srv.requests)

        data = json.loads(run("plan", str(board), "--json").stdout)
        assert [(s["id"], s["action"]) for s in data["shots"]] == [
            ("a", "cached"),
            ("b", "cached"),
            ("c", "resume"),
        ]
        assert data["shots"][2]["task_id"] == task_id
        assert data["requests"] == [] and not any(s["paid"] for s in data["shots"])
        # re-keyed once, durably: the state names the new fingerprints only
        state = json.loads((folder / ".storyboard" / "state.json").read_text())
        assert set(state["tasks"]) == set(new.values())
        assert set(state["clips"]) == {new["a"], new["b"]}
        assert state["made"]["board.yaml"] == {"a": new["a"], "b": new["b"]}
        assert state["made_by"]["board.yaml"]["kie"] == {"a": new["a"], "b": new["b"]}
        cached = folder / ".storyboard" / "clips"
        assert sorted(p.name for p in cached.glob("*.mp4")) == sorted(f"{new[s]}.mp4" for s in "ab")
        assert file_sha256(cached / f"{new['a']}.mp4") == file_sha256(clip)

        run("render", str(board), "--yes", "--quiet")
        assert submissions(srv, before) == []  # nothing paid: c polled and fetched
        assert len(srv.accepted) == 1
        assert (folder / "renders" / "board.mp4").is_file()
        state = json.loads((folder / ".storyboard" / "state.json").read_text())
        assert {fp: t["status"] for fp, t in state["tasks"].items()} == {fp: "done" for fp in new.values()}
        again = json.loads(run("plan", str(board), "--json").stdout)
        assert [s["action"] for s in again["shots"]] == ["cached"] * 3


def test_a_version_2_record_that_may_be_another_models_is_not_adopted(
    clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gemini names the model only in the URL path: version 2 gave `model: fast` and `model:
    quality` one fingerprint, so its record may be the fast model's clip. The quality shot is
    paid for once, at the quality endpoint; the old record is left as it was."""
    folder = tmp_path / "film"
    board = write_board(folder, "gemini", [{"id": "a", "prompt": "a harbour at dawn", "model": "quality"}])
    with start_server("gemini", clip=clip) as srv:
        use(monkeypatch, srv)
        plan = make_plan(board, srv)
        fast = make_plan(
            write_board(tmp_path / "fast", "gemini", [{"id": "a", "prompt": "a harbour at dawn"}]), srv
        )
        old = v2_keys(plan)
        assert old == v2_keys(fast)  # what version 2 could not tell apart
        v2_state(folder, "gemini", {"a": old["a"]}, clip, {})

        data = json.loads(run("plan", str(board), "--json").stdout)
        assert [(s["action"], s["why"]) for s in data["shots"]] == [("regenerate", "edited")]
        run("render", str(board), "--yes", "--quiet")
        assert submissions(srv) == [QUALITY]
        state = json.loads((folder / ".storyboard" / "state.json").read_text())
        assert state["tasks"][old["a"]]["task_id"] == "old-a"  # left as it was
        assert state["tasks"][plan.shot("a").fingerprint]["status"] == "done"


def test_an_uncertain_request_is_kept_uncertain_and_another_shots_record_is_not_taken(
    clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Version 2's uncertain request (sent, its answer lost) stays uncertain under version 3:
    never sent again on its own. A record of the same request made for another shot (`door`,
    renamed since) is that shot's: not taken."""
    folder = tmp_path / "film"
    shots = [{"id": "a", "prompt": "a red door in the rain"}, {"id": "b", "prompt": "a blue door"}]
    board = write_board(folder, "kie", shots)
    with start_server("kie", clip=clip) as srv:
        use(monkeypatch, srv)
        old = v2_keys(make_plan(board, srv))
        v2_state(folder, "kie", {"door": old["b"]}, clip, {})
        path = folder / ".storyboard" / "state.json"
        state = json.loads(path.read_text())
        state["tasks"][old["a"]] = {
            **state["tasks"][old["b"]],
            "shot_id": "a",
            "shots": ["a"],
            "status": "uncertain",
            "task_id": None,
            "reason": "the answer was lost",
            "uncertain_at": 1_780_000_100.0,
        }
        path.write_text(json.dumps(state), encoding="utf-8")
        data = json.loads(run("plan", str(board), "--json").stdout)
        assert [(s["id"], s["action"]) for s in data["shots"]] == [("a", "uncertain"), ("b", "generate")]
        assert srv.requests == []
        state = json.loads(path.read_text())
        assert old["b"] in state["tasks"] and old["a"] not in state["tasks"]
