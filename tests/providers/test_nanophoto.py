"""nanophoto: a request a shot by default (or `batch` shots a request), checks, costs, and
the client on loopback. Most render-time tests here send several shots in one request
(`batch: 21`), the protocol's harder case; the default is tested on its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from storyboard.errors import (
    ConfigError,
    CreditsError,
    RejectedError,
    Severity,
    TaskNotFound,
    TransientError,
    UnsupportedError,
)
from storyboard.providers.base import Cost, HttpRequest, TaskState, TaskStatus
from storyboard.providers.http import ReplyLost
from storyboard.providers.nanophoto import NanophotoProvider
from tests.providers.conftest import (
    KEY,
    Sleeps,
    assert_grid,
    client_for,
    compiled,
    key_refused,
    local_asset,
    schema_errors,
    task,
    url_asset,
    wait_done,
)
from tests.servers.nanophoto import NanophotoServer


def doc_allows(shape: str, s: dict[str, Any]) -> bool:
    """From document 002: 16:9 or 9:16, no model field (a seed is ignored, with a warning),
    URLs only, no continuing."""
    return s["aspect_ratio"] != "auto" and s["model"] == "fast" and shape != "continues"


def test_check_agrees_with_the_document_and_bodies_validate() -> None:
    n_ok = assert_grid(NanophotoProvider(), doc_allows, "nanophoto.generate", whole_request=True)
    assert n_ok == 5 * 2 * 3 * 2  # shapes x aspects x resolutions x with and without a seed


BATCHED = {"batch": 21}


def test_one_request_a_shot_by_default_sent_apart() -> None:
    p = NanophotoProvider()
    shots = [compiled("a", index=0), compiled("b", index=1, resolution="1080p"), compiled("c", index=2)]
    reqs = p.requests(shots)
    assert [r.shots for r in reqs] == [("a",), ("b",), ("c",)]
    assert [r.body["resolution"] for r in reqs] == ["720p", "1080p", "720p"]  # 1080p: alone
    assert p.check_batch(shots) == []
    for r in reqs:
        assert schema_errors("nanophoto.generate", r.body) == []


def test_batch_groups_shots_in_storyboard_order() -> None:
    p = NanophotoProvider(options={"batch": 2})
    shots = [compiled(s, index=i) for i, s in enumerate("abcde")]
    assert [r.shots for r in p.requests(shots)] == [("a", "b"), ("c", "d"), ("e",)]


def test_one_request_for_all_shots() -> None:
    p = NanophotoProvider(options=BATCHED)
    shots = [
        compiled("a", index=0, prompt="dawn"),
        compiled("b", index=1, first=url_asset("x"), last=url_asset("y"), aspect_ratio="9:16"),
        compiled("c", index=2, references=(url_asset("r1"), url_asset("r2"))),
    ]
    (req,) = p.requests(shots)
    assert req.method == "POST" and req.url == "https://nanophoto.ai/api/veo-3/generate"
    assert req.shots == ("a", "b", "c")
    assert req.body == {
        "shots": [
            {"id": "a", "prompt": "dawn", "generationType": "TEXT_2_VIDEO", "aspectRatio": "16:9"},
            {
                "id": "b",
                "prompt": "a lighthouse at dawn",
                "generationType": "FIRST_AND_LAST_FRAMES_2_VIDEO",
                "aspectRatio": "9:16",
                "imageUrls": ["https://img.example.com/x.png", "https://img.example.com/y.png"],
            },
            {
                "id": "c",
                "prompt": "a lighthouse at dawn",
                "generationType": "REFERENCE_2_VIDEO",
                "aspectRatio": "16:9",
                "imageUrls": ["https://img.example.com/r1.png", "https://img.example.com/r2.png"],
            },
        ],
        "resolution": "720p",
    }
    assert schema_errors("nanophoto.generate", req.body) == []
    assert p.requests([]) == []


def test_1080p_and_4k_only_for_one_shot() -> None:
    p = NanophotoProvider(options=BATCHED)
    one = [compiled("solo", resolution="4k")]
    assert p.check_batch(one) == []
    assert p.requests(one)[0].body["resolution"] == "4k"
    many = [compiled("a", index=0), compiled("b", index=1, resolution="1080p")]
    (problem,) = p.check_batch(many)
    assert problem.path == "shots[1].resolution"
    assert problem.message.startswith("shot 'b': nanophoto makes 1080p clips only in a request")
    assert "in a request of 2 shots" in problem.message
    assert "providers that can: aivideoapi, gemini, kie" in problem.message
    assert "batch: 1" in (problem.hint or "")
    with pytest.raises(UnsupportedError):
        p.requests(many)


def test_problem_messages(png: Path) -> None:
    p = NanophotoProvider()
    (auto,) = p.check(compiled("w", aspect_ratio="auto"))
    assert auto.path == "shots[0].aspect_ratio"
    assert "nanophoto has no aspect ratio 'auto'" in auto.message
    assert "providers that can: aivideoapi, kie, veo3o1" in auto.message
    (cont,) = p.check(compiled("b", index=1, continues="a"))
    assert cont.path == "shots[1].continues" and "cannot continue" in cont.message
    assert "providers that can: aivideoapi, gemini, kie, veo3o1" in cont.message
    (local,) = p.check(compiled("c", index=3, first=local_asset(png, "images.still")))
    assert local.path == "shots[3].frames.first"
    assert "local file" in local.message and "providers that can: gemini, veo3o1" in local.message
    assert local.hint is not None and "images: {still: {file: still.png, url: https://...}}" in local.hint
    (seed,) = p.check(compiled(seed=12345))  # a warning: the shot is made, not reproducibly
    assert seed.severity is Severity.WARNING and seed.path == "shots[0].seed"
    assert seed.message == "seed ignored: nanophoto takes no seed; the clip will not be reproducible"
    assert "aivideoapi, kie" in (seed.hint or "")


def test_costs() -> None:
    p = NanophotoProvider()
    assert [p.cost(compiled(resolution=r)) for r in ("720p", "1080p", "4k")] == [
        Cost(10, None),
        Cost(14, None),
        Cost(30, None),
    ]


# -- render time -------------------------------------------------------------------------------


client = client_for(NanophotoProvider, options=BATCHED)


def three() -> list[Any]:
    return [
        compiled("a", index=0),
        compiled("b", index=1, first=url_asset("x")),
        compiled("c", index=2, references=(url_asset("r"),)),
    ]


def test_batch_submit_and_one_poll_for_all(server: Any, clip: Path) -> None:
    srv = server("nanophoto")
    p = client(srv)
    shots = three()
    (req,) = p.requests(shots)
    ids = p.submit(req)
    assert list(ids) == ["a", "b", "c"] and len(set(ids.values())) == 3
    assert len(srv.accepted) == 3
    assert len([r for r in srv.requests if r.path == "/api/veo-3/generate"]) == 1
    assert srv.credits == 10_000 - 30
    tasks = [task(s, t, "nanophoto", **p.task_extra(c)) for (s, t), c in zip(ids.items(), shots, strict=True)]
    before = len(srv.requests)
    statuses = p.poll(tasks)
    assert len(srv.requests) == before + 1  # one check-status call for three shots
    assert srv.requests[-1].body == {
        "taskIds": [{"shotId": s, "taskId": t} for s, t in ids.items()],
        "resolution": "720p",
    }
    assert schema_errors("nanophoto.check-status", srv.requests[-1].body) == []
    assert {st.state for st in statuses.values()} == {"done"}
    assert httpx.get(statuses[ids["a"]].url).content == clip.read_bytes()


def test_resolution_travels_to_check_status(server: Any) -> None:
    srv = server("nanophoto")
    p = client(srv)
    shot = compiled("solo", resolution="1080p")
    ids = p.submit(p.requests([shot])[0])
    fresh = client(srv)  # a resumed render: only Task.extra knows the resolution
    st = wait_done(fresh, [task("solo", ids["solo"], "nanophoto", **p.task_extra(shot))])
    assert st[ids["solo"]].state == "done"
    assert srv.requests[-1].body["resolution"] == "1080p"
    assert srv.credits == 10_000 - 14


def test_failed_shot_reason(server: Any) -> None:
    srv = server("nanophoto")
    p = client(srv)
    shots = [compiled("ok", index=0), compiled("bad", index=1, prompt="a FORBIDDEN thing")]
    ids = p.submit(p.requests(shots)[0])
    statuses = wait_done(p, [task(s, t, "nanophoto") for s, t in ids.items()])
    assert statuses[ids["ok"]].state == "done"
    bad = statuses[ids["bad"]]
    assert bad.state == "failed" and "content filter" in (bad.reason or "")
    srv.fault("fail_job", reason="Video generation failed")
    ids = p.submit(p.requests([compiled("again")])[0])
    (st,) = wait_done(p, [task("again", ids["again"], "nanophoto")]).values()
    assert st.state == "failed" and st.reason == "Video generation failed"


def test_bad_key(server: Any) -> None:
    srv = server("nanophoto")
    p = client(srv, key="nope-" + KEY)
    key_refused(lambda: p.submit(p.requests(three())[0]), "NANOPHOTO_API_KEY")


def test_credits_names_what_is_needed(server: Any) -> None:
    srv = server("nanophoto", credits=25)
    p = client(srv)
    with pytest.raises(CreditsError) as info:
        p.submit(p.requests(three())[0])
    assert "30 needed" in str(info.value) and "'a, b, c'" in str(info.value)
    assert srv.accepted == []


def test_refused_request_names_the_shots(server: Any) -> None:
    srv = server("nanophoto")
    p = client(srv)
    (req,) = p.requests(three())
    body = dict(req.body)
    body["shots"] = [dict(s) for s in body["shots"]]
    body["shots"][1]["imageUrls"] = ["data:image/png;base64,AAAA"]
    with pytest.raises(RejectedError) as info:
        p.submit(HttpRequest(req.method, req.url, req.shots, body))
    assert "IMAGE_URLS_REQUIRED" in str(info.value) and "'a, b, c'" in str(info.value)


@pytest.mark.parametrize(
    ("kind", "on"),
    [("429", "submit"), ("500", "submit")] + [(k, "poll") for k in ("429", "500", "503", "drop")],
)
def test_faults_are_retried(server: Any, kind: str, on: str) -> None:
    """A submission is retried only when the service said it did not take it (a rate limit,
    its own INTERNAL_ERROR body); a poll whatever went wrong."""
    srv = server("nanophoto")
    sleeps = Sleeps()
    p = client(srv, sleeps)
    srv.fault(kind, on=on, times=2, retry_after=3)
    ids = p.submit(p.requests(three())[0])
    statuses = wait_done(p, [task(s, t, "nanophoto") for s, t in ids.items()])
    assert {s.state for s in statuses.values()} == {"done"}
    assert len(srv.accepted) == 3
    assert len(sleeps.calls) == 2
    if kind == "429":
        assert sleeps.calls == [3.0, 3.0]


@pytest.mark.parametrize("kind", ["drop", "503", "accept_drop", "accept_500"])
def test_a_submission_whose_answer_is_lost_is_not_sent_again(server: Any, kind: str) -> None:
    srv = server("nanophoto")
    sleeps = Sleeps()
    p = client(srv, sleeps)
    srv.fault(kind, on="submit", times=2)
    with pytest.raises(ReplyLost) as info:
        p.submit(p.requests(three())[0])
    posts = [r for r in srv.requests if r.path == "/api/veo-3/generate"]
    assert len(posts) == 1 and sleeps.calls == []
    assert len(srv.accepted) == (3 if kind.startswith("accept") else 0)
    assert "may have started (and charged for) it" in str(info.value)
    assert KEY not in str(info.value)


class OddServer(NanophotoServer):
    """nanophoto answering oddly: the generate reply gives no taskId for the `untracked`
    shots (their tasks are made and charged all the same); with `forgetful`, check-status
    lists no task."""

    def __init__(self, *args: Any, untracked: tuple[str, ...] = (), forgetful: bool = False, **kw: Any):
        super().__init__(*args, **kw)
        self.untracked = set(untracked)
        self.forgetful = forgetful

    def generate(self, req: Any) -> Any:
        reply = super().generate(req)
        for item in reply.body.get("shots", []) if reply.status == 200 else []:
            if item["shotId"] in self.untracked:
                del item["taskId"]
        return reply

    def check_status(self, req: Any) -> Any:
        reply = super().check_status(req)
        if self.forgetful and reply.status == 200:
            reply.body["shots"] = []
        return reply


def test_a_reply_missing_one_task_id_keeps_the_others(clip: Path) -> None:
    with OddServer(clip=clip, api_key=KEY, untracked=("b",)).start() as srv:
        p = client(srv)
        ids = p.submit(p.requests(three())[0])
        assert set(ids) == {"a", "c"} and len(srv.accepted) == 3
        made = {a["shot_id"]: a["task_id"] for a in srv.accepted}
        assert ids == {"a": made["a"], "c": made["c"]}


def test_a_reply_with_no_task_id_at_all_is_a_lost_answer(clip: Path) -> None:
    with OddServer(clip=clip, api_key=KEY, untracked=("a", "b", "c")).start() as srv:
        p = client(srv)
        with pytest.raises(ReplyLost, match="no taskId for any shot"):
            p.submit(p.requests(three())[0])
        assert len([r for r in srv.requests if r.path == "/api/veo-3/generate"]) == 1


def test_a_task_left_out_of_check_status_is_pending(clip: Path) -> None:
    """The reply does not list the task: pending (the executor's deadline ends the wait)."""
    with OddServer(clip=clip, api_key=KEY, forgetful=True).start() as srv:
        p = client(srv)
        ids = p.submit(p.requests(three()[:1])[0])
        assert p.poll([task("a", ids["a"], "nanophoto")]) == {ids["a"]: TaskStatus("pending")}


def test_retries_run_out(server: Any) -> None:
    srv = server("nanophoto")
    p = client(srv, retries=1)
    srv.fault("500", on="submit", times=3)
    with pytest.raises(TransientError) as info:
        p.submit(p.requests(three())[0])
    assert "INTERNAL_ERROR" in str(info.value)


# -- a request a shot (the default), polled together ------------------------------------------
def test_one_check_status_covers_many_one_shot_requests(server: Any) -> None:
    srv = server("nanophoto")
    p = client_for(NanophotoProvider)(srv)  # batch 1: the default
    shots = [compiled(f"s{i}", index=i) for i in range(21)]
    reqs = p.requests(shots)
    assert len(reqs) == 21
    tasks = []
    for req, shot in zip(reqs, shots, strict=True):
        ((sid, tid),) = p.submit(req).items()
        tasks.append(task(sid, tid, "nanophoto", **p.task_extra(shot)))
    before = len(srv.requests)
    statuses = p.poll(tasks)
    polls = [r for r in srv.requests[before:] if r.path == "/api/veo-3/check-status"]
    assert len(polls) == 1 and len(polls[0].body["taskIds"]) == 21
    assert {s.state for s in statuses.values()} == {TaskState.DONE}


def test_the_rate_limit_holds_on_every_host_unless_the_floor_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """100 requests an hour: 21 submissions and an hour of polls at the fastest pace allowed
    fit. The documented floor holds on any host, this machine's too (no test check in
    production code); only STORYBOARD_POLL_FLOOR, which the tests set for their fakes, moves it."""
    monkeypatch.delenv("STORYBOARD_POLL_FLOOR")
    for url in ("https://nanophoto.ai", "http://127.0.0.1:9", "http://localhost:9"):
        hosted = NanophotoProvider(base_url=url, api_key="k")
        pace = hosted.pace(requested=1.0)
        assert pace.floor == NanophotoProvider.min_poll_interval, url
        assert 21 + 3600 / min(pace.wait() for _ in range(200)) <= 100
        assert 21 + 3600 / min(hosted.pace().wait() for _ in range(200)) <= 100
    monkeypatch.setenv("STORYBOARD_POLL_FLOOR", "0")
    assert NanophotoProvider(base_url="https://nanophoto.ai", api_key="k").pace(requested=1.0).floor == 0
    monkeypatch.setenv("STORYBOARD_POLL_FLOOR", "-1")
    with pytest.raises(ConfigError, match="STORYBOARD_POLL_FLOOR"):
        NanophotoProvider(base_url="https://nanophoto.ai", api_key="k").pace()


def test_an_unknown_task_in_a_shared_poll_is_named_and_the_others_kept(server: Any) -> None:
    srv = server("nanophoto")
    p = client_for(NanophotoProvider)(srv)
    tasks = []
    for i in range(6):
        ((sid, tid),) = p.submit(p.requests([compiled(f"s{i}", index=i)])[0]).items()
        tasks.append(task(sid, tid, "nanophoto"))
    ghost = task("s9", "task_0000000000000000", "nanophoto")
    before = len(srv.requests)
    with pytest.raises(TaskNotFound) as info:
        p.poll([*tasks[:3], ghost, *tasks[3:]])
    assert info.value.task_ids == (ghost.task_id,) and "TASK_NOT_FOUND" in str(info.value)
    assert set(info.value.found) == {t.task_id for t in tasks}  # the others still reported
    assert all(s.state is TaskState.DONE for s in info.value.found.values())
    assert len(srv.requests) - before <= 1 + 2 * 3  # halving: a few requests, only then
