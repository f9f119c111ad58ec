"""A film on several providers (`provider:` as a list), rendered against loopback services,
each request counted: every shot made at the first listed provider that can make it, the
status naming each shot's provider, an unchanged render sending nothing, and a shot passed
on to the next listed provider when one refuses it before taking it (out of credits, a
refused key) - never after a request whose answer was lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from tests.clips import make_clip
from tests.run.boards import ROOT, use, write_board
from tests.servers import FakeProvider, start_server

SUBMIT = {
    "veo3o1": ("/generate-video",),
    "kie": ("/api/v1/veo/generate", "/api/v1/veo/extend"),
    "aivideoapi": ("/v1/videos/generations",),
}
LIST = ["veo3o1", "kie", "aivideoapi"]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", seconds=8.0, size=(64, 36), fps=10)


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOARD_POLL_INTERVAL", "0.02")
    monkeypatch.setenv("STORYBOARD_RETRY_BASE", "0.01")
    for name in ("VEO3O1", "KIE", "AIVIDEOAPI", "NANOPHOTO", "GEMINI", "GOOGLE"):
        monkeypatch.delenv(f"{name}_API_KEY", raising=False)
        monkeypatch.delenv(f"{name}_BASE_URL", raising=False)


@pytest.fixture
def services(clip: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, FakeProvider]]:
    servers = {name: start_server(name, clip=clip) for name in LIST}
    try:
        for srv in servers.values():
            use(monkeypatch, srv)
        yield servers
    finally:
        for srv in servers.values():
            srv.close()


def sent(srv: FakeProvider) -> list[Any]:
    """The paid requests the service received (answered or not)."""
    return [r for r in srv.requests if r.method == "POST" and r.path in SUBMIT[srv.name]]


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def four_shots(folder: Path) -> Path:
    """A text shot, a reference shot, a 4k shot and a shot from a local still."""
    folder.mkdir(parents=True, exist_ok=True)
    still = folder / "still.png"
    still.write_bytes((Path(__file__).parents[2] / "storyboard/init/images/hero.png").read_bytes())
    return write_board(
        folder,
        LIST,  # type: ignore[arg-type]  # write_board writes whatever `provider:` is given
        [
            {"id": "text", "prompt": "a red door in the rain"},
            {
                "id": "ref",
                "prompt": "the keeper in the hall",
                "references": ["https://img.invalid/keeper.png"],
            },
            {"id": "big", "prompt": "the city at dawn", "resolution": "4k"},
            {"id": "still", "prompt": "the lamp flickers", "frames": {"first": "still.png"}},
        ],
    )


WHERE = {"text": "veo3o1", "ref": "kie", "big": "aivideoapi", "still": "veo3o1"}


def test_each_shot_is_made_at_the_first_listed_provider_that_can_and_an_unchanged_render_sends_nothing(
    services: dict[str, FakeProvider], tmp_path: Path
) -> None:
    board = four_shots(tmp_path / "film")
    planned = run("plan", str(board), "--json")
    assert planned.exit_code == 0, planned.output
    data = json.loads(planned.output)
    assert {s["id"]: s["provider"] for s in data["shots"]} == WHERE
    why = {s["id"]: s["route"]["why"] for s in data["shots"]}
    assert why["ref"] == "veo3o1: references"
    assert why["big"] == "veo3o1: resolution, kie: resolution"
    assert set(data["providers"]) == {"veo3o1", "kie", "aivideoapi"}

    made = run("render", str(board), "--yes")
    assert made.exit_code == 0, made.output
    counts = {name: len(sent(srv)) for name, srv in services.items()}
    assert counts == {"veo3o1": 2, "kie": 1, "aivideoapi": 1}
    bodies = {name: [r.body for r in sent(srv)] for name, srv in services.items() if name != "veo3o1"}
    assert bodies["kie"][0]["prompt"].startswith("the keeper")
    assert bodies["aivideoapi"][0]["input"]["resolution"] == "4k"
    veo = [r.body for r in sent(services["veo3o1"])]
    assert sorted(b["generationType"] for b in veo) == ["image_to_video", "text_to_video"]
    # the plan showed exactly what was sent, request for request, at each provider
    for name, srv in services.items():
        planned_here = [r for r in data["requests"] if "body" in r and r["url"].startswith(srv.base_url)]
        assert len(planned_here) == len(sent(srv)), name
        placeholders = {n["placeholder"] for r in planned_here for n in r.get("needs", [])}
        for r in sent(srv):
            assert any(_same(r.body, p["body"], placeholders) for p in planned_here), (name, r.body)

    status = run("status", str(board), "--json")
    shots = json.loads(status.output)["shots"]
    assert {s["id"]: s["provider"] for s in shots} == WHERE
    assert {s["state"] for s in shots} == {"made"}

    before = {name: len(srv.requests) for name, srv in services.items()}
    again = run("render", str(board), "--yes")
    assert again.exit_code == 0, again.output
    assert {name: len(srv.requests) for name, srv in services.items()} == before  # nothing sent at all


def _same(sent_body: Any, planned: Any, placeholders: set[str]) -> bool:
    """A sent body equals a planned one, with an upload's URL where the plan has its placeholder."""
    if isinstance(planned, str) and planned in placeholders:
        return isinstance(sent_body, str) and sent_body.startswith("http")
    if isinstance(planned, dict) and isinstance(sent_body, dict):
        return planned.keys() == sent_body.keys() and all(
            _same(sent_body[k], v, placeholders) for k, v in planned.items()
        )
    if isinstance(planned, list) and isinstance(sent_body, list):
        return len(planned) == len(sent_body) and all(
            _same(a, b, placeholders) for a, b in zip(sent_body, planned, strict=True)
        )
    return bool(sent_body == planned)


def test_a_provider_out_of_credits_passes_every_shot_to_the_next_listed(
    services: dict[str, FakeProvider], tmp_path: Path
) -> None:
    services["veo3o1"].credits = 0
    board = write_board(
        tmp_path / "film",
        "veo3o1",
        [{"id": s, "prompt": f"a {s} door"} for s in ("red", "blue", "green")],
    )
    text = board.read_text().replace("provider: veo3o1", "provider: [veo3o1, kie]")
    board.write_text(text)
    made = run("render", str(board), "--yes")
    assert made.exit_code == 0, made.output
    assert len(services["kie"].accepted) == 3 and len(sent(services["kie"])) == 3
    assert services["veo3o1"].accepted == []  # refused: none taken there
    assert len(sent(services["veo3o1"])) >= 1
    assert "passed on from veo3o1 to kie" in made.output
    status = json.loads(run("status", str(board), "--json").output)
    assert {s["provider"] for s in status["shots"]} == {"kie"}
    assert {s["state"] for s in status["shots"]} == {"made"}
    # the shots stay where they were made: veo3o1 has credits again, and nothing is sent
    services["veo3o1"].credits = 10_000
    before = {name: len(srv.requests) for name, srv in services.items()}
    again = run("render", str(board), "--yes")
    assert again.exit_code == 0, again.output
    assert {name: len(srv.requests) for name, srv in services.items()} == before


def test_a_refused_key_passes_the_shot_on_and_a_lost_answer_never_does(
    services: dict[str, FakeProvider], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VEO3O1_API_KEY", "wrong-key")
    board = write_board(tmp_path / "film", "veo3o1", [{"id": "a", "prompt": "a door"}])
    board.write_text(board.read_text().replace("provider: veo3o1", "provider: [veo3o1, kie]"))
    made = run("render", str(board), "--yes")
    assert made.exit_code == 0, made.output
    assert len(services["kie"].accepted) == 1 and services["veo3o1"].accepted == []

    # the answer to a submission is lost: the shot stays uncertain, at kie too nothing is sent
    monkeypatch.setenv("VEO3O1_API_KEY", services["veo3o1"].api_key)
    other = write_board(tmp_path / "lost", "veo3o1", [{"id": "b", "prompt": "a window"}])
    other.write_text(other.read_text().replace("provider: veo3o1", "provider: [veo3o1, kie]"))
    services["veo3o1"].fault("drop", on="submit", times=1)
    kie_before = len(sent(services["kie"]))
    lost = run("render", str(other), "--yes")
    assert lost.exit_code != 0
    assert len(sent(services["kie"])) == kie_before  # never passed on after a lost answer
    assert "adopt" in lost.output
    status = json.loads(run("status", str(other), "--json").output)
    assert [(s["state"], s["provider"]) for s in status["shots"]] == [("uncertain", "veo3o1")]


def test_passing_on_past_the_budget_stops_and_says_so(
    services: dict[str, FakeProvider], tmp_path: Path
) -> None:
    services["kie"].credits = 0
    board = write_board(tmp_path / "film", "kie", [{"id": "a", "prompt": "a door", "resolution": "1080p"}])
    board.write_text(board.read_text().replace("provider: kie", "provider: [kie, aivideoapi]"))
    board.write_text(board.read_text() + "providers: {kie: {price: '$0.10'}}\n")
    made = run("render", str(board), "--yes", "--budget", "$0.20")
    assert made.exit_code != 0
    assert sent(services["aivideoapi"]) == []  # $0.25 there: over the budget, not sent
    assert "--budget" in made.output


def test_a_shot_no_listed_provider_can_make_is_one_located_error_naming_each_refusal(
    services: dict[str, FakeProvider], tmp_path: Path
) -> None:
    board = write_board(
        tmp_path / "film",
        "veo3o1",
        [{"id": "a", "prompt": "a door"}, {"id": "wide", "prompt": "far", "resolution": "4k", "seed": 12345}],
    )
    board.write_text(board.read_text().replace("provider: veo3o1", "provider: [veo3o1, kie]"))
    planned = run("plan", str(board))
    assert planned.exit_code == 2
    assert "Traceback" not in planned.output
    line = next(x for x in planned.output.splitlines() if "no listed provider" in x)
    assert f"{board}:6:3: error: shots[1]: shot 'wide'" in line
    assert "veo3o1:" in line and "kie:" in line
    assert all(sent(srv) == [] for srv in services.values())


def test_a_provider_without_a_key_is_passed_over_in_the_plan_and_never_sent_to(
    services: dict[str, FakeProvider], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VEO3O1_API_KEY")
    board = write_board(tmp_path / "film", "veo3o1", [{"id": "a", "prompt": "a door"}])
    board.write_text(board.read_text().replace("provider: veo3o1", "provider: [veo3o1, kie]"))
    shown = run("plan", str(board))
    assert shown.exit_code == 0, shown.output
    assert "kie" in shown.output and "[veo3o1: no key]" in shown.output
    made = run("render", str(board), "--yes")
    assert made.exit_code == 0, made.output
    assert services["veo3o1"].requests == [] and len(sent(services["kie"])) == 1


def test_auto_takes_the_cheapest_in_dollars_and_a_shot_s_own_provider_wins(
    services: dict[str, FakeProvider], tmp_path: Path
) -> None:
    board = write_board(
        tmp_path / "film",
        "auto",
        [
            {"id": "a", "prompt": "a door"},
            {"id": "b", "prompt": "a hall", "provider": "veo3o1"},
        ],
        providers={"kie": {"price": "$0.30"}, "veo3o1": {"price": "$0.10"}},
    )
    data = json.loads(run("plan", str(board), "--json").output)
    by = {s["id"]: (s["provider"], s["route"]) for s in data["shots"]}
    # veo3o1 $0.10 < aivideoapi $0.20 (its document) < kie $0.30 (declared); nanophoto has no key
    assert by["a"][0] == "veo3o1" and by["a"][1]["cheapest"] and by["a"][1]["then"] == ["aivideoapi", "kie"]
    assert by["b"][0] == "veo3o1" and by["b"][1]["own"]
    data = json.loads(run("plan", str(board), "--json", "-p", "kie").output)
    assert {s["provider"] for s in data["shots"]} == {"kie"}  # -p: the whole film on one


def test_a_shot_that_extends_another_stays_on_its_provider(
    services: dict[str, FakeProvider], tmp_path: Path
) -> None:
    board = write_board(
        tmp_path / "film",
        "kie",
        [
            {"id": "a", "prompt": "a door", "provider": "kie"},
            {"id": "b", "prompt": "it opens", "continues": "a"},  # kie extends a's task
            {"id": "c", "prompt": "a hall", "provider": "veo3o1"},
            {"id": "d", "prompt": "it darkens", "continues": "c"},  # kie cannot extend veo3o1's task
        ],
    )
    board.write_text(board.read_text().replace("provider: kie", "provider: [kie, veo3o1]", 1))
    data = json.loads(run("plan", str(board), "--json").output)
    by = {s["id"]: s for s in data["shots"]}
    assert by["b"]["provider"] == "kie"
    assert by["d"]["provider"] == "veo3o1" and by["d"]["route"]["passed"][0]["cannot"] == "extends"
    made = run("render", str(board), "--yes")
    assert made.exit_code == 0, made.output
    assert [r.path for r in sent(services["kie"])].count("/api/v1/veo/extend") == 1
    assert len(sent(services["veo3o1"])) == 2


def test_a_task_submitted_at_a_later_provider_is_resumed_never_sent_again(
    services: dict[str, FakeProvider], tmp_path: Path
) -> None:
    board = write_board(
        tmp_path / "film",
        "veo3o1",
        [
            {"id": "text", "prompt": "a door"},  # veo3o1: the film's first provider
            {"id": "ref", "prompt": "the keeper", "references": ["https://img.invalid/keeper.png"]},
        ],
    )
    board.write_text(board.read_text().replace("provider: veo3o1", "provider: [veo3o1, kie]"))
    assert run("render", str(board), "--yes").exit_code == 0
    veo_sent = len(sent(services["veo3o1"]))
    kie = services["kie"]
    assert len(sent(kie)) == 1
    # killed after kie took the job, before the clip came: the journal has its task, no clip
    fp = json.loads(run("plan", str(board), "--json").output)["shots"][1]["fingerprint"]
    path = tmp_path / "film" / ".storyboard" / "state.json"
    data = json.loads(path.read_text())
    data["tasks"][fp]["status"] = "submitted"
    data["clips"].pop(fp, None)
    path.write_text(json.dumps(data))
    (tmp_path / "film" / ".storyboard" / "clips" / f"{fp}.mp4").unlink()
    shown = json.loads(run("plan", str(board), "--json").output)["shots"][1]
    assert (shown["provider"], shown["action"]) == ("kie", "resume")
    again = run("render", str(board), "--yes")
    assert again.exit_code == 0, again.output
    assert len(sent(kie)) == 1 and len(sent(services["veo3o1"])) == veo_sent  # polled and fetched: paid once


def test_an_animatic_pins_nothing_once_a_listed_service_s_key_is_set(
    services: dict[str, FakeProvider], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`[kie, preview]` with no key renders the animatic; once KIE_API_KEY is set the shot goes
    to kie (one paid request), and status names the provider of each shot."""
    key = services["kie"].api_key
    monkeypatch.delenv("KIE_API_KEY")
    shots = [{"id": "a", "prompt": "a door"}, {"id": "b", "prompt": "a hall"}]
    board = write_board(tmp_path / "film", "kie", shots)
    board.write_text(board.read_text().replace("provider: kie", "provider: [kie, preview]"))
    first = run("render", str(board), "--yes")
    assert first.exit_code == 0, first.output
    assert services["kie"].requests == []
    monkeypatch.setenv("KIE_API_KEY", key)
    shown = run("plan", "--json", str(board))
    assert [s["provider"] for s in json.loads(shown.output)["shots"]] == ["kie", "kie"], shown.output
    made = run("render", str(board), "--yes")
    assert made.exit_code == 0, made.output
    assert len(sent(services["kie"])) == 2
    rows = run("status", str(board)).output.splitlines()
    assert [r.split()[:3] for r in rows] == [["a", "kie", "made"], ["b", "kie", "made"]], rows
    again = run("render", str(board), "--yes")
    assert again.exit_code == 0 and len(sent(services["kie"])) == 2


def routed_film(folder: Path, n: int = 8) -> Path:
    """n shots on `[veo3o1, kie]`, every other one with a reference (kie's), priced in dollars
    so that `--budget` can be held to the plan's figure."""
    shots: list[dict[str, Any]] = []
    for i in range(n):
        shot: dict[str, Any] = {"id": f"shot-{i:02d}", "prompt": f"the harbour, take {i}"}
        if i % 2:
            shot["references"] = ["https://img.invalid/keeper.png"]
        shots.append(shot)
    board = write_board(folder, "veo3o1", shots)
    text = board.read_text().replace("provider: veo3o1", "provider: [veo3o1, kie]")
    board.write_text(text + "providers: {veo3o1: {price: '$0.40'}, kie: {price: '$0.30'}}\n")
    return board


def planned(board: Path) -> tuple[int, float]:
    """The paid requests `plan` lists and what it says they cost, in dollars."""
    shown = run("plan", "--json", str(board))
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    return sum(1 for s in data["shots"] if s["paid"]), round(data["cost"]["usd"], 2)


@pytest.mark.parametrize("kill_at", [2, 5])
def test_a_routed_render_killed_at_any_moment_pays_once_per_shot_and_plan_says_what_render_sends(
    kill_at: int, services: dict[str, FakeProvider], tmp_path: Path
) -> None:
    board = routed_film(tmp_path / "film")
    used = [services["veo3o1"], services["kie"]]
    child: list[subprocess.Popen[str]] = []
    lock = threading.Lock()

    def kill(task: Any) -> None:  # SIGKILL the render as the Nth job is taken, at either service
        with lock:
            if sum(len(srv.accepted) for srv in used) == kill_at and child:
                os.kill(child[0].pid, signal.SIGKILL)

    for srv in used:
        srv.on_accept = kill
    env = {**os.environ, "STORYBOARD_RETRY_BASE": "0.01", "STORYBOARD_POLL_INTERVAL": "0.05"}
    cmd = [sys.executable, "-m", "storyboard", "render", str(board), "--yes", "--quiet", "--concurrency", "4"]
    proc = subprocess.Popen(
        cmd, env={**env, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    child.append(proc)
    try:
        proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    for srv in used:
        srv.on_accept = None

    for _ in range(3):  # plan, render to the plan's budget; adopt or force what it names uncertain
        paid, usd = planned(board)
        before = sum(len(sent(srv)) for srv in used)
        if paid:  # a cent under the plan's figure: refused, nothing sent
            short = run("render", str(board), "--yes", "--quiet", "--budget", f"${usd - 0.01:.2f}")
            assert short.exit_code == 2 and sum(len(sent(srv)) for srv in used) == before, short.output
        again = run("render", str(board), "--yes", "--quiet", "--budget", f"${usd:.2f}")
        assert sum(len(sent(srv)) for srv in used) - before == paid, again.output  # plan == render
        if again.exit_code == 0:
            break
        assert "uncertain" in again.output, again.output
        for line in again.output.splitlines():  # adopt from the dashboard, as the message says
            if "uncertain:" in line and "storyboard adopt" in line:
                shot = line.split("'")[1]
                i = int(shot.rsplit("-", 1)[1])
                srv = services["kie" if i % 2 else "veo3o1"]
                tasks = [a["task_id"] for a in srv.accepted if f"take {i}" in json.dumps(a["body"])]
                if tasks:  # the service took it: adopt its task
                    assert run("adopt", str(board), shot, tasks[0]).exit_code == 0
                else:  # never taken: pay for it, once, knowingly
                    assert run("render", str(board), "--yes", "--quiet", "--force", shot).exit_code in (0, 1)
    assert again.exit_code == 0, again.output
    for srv in used:
        srv.finish()
    made = {f"the harbour, take {i}": 1 for i in range(8)}
    assert {**services["veo3o1"].paid_for(), **services["kie"].paid_for()} == made
    assert [len(services["veo3o1"].accepted), len(services["kie"].accepted)] == [4, 4]
    assert planned(board) == (0, 0.0)
