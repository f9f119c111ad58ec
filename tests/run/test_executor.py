"""The executor against the loopback providers: one paid submission per shot, whatever fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storyboard import providers
from storyboard.cli.state import status_data
from storyboard.errors import AuthError, ConfigError, CreditsError
from storyboard.media.ffmpeg import probe
from storyboard.plan.decide import decide
from storyboard.run import events as ev
from storyboard.run.executor import generate
from storyboard.run.polling import Polling
from storyboard.store.stand import Stand
from storyboard.store.state import State
from tests.clips import make_clip, make_image
from tests.run.boards import (
    Events,
    actions,
    downloads,
    make_plan,
    preview_plan,
    prompts_accepted,
    states,
    three,
    write_board,
)
from tests.run.fakeclock import FakeClock, clocked_plan
from tests.servers import start_server


def statuses(plan: object) -> list[str]:
    state = State.of(plan.storyboard)  # type: ignore[attr-defined]
    return [r.status.word for r in state.records()]  # as the state file says


# the promise: pay once ------------------------------------------------------------------------
def test_faults_cost_exactly_one_submission_per_shot(tmp_path: Path, clip: Path) -> None:
    shots = [*three(), {"id": "d", "prompt": "the door opens", "continues": "b"}]
    board = write_board(tmp_path / "film", "kie", shots)
    with start_server("kie", clip=clip, job_seconds=0.1) as srv:
        plan = make_plan(board, srv)
        srv.fault("429", on="submit", retry_after=0)
        srv.fault("500", on="submit", times=2)  # kie's own error body: it did not accept
        srv.fault("503", on="poll")
        srv.fault("drop", on="poll")
        srv.fault("fail_job")  # the first task created ends failed: one resubmission
        srv.fault("truncate")
        srv.fault("corrupt")
        events = Events()
        result = generate(plan, reporter=events)

        assert result.failed == {} and result.complete
        assert set(result.clips) == {"a", "b", "c", "d"}
        prompts = prompts_accepted(srv)
        assert len(prompts) == 5  # 4 shots + 1 resubmission of the failed job
        assert sorted(set(prompts)) == sorted(s["prompt"] for s in shots)
        assert [e for e in events.all(ev.Retry) if e.resubmit] != []  # the failed job, resubmitted
        assert len([e for e in events.all(ev.Retry) if e.resubmit]) == 1
        assert srv.pending_faults == []  # every fault was met
        assert downloads(srv) == 4 + 2  # the truncated and the corrupt download were fetched again
        for path in result.clips.values():
            info = probe(path)
            assert info.video is not None and info.video.codec == "h264"
            assert abs(info.duration - 8.0) < 0.1
        # the continuation extended b's own task
        extend = [r for r in srv.requests if r.path.endswith("/extend") and r.status == 200]
        state = State.of(plan.storyboard)
        b_task = state.task(plan.shot("b").fingerprint)
        assert b_task is not None and extend and extend[-1].body["taskId"] == b_task.task_id
        assert set(statuses(plan)) == {"done"}
        assert state.made == {s.id: s.fingerprint for s in plan.shots}
        # every move that asked again is told and noted in the journal, and status shows it
        told = sorted((e.shot_id, e.move.value) for e in events.all(ev.Retry))
        shown = status_data(decide(plan))["shots"]
        assert sorted((s["id"], m["move"]) for s in shown for m in s["moves"]) == told
        assert [m for _, m in told] == ["resubmit"]  # the client's own retries absorbed the rest

        again = Events()
        second = generate(plan, reporter=again)
        assert len(srv.accepted) == 5  # nothing paid twice
        assert sorted(again.ended(Stand.CACHED)) == ["a", "b", "c", "d"]
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
        assert actions(plan) == ["cached", "regenerate", "cached"]
        assert states(plan) == ["made", "new", "made"]
        result = generate(plan)
        assert result.submitted == ["b"]
        assert prompts_accepted(srv)[3:] == ["a blue door at dusk"]
        assert result.clips["a"] == first.clips["a"] and result.clips["b"] != first.clips["b"]
        state = State.of(plan.storyboard)
        assert state.last_made("b") == plan.shot("b").fingerprint
        assert states(plan) == ["made", "made", "made"]


def test_force_regenerates_only_the_named_shot(tmp_path: Path, clip: Path) -> None:
    board = write_board(tmp_path / "film", "kie", three())
    with start_server("kie", clip=clip) as srv:
        plan = make_plan(board, srv)
        generate(plan)
        events = Events()
        result = generate(plan, force=["c"], reporter=events)
        assert result.submitted == ["c"] and sorted(events.ended(Stand.CACHED)) == ["a", "b"]
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
        assert actions(make_plan(board, srv)) == ["cached", "cached"]


# batch, uploads, continuations ----------------------------------------------------------------
def test_nanophoto_batches_its_polls(tmp_path: Path, clip: Path) -> None:
    shots = three()
    shots[2]["prompt"] = "a FORBIDDEN door"  # its job fails every time
    board = write_board(tmp_path / "film", "nanophoto", shots)
    with start_server("nanophoto", clip=clip, job_seconds=600) as srv:
        # every job runs until all three shots are in (then each ends at once): two or more
        # are in flight at some poll however the machine spaces the submissions
        srv.on_accept = lambda task: srv.finish() if len(srv.accepted) >= 3 else None
        events = Events()
        result = generate(make_plan(board, srv), reporter=events, resubmits=1)
        posts = [r for r in srv.requests if r.path == "/api/veo-3/generate" and r.status == 200]
        c_posts = [p for p in posts if [s["id"] for s in p.body["shots"]] == ["c"]]
        assert len(c_posts) >= 1  # c was sent again once it failed
        assert sorted(s["id"] for p in posts for s in p.body["shots"]) == ["a", "b", "c", "c"]
        assert set(result.clips) == {"a", "b"}
        assert "c" in result.failed and "generation failed" in result.failed["c"]
        assert events.ended(Stand.FAILED) == ["c"]
        polls = [r for r in srv.requests if r.path == "/api/veo-3/check-status"]
        seen = [(r.path, r.body, r.status) for r in srv.requests if not r.path.startswith("/files/")]
        assert max(len(r.body["taskIds"]) for r in polls) >= 2, seen  # polled together


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
        first = decide(plan)["a"]
        assert first.state == "failed" and first.record is not None and first.record.reason
        # a failed job is refunded: rendering again tries it again (and only it)
        generate(plan, resubmits=0)
        assert prompts_accepted(srv).count("a FORBIDDEN door") == 3 and len(srv.accepted) == 5


# stopping -------------------------------------------------------------------------------------
def test_too_few_credits_stops_submitting_but_saves_what_was_paid(tmp_path: Path, clip: Path) -> None:
    board = write_board(tmp_path / "film", "kie", three())
    with start_server("kie", clip=clip, credits=120, job_seconds=0.3) as srv:
        plan = make_plan(board, srv)
        partial = generate(plan, concurrency=1)
        assert isinstance(partial.fatal, CreditsError)
        assert len(srv.accepted) == 2
        assert set(partial.clips) == {"a", "b"} and "c" in partial.failed
        assert sorted(statuses(plan)) == ["done", "done", "failed"]  # c: not taken, nothing charged
        assert not (plan.storyboard.state_dir / "lock").exists()
        srv.credits = 1000
        result = generate(plan)
        assert result.submitted == ["c"] and len(srv.accepted) == 3


def test_a_refused_key_sends_nothing_more(tmp_path: Path, clip: Path) -> None:
    board = write_board(tmp_path / "film", "kie", three())
    with start_server("kie", clip=clip) as srv:
        result = generate(make_plan(board, srv, api_key="wrong-key-123456"), concurrency=1)
        assert isinstance(result.fatal, AuthError) and "KIE_API_KEY" in result.fatal.message
        assert srv.accepted == []
        submits = [r for r in srv.requests if r.path.endswith("/generate")]
        assert len(submits) == 1  # the first refusal stopped the others


class Interrupting(Events):
    """Ctrl-C once `n` shots were submitted."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def on(self, event: ev.Event) -> None:
        super().on(event)
        if isinstance(event, ev.Submitted) and len(self.of(ev.Submitted)) == self.n:
            raise KeyboardInterrupt


def test_ctrl_c_keeps_the_task_ids_and_the_next_render_resumes(tmp_path: Path, clip: Path) -> None:
    board = write_board(tmp_path / "film", "kie", three())
    with start_server("kie", clip=clip, job_seconds=60) as srv:
        plan = make_plan(board, srv)
        with pytest.raises(KeyboardInterrupt):
            generate(plan, reporter=Interrupting(3))
        sd = plan.storyboard.state_dir
        assert not (sd / "lock").exists()
        state = State.load(sd)
        assert len(state.pending("kie")) == 3 and len(srv.accepted) == 3
        assert states(plan) == ["submitted"] * 3

        srv.finish()
        events = Events()
        result = generate(plan, reporter=events)
        assert len(srv.accepted) == 3  # resumed, not paid again
        assert sorted(events.of(ev.Resumed)) == ["a", "b", "c"] and result.submitted == []
        assert set(result.clips) == {"a", "b", "c"}


def test_a_clip_that_cannot_be_downloaded_stays_resumable(tmp_path: Path, clip: Path) -> None:
    board = write_board(tmp_path / "film", "kie", three()[:1])
    with start_server("kie", clip=clip) as srv:
        plan = make_plan(board, srv)
        srv.fault("corrupt", times=20)
        result = generate(plan)
        assert result.shots["a"].outcome is Stand.STALLED
        assert "download failed" in result.failed["a"] and "no new charge" in result.failed["a"]
        assert states(plan) == ["submitted"]
        assert list((plan.storyboard.state_dir / "clips").glob("*")) == []  # nothing half-kept
        srv.clear_faults()
        result = generate(plan)
        assert result.failed == {} and len(srv.accepted) == 1


def test_a_file_host_that_trickles_is_given_up_and_the_clip_fetched_later(
    tmp_path: Path, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CDN that sends a few bytes now and then never trips a read timeout: the whole
    download has a deadline, the shot is left stalled (paid, its task kept), not hung."""
    monkeypatch.setenv("STORYBOARD_DOWNLOAD_TIMEOUT", "0.3")
    board = write_board(tmp_path / "film", "kie", three()[:1])
    with start_server("kie", clip=clip) as srv:
        plan = make_plan(board, srv)
        srv.fault("trickle", times=20)
        result = generate(plan)
        assert result.shots["a"].outcome is Stand.STALLED, result.failed
        assert (
            "was too slow" in result.failed["a"] and "set STORYBOARD_DOWNLOAD_TIMEOUT" in result.failed["a"]
        )
        assert "after 1 attempt:" in result.failed["a"]  # its time was up: not asked twice more
        assert states(plan) == ["submitted"] and len(srv.accepted) == 1
        srv.clear_faults()
        result = generate(plan)
        assert result.failed == {} and len(srv.accepted) == 1  # fetched, not paid again


def test_states_follow_the_shots(tmp_path: Path, clip: Path) -> None:
    board = write_board(tmp_path / "film", "kie", three())
    with start_server("kie", clip=clip) as srv:
        plan = make_plan(board, srv)
        assert states(plan) == ["new"] * 3
        assert not plan.storyboard.state_dir.exists()  # status writes nothing
        generate(plan)
        assert states(plan) == ["made"] * 3
        data = json.loads((plan.storyboard.state_dir / "state.json").read_text())
        assert data["version"] == 3 and data["serial"] >= 9 and len(data["lineage"]) == 36
        for fp, rec in data["tasks"].items():
            assert rec["status"] == "done" and rec["task_id"] and rec["intent_at"] <= rec["submitted_at"]
            clip_rec = data["clips"][fp]
            assert clip_rec["size"] == (plan.storyboard.state_dir / "clips" / f"{fp}.mp4").stat().st_size


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
    plan = preview_plan(board)
    events = Events()
    result = generate(plan, reporter=events)
    assert result.failed == {} and sorted(events.ended(Stand.MADE)) == ["a", "b"]
    for path in result.clips.values():
        info = probe(path)
        assert info.video is not None and abs(info.duration - 8.0) < 0.5
    state = State.of(plan.storyboard)
    assert state.made == {s.id: s.fingerprint for s in plan.shots}
    # journaled like any provider's: an intent, a task id, done; its queue emptied once fetched
    records = {r.shot_id: r for r in state.records()}
    assert sorted(records) == ["a", "b"] and {r.status for r in records.values()} == {Stand.MADE}
    assert sorted(events.of(ev.Submitted)) == ["a", "b"]
    assert all(r.task_id and r.task_id.startswith("preview-") for r in records.values())
    assert list((plan.storyboard.state_dir / "providers" / "preview").iterdir()) == []
    assert states(plan) == ["made", "made"]

    shots[1]["prompt"] = "the door slams"
    write_board(tmp_path / "film", "preview", shots)
    plan = preview_plan(board)
    again = Events()
    generate(plan, reporter=again)
    assert again.ended(Stand.MADE) == ["b"] and again.ended(Stand.CACHED) == ["a"]


def test_a_dead_renders_intent_is_made_again_on_the_free_preview_and_uncertain_on_a_paid_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The journal is the same for every provider; only what costs nothing is sent again on
    its own (Provider.free), never a paid request whose answer was lost."""
    from storyboard.store.lock import acquire
    from storyboard.store.state import Intent

    monkeypatch.setenv("STORYBOARD_PREVIEW_SCALE", "0.125")
    board = write_board(tmp_path / "film", "preview", three()[:1])
    plan = preview_plan(board)
    fp = plan.shot("a").fingerprint
    with acquire(plan.storyboard.state_dir, "test") as lock:  # a render that died mid-send
        State.load(plan.storyboard.state_dir, lock=lock).record_intent([Intent(fp, "a", "preview", ("a",))])
    assert decide(plan)["a"].action.value == "generate"
    events = Events()
    result = generate(plan, reporter=events)
    assert events.of(ev.Submitted) == ["a"] and set(result.clips) == {"a"}

    paid = write_board(tmp_path / "paid", "kie", three()[:1])
    with start_server("kie") as srv:
        kie = make_plan(paid, srv)
        kfp = kie.shot("a").fingerprint
        with acquire(kie.storyboard.state_dir, "test") as lock:
            State.load(kie.storyboard.state_dir, lock=lock).record_intent([Intent(kfp, "a", "kie", ("a",))])
        assert decide(kie)["a"].action.value == "uncertain"
        generate(kie)
        assert srv.accepted == []


def test_a_task_of_an_edited_shot_is_still_saved_for_later(tmp_path: Path, clip: Path) -> None:
    shots = three()[:2]
    board = write_board(tmp_path / "film", "kie", shots)
    with start_server("kie", clip=clip, job_seconds=60) as srv:
        old = make_plan(board, srv)
        with pytest.raises(KeyboardInterrupt):
            generate(old, reporter=Interrupting(2))
        srv.finish()
        srv.job_seconds = 0.0
        shots[0]["prompt"] = "a red door in the snow"  # edited while its old task runs
        write_board(tmp_path / "film", "kie", shots)
        events = Events()
        new = make_plan(board, srv)
        result = generate(new, reporter=events)
        assert events.of(ev.Orphan) == ["a"] and result.submitted == ["a"]
        assert len(srv.accepted) == 3
        state = State.of(new.storyboard)
        assert state.last_made("a") == new.shot("a").fingerprint  # the orphan does not displace
        old_rec = state.task(old.shot("a").fingerprint)
        assert old_rec is not None and old_rec.status is Stand.MADE

        write_board(tmp_path / "film", "kie", three()[:2])  # back to the first prompt
        back = generate(make_plan(board, srv))
        assert back.submitted == [] and len(srv.accepted) == 3  # its clip was kept


def test_a_task_the_service_does_not_know_stalls_alone_and_is_never_resubmitted(
    tmp_path: Path, clip: Path
) -> None:
    board = write_board(tmp_path / "film", "kie", three())
    with start_server("kie", clip=clip, job_seconds=60) as srv:
        plan = make_plan(board, srv)
        with pytest.raises(KeyboardInterrupt):
            generate(plan, reporter=Interrupting(3))
        srv.finish()
        srv.job_seconds = 0.0
        path = plan.storyboard.state_dir / "state.json"
        data = json.loads(path.read_text())
        data["tasks"][plan.shot("a").fingerprint]["task_id"] = "veo_task_lost"
        path.write_text(json.dumps(data))

        result = generate(plan)
        assert set(result.clips) == {"b", "c"} and len(srv.accepted) == 3
        assert result.shots["a"].outcome is Stand.STALLED
        assert "veo_task_lost" in result.failed["a"] or "no answer" in result.failed["a"]
        assert states(plan) == ["submitted", "made", "made"]
        again = generate(plan)
        assert again.submitted == [] and len(srv.accepted) == 3  # resubmitting could pay twice


# a submission whose answer is lost ------------------------------------------------------------
@pytest.mark.parametrize("kind", ["accept_drop", "accept_500"])
def test_a_lost_answer_is_recorded_uncertain_and_never_paid_twice(
    tmp_path: Path, clip: Path, kind: str
) -> None:
    board = write_board(tmp_path / "film", "kie", three())
    with start_server("kie", clip=clip) as srv:
        plan = make_plan(board, srv)
        srv.fault(kind, on="submit")  # the first submission (a's: one worker) is made and charged
        events = Events()
        result = generate(plan, reporter=events, concurrency=1)
        assert len(srv.accepted) == 3 and prompts_accepted(srv).count(three()[0]["prompt"]) == 1
        assert set(result.clips) == {"b", "c"} and list(result.failed) == ["a"]
        assert result.shots["a"].outcome is Stand.UNCERTAIN
        reason = result.failed["a"]
        assert "kie may have started (and charged for) it" in reason
        assert f"`storyboard adopt {board} a TASK_ID`" in reason
        assert f"`storyboard render {board} --force a`" in reason
        assert events.ended(Stand.UNCERTAIN) == ["a"] and events.of(ev.Retry) == []
        sd = plan.storyboard.state_dir
        rec = State.load(sd).task(plan.shot("a").fingerprint)
        assert rec is not None and rec.status is Stand.UNCERTAIN and rec.task_id is None
        assert rec.shots == ("a",) and rec.provider == "kie" and rec.at > 0
        text = (sd / "state.json").read_text()
        assert "body" not in text and srv.api_key not in text
        assert states(plan)[0] == "uncertain"

        again = generate(plan, reporter=Events())  # refuses to pay again on its own
        assert len(srv.accepted) == 3 and again.submitted == [] and list(again.failed) == ["a"]

        forced = generate(plan, force=["a"])  # the user checked the dashboard
        assert forced.submitted == ["a"] and forced.failed == {} and len(srv.accepted) == 4
        assert states(plan) == ["made"] * 3


def test_a_lost_answer_to_a_batch_makes_every_shot_of_it_uncertain(tmp_path: Path, clip: Path) -> None:
    board = write_board(tmp_path / "film", "nanophoto", three())
    with start_server("nanophoto", clip=clip) as srv:
        plan = make_plan(board, srv)
        srv.fault("accept_drop", on="submit")
        for _ in range(5):  # whichever request the fault meets, its shots are the uncertain ones
            srv.fault("slow", on="submit", seconds=0.0)
        result = generate(plan, concurrency=1)
        lost = [s for s, r in result.shots.items() if r.outcome is Stand.UNCERTAIN]
        assert lost and all("--force" in result.failed[s] for s in lost)
        assert len(srv.accepted) == 3  # every shot paid once, the lost one never sent again
        state = State.of(plan.storyboard)
        for s in lost:
            rec = state.task(plan.shot(s).fingerprint)
            assert rec is not None and rec.status is Stand.UNCERTAIN and s in rec.shots


# forcing a shot that others continue ----------------------------------------------------------
def test_forcing_a_shot_forces_its_continuations_and_their_new_first_frame(
    tmp_path: Path, clip: Path
) -> None:
    shots = [
        {"id": "a", "prompt": "the harbour wakes"},
        {"id": "b", "prompt": "boats leave", "continues": "a"},
        {"id": "c", "prompt": "boats vanish", "continues": "b"},
        {"id": "d", "prompt": "gulls"},
    ]
    board = write_board(tmp_path / "film", "veo3o1", shots)
    blue = make_clip(tmp_path / "blue.mp4", seconds=8.0, fps=10, color="blue")  # clip is red
    with start_server("veo3o1", clip=clip) as srv:
        plan = make_plan(board, srv)
        generate(plan)
        frames = plan.storyboard.state_dir / "frames"
        assert (frames / f"{plan.shot('a').fingerprint}.png").is_file()
        first_b = next(a["body"]["imageUrl"] for a in srv.accepted if a["body"]["prompt"] == "boats leave")
        srv.clip_for = lambda task_id: blue  # the new clips look different
        assert actions(plan, ("a",)) == ["regenerate", "regenerate", "regenerate", "cached"]
        events = Events()
        result = generate(plan, force=["a"], reporter=events)
        assert sorted(result.submitted) == ["a", "b", "c"] and events.ended(Stand.CACHED) == ["d"]
        forced = events.all(ev.Forced)
        assert [(e.shot_id, e.parent) for e in forced] == [("b", "a"), ("c", "b")]
        second_b = [a["body"]["imageUrl"] for a in srv.accepted if a["body"]["prompt"] == "boats leave"][-1]
        assert second_b != first_b  # b starts from the last frame of a's new clip


# never release the lock under a submission ----------------------------------------------------
def test_an_error_waits_for_submissions_in_flight_before_releasing_the_lock(
    tmp_path: Path, clip: Path
) -> None:
    board = write_board(tmp_path / "film", "kie", three()[:2])

    class Breaking(Events):
        def on(self, event: ev.Event) -> None:
            super().on(event)
            if isinstance(event, ev.Submitted):  # an exit that is not a Ctrl-C
                raise SystemExit("the display broke")

    with start_server("kie", clip=clip, job_seconds=60) as srv:
        plan = make_plan(board, srv)
        srv.fault("slow", on="submit", seconds=1.0)  # one submission is still out when it breaks
        with pytest.raises(SystemExit, match="display broke"):
            generate(plan, reporter=Breaking(), concurrency=2)
        assert len(srv.accepted) == 2
        sd = plan.storyboard.state_dir
        on_disk = {r.task_id for r in State.load(sd).records()}
        assert on_disk == {a["task_id"] for a in srv.accepted}  # the slow one was recorded too
        assert not (sd / "lock").exists()


# a task that takes too long -------------------------------------------------------------------
def test_a_task_past_the_deadline_is_left_for_the_next_render(
    tmp_path: Path, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYBOARD_TASK_TIMEOUT", "0.4")
    board = write_board(tmp_path / "film", "kie", three()[:1])
    with start_server("kie", clip=clip, job_seconds=60) as srv:
        clock = FakeClock()  # the render's time moves only while it waits: the age is exact
        plan = clocked_plan(board, srv, clock)
        result = generate(plan, clock=clock)
        assert result.shots["a"].outcome is Stand.STALLED
        assert result.failed["a"].startswith("still running at kie after 0 s; the task is saved")
        assert states(plan) == ["submitted"]
        srv.finish()
        events = Events()
        again = generate(plan, reporter=events)
        assert events.of(ev.Resumed) == ["a"] and again.failed == {} and len(srv.accepted) == 1


def test_a_task_the_service_never_lists_ends_at_the_deadline(
    tmp_path: Path, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.providers.test_nanophoto import OddServer

    monkeypatch.setenv("STORYBOARD_TASK_TIMEOUT", "0.3")
    monkeypatch.setenv("STORYBOARD_CONTACT_TIMEOUT", "0.3")
    board = write_board(tmp_path / "film", "nanophoto", three()[:2])
    with OddServer(clip=clip, forgetful=True).start() as srv:
        plan = make_plan(board, srv)
        result = generate(plan)
        assert sorted(result.failed) == ["a", "b"] and len(srv.accepted) == 2
        assert all(r.outcome is Stand.STALLED for r in result.shots.values())
        assert states(plan) == ["submitted"] * 2


# made, by provider ----------------------------------------------------------------------------
def test_a_preview_does_not_make_hosted_shots_look_changed(
    tmp_path: Path, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYBOARD_PREVIEW_SCALE", "0.125")
    board = write_board(tmp_path / "film", "preview", three()[:2])
    preview = preview_plan(board)
    generate(preview)
    with start_server("kie", clip=clip) as srv:
        kie = make_plan(board, srv)
        assert actions(kie) == ["generate", "generate"]
        state = State.of(kie.storyboard)
        assert state.last_made("a") == preview.shot("a").fingerprint  # any provider
        assert state.last_made("a", "kie") is None
        assert state.last_made("a", "preview") == preview.shot("a").fingerprint
        generate(kie)
        assert states(preview) == ["made", "made"]
        assert State.of(kie.storyboard).last_made("a") == kie.shot("a").fingerprint


# the environment ------------------------------------------------------------------------------
def test_a_bad_environment_value_stops_before_anything_is_sent(
    tmp_path: Path, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    board = write_board(tmp_path / "film", "kie", three()[:1])
    with start_server("kie", clip=clip) as srv:
        plan = make_plan(board, srv)
        for name, value in [
            ("STORYBOARD_POLL_INTERVAL", "fast"),
            ("STORYBOARD_RETRY_BASE", "-1"),
            ("STORYBOARD_TASK_TIMEOUT", "0"),
            ("STORYBOARD_CONTACT_TIMEOUT", "soon"),
        ]:
            with monkeypatch.context() as m:
                m.setenv(name, value)
                with pytest.raises(ConfigError, match=rf"{name}='{value}' is not a number of seconds"):
                    generate(plan)
        assert srv.requests == [] and not plan.storyboard.state_dir.exists()


def test_nanophoto_polls_no_faster_than_its_rate_limit_allows(monkeypatch: pytest.MonkeyPatch) -> None:
    from storyboard.providers.nanophoto import NanophotoProvider

    def shortest(provider: object, requested: float | None = None) -> float:
        polling = Polling.read(provider, requested)  # type: ignore[arg-type]
        return min(polling.interval() for _ in range(200))

    monkeypatch.delenv("STORYBOARD_POLL_FLOOR")  # the tests' own setting for their fakes
    monkeypatch.setenv("STORYBOARD_POLL_INTERVAL", "5")
    hosted = NanophotoProvider(base_url="https://nanophoto.ai", api_key="k")
    assert shortest(hosted) == 46.0  # 100 requests an hour, with 21 submissions among them
    assert shortest(hosted, 120.0) >= 120.0
    here = NanophotoProvider(base_url="http://127.0.0.1:9", api_key="k")
    assert shortest(here) == 46.0  # this machine is no exception: a gateway here forwards to the service
    monkeypatch.setenv("STORYBOARD_POLL_FLOOR", "0")
    assert 5.0 <= shortest(here) < 6.0
    monkeypatch.delenv("STORYBOARD_POLL_FLOOR")
    assert 5.0 <= shortest(providers.get("kie")(base_url="https://api.kie.ai")) < 6.0
    monkeypatch.delenv("STORYBOARD_POLL_INTERVAL")
    assert shortest(hosted) >= 46.0  # the provider's own pace (46-92 s)
