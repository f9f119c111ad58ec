"""aivideoapi: requests, checks, prices, extension, and the client on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from storyboard.errors import (
    CreditsError,
    ProviderError,
    RejectedError,
    TransientError,
)
from storyboard.providers.aivideoapi import AivideoapiProvider
from storyboard.providers.base import Cost, Need
from tests.providers.conftest import (
    KEY,
    Sleeps,
    assert_fault_retried,
    assert_grid,
    client_for,
    compiled,
    key_refused,
    local_asset,
    request_for,
    task,
    url_asset,
    wait_done,
)


def doc_allows(shape: str, s: dict[str, Any]) -> bool:
    """From document 003: everything, except REFERENCE_2_VIDEO only fast and 16:9/9:16."""
    if shape.startswith("ref"):
        return s["model"] == "fast" and s["aspect_ratio"] != "auto"
    return True


def test_check_agrees_with_the_document_and_bodies_validate() -> None:
    n_ok = assert_grid(AivideoapiProvider(), doc_allows, "aivideoapi.generate", absent=("callback_url",))
    assert n_ok == 4 * 3 * 3 * 3 * 2 + 2 * 2 * 3 * 2  # other shapes + references


def test_bodies() -> None:
    p = AivideoapiProvider()
    body, needs = p.shot_body(
        compiled(
            first=url_asset("a"),
            last=url_asset("b"),
            aspect_ratio="auto",
            model="lite",
            resolution="4k",
            seed=54321,
        )
    )
    assert needs == ()
    assert body == {
        "model": "veo-3",
        "input": {
            "prompt": "a lighthouse at dawn",
            "mode": "lite",
            "resolution": "4k",
            "aspect_ratio": "Auto",
            "generation_type": "FIRST_AND_LAST_FRAMES_2_VIDEO",
            "image_urls": ["https://img.example.com/a.png", "https://img.example.com/b.png"],
            "seeds": 54321,
        },
    }
    body, needs = p.shot_body(compiled("b", index=1, continues="a", seed=11111))
    assert body == {
        "model": "veo-3-extend",
        "input": {
            "prompt": "a lighthouse at dawn",
            "extend_task_id": "<task:a>",
            "mode": "fast",
            "seeds": 11111,
        },
    }
    assert needs == (Need("task_id", "a", "<task:a>"),)
    assert p.submit_url(compiled()) == "https://api.aivideoapi.ai/v1/videos/generations"


def test_problem_messages(png: Path) -> None:
    p = AivideoapiProvider()
    shot = compiled("r", index=4, references=(url_asset("a"),), model="quality", aspect_ratio="auto")
    by_path = {pr.path: pr for pr in p.check(shot)}
    assert set(by_path) == {"shots[4].model", "shots[4].aspect_ratio"}
    assert "aivideoapi makes reference shots only with model fast" in by_path["shots[4].model"].message
    assert "no provider can" in by_path["shots[4].model"].message
    assert by_path["shots[4].model"].hint == "set model: fast"
    assert "only at aspect ratio 16:9, 9:16" in by_path["shots[4].aspect_ratio"].message
    # nanophoto has no auto, kie no references at auto, veo3o1 no references at all
    assert "no provider can" in by_path["shots[4].aspect_ratio"].message
    (local,) = p.check(compiled("l", references=(local_asset(png, "characters.keeper.images[0]"),)))
    assert local.path == "shots[0].references[0]"
    assert "aivideoapi takes only public URLs" in local.message
    assert "characters: {keeper: {images: [{file: still.png, url: https://...}]}}" in (local.hint or "")
    (last,) = p.check(compiled("b", continues="a", last=url_asset("z")))
    assert last.path == "shots[0].frames.last" and "extending its clip" in last.message
    assert "no provider can" in last.message


def test_costs_match_the_price_table() -> None:
    p = AivideoapiProvider()
    table = {
        ("fast", "720p"): (40, 0.20),
        ("fast", "1080p"): (50, 0.25),
        ("fast", "4k"): (120, 0.60),
        ("quality", "720p"): (300, 1.50),
        ("quality", "1080p"): (310, 1.55),
        ("quality", "4k"): (380, 1.90),
        ("lite", "720p"): (20, 0.10),
        ("lite", "1080p"): (30, 0.15),
        ("lite", "4k"): (100, 0.50),
    }
    for (model, res), (credits, usd) in table.items():
        assert p.cost(compiled(model=model, resolution=res)) == Cost(credits, usd)
    assert p.cost(compiled("b", continues="a", model="quality")) == Cost(300, 1.50)


# -- render time -------------------------------------------------------------------------------


client = client_for(AivideoapiProvider)


def test_generate_poll_then_extend(server: Any, clip: Path) -> None:
    srv = server("aivideoapi")
    p = client(srv)
    ids = p.submit(request_for(p, compiled("a", references=(url_asset("r"),), seed=22222)))
    (st,) = wait_done(p, [task("a", ids["a"], "aivideoapi")]).values()
    assert st.state == "done" and httpx.get(st.url).content == clip.read_bytes()
    assert srv.credits == 10_000 - 40
    ext = compiled("b", index=1, continues="a")
    (r,) = p.requests([ext])
    (need,) = r.needs
    assert need.kind == "task_id" and need.source == "a"
    ids_b = p.submit(request_for(p, ext, {need.placeholder: ids["a"]}))
    assert srv.accepted[-1]["body"]["input"]["extend_task_id"] == ids["a"]
    (st,) = wait_done(p, [task("b", ids_b["b"], "aivideoapi")]).values()
    assert st.state == "done"


def test_bad_key(server: Any) -> None:
    srv = server("aivideoapi")
    p = client(srv, key="sk-wrong")
    assert "sk-wrong" not in str(
        key_refused(lambda: p.submit(request_for(p, compiled())), "AIVIDEOAPI_API_KEY")
    )
    p = client(srv, key="")
    key_refused(lambda: p.submit(request_for(p, compiled())), "AIVIDEOAPI_API_KEY")


def test_credits_say_what_the_shot_needs(server: Any) -> None:
    srv = server("aivideoapi", credits=100)
    p = client(srv)
    with pytest.raises(CreditsError) as info:
        p.submit(request_for(p, compiled("hero", model="quality")))
    assert "300 needed" in str(info.value) and "'hero'" in str(info.value)
    assert KEY not in str(info.value)


def test_invalid_request_rejected_naming_the_shot(server: Any) -> None:
    srv = server("aivideoapi")
    p = client(srv)
    r = request_for(p, compiled("x"))
    r.body["input"]["generation_type"] = "REFERENCE_2_VIDEO"  # no images: refused
    with pytest.raises(RejectedError) as info:
        p.submit(r)
    assert "'x'" in str(info.value) and "invalid_request" in str(info.value)


def test_unknown_task_when_polling(server: Any) -> None:
    srv = server("aivideoapi")
    with pytest.raises(ProviderError) as info:
        client(srv).poll([task("a", "no-such-task", "aivideoapi")])
    assert "task_not_found" in str(info.value) and "'a'" in str(info.value)


def test_failed_jobs(server: Any) -> None:
    srv = server("aivideoapi")
    p = client(srv)
    ids = p.submit(request_for(p, compiled(prompt="FORBIDDEN")))
    (st,) = wait_done(p, [task("s1", ids["s1"], "aivideoapi")]).values()
    assert st.state == "failed" and (st.reason or "").startswith("upstream_error: ")
    srv.fault("fail_job", reason="Video generation failed")
    ids = p.submit(request_for(p, compiled()))
    (st,) = wait_done(p, [task("s1", ids["s1"], "aivideoapi")]).values()
    assert st == st.__class__("failed", reason="upstream_error: Video generation failed")
    assert srv.credits == 10_000  # both refunded


@pytest.mark.parametrize("kind", ["429", "500", "503", "drop"])
@pytest.mark.parametrize("on", ["submit", "poll"])
def test_faults_are_retried(server: Any, kind: str, on: str) -> None:
    srv = server("aivideoapi")
    sleeps = Sleeps()
    # only no answer may mean taken: its 503 has an error body
    path = "/v1/videos/generations"
    assert_fault_retried(srv, client(srv, sleeps), sleeps, kind, on, retry_after=2, lost=("drop",), path=path)


def test_retries_run_out(server: Any) -> None:
    srv = server("aivideoapi")
    srv.fault("503", on="submit", times=3)
    p = client(srv, retries=2)
    with pytest.raises(TransientError) as info:
        p.submit(request_for(p, compiled()))
    assert "upstream_error" in str(info.value)
