"""The money rules, each by the requests a loopback service received and what it charged.

- what `plan` lists is exactly what `render` sends (same bodies, same count), over a table of
  edits, forces, continuations, failures, resumes and uncertain shots;
- a status endpoint that answers a proxy's error pages for a while fails no job;
- a full disk loses no task id without printing it, and adopting them pays for nothing again;
- a render killed at any moment never leads to a shot paid twice;
- under random faults of every kind, every shot ends made or named uncertain, none paid twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from storyboard import pipeline
from storyboard.cli import cli
from storyboard.plan.decide import decide
from storyboard.run.events import GenerateResult
from storyboard.run.executor import generate
from storyboard.store.stand import Stand
from storyboard.store.state import State
from tests.cli_run import FAST, Ran
from tests.cli_run import invoke as invoke_in
from tests.run.boards import cli_env, make_plan, use, write_board
from tests.servers import FakeProvider, start_server

ROOT = Path(__file__).resolve().parents[2]
SUBMIT_PATHS = {
    "aivideoapi": "/v1/videos/generations",
    "kie": ("/api/v1/veo/generate", "/api/v1/veo/extend"),
    "veo3o1": "/generate-video",
    "nanophoto": "/api/veo-3/generate",
}


@pytest.fixture(autouse=True)
def _fast(fast: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """tests/conftest.py's pace; a lost contact is given up after 30 s, not run/conftest's 5."""
    monkeypatch.setenv("STORYBOARD_CONTACT_TIMEOUT", "30")


def invoke(*args: str) -> Any:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result


def sent(srv: FakeProvider, since: int = 0) -> list[Any]:
    """The paid requests the service received (answered or not), from request `since` on."""
    paths = SUBMIT_PATHS[srv.name]
    paths = (paths,) if isinstance(paths, str) else paths
    return [r for r in srv.requests[since:] if r.method == "POST" and r.path in paths]


def normal(body: Any, placeholders: dict[str, str], task_ids: set[str], uploads: str) -> Any:
    """A body with what only render time knows (a parent's task id, an upload's URL) named
    by kind, so the plan's body and the one sent compare as equals."""
    if isinstance(body, dict):
        return {k: normal(v, placeholders, task_ids, uploads) for k, v in sorted(body.items())}
    if isinstance(body, list):
        return [normal(v, placeholders, task_ids, uploads) for v in body]
    if isinstance(body, str):
        if body in placeholders:
            return placeholders[body]
        if body in task_ids:
            return "<task_id>"
        if body.startswith(uploads):
            return "<upload>"
    return body


def compare(plan_json: dict[str, Any], srv: FakeProvider, since: int) -> None:
    placeholders = {}
    for req in plan_json["requests"]:
        for need in req.get("needs", []):
            placeholders[need["placeholder"]] = "<task_id>" if need["kind"] == "task_id" else "<upload>"
    listed = [r for r in plan_json["requests"] if "body" in r]
    with srv.lock:
        ids = set(srv.tasks)
    up = srv.base_url + "/uploads/"
    want = Counter(json.dumps(normal(r["body"], placeholders, ids, up), sort_keys=True) for r in listed)
    got = Counter(json.dumps(normal(r.body, placeholders, ids, up), sort_keys=True) for r in sent(srv, since))
    assert got == want, f"plan listed {sorted(want)}\nrender sent {sorted(got)}"


def render_without_cut(board: Path, force: tuple[str, ...] = ()) -> GenerateResult:
    """What `render FILE --yes` does up to the cut: the same plan, the decisions shown agreed
    to, the executor. The money is spent there; the cut has its own tests."""
    sb = pipeline.load(board)
    plan = pipeline.make_plan(sb, need_key=True)
    return generate(plan, force=force, agreed=pipeline.decide(plan, force))


# what plan lists is what render sends ---------------------------------------------------------
CHAIN = [
    {"id": "a", "prompt": "the harbour wakes"},
    {"id": "b", "prompt": "boats leave", "continues": "a"},
    {"id": "c", "prompt": "boats vanish", "continues": "b"},
    {"id": "d", "prompt": "gulls over the pier"},
]
EDITS = {"none": (), "a": ("a",), "c": ("c",), "d": ("d",)}
FORCES = {"none": (), "a": ("a",), "b": ("b",), "d": ("d",)}
PRIORS = ("made", "a-uncertain", "c-failed", "b-submitted", "d-sending", "fresh")


@pytest.fixture(scope="module")
def chain_server(clip: Path) -> Iterator[FakeProvider]:
    with start_server("aivideoapi", clip=clip) as srv:
        yield srv


@pytest.fixture(scope="module")
def chain_made(chain_server: FakeProvider, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The chain rendered once; each case starts from a copy of it."""
    folder = tmp_path_factory.mktemp("chain") / "film"
    board = write_board(folder, "aivideoapi", CHAIN)
    with pytest.MonkeyPatch.context() as m:
        m.setenv("STORYBOARD_POLL_INTERVAL", "0.02")
        use(m, chain_server)
        result = invoke("render", str(board), "--yes", "--quiet")
        assert result.exit_code == 0, result.output
    return folder


def _inject(folder: Path, srv: FakeProvider, prior: str, edited: tuple[str, ...]) -> None:
    """Make the journal say what `prior` names, for the shots' current fingerprints."""
    board = folder / "board.yaml"
    plan = make_plan(board, srv)
    path = folder / ".storyboard" / "state.json"
    data = json.loads(path.read_text())

    def record(shot: str, status: str, task_id: str | None, **more: Any) -> None:
        fp = plan.shot(shot).fingerprint
        data["tasks"][fp] = {
            "shot_id": shot,
            "provider": "aivideoapi",
            "status": status,
            "task_id": task_id,
            "intent_at": time.time(),
            "submitted_at": time.time() if task_id else None,
            "attempts": 1,
            "extra": {},
            "shots": [shot],
            **more,
        }
        (folder / ".storyboard" / "clips" / f"{fp}.mp4").unlink(missing_ok=True)

    if prior == "a-uncertain":
        record("a", "uncertain", None, reason="the connection dropped", uncertain_at=time.time())
    elif prior == "c-failed":
        record("c", "failed", "old-task", reason="generation failed", failed_at=time.time())
    elif prior == "d-sending":
        record("d", "sending", None)
    elif prior == "b-submitted":
        body = {"model": "veo-3", "input": {"prompt": "boats leave, resumed"}}
        task = srv.create_task(body, body, 0, info={"model": "veo-3", "resolution": "720p"})
        srv.finish(task.task_id)
        record("b", "submitted", task.task_id)
    elif prior == "fresh":
        shutil.rmtree(folder / ".storyboard")
        return
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("prior", PRIORS)
@pytest.mark.parametrize("force", list(FORCES))
@pytest.mark.parametrize("edit", list(EDITS))
def test_the_plan_lists_exactly_what_the_render_sends(
    edit: str,
    force: str,
    prior: str,
    chain_server: FakeProvider,
    chain_made: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    srv = chain_server
    use(monkeypatch, srv)
    folder = tmp_path / "film"
    shutil.copytree(chain_made, folder)
    shots = [dict(s) for s in CHAIN]
    for s in shots:
        if s["id"] in EDITS[edit]:
            s["prompt"] += f", edited for {tmp_path.name}"  # a prompt never made before
    board = write_board(folder, "aivideoapi", shots)
    _inject(folder, srv, prior, EDITS[edit])
    forced = [a for f in FORCES[force] for a in ("--force", f)]

    planned = invoke("plan", str(board), "--json", *forced)
    assert planned.exit_code == 0, planned.output
    plan_json = json.loads(planned.stdout)
    priced = plan_json["cost"]["credits"]
    before = len(srv.requests)
    accepted = len(srv.accepted)
    rendered = render_without_cut(board, FORCES[force])
    assert rendered.fatal is None or rendered.fatal.exit_code == 1, rendered.fatal  # as render's 0 or 1
    compare(plan_json, srv, before)
    paid = len(srv.accepted) - accepted
    assert paid == len([r for r in plan_json["requests"] if "body" in r])
    assert priced == 40 * paid  # fast 720p: 40 credits a clip
    # and what render did is what plan said it would do, shot by shot
    after = {s: d.action.value for s, d in ((d.shot_id, d) for d in decide(make_plan(board, srv)))}
    for shot in plan_json["shots"]:
        if shot["action"] in ("generate", "regenerate", "resume", "cached"):
            assert after[shot["id"]] == "cached", (shot, rendered.failed)
        elif shot["action"] == "uncertain":  # left as it was: adopt or force it
            assert after[shot["id"]] == "uncertain", (shot, rendered.failed)


def test_force_over_a_chain_prices_all_three(
    chain_server: FakeProvider, chain_made: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, chain_server)
    folder = tmp_path / "film"
    shutil.copytree(chain_made, folder)
    board = folder / "board.yaml"
    shown = invoke("plan", str(board), "--force", "a")
    assert shown.exit_code == 0
    lines = shown.stdout.splitlines()
    assert [ln.split()[0] for ln in lines[1:5]] == ["~", "~", "~", "="]
    assert "it continues shot 'a', which is regenerated" in lines[2]
    assert "it continues shot 'b', which is regenerated" in lines[3]
    assert "Plan: 0 to generate, 3 to regenerate, 1 already made. Cost: 120 credits ($0.60)." in lines
    before = len(chain_server.accepted)
    refused = invoke("render", str(board), "--yes", "--force", "a", "--budget", "100")
    assert refused.exit_code == 2 and "costs 120 credits, more than --budget 100" in refused.output
    assert len(chain_server.accepted) == before
    done = invoke("render", str(board), "--yes", "--quiet", "--force", "a", "--budget", "120")
    assert done.exit_code == 0, done.output
    assert len(chain_server.accepted) == before + 3


# the same over a provider list: each provider is sent what the plan lists for it ---------------
ROUTED = [
    {"id": "a", "prompt": "the harbour wakes"},  # veo3o1, the first listed
    {"id": "b", "prompt": "boats leave", "continues": "a"},  # veo3o1: a's last frame, uploaded
    {"id": "c", "prompt": "the pier at 4k", "resolution": "4k"},  # aivideoapi: veo3o1 makes 720p only
    {"id": "d", "prompt": "gulls", "provider": "aivideoapi"},  # its own
]
ROUTED_PRIORS = ("fresh", "made", "a-uncertain", "veo3o1-out-of-credits")


@pytest.mark.parametrize("prior", ROUTED_PRIORS)
@pytest.mark.parametrize("edit", ["none", "b"])
def test_the_plan_lists_exactly_what_the_render_sends_over_a_provider_list(
    edit: str, prior: str, clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with start_server("veo3o1", clip=clip) as veo, start_server("aivideoapi", clip=clip) as ai:
        use(monkeypatch, veo)
        use(monkeypatch, ai)
        folder = tmp_path / "film"
        board = write_board(folder, ["veo3o1", "aivideoapi"], ROUTED)  # type: ignore[arg-type]
        if prior != "fresh":
            assert invoke("render", str(board), "--yes", "--quiet").exit_code == 0
        shots = [dict(s) for s in ROUTED]
        for s in shots:
            if s["id"] == edit:
                s["prompt"] += ", edited"
        board = write_board(folder, ["veo3o1", "aivideoapi"], shots)  # type: ignore[arg-type]
        if prior == "a-uncertain":
            fp = pipeline.make_plan(pipeline.load(board)).shot("a").fingerprint
            path = folder / ".storyboard" / "state.json"
            data = json.loads(path.read_text())
            data["tasks"][fp].update(
                status="uncertain", task_id=None, reason="dropped", uncertain_at=time.time()
            )
            data["clips"].pop(fp, None)
            path.write_text(json.dumps(data))
            (folder / ".storyboard" / "clips" / f"{fp}.mp4").unlink()
        if prior == "veo3o1-out-of-credits":
            veo.credits = 0
            shutil.rmtree(folder / ".storyboard", ignore_errors=True)
        planned = invoke("plan", str(board), "--json")
        assert planned.exit_code == 0, planned.output
        plan_json = json.loads(planned.stdout)
        servers = (veo, ai)
        before = {srv.name: (len(srv.requests), len(srv.accepted)) for srv in servers}
        rendered = render_without_cut(board)
        if prior == "veo3o1-out-of-credits":  # refused before taking anything: a and b stay, c and d are made
            assert len(veo.accepted) == before["veo3o1"][1] and rendered.fatal is not None
            assert {s for s, r in rendered.shots.items() if r.clip} == {"c", "d"}
            return
        assert rendered.fatal is None, rendered.fatal
        for srv in servers:
            mine = {
                **plan_json,
                "requests": [r for r in plan_json["requests"] if r["url"].startswith(srv.base_url)],
            }
            compare(mine, srv, before[srv.name][0])
            paid = len(srv.accepted) - before[srv.name][1]
            assert paid == len([r for r in mine["requests"] if "body" in r]), srv.name
        by = {s["id"]: s["provider"] for s in plan_json["shots"]}
        assert by == {"a": "veo3o1", "b": "veo3o1", "c": "aivideoapi", "d": "aivideoapi"}
        after = {d.shot_id: d.action.value for d in decide(pipeline.make_plan(pipeline.load(board)))}
        for shot in plan_json["shots"]:
            if shot["action"] in ("generate", "regenerate", "resume", "cached"):
                assert after[shot["id"]] == "cached", (shot, rendered.failed)
            else:  # uncertain, or waiting on it: left as it was
                assert after[shot["id"]] == shot["action"], (shot, rendered.failed)
        if edit != "none" and prior == "made":  # edit one shot: that one is paid (b follows nobody)
            assert sum(len(srv.accepted) - before[srv.name][1] for srv in servers) == 1


# status errors are not job failures -----------------------------------------------------------
TWO = [{"id": "a", "prompt": "a red door"}, {"id": "b", "prompt": "a blue door"}]


@pytest.mark.parametrize("kind", ["html404", "html400", "bare502", "drop"])
@pytest.mark.parametrize("provider", ["veo3o1", "nanophoto", "aivideoapi", "kie"])
def test_a_status_endpoint_answering_error_pages_fails_no_job(
    provider: str, kind: str, clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    board = write_board(tmp_path / "film", provider, TWO)
    with start_server(provider, clip=clip, job_seconds=0.2) as srv:
        use(monkeypatch, srv)
        srv.outage(on="poll", kind=kind, requests=4)  # a proxy's pages, for the next 4 polls
        result = render_without_cut(board)
        assert result.complete and result.failed == {}, result.failed
        assert srv.paid_for() == {"a red door": 1, "a blue door": 1}
        polls = [r for r in srv.requests if r.status in (400, 404, 502) or r.status is None]
        assert len(polls) >= 4  # the outage was met, and ridden out
        assert sorted(result.clips) == ["a", "b"] and all(p.is_file() for p in result.clips.values())


def test_past_the_deadline_a_task_without_contact_is_stalled_never_failed(
    veo_clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYBOARD_CONTACT_TIMEOUT", "0.5")
    board = write_board(tmp_path / "film", "kie", TWO)
    with start_server("kie", clip=veo_clip, job_seconds=0.1) as srv:
        use(monkeypatch, srv)
        srv.outage(60, on="poll", kind="html404")
        first = invoke("render", str(board), "--yes", "--quiet")
        assert first.exit_code == 1
        assert "stalled: no answer from kie about it" in first.output
        assert (
            "render again later to collect the stalled shots (paid already: no new charge)"
            in first.output.lower()
        )
        assert "Run render again to retry" not in first.output
        state = State.load(tmp_path / "film" / ".storyboard")
        assert [r.status for r in state.records()] == [Stand.SUBMITTED, Stand.SUBMITTED]
        srv.clear_outages()
        again = invoke("render", str(board), "--yes", "--quiet")
        assert again.exit_code == 0, again.output
        assert srv.paid_for() == {"a red door": 1, "a blue door": 1}


# a disk that fills while submitting -----------------------------------------------------------
@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.decode().strip() or 'not root'})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_a_full_disk_loses_no_task_id_and_adopting_pays_nothing_again(
    veo_clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shots = [{"id": f"s{i}", "prompt": f"shot number {i}"} for i in range(6)]
    with tmpfs(tmp_path / "disk", "2m") as disk, start_server("kie", clip=veo_clip, job_seconds=0.3) as srv:
        use(monkeypatch, srv)
        board = write_board(disk / "film", "kie", shots)
        filler = disk / "filler"

        def fill(task: Any) -> None:  # the disk fills as the third submission is taken
            if len(srv.accepted) == 3 and not filler.exists():
                # to the last byte: a remainder under one big chunk would still hold a small
                # state file (how much was left varied with the state's size: a flaky test)
                with open(filler, "wb", buffering=0) as f:
                    for size in (65536, 4096, 1):
                        with contextlib.suppress(OSError):
                            while True:
                                f.write(b"\0" * size)

        srv.on_accept = fill
        full = invoke("render", str(board), "--yes", "--quiet", "--concurrency", "2")
        assert full.exit_code == 1, full.output
        assert "Traceback" not in full.output
        taken = [a["task_id"] for a in srv.accepted]
        printed = [ln.split() for ln in full.output.splitlines() if ln.strip().startswith("storyboard adopt")]
        state = State.load(disk / "film" / ".storyboard")
        recorded = {r.task_id for r in state.records() if r.task_id}
        lost = {a["task_id"] for a in srv.accepted} - recorded
        assert lost, "the disk filled too late to test anything"
        assert {p[-1] for p in printed} == lost  # every id not saved is printed, with its shot
        assert len(srv.accepted) <= 4  # nothing more was sent once the state could not be written

        filler.unlink()
        for words in printed:
            adopted = invoke(*words[1:])
            assert adopted.exit_code == 0, adopted.output
        srv.on_accept = None
        srv.finish()
        done = invoke("render", str(board), "--yes", "--quiet")
        assert done.exit_code == 0, done.output
        assert srv.paid_for() == {s["prompt"]: 1 for s in shots}, taken


# killed at any moment -------------------------------------------------------------------------
def long_board(folder: Path, provider: str, n: int = 21) -> Path:
    shots = [{"id": f"shot-{i:02d}", "prompt": f"the harbour, take {i}"} for i in range(n)]
    return write_board(folder, provider, shots, output="renders/film.mp4")


def storyboard(srv: FakeProvider, *args: str) -> Ran:
    """`storyboard ARGS` against the loopback service, in this process: what follows a kill
    or a fault is the CLI's doing, not the process's."""
    return invoke_in(ROOT, srv.name.upper(), srv.base_url, srv.api_key, *args, **FAST)


def in_a_process(srv: FakeProvider, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """`storyboard ARGS` in a child process, where a hang must fail the test (the timeout)."""
    return subprocess.run(
        [sys.executable, "-m", "storyboard", *args],
        capture_output=True,
        text=True,
        env=cli_env(srv),
        timeout=timeout,
    )


def follow_the_message(srv: FakeProvider, board: Path, output: str) -> None:
    """Do what the closing message says for each uncertain shot, as a user would: look the
    shot up on the dashboard (the service's own list of tasks); adopt its task if there is
    one, force it if there is none."""
    on_dashboard = {}
    with srv.lock:
        for a in srv.accepted:
            if not srv.tasks[a["task_id"]].refunded:
                on_dashboard.setdefault(_shot_of(a["body"], a["shot_id"]), a["task_id"])
    for line in output.splitlines():
        if "uncertain:" not in line or "storyboard adopt" not in line:
            continue
        shot = line.split("'")[1]
        if shot in on_dashboard:
            done = storyboard(srv, "adopt", str(board), shot, on_dashboard[shot])
        else:
            done = storyboard(srv, "render", str(board), "--yes", "--quiet", "--force", shot)
        assert done.returncode in (0, 1), done.stderr


def _shot_of(body: dict[str, Any], shot_id: str | None) -> str:
    """The shot a task was made for, as its dashboard shows it (the prompt; nanophoto: the id)."""
    if shot_id:
        return shot_id
    prompt = body.get("prompt") or body.get("input", {}).get("prompt", "")
    return f"shot-{int(prompt.rsplit(' ', 1)[1]):02d}"


@pytest.mark.parametrize("kill_at", [1, 5, 10, 15])
def test_a_render_killed_at_any_moment_pays_once_per_shot(
    kill_at: int, veo_clip: Path, tmp_path: Path
) -> None:
    board = long_board(tmp_path / "film", "kie")
    with start_server("kie", clip=veo_clip, job_seconds=0.5) as srv:
        child: list[subprocess.Popen[str]] = []

        def kill(task: Any) -> None:  # SIGKILL the render the moment the Nth job is taken
            if len(srv.accepted) == kill_at and child:
                os.kill(child[0].pid, signal.SIGKILL)

        srv.on_accept = kill
        cmd = [
            sys.executable,
            "-m",
            "storyboard",
            "render",
            str(board),
            "--yes",
            "--quiet",
            "--concurrency",
            "4",
        ]
        proc = subprocess.Popen(
            cmd, env=cli_env(srv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        child.append(proc)
        try:
            proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == -signal.SIGKILL
        srv.on_accept = None
        for _ in range(3):  # render, then adopt or force what it names, until the film is made
            again = storyboard(srv, "render", str(board), "--yes", "--quiet")
            if again.returncode == 0:
                break
            assert "uncertain" in again.stderr, again.stderr
            assert "Run render again to retry" not in again.stderr
            follow_the_message(srv, board, again.stderr)
        assert again.returncode == 0, again.stderr
        assert srv.paid_for() == {f"the harbour, take {i}": 1 for i in range(21)}
        assert len(srv.accepted) == 21
        assert (tmp_path / "film" / "renders" / "film.mp4").is_file()


# chaos ----------------------------------------------------------------------------------------
CHAOS = {
    "submit_429": 0.20,
    "submit_500": 0.10,
    "submit_drop": 0.05,
    "submit_accept_drop": 0.05,
    "poll_503": 0.10,
    "poll_drop": 0.05,
    "fail_job": 0.10,
    "truncate": 0.10,
}


@pytest.mark.parametrize("provider", ["veo3o1", "nanophoto", "aivideoapi", "kie"])
def test_under_random_faults_every_shot_is_made_or_named_uncertain(
    provider: str, veo_clip: Path, tmp_path: Path
) -> None:
    board = long_board(tmp_path / "film", provider)
    with start_server(provider, clip=veo_clip, job_seconds=0.2) as srv:
        srv.chaos(seed=sum(map(ord, provider)), **CHAOS)
        first = storyboard(
            srv, "render", str(board), "--yes", "--quiet", "--retries", "3", "--concurrency", "8"
        )
        assert "Traceback" not in first.stderr
        state = State.load(tmp_path / "film" / ".storyboard")
        statuses = {r.shot_id: r.status for r in state.records()}
        plan = make_plan(board, srv)
        for d in decide(plan):
            assert d.action.value in ("cached", "uncertain"), (d.shot_id, d.action, first.stderr)
        assert all(v == 1 for v in srv.paid_for().values()), srv.paid_for()
        srv.chaos(seed=1)  # the service calms down
        for _ in range(3):
            if first.returncode == 0:
                break
            follow_the_message(srv, board, first.stderr)
            first = storyboard(srv, "render", str(board), "--yes", "--quiet")
        assert first.returncode == 0, first.stderr
        assert srv.paid_for() == {f"the harbour, take {i}": 1 for i in range(21)}, statuses
        assert (tmp_path / "film" / "renders" / "film.mp4").is_file()


# no hang, whatever the machine does -----------------------------------------------------------
def test_a_clips_folder_that_became_a_file_ends_the_render_with_a_message(
    veo_clip: Path, tmp_path: Path
) -> None:
    board = write_board(tmp_path / "film", "kie", TWO)
    clips = tmp_path / "film" / ".storyboard" / "clips"
    with start_server("kie", clip=veo_clip, job_seconds=0.2) as srv:

        def break_folder(task: Any) -> None:
            if len(srv.accepted) == 2:
                shutil.rmtree(clips, ignore_errors=True)
                clips.write_text("not a folder")

        srv.on_accept = break_folder
        proc = in_a_process(srv, "render", str(board), "--yes", "--quiet", timeout=60)  # a hang fails here
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr
        assert "download failed" in proc.stderr and str(clips) in proc.stderr
        assert "no new charge" in proc.stderr  # true: the tasks are saved, and paid for
        clips.unlink()
        srv.on_accept = None
        again = storyboard(srv, "render", str(board), "--yes", "--quiet")
        assert again.returncode == 0, again.stderr
        assert srv.paid_for() == {"a red door": 1, "a blue door": 1}


@pytest.mark.parametrize("broken", [".storyboard/clips", ".storyboard/frames", ".storyboard"])
def test_a_state_folder_that_cannot_hold_clips_is_refused_before_paying(
    clip: Path, tmp_path: Path, broken: str
) -> None:
    board = write_board(tmp_path / "film", "kie", TWO)
    where = tmp_path / "film" / broken
    where.parent.mkdir(parents=True, exist_ok=True)
    where.write_text("not a folder")
    with start_server("kie", clip=clip) as srv:
        proc = storyboard(srv, "render", str(board), "--yes", "--quiet")
        assert proc.returncode == 2, proc.stderr
        assert f"{where} is a file, not a folder: renders keep their clips and state there" in proc.stderr
        assert srv.accepted == [] and srv.paid_for() == {}


def test_a_disk_without_inodes_ends_the_render_with_a_message(veo_clip: Path, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "8m,nr_inodes=64") as disk, start_server("kie", clip=veo_clip) as srv:
        board = write_board(disk / "film", "kie", TWO)

        def exhaust(task: Any) -> None:  # no inode left once the first job is taken
            if len(srv.accepted) == 1:
                for i in range(1000):
                    try:
                        (disk / f"inode-{i}").touch()
                    except OSError:
                        break

        srv.on_accept = exhaust
        proc = in_a_process(srv, "render", str(board), "--yes", "--quiet", "--concurrency", "1", timeout=60)
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr
        assert "could not be written" in proc.stderr or "No space left" in proc.stderr
        assert len(srv.accepted) == 1  # nothing more was sent
        adopt = [ln.split() for ln in proc.stderr.splitlines() if ln.strip().startswith("storyboard adopt")]
        for p in disk.glob("inode-*"):
            p.unlink()
        srv.on_accept = None
        for words in adopt:
            assert storyboard(srv, *words[1:]).returncode == 0
        srv.finish()
        again = storyboard(srv, "render", str(board), "--yes", "--quiet")
        assert again.returncode == 0, again.stderr
        assert srv.paid_for() == {"a red door": 1, "a blue door": 1}


# a cache that does not trust what it finds ----------------------------------------------------
@pytest.mark.parametrize("damage", ["half", "garbage", "same-size"])
def test_a_damaged_cached_clip_is_fetched_again_for_free(
    damage: str, veo_clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    board = write_board(tmp_path / "film", "aivideoapi", TWO)
    with start_server("aivideoapi", clip=veo_clip) as srv:
        use(monkeypatch, srv)
        assert invoke("render", str(board), "--yes", "--quiet").exit_code == 0
        plan = make_plan(board, srv)
        cached = tmp_path / "film" / ".storyboard" / "clips" / f"{plan.shot('a').fingerprint}.mp4"
        good = cached.read_bytes()
        bad = {
            "half": good[: len(good) // 2],
            "garbage": os.urandom(len(good) + 7),
            "same-size": good[:-64] + os.urandom(64),  # only a hash can tell
        }[damage]
        cached.write_bytes(bad)
        assert [d.action.value for d in decide(plan, deep=True)] == ["resume", "cached"]
        recut = invoke("stitch", str(board))  # stitch cuts only whole clips, and says how to get it
        assert (
            recut.exit_code == 2
            and "the clip of shot a is missing or damaged (paid for already)" in recut.output
        )
        assert f"`storyboard render {board}` fetches it again, at no charge" in recut.output
        shown = invoke("plan", str(board))
        if damage != "same-size":  # plan checks sizes, quickly; render checks hashes too
            assert (
                "0 to generate, 0 to regenerate, 1 already made, 1 to resume. Cost: nothing." in shown.stdout
            )
        paid = len(srv.accepted)
        again = invoke("render", str(board), "--yes", "--quiet")
        assert again.exit_code == 0, again.output
        assert len(srv.accepted) == paid  # fetched again from its link: no new charge
        assert cached.read_bytes() == good

        cached.write_bytes(bad)
        srv.close()  # the link is dead now, and the service too
        gone = invoke("render", str(board), "--yes", "--quiet")
        assert gone.exit_code == 1
        assert "its cached clip is damaged and could not be fetched again" in gone.output
        assert f"`storyboard render {board} --force a` regenerates it (40 credits ($0.20))" in gone.output
