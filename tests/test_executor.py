"""The executor against the loopback providers: one paid submission per shot, whatever fails."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from storyboard import providers
from storyboard.compiler import Plan, compile_plan
from storyboard.errors import AuthError, ConfigError, CreditsError
from storyboard.executor import generate, shot_states
from storyboard.state import State
from storyboard.stitch.ffmpeg import probe
from storyboard.validate import load_storyboard
from tests.media import make_clip, make_image
from tests.servers import FakeProvider, start_server


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the fake services hand back: an 8 s clip, tiny (160x90, 10 fps)."""
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", seconds=8.0, fps=10)


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOARD_POLL_INTERVAL", "0.05")
    monkeypatch.setenv("STORYBOARD_RETRY_BASE", "0.01")


# helpers (also used by test_resume, test_secrets, test_lock) ----------------------------------
def write_board(root: Path, provider: str, shots: list[dict[str, Any]], **top: Any) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "board.yaml"
    doc = {"storyboard": 1, "provider": provider, **top, "shots": shots}
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def make_plan(board: Path, srv: FakeProvider, api_key: str | None = None) -> Plan:
    sb = load_storyboard(board)
    cls = providers.get(srv.name)
    return compile_plan(sb, cls(base_url=srv.base_url, api_key=api_key or srv.api_key))


class Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, Any]]] = []

    def event(self, kind: str, shot_id: str, **info: Any) -> None:
        self.seen.append((kind, shot_id, info))

    def of(self, kind: str) -> list[str]:
        return [s for k, s, _ in self.seen if k == kind]


def prompts_accepted(srv: FakeProvider) -> list[str]:
    return [a["body"].get("prompt") for a in srv.accepted]


def downloads(srv: FakeProvider) -> int:
    return sum(1 for r in srv.requests if r.path.startswith("/files/"))


def three(provider: str = "kie") -> list[dict[str, Any]]:
    return [
        {"id": "a", "prompt": "a red door in the rain"},
        {"id": "b", "prompt": "a blue door at dawn"},
        {"id": "c", "prompt": "a green door at night"},
    ]


# the promise: pay once ------------------------------------------------------------------------
def test_faults_cost_exactly_one_submission_per_shot(tmp_path: Path, clip: Path) -> None:
    shots = [*three(), {"id": "d", "prompt": "the door opens", "continues": "b"}]
    board = write_board(tmp_path / "film", "kie", shots)
    with start_server("kie", clip=clip, job_seconds=0.1) as srv:
        plan = make_plan(board, srv)
        srv.fault("429", on="submit", retry_after=0)
        srv.fault("500", on="submit")
        srv.fault("drop", on="submit")
        srv.fault("503", on="poll")
        srv.fault("drop", on="poll")
        srv.fault("fail_job")  # the first task created ends failed: one resubmission
        srv.fault("truncate")
        srv.fault("corrupt")
        events = Events()
        result = generate(plan, reporter=events)

        assert result.failed == {}
        assert set(result.clips) == {"a", "b", "c", "d"}
        prompts = prompts_accepted(srv)
        assert len(prompts) == 5  # 4 shots + 1 resubmission of the failed job
        assert sorted(set(prompts)) == sorted(s["prompt"] for s in shots)
        assert len(events.of("retry")) == 1  # the failed job, resubmitted
        assert srv.pending_faults == []  # every fault was met
        assert downloads(srv) == 4 + 2  # the truncated and the corrupt download were fetched again
        for path in result.clips.values():
            info = probe(path)
            assert info.video is not None and info.video.codec == "h264"
            assert abs(info.duration - 8.0) < 0.1
        # the continuation extended b's own task
        extend = [r for r in srv.requests if r.path.endswith("/extend") and r.status == 200]
        state = State.load(plan.storyboard.state_dir)
        b_task = state.task(plan.shot("b").fingerprint)
        assert b_task is not None and extend and extend[-1].body["taskId"] == b_task["task_id"]
        assert {rec["status"] for rec in state.tasks.values()} == {"done"}
        assert state.made == {s.id: s.fingerprint for s in plan.shots}

        again = Events()
        second = generate(plan, reporter=again)
        assert len(srv.accepted) == 5  # nothing paid twice
        assert sorted(again.of("cached")) == ["a", "b", "c", "d"]
        assert second.clips == result.clips and second.submitted == []
        assert not (plan.storyboard.state_dir / "lock").exists()


def test_editing_one_prompt_submits_that_shot_alone(tmp_path: Path, clip: Path) -> None:
    shots = three()
    board = write_board(tmp_path / "film", "kie", shots)
    with start_server("kie", clip=clip) as srv:
        first = generate(make_plan(board, srv))
        assert len(srv.accepted) == 3
        shots[1]["prompt"] = "a blue door at dusk"
        write_board(tmp_path / "film", "kie", shots)
        plan = make_plan(board, srv)
        assert [s.state for s in shot_states(plan)] == ["made", "changed", "made"]
        result = generate(plan)
        assert result.submitted == ["b"]
        assert prompts_accepted(srv)[3:] == ["a blue door at dusk"]
        assert result.clips["a"] == first.clips["a"] and result.clips["b"] != first.clips["b"]
        state = State.load(plan.storyboard.state_dir)
        assert state.last_made("b") == plan.shot("b").fingerprint
        assert [s.state for s in shot_states(plan)] == ["made", "made", "made"]


def test_force_regenerates_only_the_named_shot(tmp_path: Path, clip: Path) -> None:
    board = write_board(tmp_path / "film", "kie", three())
    with start_server("kie", clip=clip) as srv:
        plan = make_plan(board, srv)
        generate(plan)
        events = Events()
        result = generate(plan, force=["c"], reporter=events)
        assert result.submitted == ["c"] and sorted(events.of("cached")) == ["a", "b"]
        accepted = prompts_accepted(srv)
        assert sorted(accepted[:3]) == sorted(s["prompt"] for s in three())
        assert accepted[3:] == ["a green door at night"]
        with pytest.raises(ConfigError, match="nope"):
            generate(plan, force=["nope"])
        assert len(srv.accepted) == 4


def test_identical_shots_share_one_submission(tmp_path: Path, clip: Path) -> None:
    shots = [{"id": "wide", "prompt": "the harbour"}, {"id": "again", "prompt": "the harbour"}]
    board = write_board(tmp_path / "film", "kie", shots)
    with start_server("kie", clip=clip) as srv:
        result = generate(make_plan(board, srv))
        assert len(srv.accepted) == 1
        assert result.clips["wide"] == result.clips["again"]


# batch, uploads, continuations ----------------------------------------------------------------
def test_nanophoto_sends_one_request_for_all_shots(tmp_path: Path, clip: Path) -> None:
    shots = three()
    shots[2]["prompt"] = "a FORBIDDEN door"  # its job fails every time
    board = write_board(tmp_path / "film", "nanophoto", shots)
    with start_server("nanophoto", clip=clip) as srv:
        events = Events()
        result = generate(make_plan(board, srv), reporter=events, resubmits=1)
        posts = [r for r in srv.requests if r.path == "/api/veo-3/generate"]
        assert len(posts) == 2  # all three shots, then c alone once more
        assert [s["id"] for s in posts[0].body["shots"]] == ["a", "b", "c"]
        assert [s["id"] for s in posts[1].body["shots"]] == ["c"]
        assert set(result.clips) == {"a", "b"}
        assert "c" in result.failed and "generation failed" in result.failed["c"]
        assert events.of("failed") == ["c"]
        polls = [r for r in srv.requests if r.path == "/api/veo-3/check-status"]
        assert all(len(r.body["taskIds"]) >= 1 for r in polls)
        assert max(len(r.body["taskIds"]) for r in polls) >= 2  # polled together


def test_veo3o1_uploads_an_image_once_and_continues_from_the_last_frame(tmp_path: Path, clip: Path) -> None:
    root = tmp_path / "film"
    make_image(root / "stills" / "harbour.png", color="teal")
    shots = [
        {"id": "a", "prompt": "the harbour wakes", "frames": {"first": "stills/harbour.png"}},
        {"id": "b", "prompt": "the harbour sleeps", "frames": {"first": "stills/harbour.png"}},
        {"id": "c", "prompt": "boats leave", "continues": "a"},
    ]
    board = write_board(root, "veo3o1", shots)
    with start_server("veo3o1", clip=clip) as srv:
        result = generate(make_plan(board, srv))
        assert result.failed == {} and len(srv.accepted) == 3
        uploads = [r for r in srv.requests if r.path == "/upload-video-image" and r.status == 200]
        assert len(uploads) == 2  # the still once, a's last frame once
        bodies = {a["body"]["prompt"]: a["body"] for a in srv.accepted}
        assert bodies["the harbour wakes"]["imageUrl"] == bodies["the harbour sleeps"]["imageUrl"]
        assert bodies["boats leave"]["imageUrl"].startswith(srv.base_url + "/uploads/")
        assert bodies["boats leave"]["imageUrl"] != bodies["the harbour wakes"]["imageUrl"]

        shots[1]["prompt"] = "the harbour dozes"
        write_board(root, "veo3o1", shots)
        generate(make_plan(board, srv))
        uploads = [r for r in srv.requests if r.path == "/upload-video-image"]
        assert len(uploads) == 2  # the upload's URL was kept in state
        assert len(srv.accepted) == 4


def test_a_shot_that_fails_twice_is_reported_while_others_finish(tmp_path: Path, clip: Path) -> None:
    shots = three()
    shots[0]["prompt"] = "a FORBIDDEN door"
    board = write_board(tmp_path / "film", "veo3o1", shots)
    with start_server("veo3o1", clip=clip) as srv:
        plan = make_plan(board, srv)
        result = generate(plan, resubmits=1)
        assert set(result.clips) == {"b", "c"}
        assert list(result.failed) == ["a"]
        assert prompts_accepted(srv).count("a FORBIDDEN door") == 2
        states = {s.shot_id: s for s in shot_states(plan)}
        assert states["a"].state == "failed" and states["a"].reason
        # a failed job is refunded: rendering again tries it again (and only it)
        generate(plan, resubmits=0)
        assert prompts_accepted(srv).count("a FORBIDDEN door") == 3 and len(srv.accepted) == 5


# stopping -------------------------------------------------------------------------------------
def test_too_few_credits_stops_submitting_but_saves_what_was_paid(tmp_path: Path, clip: Path) -> None:
    board = write_board(tmp_path / "film", "kie", three())
    with start_server("kie", clip=clip, credits=120, job_seconds=0.3) as srv:
        plan = make_plan(board, srv)
        with pytest.raises(CreditsError) as info:
            generate(plan, concurrency=1)
        assert len(srv.accepted) == 2
        partial = info.value.result  # type: ignore[attr-defined]
        assert set(partial.clips) == {"a", "b"} and "c" in partial.failed
        state = State.load(plan.storyboard.state_dir)
        assert sorted(r["status"] for r in state.tasks.values()) == ["done", "done"]
        assert not (plan.storyboard.state_dir / "lock").exists()
        srv.credits = 1000
        result = generate(plan)
        assert result.submitted == ["c"] and len(srv.accepted) == 3


def test_a_refused_key_sends_nothing_more(tmp_path: Path, clip: Path) -> None:
    board = write_board(tmp_path / "film", "kie", three())
    with start_server("kie", clip=clip) as srv:
        with pytest.raises(AuthError, match="KIE_API_KEY"):
            generate(make_plan(board, srv, api_key="wrong-key-123456"), concurrency=1)
        assert srv.accepted == []
        submits = [r for r in srv.requests if r.path.endswith("/generate")]
        assert len(submits) == 1  # the first refusal stopped the others


def test_ctrl_c_keeps_the_task_ids_and_the_next_render_resumes(tmp_path: Path, clip: Path) -> None:
    board = write_board(tmp_path / "film", "kie", three())

    class Interrupting(Events):
        def event(self, kind: str, shot_id: str, **info: Any) -> None:
            super().event(kind, shot_id, **info)
            if kind == "submitted" and len(self.of("submitted")) == 3:
                raise KeyboardInterrupt

    with start_server("kie", clip=clip, job_seconds=60) as srv:
        plan = make_plan(board, srv)
        with pytest.raises(KeyboardInterrupt):
            generate(plan, reporter=Interrupting())
        sd = plan.storyboard.state_dir
        assert not (sd / "lock").exists()
        state = State.load(sd)
        assert len(state.pending("kie")) == 3 and len(srv.accepted) == 3
        assert [s.state for s in shot_states(plan)] == ["submitted"] * 3

        srv.finish()
        events = Events()
        result = generate(plan, reporter=events)
        assert len(srv.accepted) == 3  # resumed, not paid again
        assert sorted(events.of("resumed")) == ["a", "b", "c"] and result.submitted == []
        assert set(result.clips) == {"a", "b", "c"}


def test_a_clip_that_cannot_be_downloaded_stays_resumable(tmp_path: Path, clip: Path) -> None:
    board = write_board(tmp_path / "film", "kie", three()[:1])
    with start_server("kie", clip=clip) as srv:
        plan = make_plan(board, srv)
        srv.fault("corrupt", times=20)
        result = generate(plan)
        assert "download failed" in result.failed["a"] and "no new charge" in result.failed["a"]
        assert [s.state for s in shot_states(plan)] == ["submitted"]
        assert list((plan.storyboard.state_dir / "clips").glob("*")) == []  # nothing half-kept
        srv.clear_faults()
        result = generate(plan)
        assert result.failed == {} and len(srv.accepted) == 1


def test_shot_states_follow_the_shots(tmp_path: Path, clip: Path) -> None:
    board = write_board(tmp_path / "film", "kie", three())
    with start_server("kie", clip=clip) as srv:
        plan = make_plan(board, srv)
        assert [s.state for s in shot_states(plan)] == ["new"] * 3
        assert not plan.storyboard.state_dir.exists()  # status writes nothing
        generate(plan)
        made = shot_states(plan)
        assert [s.state for s in made] == ["made"] * 3
        assert all(s.task_id and s.age_seconds is not None for s in made)
        text = (plan.storyboard.state_dir / "state.json").read_text()
        data = json.loads(text)
        assert data["version"] == 1 and data["serial"] >= 6 and len(data["lineage"]) == 36


# the offline preview --------------------------------------------------------------------------
def test_preview_renders_locally_with_the_same_caching(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYBOARD_PREVIEW_SCALE", "0.125")  # 160x90 panels: fast
    shots = [
        {"id": "a", "prompt": "a red door"},
        {"id": "b", "prompt": "the door opens", "continues": "a"},
    ]
    board = write_board(tmp_path / "film", "preview", shots)
    plan = compile_plan(load_storyboard(board), providers.get("preview")())
    events = Events()
    result = generate(plan, reporter=events)
    assert result.failed == {} and sorted(events.of("rendering")) == ["a", "b"]
    for path in result.clips.values():
        info = probe(path)
        assert info.video is not None and abs(info.duration - 8.0) < 0.5
    state = State.load(plan.storyboard.state_dir)
    assert state.made == {s.id: s.fingerprint for s in plan.shots} and state.tasks == {}
    assert [s.state for s in shot_states(plan)] == ["made", "made"]

    shots[1]["prompt"] = "the door slams"
    write_board(tmp_path / "film", "preview", shots)
    plan = compile_plan(load_storyboard(board), providers.get("preview")())
    again = Events()
    generate(plan, reporter=again)
    assert again.of("rendering") == ["b"] and again.of("cached") == ["a"]


def test_a_task_of_an_edited_shot_is_still_saved_for_later(tmp_path: Path, clip: Path) -> None:
    shots = three()[:2]
    board = write_board(tmp_path / "film", "kie", shots)

    class Interrupting(Events):
        def event(self, kind: str, shot_id: str, **info: Any) -> None:
            super().event(kind, shot_id, **info)
            if len(self.of("submitted")) == 2:
                raise KeyboardInterrupt

    with start_server("kie", clip=clip, job_seconds=60) as srv:
        old = make_plan(board, srv)
        with pytest.raises(KeyboardInterrupt):
            generate(old, reporter=Interrupting())
        srv.finish()
        srv.job_seconds = 0.0
        shots[0]["prompt"] = "a red door in the snow"  # edited while its old task runs
        write_board(tmp_path / "film", "kie", shots)
        events = Events()
        new = make_plan(board, srv)
        result = generate(new, reporter=events)
        assert events.of("orphan") == ["a"] and result.submitted == ["a"]
        assert len(srv.accepted) == 3
        state = State.load(new.storyboard.state_dir)
        assert state.last_made("a") == new.shot("a").fingerprint  # the orphan does not displace
        assert state.task(old.shot("a").fingerprint)["status"] == "done"  # type: ignore[index]

        write_board(tmp_path / "film", "kie", three()[:2])  # back to the first prompt
        back = generate(make_plan(board, srv))
        assert back.submitted == [] and len(srv.accepted) == 3  # its clip was kept


def test_a_task_the_service_does_not_know_does_not_stall_the_others(tmp_path: Path, clip: Path) -> None:
    board = write_board(tmp_path / "film", "kie", three())

    class Interrupting(Events):
        def event(self, kind: str, shot_id: str, **info: Any) -> None:
            super().event(kind, shot_id, **info)
            if len(self.of("submitted")) == 3:
                raise KeyboardInterrupt

    with start_server("kie", clip=clip, job_seconds=60) as srv:
        plan = make_plan(board, srv)
        with pytest.raises(KeyboardInterrupt):
            generate(plan, reporter=Interrupting())
        srv.finish()
        srv.job_seconds = 0.0
        path = plan.storyboard.state_dir / "state.json"
        data = json.loads(path.read_text())
        data["tasks"][plan.shot("a").fingerprint]["task_id"] = "veo_task_lost"
        path.write_text(json.dumps(data))

        result = generate(plan)
        assert set(result.clips) == {"b", "c"} and len(srv.accepted) == 3
        assert "would not report on task veo_task_lost" in result.failed["a"]
        assert [s.state for s in shot_states(plan)] == ["failed", "made", "made"]
        again = generate(plan)
        assert again.submitted == ["a"] and len(srv.accepted) == 4
