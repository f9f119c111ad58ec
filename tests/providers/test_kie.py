"""kie: requests, checks, extension, polling (record-info, 1080p), and errors on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from storyboard.errors import (
    CreditsError,
    RateLimitError,
    RejectedError,
    TransientError,
)
from storyboard.providers.base import Cost, Need
from storyboard.providers.kie import KieProvider
from tests.providers.conftest import (
    KEY,
    Sleeps,
    assert_fault_retried,
    assert_grid,
    client_for,
    compiled,
    key_refused,
    request_for,
    task,
    url_asset,
    wait_done,
)


def doc_allows(shape: str, s: dict[str, Any]) -> bool:
    """From document 004: veo3/veo3_fast (no lite), no 4k, 1080p only 16:9, REFERENCE_2_VIDEO
    only veo3_fast and 16:9."""
    if s["model"] == "lite" or s["resolution"] == "4k":
        return False
    if s["resolution"] == "1080p" and s["aspect_ratio"] != "16:9":
        return False
    if shape.startswith("ref"):
        return s["model"] == "fast" and s["aspect_ratio"] == "16:9"
    return True


def test_check_agrees_with_the_document_and_bodies_validate() -> None:
    def schema(shape: str) -> str:
        return "kie.extend" if shape == "continues" else "kie.generate"

    n_ok = assert_grid(KieProvider(), doc_allows, schema, absent=("enableFallback", "callBackUrl"))
    assert n_ok > 0


def test_bodies() -> None:
    p = KieProvider()
    shot = compiled(references=(url_asset("a"), url_asset("b")), seed=12345)
    body, needs = p.shot_body(shot)
    assert body == {
        "prompt": "a lighthouse at dawn",
        "model": "veo3_fast",
        "generationType": "REFERENCE_2_VIDEO",
        "aspectRatio": "16:9",
        "imageUrls": ["https://img.example.com/a.png", "https://img.example.com/b.png"],
        "seeds": 12345,
    }
    assert needs == () and p.submit_url(shot) == "https://api.kie.ai/api/v1/veo/generate"
    body, _ = p.shot_body(compiled(model="quality", aspect_ratio="auto"))
    assert body["model"] == "veo3" and body["aspectRatio"] == "Auto"
    assert body["generationType"] == "TEXT_2_VIDEO" and "imageUrls" not in body
    ext = compiled("b", index=1, continues="a", seed=54321)
    body, needs = p.shot_body(ext)
    assert body == {"taskId": "<task:a>", "prompt": "a lighthouse at dawn", "seeds": 54321}
    assert needs == (Need("task_id", "a", "<task:a>"),)
    assert p.submit_url(ext) == "https://api.kie.ai/api/v1/veo/extend"
    assert p.cost(shot) == Cost(None, None)
    assert p.task_extra(compiled(resolution="1080p")) == {"resolution": "1080p"}


def test_problem_messages() -> None:
    p = KieProvider()
    by_path = {
        pr.path: pr
        for pr in p.check(compiled("tall", index=1, resolution="1080p", aspect_ratio="9:16", model="lite"))
    }
    assert set(by_path) == {"shots[1].resolution", "shots[1].model"}
    res = by_path["shots[1].resolution"].message
    assert res.startswith("shot 'tall': kie makes 1080p only at aspect ratio 16:9")
    assert "this shot is 9:16" in res and "providers that can: aivideoapi, gemini, nanophoto" in res
    assert "kie has no model 'lite'" in by_path["shots[1].model"].message
    assert "providers that can: aivideoapi" in by_path["shots[1].model"].message
    (four_k,) = p.check(compiled(resolution="4k"))
    assert "kie makes no 4k clips" in four_k.message
    assert "providers that can: aivideoapi, gemini, nanophoto" in four_k.message
    ref = {
        pr.path: pr
        for pr in p.check(compiled(references=(url_asset("a"),), model="quality", aspect_ratio="9:16"))
    }
    assert "kie makes reference shots only with model fast" in ref["shots[0].model"].message
    assert "providers that can: aivideoapi" not in ref["shots[0].model"].message
    assert "providers that can: aivideoapi, nanophoto" in ref["shots[0].aspect_ratio"].message


# -- render time -------------------------------------------------------------------------------


client = client_for(KieProvider, hd_retry_seconds=0.0)


def test_generate_poll_download(server: Any, clip: Path) -> None:
    srv = server("kie")
    p = client(srv)
    ids = p.submit(request_for(p, compiled(first=url_asset("a"), last=url_asset("b"))))
    (st,) = wait_done(p, [task("s1", ids["s1"], "kie")]).values()
    assert st.state == "done" and httpx.get(st.url).content == clip.read_bytes()
    polls = [r for r in srv.requests if r.path == "/api/v1/veo/record-info"]
    assert polls and all(r.query == {"taskId": ids["s1"]} for r in polls)
    assert not any(r.path.endswith("get-1080p-video") for r in srv.requests)


def test_1080p_waits_for_the_hd_clip(server: Any) -> None:
    srv = server("kie")
    srv.hd_seconds = 0.4
    p = client(srv)
    shot = compiled(resolution="1080p")
    ids = p.submit(request_for(p, shot))
    t = task("s1", ids["s1"], "kie", **p.task_extra(shot))
    first = p.poll([t])[t.task_id]
    assert first.state == "running"  # 720p done, 1080p not ready: body code 400
    (st,) = wait_done(p, [t]).values()
    assert st.state == "done" and "1080p" in (st.url or "")
    hd = [r for r in srv.requests if r.path == "/api/v1/veo/get-1080p-video"]
    assert len(hd) >= 2 and hd[0].query == {"taskId": ids["s1"], "index": "0"}
    assert httpx.get(st.url).status_code == 200


def test_1080p_asks_no_more_often_than_allowed(server: Any) -> None:
    srv = server("kie")
    srv.hd_seconds = 60
    p = client(srv, hd_retry_seconds=30)
    shot = compiled(resolution="1080p")
    ids = p.submit(request_for(p, shot))
    t = task("s1", ids["s1"], "kie", resolution="1080p")
    for _ in range(3):
        assert p.poll([t])[t.task_id].state == "running"
    assert len([r for r in srv.requests if r.path == "/api/v1/veo/get-1080p-video"]) == 1


def test_extend_a_generated_clip(server: Any) -> None:
    srv = server("kie")
    p = client(srv)
    ids = p.submit(request_for(p, compiled("a")))
    wait_done(p, [task("a", ids["a"], "kie")])
    ext = compiled("b", index=1, continues="a")
    ids_b = p.submit(request_for(p, ext, {"<task:a>": ids["a"]}))
    assert srv.requests[-1].path == "/api/v1/veo/extend"
    assert srv.accepted[-1]["body"] == {"taskId": ids["a"], "prompt": "a lighthouse at dawn"}
    (st,) = wait_done(p, [task("b", ids_b["b"], "kie")]).values()
    assert st.state == "done"


def test_bad_key(server: Any) -> None:
    srv = server("kie")
    p = client(srv, key="x" + KEY)
    key_refused(lambda: p.submit(request_for(p, compiled())), "KIE_API_KEY")


def test_credits(server: Any) -> None:
    srv = server("kie", credits=10)
    p = client(srv)
    with pytest.raises(CreditsError) as info:
        p.submit(request_for(p, compiled("hero")))
    assert "not enough credits" in str(info.value) and "'hero'" in str(info.value)
    assert "60" in str(info.value) and "10" in str(info.value)  # the numbers kie puts in msg


def test_content_rejection_names_the_shot(server: Any) -> None:
    srv = server("kie")
    p = client(srv)
    with pytest.raises(RejectedError) as info:
        p.submit(request_for(p, compiled("night", prompt="a FORBIDDEN act")))
    assert "'night'" in str(info.value) and "rejected by Flow" in str(info.value)
    assert srv.accepted == []


@pytest.mark.parametrize("flag", [2, 3])
def test_failed_job(server: Any, flag: int) -> None:
    srv = server("kie")
    p = client(srv)
    srv.fault("fail_job", reason="Video generation failed", flag=flag)
    ids = p.submit(request_for(p, compiled()))
    (st,) = wait_done(p, [task("s1", ids["s1"], "kie")]).values()
    assert st.state == "failed" and st.reason == "501: Video generation failed"


@pytest.mark.parametrize("kind", ["429", "500", "503", "drop"])
@pytest.mark.parametrize("on", ["submit", "poll"])
def test_faults_are_retried(server: Any, kind: str, on: str) -> None:
    srv = server("kie")
    sleeps = Sleeps()
    lost = ("503", "drop")  # a bare 503 or no answer: maybe taken
    path = "/api/v1/veo/generate"
    assert_fault_retried(srv, client(srv, sleeps), sleeps, kind, on, retry_after=5, lost=lost, path=path)


def test_retries_run_out(server: Any) -> None:
    srv = server("kie")
    p = client(srv, retries=1)
    srv.fault("429", on="submit", times=2, retry_after=1)
    with pytest.raises(RateLimitError):
        p.submit(request_for(p, compiled()))
    srv.fault("500", on="submit", times=2)
    with pytest.raises(TransientError) as info:
        p.submit(request_for(p, compiled()))
    assert "500" in str(info.value) and KEY not in str(info.value)
