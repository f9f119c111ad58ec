"""The loopback providers, driven with httpx as a client would: protocols, errors, faults."""

from __future__ import annotations

import base64
import copy
import json
import re
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from tests.clips import make_image
from tests.servers import PROVIDERS, FakeProvider, ManualClock, fixtures, load_schema, start_server
from tests.servers.base import SCHEMA_DIR

provider_clip = fixtures.provider_clip
provider_server = fixtures.provider_server

GOOD: dict[str, dict[str, Any]] = {
    "veo3o1": {"generationType": "text_to_video", "prompt": "a lighthouse", "aspectRatio": "16:9"},
    "nanophoto": {
        "shots": [
            {"id": "s1", "prompt": "a lighthouse", "generationType": "TEXT_2_VIDEO", "aspectRatio": "16:9"}
        ],
        "resolution": "720p",
    },
    "aivideoapi": {
        "model": "veo-3",
        "input": {"prompt": "a lighthouse", "mode": "fast", "resolution": "720p", "aspect_ratio": "16:9"},
    },
    "kie": {"prompt": "a lighthouse", "model": "veo3_fast", "aspectRatio": "16:9"},
}
SUBMIT = {
    "veo3o1": "/generate-video",
    "nanophoto": "/api/veo-3/generate",
    "aivideoapi": "/v1/videos/generations",
    "kie": "/api/v1/veo/generate",
}
PRICE = {"veo3o1": 2, "nanophoto": 10, "aivideoapi": 40, "kie": 60}

# (HTTP status, the provider's own code) of each documented error, in the order: bad key,
# invalid request, rate limit, server error, too few credits
ERRORS: dict[str, tuple[tuple[int, Any], ...]] = {
    "veo3o1": ((401, 1002), (400, 1000), (429, 1003), (500, 5000), (402, 1001)),
    "nanophoto": (
        (401, "LOGIN_REQUIRED"),
        (400, "INVALID_REQUEST"),
        (429, "API_KEY_RATE_LIMIT_EXCEEDED"),
        (500, "INTERNAL_ERROR"),
        (402, "INSUFFICIENT_CREDITS"),
    ),
    "aivideoapi": (
        (401, "invalid_api_key"),
        (400, "invalid_request"),
        (429, "rate_limit_exceeded"),
        (500, "internal_error"),
        (402, "insufficient_credits"),
    ),
    "kie": ((200, 401), (200, 422), (200, 429), (200, 500), (200, 402)),
}
AUTH, INVALID, RATE, SERVER, CREDITS = ({name: codes[i] for name, codes in ERRORS.items()} for i in range(5))

each = pytest.mark.parametrize("provider_server", PROVIDERS, indirect=True)


def good(name: str) -> dict[str, Any]:
    return copy.deepcopy(GOOD[name])


def client(srv: FakeProvider, key: str | None = "") -> httpx.Client:
    key = srv.api_key if key == "" else key
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return httpx.Client(base_url=srv.base_url, headers=headers, timeout=60)  # a loaded machine


def error_of(name: str, r: httpx.Response) -> tuple[int, Any]:
    body = r.json()
    if name in ("veo3o1", "kie"):
        return r.status_code, body["code"]
    if name == "nanophoto":
        return r.status_code, body["errorCode"]
    return r.status_code, body["error"]["code"]


def submit(c: httpx.Client, name: str, body: Any) -> list[tuple[str | None, str]]:
    """Submit; return (shot id, task id) of each created task; fail the test if refused."""
    r = c.post(SUBMIT[name], json=body)
    assert r.status_code == 200, r.text
    data = r.json()
    if name == "veo3o1":
        assert data["code"] == 0 and data["data"]["status"] == "pending"
        return [(None, data["data"]["uuid"])]
    if name == "nanophoto":
        assert data["status"] == "processing"
        return [(s["shotId"], s["taskId"]) for s in data["shots"]]
    assert data["code"] == 200, data
    return [(None, data["data"]["taskId"])]


def poll(
    c: httpx.Client, name: str, task: tuple[str | None, str], resolution: str = "720p"
) -> tuple[str, str | None, dict[str, Any]]:
    """(pending|processing|completed|failed, clip url, the provider's status object)."""
    shot_id, task_id = task
    if name == "veo3o1":
        r = c.get(f"/video-status/{task_id}")
        assert r.status_code == 200 and r.json()["code"] == 0, r.text
        d = r.json()["data"]
        return d["status"], d.get("videoUrl"), d
    if name == "nanophoto":
        r = c.post(
            "/api/veo-3/check-status",
            json={"taskIds": [{"shotId": shot_id, "taskId": task_id}], "resolution": resolution},
        )
        assert r.status_code == 200, r.text
        s = r.json()["shots"][0]
        assert r.json()["status"] == s["status"]
        return s["status"], s.get("videoUrl"), s
    if name == "aivideoapi":
        r = c.get(f"/v1/tasks/{task_id}")
        assert r.status_code == 200, r.text
        d = r.json()
        return d["status"], (d.get("output") or {"urls": [None]})["urls"][0], d
    r = c.get("/api/v1/veo/record-info", params={"taskId": task_id})
    assert r.status_code == 200 and r.json()["code"] == 200, r.text
    d = r.json()["data"]
    state = {0: "processing", 1: "completed", 2: "failed", 3: "failed"}[d["successFlag"]]
    return state, d["response"]["resultUrls"][0] if d["response"] else None, d


def wait_done(
    c: httpx.Client, name: str, task: tuple[str | None, str], limit: float = 60.0
) -> tuple[str, str | None, dict[str, Any]]:
    end = time.monotonic() + limit
    while True:
        state, url, raw = poll(c, name, task)
        if state in ("completed", "failed") or time.monotonic() > end:
            return state, url, raw
        time.sleep(0.05)


# -- happy path ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "provider_server", [{"name": n, "job_seconds": 0.4} for n in PROVIDERS], indirect=True
)
def test_submit_poll_download(provider_server: FakeProvider, provider_clip: Path) -> None:
    srv, name = provider_server, provider_server.name
    before = srv.credits
    with client(srv) as c:
        task = submit(c, name, good(name))[0]
        first, url, _ = poll(c, name, task)
        assert first in ("pending", "processing") and url is None
        assert srv.credits == before - PRICE[name]
        state, url, raw = wait_done(c, name, task)
        assert state == "completed", raw
        assert url == f"{srv.base_url}/files/{task[1]}.mp4"
        r = httpx.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "video/mp4"
    assert int(r.headers["content-length"]) == provider_clip.stat().st_size
    assert r.content == provider_clip.read_bytes()
    assert [a["task_id"] for a in srv.accepted] == [task[1]]
    assert srv.accepted[0]["body"] == GOOD[name]
    assert srv.tasks[task[1]].status == "completed"
    assert srv.credits == before - PRICE[name]
    rec = srv.requests[0]
    assert rec.method == "POST" and rec.path == SUBMIT[name] and rec.body == GOOD[name]
    assert rec.headers["Authorization"] == "REDACTED" and rec.status == 200
    assert srv.api_key not in repr(srv.requests)
    assert srv.errors == []


@each
def test_download_before_completion_is_404(provider_server: FakeProvider) -> None:
    srv = provider_server
    srv.job_seconds = 30
    with client(srv) as c:
        _, task_id = submit(c, srv.name, good(srv.name))[0]
        assert c.get(f"/files/{task_id}.mp4").status_code == 404
        srv.finish(task_id)
        assert c.get(f"/files/{task_id}.mp4").status_code == 200
        head = c.head(f"/files/{task_id}.mp4")
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["content-length"]) == srv.clip.stat().st_size
        assert c.get("/files/nope.mp4").status_code == 404


# -- auth and validation ------------------------------------------------------------------
@each
@pytest.mark.parametrize("key", [None, "wrong-key-0000"])
def test_auth_error(provider_server: FakeProvider, key: str | None) -> None:
    srv, name = provider_server, provider_server.name
    with client(srv, key) as c:
        r = c.post(SUBMIT[name], json=good(name))
    assert error_of(name, r) == AUTH[name]
    assert srv.accepted == [] and srv.tasks == {}
    if key:
        assert srv.requests[0].headers["Authorization"] == "REDACTED"
        assert key not in repr(srv.requests)


def _inner(name: str, body: dict[str, Any]) -> dict[str, Any]:
    """Where the prompt lives in a provider's body."""
    if name == "nanophoto":
        return body["shots"][0]
    if name == "aivideoapi":
        return body["input"]
    return body


def _unknown_field(name: str) -> dict[str, Any]:
    body = good(name)
    _inner(name, body)["duration"] = 8
    return body


def _bad_enum(name: str) -> dict[str, Any]:
    body = good(name)
    if name == "nanophoto":
        body["shots"][0]["aspectRatio"] = "4:3"
    elif name == "aivideoapi":
        body["input"]["aspect_ratio"] = "4:3"
    else:
        body["aspectRatio"] = "4:3"
    return body


def _missing_prompt(name: str) -> dict[str, Any]:
    body = good(name)
    _inner(name, body).pop("prompt")
    return body


@each
@pytest.mark.parametrize("make", [_unknown_field, _bad_enum, _missing_prompt])
def test_invalid_body_creates_nothing(provider_server: FakeProvider, make: Any) -> None:
    srv, name = provider_server, provider_server.name
    before = srv.credits
    with client(srv) as c:
        r = c.post(SUBMIT[name], json=make(name))
        expected = INVALID[name]
        if name == "nanophoto" and make is _missing_prompt:
            expected = (400, "PROMPT_REQUIRED")
        assert error_of(name, r) == expected, r.text
        bad_json = c.post(SUBMIT[name], content=b"{not json", headers={"Content-Type": "application/json"})
        assert bad_json.status_code == INVALID[name][0]
    assert srv.tasks == {} and srv.accepted == [] and srv.credits == before
    assert srv.errors == []


@each
def test_insufficient_credits(provider_server: FakeProvider) -> None:
    srv, name = provider_server, provider_server.name
    srv.credits = PRICE[name] - 1
    with client(srv) as c:
        r = c.post(SUBMIT[name], json=good(name))
        assert error_of(name, r) == CREDITS[name]
        body = r.json()
        if name == "veo3o1":
            assert body["data"] == {"required": 2, "current": 1}
        if name == "nanophoto":
            assert body["requiredCredits"] == 10
        assert srv.tasks == {} and srv.credits == PRICE[name] - 1
        srv.credits = PRICE[name]
        submit(c, name, good(name))
    assert srv.credits == 0


@each
def test_content_rejection(provider_server: FakeProvider) -> None:
    srv, name = provider_server, provider_server.name
    body = good(name)
    _inner(name, body)["prompt"] = "a FORBIDDEN scene"
    before = srv.credits
    with client(srv) as c:
        if name == "kie":
            r = c.post(SUBMIT[name], json=body)
            assert error_of(name, r) == (200, 422)
            assert "rejected by Flow" in r.json()["msg"]
            assert srv.tasks == {}
        else:
            task = submit(c, name, body)[0]
            state, url, raw = wait_done(c, name, task)
            assert state == "failed" and url is None
            if name == "aivideoapi":
                assert raw["error"]["code"] == "upstream_error"
            else:
                assert raw["error"]
    assert srv.credits == before  # refunded


# -- faults -------------------------------------------------------------------------------
@each
def test_fault_429_with_retry_after(provider_server: FakeProvider) -> None:
    srv, name = provider_server, provider_server.name
    srv.fault("429", retry_after=3)
    with client(srv) as c:
        r = c.post(SUBMIT[name], json=good(name))
        assert error_of(name, r) == RATE[name]
        assert r.headers["Retry-After"] == "3"
        assert srv.tasks == {}
        task = submit(c, name, good(name))[0]  # one fault only
        srv.fault("429", on="poll")
        if name == "nanophoto":
            r = c.post("/api/veo-3/check-status", json={"taskIds": [{"shotId": task[0], "taskId": task[1]}]})
        elif name == "veo3o1":
            r = c.get(f"/video-status/{task[1]}")
        elif name == "aivideoapi":
            r = c.get(f"/v1/tasks/{task[1]}")
        else:
            r = c.get("/api/v1/veo/record-info", params={"taskId": task[1]})
        assert error_of(name, r) == RATE[name] and r.headers["Retry-After"] == "1"
        assert poll(c, name, task)[0] == "completed"


@each
def test_fault_500_and_503(provider_server: FakeProvider) -> None:
    srv, name = provider_server, provider_server.name
    srv.fault("500")
    srv.fault("503", times=2)
    with client(srv) as c:
        assert error_of(name, c.post(SUBMIT[name], json=good(name))) == SERVER[name]
        for _ in range(2):
            r = c.post(SUBMIT[name], json=good(name))
            assert r.status_code == 503
            if name == "aivideoapi":
                assert r.json()["error"]["code"] == "upstream_error"
        assert srv.tasks == {}
        submit(c, name, good(name))
    assert len(srv.tasks) == 1 and [r.status for r in srv.requests] == [SERVER[name][0], 503, 503, 200]


@each
def test_fault_drop(provider_server: FakeProvider) -> None:
    srv, name = provider_server, provider_server.name
    srv.fault("drop")
    with client(srv) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            c.post(SUBMIT[name], json=good(name))
        assert srv.tasks == {} and srv.requests[0].status is None
        _, task_id = submit(c, name, good(name))[0]
        srv.fault("drop", on="download")
        with pytest.raises(httpx.RemoteProtocolError):
            c.get(f"/files/{task_id}.mp4")
        assert c.get(f"/files/{task_id}.mp4").status_code == 200


@each
def test_fault_accept_drop_and_accept_500(provider_server: FakeProvider) -> None:
    """The task is made and charged; then no answer, or a proxy's bare 500."""
    srv, name = provider_server, provider_server.name
    before = srv.credits
    srv.fault("accept_drop")
    srv.fault("accept_500")
    with client(srv) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            c.post(SUBMIT[name], json=good(name))
        r = c.post(SUBMIT[name], json=good(name))
        assert r.status_code == 500 and r.text == "500 Internal Server Error\n"
        assert r.headers["content-type"].startswith("text/plain")
        assert [rec.status for rec in srv.requests] == [None, 500]
        assert len(srv.tasks) == len(srv.accepted) == 2
        submit(c, name, good(name))  # one fault each
    assert srv.credits == before - 3 * PRICE[name]
    assert srv.pending_faults == []


@each
def test_fault_fail_job(provider_server: FakeProvider) -> None:
    srv, name = provider_server, provider_server.name
    before = srv.credits
    srv.fault("fail_job", reason="boom")
    with client(srv) as c:
        failed = submit(c, name, good(name))[0]
        ok = submit(c, name, good(name))[0]
        state, url, raw = wait_done(c, name, failed)
        assert state == "failed" and url is None
        if name == "veo3o1" or name == "nanophoto":
            assert raw["error"] == "boom"
        elif name == "aivideoapi":
            assert raw["error"] == {"code": "upstream_error", "message": "boom"}
            assert "output" not in raw
        else:
            assert (raw["successFlag"], raw["errorCode"], raw["errorMessage"]) == (3, 501, "boom")
            assert raw["response"] is None
        assert c.get(f"/files/{failed[1]}.mp4").status_code == 404
        assert wait_done(c, name, ok)[0] == "completed"
    assert srv.credits == before - PRICE[name]  # the failed one refunded


@each
def test_fault_truncate_and_corrupt(provider_server: FakeProvider, provider_clip: Path) -> None:
    srv, name = provider_server, provider_server.name
    clip = provider_clip.read_bytes()
    with client(srv) as c:
        _, task_id = submit(c, name, good(name))[0]
        url = f"/files/{task_id}.mp4"
        srv.fault("truncate")
        got = bytearray()
        with pytest.raises(httpx.RemoteProtocolError), c.stream("GET", url) as r:
            assert int(r.headers["content-length"]) == len(clip)
            for chunk in r.iter_raw():
                got += chunk
        assert 0 < len(got) < len(clip) and bytes(got) == clip[: len(got)]
        srv.fault("corrupt")
        r = c.get(url)
        assert r.status_code == 200 and len(r.content) == len(clip) and r.content != clip
        assert c.get(url).content == clip


@each
def test_fault_slow_and_any(provider_server: FakeProvider) -> None:
    srv, name = provider_server, provider_server.name
    srv.fault("slow", seconds=0.3)
    with client(srv) as c:
        t0 = time.monotonic()
        task = submit(c, name, good(name))[0]
        assert time.monotonic() - t0 >= 0.3
        srv.fault("500", on="any")
        r = c.get(f"{srv.base_url}/files/{task[1]}.mp4")
        assert r.status_code == SERVER[name][0]
        assert poll(c, name, task)[0] == "completed"


def test_fault_arguments_checked(provider_clip: Path) -> None:
    with start_server("kie", clip=provider_clip) as srv:
        with pytest.raises(ValueError):
            srv.fault("explode")
        with pytest.raises(ValueError):
            srv.fault("truncate", on="submit")
        with pytest.raises(ValueError):
            srv.fault("429", on="everywhere")
        srv.fault("429", times=2)
        assert srv.pending_faults[0].times == 2
        srv.clear_faults()
        assert srv.pending_faults == []


# -- nanophoto ----------------------------------------------------------------------------
def _shot(i: int, kind: str = "TEXT_2_VIDEO", images: int = 0, **extra: Any) -> dict[str, Any]:
    shot: dict[str, Any] = {
        "id": f"shot-{i}",
        "prompt": f"shot {i}",
        "generationType": kind,
        "aspectRatio": "16:9",
    }
    if images:
        shot["imageUrls"] = [f"https://example.com/{i}-{n}.jpg" for n in range(images)]
    shot.update(extra)
    return shot


@pytest.mark.parametrize("provider_server", ["nanophoto"], indirect=True)
def test_nanophoto_batch(provider_server: FakeProvider, provider_clip: Path) -> None:
    srv = provider_server
    srv.job_seconds = 30
    before = srv.credits
    shots = [
        _shot(1),
        _shot(2, "FIRST_AND_LAST_FRAMES_2_VIDEO", 2),
        _shot(3, "REFERENCE_2_VIDEO", 3, prompt="a FORBIDDEN thing"),
    ]
    with client(srv) as c:
        r = c.post(SUBMIT["nanophoto"], json={"shots": shots})
        assert r.status_code == 200
        data = r.json()
        assert data["status"] == "processing" and data["creditsUsed"] == 30
        assert [s["shotId"] for s in data["shots"]] == ["shot-1", "shot-2", "shot-3"]
        assert all(s["status"] == "processing" for s in data["shots"])
        assert [a["shot_id"] for a in srv.accepted] == ["shot-1", "shot-2", "shot-3"]
        assert srv.credits == before - 30
        ids = [{"shotId": s["shotId"], "taskId": s["taskId"]} for s in data["shots"]]

        def check() -> dict[str, Any]:
            r = c.post("/api/veo-3/check-status", json={"taskIds": ids, "resolution": "720p"})
            assert r.status_code == 200, r.text
            return r.json()

        assert check()["status"] == "processing"
        srv.finish(ids[0]["taskId"])
        srv.finish(ids[2]["taskId"])
        st = check()
        assert st["status"] == "processing"  # shot-2 still running
        assert [s["status"] for s in st["shots"]] == ["completed", "processing", "failed"]
        assert st["shots"][0]["videoUrl"].endswith(f"/files/{ids[0]['taskId']}.mp4")
        assert st["shots"][0]["generationTime"] >= 1
        assert "error" in st["shots"][2] and "videoUrl" not in st["shots"][2]
        srv.finish()
        st = check()
        assert st["status"] == "failed"
        assert [s["status"] for s in st["shots"]] == ["completed", "completed", "failed"]
        assert c.get(st["shots"][1]["videoUrl"]).content == provider_clip.read_bytes()
        # only the failed shot is refunded
        assert srv.credits == before - 20
        # a completed-only batch is completed
        r = c.post("/api/veo-3/check-status", json={"taskIds": ids[:2]})
        assert r.json()["status"] == "completed"


@pytest.mark.parametrize("provider_server", ["nanophoto"], indirect=True)
def test_nanophoto_makes_one_requests_shots_one_after_another(provider_server: FakeProvider) -> None:
    """Document 002: multi-shot videos take longer because the shots are made in sequence;
    shots sent in separate requests are made side by side."""
    srv = provider_server
    srv.job_seconds = 60
    with client(srv) as c:
        assert c.post(SUBMIT["nanophoto"], json={"shots": [_shot(i) for i in (1, 2, 3)]}).status_code == 200
        assert c.post(SUBMIT["nanophoto"], json={"shots": [_shot(4)]}).status_code == 200
    with srv.lock:
        spans = {t.shot_id: round(t.ready_at - t.created_at, 6) for t in srv.tasks.values()}
    assert spans == {"shot-1": 60, "shot-2": 120, "shot-3": 180, "shot-4": 60}


@pytest.mark.parametrize("provider_server", ["nanophoto"], indirect=True)
def test_nanophoto_check_status_errors(provider_server: FakeProvider) -> None:
    srv = provider_server
    with client(srv) as c:
        shot_id, task_id = submit(c, "nanophoto", good("nanophoto"))[0]
        url = "/api/veo-3/check-status"
        for body, want in [
            ({}, (400, "TASK_IDS_REQUIRED")),
            ({"taskIds": []}, (400, "TASK_IDS_REQUIRED")),
            ({"taskIds": [{"shotId": shot_id, "taskId": "task_nope"}]}, (404, "TASK_NOT_FOUND")),
            ({"taskIds": [{"shotId": "other", "taskId": task_id}]}, (404, "TASK_NOT_FOUND")),
            (
                {"taskIds": [{"shotId": shot_id, "taskId": task_id}], "resolution": "1080p"},
                (404, "TASK_NOT_FOUND"),
            ),
            ({"taskIds": [{"shotId": shot_id, "taskId": task_id, "x": 1}]}, (400, "INVALID_REQUEST")),
        ]:
            assert error_of("nanophoto", c.post(url, json=body)) == want, body


@pytest.mark.parametrize("provider_server", ["nanophoto"], indirect=True)
@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "SHOTS_REQUIRED"),
        ({"shots": []}, "SHOTS_REQUIRED"),
        ({"shots": [_shot(1, prompt="  ")]}, "PROMPT_REQUIRED"),
        ({"shots": [_shot(1, images=1)]}, "INVALID_IMAGE_COUNT"),
        ({"shots": [_shot(1, "FIRST_AND_LAST_FRAMES_2_VIDEO", 3)]}, "INVALID_IMAGE_COUNT"),
        ({"shots": [_shot(1, "REFERENCE_2_VIDEO", 4)]}, "INVALID_IMAGE_COUNT"),
        ({"shots": [_shot(1, "REFERENCE_2_VIDEO", imageUrls=[])]}, "INVALID_IMAGE_COUNT"),
        ({"shots": [_shot(1, "REFERENCE_2_VIDEO")]}, "IMAGE_URLS_REQUIRED"),
        (
            {"shots": [_shot(1, "REFERENCE_2_VIDEO", imageUrls=["data:image/png;base64,AAAA"])]},
            "IMAGE_URLS_REQUIRED",
        ),
        ({"shots": [_shot(1), _shot(2)], "resolution": "1080p"}, "INVALID_REQUEST"),
        ({"shots": [_shot(1), _shot(2)], "resolution": "4k"}, "INVALID_REQUEST"),
        ({"shots": [_shot(i) for i in range(22)]}, "INVALID_REQUEST"),
        ({"shots": [_shot(1), _shot(1)]}, "INVALID_REQUEST"),
        ({"shots": [_shot(1)], "resolution": "8k"}, "INVALID_REQUEST"),
        ({"shots": [_shot(1, generationType="IMAGE_2_VIDEO")]}, "INVALID_REQUEST"),
    ],
)
def test_nanophoto_validation_codes(provider_server: FakeProvider, body: Any, code: str) -> None:
    with client(provider_server) as c:
        r = c.post(SUBMIT["nanophoto"], json=body)
    assert error_of("nanophoto", r) == (400, code), r.text
    assert provider_server.tasks == {}


@pytest.mark.parametrize("provider_server", ["nanophoto"], indirect=True)
def test_nanophoto_prices(provider_server: FakeProvider) -> None:
    srv = provider_server
    with client(srv) as c:
        for res, price in [("720p", 10), ("1080p", 14), ("4k", 30)]:
            before = srv.credits
            r = c.post(SUBMIT["nanophoto"], json={"shots": [_shot(1)], "resolution": res})
            assert r.json()["creditsUsed"] == price and srv.credits == before - price
            s = r.json()["shots"][0]
            st, url, _ = poll(c, "nanophoto", (s["shotId"], s["taskId"]), resolution=res)
            assert st == "completed" and url
        r = c.post(SUBMIT["nanophoto"], json={"shots": [_shot(i) for i in range(21)]})
        assert r.json()["creditsUsed"] == 210
        srv.credits = 209
        r = c.post(SUBMIT["nanophoto"], json={"shots": [_shot(i) for i in range(21)]})
        assert r.status_code == 402 and r.json()["requiredCredits"] == 210


# -- aivideoapi ---------------------------------------------------------------------------
@pytest.mark.parametrize("provider_server", ["aivideoapi"], indirect=True)
def test_aivideoapi_extend(provider_server: FakeProvider, provider_clip: Path) -> None:
    srv = provider_server
    with client(srv) as c:
        _, parent = submit(c, "aivideoapi", good("aivideoapi"))[0]
        ext = {"model": "veo-3-extend", "input": {"prompt": "pull back", "extend_task_id": parent}}
        task = submit(c, "aivideoapi", ext)[0]
        state, url, raw = wait_done(c, "aivideoapi", task)
        assert state == "completed" and raw["model"] == "veo-3-extend"
        assert c.get(url).content == provider_clip.read_bytes()
        assert srv.tasks[task[1]].parent == parent
        bad = copy.deepcopy(ext)
        bad["input"]["extend_task_id"] = "nope"
        assert error_of("aivideoapi", c.post(SUBMIT["aivideoapi"], json=bad)) == (404, "task_not_found")
        bad = copy.deepcopy(ext)
        del bad["input"]["extend_task_id"]
        assert error_of("aivideoapi", c.post(SUBMIT["aivideoapi"], json=bad)) == (400, "invalid_request")
        srv.job_seconds = 30
        _, running = submit(c, "aivideoapi", good("aivideoapi"))[0]
        bad = copy.deepcopy(ext)
        bad["input"]["extend_task_id"] = running
        assert error_of("aivideoapi", c.post(SUBMIT["aivideoapi"], json=bad)) == (400, "invalid_request")
        # extend_task_id belongs to veo-3-extend only
        plain = good("aivideoapi")
        plain["input"]["extend_task_id"] = parent
        assert error_of("aivideoapi", c.post(SUBMIT["aivideoapi"], json=plain)) == (400, "invalid_request")


def _aiv(**inp: Any) -> dict[str, Any]:
    body = good("aivideoapi")
    body["input"].update(inp)
    return body


def _urls(n: int) -> list[str]:
    return [f"https://example.com/{i}.jpg" for i in range(n)]


@pytest.mark.parametrize("provider_server", ["aivideoapi"], indirect=True)
def test_aivideoapi_rules(provider_server: FakeProvider) -> None:
    srv = provider_server
    ref = "REFERENCE_2_VIDEO"
    fl = "FIRST_AND_LAST_FRAMES_2_VIDEO"
    refused = [
        _aiv(generation_type=ref, image_urls=_urls(2), mode="quality"),
        _aiv(generation_type=ref, image_urls=_urls(2), aspect_ratio="Auto"),
        _aiv(generation_type=ref, image_urls=_urls(4)),
        _aiv(generation_type=ref),
        _aiv(generation_type=fl, image_urls=_urls(3)),
        _aiv(generation_type="TEXT_2_VIDEO", image_urls=_urls(1)),
        _aiv(image_urls=_urls(3)),
        _aiv(seeds=9999),
        _aiv(seeds=100000),
        _aiv(image_urls=["data:image/png;base64,AAAA"]),
        {"input": {"prompt": "x"}},
        {**good("aivideoapi"), "extra": 1},
    ]
    accepted = [
        _aiv(generation_type=ref, image_urls=_urls(3), aspect_ratio="9:16"),
        _aiv(generation_type=fl, image_urls=_urls(1)),
        _aiv(image_urls=_urls(2), seeds=10000, watermark="W", enable_translation=False),
        _aiv(mode="lite", resolution="4k"),
        _aiv(mode="quality", resolution="1080p", aspect_ratio="Auto"),
    ]
    with client(srv) as c:
        for body in refused:
            r = c.post(SUBMIT["aivideoapi"], json=body)
            assert error_of("aivideoapi", r) == (400, "invalid_request"), body
            assert r.json()["error"]["type"] == "invalid_request_error"
        assert c.post(SUBMIT["aivideoapi"], json={"input": {}}).json()["error"]["message"] == (
            "'model' is required."
        )
        r = c.post(SUBMIT["aivideoapi"], json={**good("aivideoapi"), "model": "veo-2"})
        assert error_of("aivideoapi", r) == (404, "model_not_found")
        assert srv.tasks == {}
        before = srv.credits
        for body in accepted:
            submit(c, "aivideoapi", body)
        assert before - srv.credits == 40 + 40 + 40 + 100 + 310
        r = c.get("/v1/tasks/nope")
        assert error_of("aivideoapi", r) == (404, "task_not_found")


@pytest.mark.parametrize("provider_server", ["aivideoapi"], indirect=True)
def test_aivideoapi_status_shapes(provider_server: FakeProvider) -> None:
    srv = provider_server
    srv.job_seconds = 0.4
    srv.clock = clock = ManualClock()  # the job's phases by the clock we move, not by sleeping
    with client(srv) as c:
        task = submit(c, "aivideoapi", good("aivideoapi"))[0]
        _, _, raw = poll(c, "aivideoapi", task)
        assert raw["status"] == "pending" and raw["progress"] is None
        assert set(raw) == {"id", "status", "model", "created_at", "progress"}
        clock.advance(0.15)
        _, _, raw = poll(c, "aivideoapi", task)
        assert raw["status"] == "processing" and raw["progress"] == 37
        clock.advance(0.25)
        state, _, raw = poll(c, "aivideoapi", task)
        assert state == "completed"
        assert raw["output"]["metadata"] == {"resolution": "720p"}
        assert raw["completed_at"] >= raw["created_at"]


# -- kie ----------------------------------------------------------------------------------
@pytest.mark.parametrize("provider_server", ["kie"], indirect=True)
def test_kie_extend(provider_server: FakeProvider, provider_clip: Path) -> None:
    srv = provider_server
    with client(srv) as c:
        _, parent = submit(c, "kie", good("kie"))[0]
        r = c.post("/api/v1/veo/extend", json={"taskId": parent, "prompt": "keep going", "seeds": 12345})
        assert r.json()["code"] == 200
        child = r.json()["data"]["taskId"]
        assert child != parent and srv.tasks[child].parent == parent
        state, url, _ = wait_done(c, "kie", (None, child))
        assert state == "completed" and c.get(url).content == provider_clip.read_bytes()
        assert srv.accepted[-1]["body"] == {"taskId": parent, "prompt": "keep going", "seeds": 12345}

        def ext(body: dict[str, Any]) -> tuple[int, Any]:
            return error_of("kie", c.post("/api/v1/veo/extend", json=body))

        assert ext({"taskId": "veo_task_nope", "prompt": "x"}) == (200, 404)
        assert ext({"taskId": parent}) == (200, 422)
        assert ext({"taskId": parent, "prompt": "x", "model": "veo3"}) == (200, 422)
        assert ext({"taskId": parent, "prompt": "a FORBIDDEN end"}) == (200, 422)
        srv.job_seconds = 30
        _, running = submit(c, "kie", good("kie"))[0]
        assert ext({"taskId": running, "prompt": "x"}) == (200, 422)


@pytest.mark.parametrize("provider_server", ["kie"], indirect=True)
def test_kie_rules(provider_server: FakeProvider) -> None:
    srv = provider_server
    ref = "REFERENCE_2_VIDEO"
    refused = [
        {**good("kie"), "enableFallback": False},
        {**good("kie"), "enableFallback": True},
        {**good("kie"), "generationType": ref, "imageUrls": _urls(2), "model": "veo3"},
        {**good("kie"), "generationType": ref, "imageUrls": _urls(2), "aspectRatio": "9:16"},
        {**good("kie"), "generationType": ref, "imageUrls": _urls(4)},
        {**good("kie"), "generationType": "FIRST_AND_LAST_FRAMES_2_VIDEO", "imageUrls": _urls(3)},
        {**good("kie"), "imageUrls": _urls(3)},
        {**good("kie"), "generationType": "TEXT_2_VIDEO", "imageUrls": _urls(1)},
        {**good("kie"), "seeds": 12},
        {**good("kie"), "model": "veo2"},
        {**good("kie"), "aspect_ratio": "16:9"},
    ]
    with client(srv) as c:
        for body in refused:
            r = c.post(SUBMIT["kie"], json=body)
            assert error_of("kie", r) == (200, 422), body
            assert r.json()["data"] is None
        msg = c.post(SUBMIT["kie"], json=refused[0]).json()["msg"]
        assert "enableFallback" in msg and "deprecated" in msg
        assert srv.tasks == {}
        before = srv.credits
        submit(c, "kie", {**good("kie"), "generationType": ref, "imageUrls": _urls(3)})
        submit(
            c,
            "kie",
            {
                "prompt": "p",
                "model": "veo3",
                "imageUrls": _urls(2),
                "seeds": 99999,
                "aspectRatio": "Auto",
                "watermark": "W",
                "enableTranslation": False,
                "callBackUrl": "http://127.0.0.1:9/cb",
            },
        )
        assert before - srv.credits == 60 + 250
        assert error_of("kie", c.get("/api/v1/veo/record-info")) == (200, 422)
        r = c.get("/api/v1/veo/record-info", params={"taskId": "veo_task_nope"})
        assert error_of("kie", r) == (200, 404)
        assert error_of("kie", c.get("/api/v1/veo/nothing")) == (200, 404)


@pytest.mark.parametrize("provider_server", [{"name": "kie", "hd_seconds": 0.3}], indirect=True)
def test_kie_1080p_and_origin(provider_server: FakeProvider, provider_clip: Path) -> None:
    srv = provider_server
    srv.clock = clock = ManualClock()  # 1080p comes hd_seconds after the 720p: by this clock
    hd = "/api/v1/veo/get-1080p-video"
    with client(srv) as c:
        _, wide = submit(c, "kie", good("kie"))[0]
        _, tall = submit(c, "kie", {**good("kie"), "aspectRatio": "9:16"})[0]
        state, _, raw = poll(c, "kie", (None, wide))
        assert state == "completed" and raw["response"]["originUrls"] is None
        assert raw["response"]["resolution"] == "720p"
        r = c.get(hd, params={"taskId": wide, "index": 0})
        assert error_of("kie", r) == (200, 400) and "1080P" in r.json()["msg"]
        assert c.get(f"/files/{wide}-1080p.mp4").status_code == 404
        clock.advance(0.35)
        r = c.get(hd, params={"taskId": wide, "index": 0})
        assert r.json()["code"] == 200
        url = r.json()["data"]["resultUrl"]
        assert c.get(url).content == provider_clip.read_bytes()
        assert error_of("kie", c.get(hd, params={"taskId": wide, "index": 1})) == (200, 422)
        assert error_of("kie", c.get(hd, params={"taskId": tall})) == (200, 422)
        assert error_of("kie", c.get(hd, params={"taskId": "veo_task_x"})) == (200, 404)
        _, _, raw = poll(c, "kie", (None, tall))
        origin = raw["response"]["originUrls"][0]
        assert c.get(origin).content == provider_clip.read_bytes()
        srv.fault("fail_job", reason="nope", flag=2)
        _, bad = submit(c, "kie", good("kie"))[0]
        assert poll(c, "kie", (None, bad))[2]["successFlag"] == 2
        assert error_of("kie", c.get(hd, params={"taskId": bad})) == (200, 501)


# -- veo3o1 -------------------------------------------------------------------------------
@pytest.mark.parametrize("provider_server", ["veo3o1"], indirect=True)
def test_veo3o1_upload_then_image_to_video(provider_server: FakeProvider, tmp_path: Path) -> None:
    srv = provider_server
    png = make_image(tmp_path / "a.png").read_bytes()
    with client(srv) as c:
        r = c.post("/upload-video-image", files={"file": ("a.png", png, "image/png")})
        assert r.status_code == 200 and r.json()["code"] == 0, r.text
        assert r.json()["msg"] == "Upload successful"
        data = r.json()["data"]
        assert data["imageUrl"] == f"{srv.base_url}/uploads/{data['imageKey']}"
        assert srv.requests[-1].body["file"]["format"] == "png"
        got = c.get(data["imageUrl"])
        assert got.content == png and got.headers["content-type"] == "image/png"
        body = {"generationType": "image_to_video", "prompt": "it moves", "aspectRatio": "9:16", **data}
        task = submit(c, "veo3o1", body)[0]
        assert wait_done(c, "veo3o1", task)[0] == "completed"
        r = c.post("/generate-video", json=body)
        assert r.json()["data"]["aspectRatio"] == "9:16"

        def gen(**b: Any) -> tuple[int, Any]:
            return error_of("veo3o1", c.post("/generate-video", json=b))

        base = {"generationType": "image_to_video", "prompt": "x"}
        assert gen(**base) == (400, 1000)  # no imageUrl
        assert gen(**base, imageUrl=f"{srv.base_url}/uploads/r2-nope") == (400, 1000)
        assert gen(**base, imageUrl="https://example.com/a.jpg", imageKey="r2-nope") == (400, 1000)
        assert gen(**base, imageUrl="https://example.com/a.jpg", imageKey=data["imageKey"]) == (400, 1000)
        assert gen(**base, imageUrl="data:image/png;base64,AAAA") == (400, 1000)
        assert gen(**base, imageUrl=["https://example.com/a.jpg"]) == (400, 1000)  # one image
        assert gen(generationType="text_to_video", prompt="x", imageUrl=data["imageUrl"]) == (400, 1000)
        # any public image is fine too
        submit(c, "veo3o1", {**base, "imageUrl": "https://example.com/a.jpg"})
        assert error_of("veo3o1", c.get("/video-status/nope")) == (404, 1000)


@pytest.mark.parametrize("provider_server", ["veo3o1"], indirect=True)
def test_veo3o1_upload_refusals(provider_server: FakeProvider, tmp_path: Path) -> None:
    srv = provider_server
    jpg = make_image(tmp_path / "a.jpg").read_bytes()
    webp = make_image(tmp_path / "a.webp").read_bytes()
    with client(srv) as c:

        def up(**kw: Any) -> tuple[int, Any]:
            return error_of("veo3o1", c.post("/upload-video-image", **kw))

        assert c.post("/upload-video-image", files={"file": ("a", jpg)}).json()["code"] == 0
        assert c.post("/upload-video-image", files={"file": ("b", webp)}).json()["code"] == 0
        assert up(files={"file": ("a.png", b"not an image", "image/png")}) == (400, 1000)
        assert up(files={"image": ("a.jpg", jpg, "image/jpeg")}) == (400, 1000)
        assert up(files={"file": ("a.jpg", jpg)}, data={"note": "x"}) == (400, 1000)
        assert up(json={"file": "a.jpg"}) == (400, 1000)
        srv.max_upload_bytes = len(jpg) - 1
        assert up(files={"file": ("a.jpg", jpg)}) == (400, 1000)
        srv.fault("429", on="upload")
        srv.max_upload_bytes = 50 * 1024 * 1024
        assert up(files={"file": ("a.jpg", jpg)}) == (429, 1003)
        assert up(files={"file": ("a.jpg", jpg)}, headers={"Authorization": "Bearer x"}) == (401, 1002)
    assert len(srv.uploads) == 2  # type: ignore[attr-defined]


# -- the server as a whole ----------------------------------------------------------------
@pytest.mark.parametrize("provider_server", ["kie", "nanophoto"], indirect=True)
def test_concurrent_submits_are_counted_exactly(provider_server: FakeProvider) -> None:
    srv, name = provider_server, provider_server.name
    srv.credits = PRICE[name] * 15
    results: list[int] = []

    def one(c: httpx.Client) -> None:
        r = c.post(SUBMIT[name], json=good(name))
        results.append(r.status_code if name == "nanophoto" else r.json()["code"])

    with client(srv) as c:  # httpx clients are thread-safe; a pool of connections
        threads = [threading.Thread(target=one, args=(c,)) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    ok = 200
    assert results.count(ok) == 15 and len(srv.tasks) == 15 and srv.credits == 0
    assert len(srv.requests) == 20 and srv.errors == []


def test_a_hold_answers_no_request_until_enough_have_come(provider_clip: Path) -> None:
    with start_server("kie", clip=provider_clip) as srv, client(srv) as c:
        srv.hold("submit", until=2)
        codes: list[int] = []
        first = threading.Thread(
            target=lambda: codes.append(c.post(SUBMIT["kie"], json=good("kie")).status_code)
        )
        first.start()
        came = time.monotonic() + 60
        while srv._holds[0][1] != 1:  # the first request has come and waits
            assert time.monotonic() < came, "the first request never came"
            time.sleep(0.01)
        assert first.is_alive() and codes == [] and srv.tasks == {}  # unanswered, not done
        codes.append(c.post(SUBMIT["kie"], json=good("kie")).status_code)
        first.join()
        assert codes == [200, 200] and srv._holds == []
        assert c.post(SUBMIT["kie"], json=good("kie")).status_code == 200  # a hold is spent once


def test_close_frees_the_port_and_cuts_connections(provider_clip: Path) -> None:
    srv = start_server("veo3o1", clip=provider_clip)
    port = int(srv.base_url.rsplit(":", 1)[1])
    c = client(srv)
    submit(c, "veo3o1", good("veo3o1"))  # leaves a keep-alive connection open
    srv.close()
    srv.close()  # twice is fine
    with pytest.raises(httpx.TransportError):
        c.get("/video-status/x")
    c.close()
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0
    assert not srv._thread or not srv._thread.is_alive()


def test_start_server_arguments(provider_clip: Path) -> None:
    with pytest.raises(ValueError):
        start_server("sora")
    with pytest.raises(TypeError):
        start_server("kie", bogus=1)
    with start_server("aivideoapi", clip=provider_clip, api_key="sk-mine", credits=7, job_seconds=1.5) as srv:
        assert (srv.name, srv.api_key, srv.credits, srv.job_seconds) == ("aivideoapi", "sk-mine", 7, 1.5)
        assert srv.base_url.startswith("http://127.0.0.1:")


@pytest.mark.parametrize("provider_server", ["kie"], indirect=True)
def test_fixture_defaults(provider_server: FakeProvider, provider_clip: Path) -> None:
    assert provider_server.name == "kie" and provider_server.clip == provider_clip
    assert provider_server.api_key == "kie-Hs5Ty8Pq2Mx6Jc4Rw9Lb"
    info = httpx.get(f"{provider_server.base_url}/files/none.mp4")
    assert info.status_code == 404


# -- schemas ------------------------------------------------------------------------------
SCHEMAS = sorted(p.name.removesuffix(".schema.json") for p in SCHEMA_DIR.glob("*.schema.json"))

# request bodies copied from the documents' own examples
DOC_EXAMPLES: dict[str, list[Any]] = {
    "veo3o1.generate": [
        {
            "generationType": "text_to_video",
            "prompt": "A beautiful sunset over the ocean with waves gently lapping the shore",
            "aspectRatio": "16:9",
        },
    ],
    "veo3o1.upload": [
        {"file": {"filename": "image.jpg", "contentType": "image/jpeg", "size": 12345, "format": "jpeg"}},
    ],
    "nanophoto.generate": [
        {
            "shots": [
                {
                    "id": "shot-1",
                    "prompt": "一隻金毛犬在日落時分的海灘上奔跑,電影級光影",
                    "generationType": "TEXT_2_VIDEO",
                    "aspectRatio": "16:9",
                }
            ],
            "resolution": "720p",
        },
        {
            "shots": [
                {
                    "id": "shot-1",
                    "prompt": "畫中的人物動起來,穿越魔法森林",
                    "generationType": "REFERENCE_2_VIDEO",
                    "aspectRatio": "16:9",
                    "imageUrls": ["https://static.nanophoto.ai/demo/nano-banana-pro.webp"],
                }
            ],
            "resolution": "720p",
        },
        {
            "shots": [
                {
                    "id": "shot-1",
                    "prompt": "城市天際線的黎明全景,金色的陽光",
                    "generationType": "TEXT_2_VIDEO",
                    "aspectRatio": "16:9",
                },
                {
                    "id": "shot-2",
                    "prompt": "窗台上的咖啡杯特寫,蒸氣升騰",
                    "generationType": "TEXT_2_VIDEO",
                    "aspectRatio": "16:9",
                },
                {
                    "id": "shot-3",
                    "prompt": "一個人穿過公園,秋葉飄落",
                    "generationType": "TEXT_2_VIDEO",
                    "aspectRatio": "16:9",
                },
            ],
            "resolution": "720p",
        },
    ],
    "nanophoto.check-status": [
        {"taskIds": [{"shotId": "shot-1", "taskId": "task_abc123"}], "resolution": "720p"},
    ],
    "aivideoapi.generate": [
        {
            "model": "veo-3",
            "callback_url": "https://your-server.com/webhook",
            "input": {
                "prompt": "A dog playing in a park, cinematic lighting",
                "mode": "fast",
                "resolution": "720p",
                "aspect_ratio": "16:9",
            },
        },
        {
            "model": "veo-3",
            "callback_url": "https://your-server.com/webhook",
            "input": {
                "prompt": "无人机航拍日落时分的山脉,电影级光影效果",
                "mode": "fast",
                "resolution": "720p",
                "aspect_ratio": "16:9",
            },
        },
        {
            "model": "veo-3",
            "callback_url": "https://your-server.com/webhook",
            "input": {
                "prompt": "人物从公园走到城市中心",
                "generation_type": "FIRST_AND_LAST_FRAMES_2_VIDEO",
                "resolution": "720p",
                "image_urls": ["https://example.com/start.jpg", "https://example.com/end.jpg"],
                "aspect_ratio": "16:9",
            },
        },
        {
            "model": "veo-3",
            "callback_url": "https://your-server.com/webhook",
            "input": {
                "prompt": "以这些图片为参考,生成一段产品展示视频",
                "generation_type": "REFERENCE_2_VIDEO",
                "mode": "fast",
                "resolution": "720p",
                "image_urls": ["https://example.com/ref1.jpg", "https://example.com/ref2.jpg"],
                "aspect_ratio": "16:9",
            },
        },
        {
            "model": "veo-3-extend",
            "callback_url": "https://your-server.com/webhook",
            "input": {"prompt": "继续这个场景,镜头缓慢拉远", "extend_task_id": "原始任务的 upstream task id"},
        },
    ],
    # the REST examples of Google's video guide (the image bytes shortened to a real PNG's start)
    "gemini.generate": [
        {"instances": [{"prompt": "A close up of two people staring at a cryptic drawing on a wall"}]},
        {
            "instances": [
                {
                    "prompt": "Panning wide shot of a calico kitten sleeping in the sunshine",
                    "image": {"bytesBase64Encoded": "iVBORw0KGgo=", "mimeType": "image/png"},
                }
            ],
            "parameters": {"aspectRatio": "9:16", "resolution": "1080p", "durationSeconds": 8},
        },
        {
            "instances": [
                {
                    "prompt": "A woman walks on the beach in a flamingo dress",
                    "referenceImages": [
                        {
                            "image": {"bytesBase64Encoded": "iVBORw0KGgo=", "mimeType": "image/png"},
                            "referenceType": "asset",
                        }
                    ],
                }
            ],
            "parameters": {"negativePrompt": "cartoon, drawing, low quality"},
        },
    ],
    # 004's example minus enableFallback, which 004 itself says to remove (see below)
    "kie.generate": [
        {
            "prompt": "A dog playing in a park",
            "imageUrls": ["http://example.com/image1.jpg", "http://example.com/image2.jpg"],
            "model": "veo3_fast",
            "watermark": "MyBrand",
            "callBackUrl": "http://your-callback-url.com/complete",
            "aspectRatio": "16:9",
            "seeds": 12345,
            "enableTranslation": True,
            "generationType": "REFERENCE_2_VIDEO",
        },
    ],
    "kie.extend": [
        {
            "taskId": "veo_task_abcdef123456",
            "prompt": "The dog keeps running",
            "seeds": 12345,
            "watermark": "MyBrand",
            "callBackUrl": "http://your-callback-url.com/complete",
        },
    ],
}


def test_every_schema_has_examples() -> None:
    assert sorted(DOC_EXAMPLES) == SCHEMAS


@pytest.mark.parametrize("name", SCHEMAS)
def test_schema_is_valid_2020_12_and_accepts_doc_examples(name: str) -> None:
    schema = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text("utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema == load_schema(name)
    validator = jsonschema.Draft202012Validator(schema)
    for example in DOC_EXAMPLES[name]:
        errors = [e.message for e in validator.iter_errors(example)]
        assert errors == [], (name, errors)
        assert not validator.is_valid({**example, "unknownField": 1})


def test_kie_doc_example_with_deprecated_enable_fallback_is_refused() -> None:
    validator = jsonschema.Draft202012Validator(load_schema("kie.generate"))
    example = {**DOC_EXAMPLES["kie.generate"][0], "enableFallback": False}
    assert not validator.is_valid(example)


@pytest.mark.parametrize("name", PROVIDERS)
def test_doc_examples_are_accepted_by_the_servers(name: str, provider_clip: Path) -> None:
    with start_server(name, clip=provider_clip) as srv, client(srv) as c:
        key = {
            "veo3o1": "veo3o1.generate",
            "nanophoto": "nanophoto.generate",
            "aivideoapi": "aivideoapi.generate",
            "kie": "kie.generate",
        }[name]
        made: list[tuple[str | None, str]] = []
        for example in DOC_EXAMPLES[key]:
            if name == "aivideoapi" and example["model"] == "veo-3-extend":
                example = copy.deepcopy(example)
                example["input"]["extend_task_id"] = made[0][1]
            made += submit(c, name, example)
        for task in made:
            assert poll(c, name, task)[0] == "completed"
        if name == "kie":
            r = c.post("/api/v1/veo/extend", json={**DOC_EXAMPLES["kie.extend"][0], "taskId": made[0][1]})
            assert r.json()["code"] == 200
        assert srv.errors == []


# -- gemini: Google's own API, its key in a header of its own --------------------------------
GEMINI_FAST = "/v1beta/models/veo-3.1-fast-generate-preview:predictLongRunning"
GEMINI_TEXT = {"instances": [{"prompt": "a lighthouse"}], "parameters": {"aspectRatio": "16:9"}}


def gemini_client(srv: FakeProvider, headers: dict[str, str] | None = None) -> httpx.Client:
    keyed = {"x-goog-api-key": srv.api_key} if headers is None else headers
    return httpx.Client(base_url=srv.base_url, headers=keyed, timeout=60)


@pytest.mark.parametrize(
    ("headers", "status", "words"),
    [
        ({"Authorization": "Bearer KEY"}, 401, "Expected OAuth 2 access token"),
        ({}, 403, "unregistered callers"),
        ({"x-goog-api-key": "AIza-wrong"}, 400, "API key not valid"),
    ],
)
def test_gemini_takes_its_key_in_x_goog_api_key_only(
    headers: dict[str, str], status: int, words: str, provider_clip: Path
) -> None:
    with start_server("gemini", clip=provider_clip) as srv:
        if "Authorization" in headers:
            headers = {"Authorization": f"Bearer {srv.api_key}"}  # the right key, the wrong way
        with gemini_client(srv, headers) as c:
            r = c.post(GEMINI_FAST, json=GEMINI_TEXT)
        assert r.status_code == status and words in r.json()["error"]["message"]
        assert srv.accepted == [] and srv.api_key not in repr(srv.requests)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"instances": [{"prompt": "x"}], "parameters": {"seed": 12345}}, "seed"),
        (
            {
                "instances": [
                    {"prompt": "x", "lastFrame": {"bytesBase64Encoded": "iVBORw0K", "mimeType": "image/png"}}
                ]
            },
            "image",
        ),
        (
            {
                "instances": [
                    {"prompt": "x", "image": {"bytesBase64Encoded": "aGVsbG8=", "mimeType": "image/png"}}
                ]
            },
            "image/png",
        ),
        (
            {"instances": [{"prompt": "x"}], "parameters": {"resolution": "1080p", "durationSeconds": 4}},
            "durationSeconds",
        ),
        ({"instances": [{"prompt": "x"}], "parameters": {"aspectRatio": "auto"}}, "auto"),
        (  # the SDK: "STYLE enum value is only supported in ... Platform mode, not in Gemini Developer API"
            {
                "instances": [
                    {
                        "prompt": "x",
                        "referenceImages": [
                            {
                                "image": {"bytesBase64Encoded": "iVBORw0K", "mimeType": "image/png"},
                                "referenceType": "style",
                            }
                        ],
                    }
                ]
            },
            "style",
        ),
    ],
)
def test_gemini_refuses_what_google_refuses(body: dict[str, Any], words: str, provider_clip: Path) -> None:
    with start_server("gemini", clip=provider_clip) as srv, gemini_client(srv) as c:
        r = c.post(GEMINI_FAST, json=body)
        assert r.status_code == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT", r.text
        assert words in r.json()["error"]["message"]
        lite = c.post(
            "/v1beta/models/veo-3.1-lite-generate-preview:predictLongRunning",
            json={"instances": [{"prompt": "x"}], "parameters": {"resolution": "4k"}},
        )
        assert lite.status_code == 400 and "4k" in lite.json()["error"]["message"]
        unknown = c.post("/v1beta/models/veo-9:predictLongRunning", json=GEMINI_TEXT)
        assert unknown.status_code == 404 and unknown.json()["error"]["status"] == "NOT_FOUND"
        assert srv.accepted == []


def test_gemini_makes_reference_shots_in_landscape_only(provider_clip: Path, tmp_path: Path) -> None:
    """Google answers a 9:16 request with referenceImages 400 INVALID_ARGUMENT "Your use case is
    currently not supported..." (discuss.ai.google.dev/t/111853, the error quoted from the API)."""
    png = base64.b64encode(make_image(tmp_path / "ref.png").read_bytes()).decode()
    ref = {"image": {"bytesBase64Encoded": png, "mimeType": "image/png"}, "referenceType": "asset"}

    def body(aspect: str) -> dict[str, Any]:
        instance = {"prompt": "x", "referenceImages": [ref]}
        return {"instances": [instance], "parameters": {"aspectRatio": aspect}}

    with start_server("gemini", clip=provider_clip) as srv, gemini_client(srv) as c:
        portrait = c.post(GEMINI_FAST, json=body("9:16"))
        assert portrait.status_code == 400, portrait.text
        assert portrait.json()["error"]["status"] == "INVALID_ARGUMENT"
        assert "Your use case is currently not supported" in portrait.json()["error"]["message"]
        assert srv.accepted == []
        assert c.post(GEMINI_FAST, json=body("16:9")).status_code == 200
        assert len(srv.accepted) == 1


def test_gemini_operations_and_keyed_downloads(provider_clip: Path) -> None:
    # a job that cannot end by itself while the test looks: "running" is not a race with 0.3 s
    with start_server("gemini", clip=provider_clip, job_seconds=3600) as srv, gemini_client(srv) as c:
        name = c.post(GEMINI_FAST, json=GEMINI_TEXT).json()["name"]
        assert re.fullmatch(r"models/veo-3\.1-fast-generate-preview/operations/[a-z0-9]{12}", name)
        assert c.get(f"/v1beta/{name}").json() == {"name": name}  # running: no `done`
        srv.finish()
        op = c.get(f"/v1beta/{name}").json()
        assert op["done"] is True
        uri = op["response"]["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"]
        assert uri.startswith(srv.base_url + "/v1beta/files/")
        assert httpx.get(uri).status_code == 403  # the link needs the key
        hop = c.get(uri)  # with it: a redirect to the storage host, which takes no key
        assert hop.status_code == 302 and hop.headers["Location"].startswith("http://localhost:")
        assert httpx.get(hop.headers["Location"]).content == provider_clip.read_bytes()
        other = name.replace("fast-generate", "generate")
        assert c.get(f"/v1beta/{other}").status_code == 404  # an operation is its model's
        srv.fault("fail_job", reason="Video generation failed.")
        failing = c.post(GEMINI_FAST, json=GEMINI_TEXT).json()["name"]
        srv.finish()
        assert c.get(f"/v1beta/{failing}").json()["error"] == {
            "code": 13,
            "message": "Video generation failed.",
        }
        assert srv.credits == 10_000 - 2 * 80  # not refunded: the worst case of what Google leaves open
        assert srv.errors == []
