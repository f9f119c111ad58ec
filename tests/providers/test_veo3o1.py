"""veo3o1: plan-time requests and checks, and the client against its loopback server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from storyboard.errors import (
    CreditsError,
    Location,
    RateLimitError,
    RejectedError,
    Severity,
    TransientError,
)
from storyboard.providers.base import Cost, Need
from storyboard.providers.veo3o1 import Veo3o1Provider
from tests.providers.conftest import (
    KEY,
    Sleeps,
    assert_grid,
    assert_no_key,
    assert_not_sent_again,
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
    """Read from documents 000/001: no model or resolution fields (a seed is ignored, with a
    warning); one image."""
    return s["resolution"] == "720p" and s["model"] == "fast" and shape in ("text", "first", "continues")


def test_check_agrees_with_the_document_and_bodies_validate() -> None:
    # 3 shapes x 3 aspect ratios x with and without a seed
    assert assert_grid(Veo3o1Provider(), doc_allows, "veo3o1.generate") == 9 * 2


def test_bodies() -> None:
    p = Veo3o1Provider()
    body, needs = p.shot_body(compiled(prompt="dawn", aspect_ratio="9:16"))
    assert body == {"generationType": "text_to_video", "prompt": "dawn", "aspectRatio": "9:16"}
    assert needs == ()
    body, _ = p.shot_body(compiled(first=url_asset("a"), aspect_ratio="auto"))
    assert body["generationType"] == "image_to_video"
    assert body["imageUrl"] == "https://img.example.com/a.png"
    assert body["aspectRatio"] == "auto"
    body, needs = p.shot_body(compiled("b", continues="a"))
    assert body["imageUrl"] == "<last-frame:a>"
    assert needs == (Need("last_frame", "a", "<last-frame:a>"),)
    assert p.submit_url(compiled()) == "https://veo3o1.com/api/generate-video"
    assert p.cost(compiled()) == Cost(None, None)


def test_local_image_becomes_an_upload(png: Path) -> None:
    p = Veo3o1Provider()
    shot = compiled(first=local_asset(png))
    assert p.check(shot) == []
    body, needs = p.shot_body(shot)
    assert body["imageUrl"] == "<upload:still.png>"
    assert needs == (Need("upload", str(png), "<upload:still.png>"),)
    both = compiled(
        first=local_asset(png).__class__(
            ref="still.png", label="images.still", url="https://cdn.example.com/s.png", path=png
        )
    )
    body, needs = p.shot_body(both)
    assert body["imageUrl"] == "https://cdn.example.com/s.png" and needs == ()  # URL wins


def test_problem_messages() -> None:
    p = Veo3o1Provider()
    loc = Location("board.yaml", 12, 5)
    shot = compiled(
        "wide",
        index=2,
        resolution="1080p",
        seed=12345,
        model="quality",
        first=url_asset("a"),
        last=url_asset("b"),
        location=loc,
    )
    by_path = {pr.path: pr for pr in p.check(shot)}
    assert set(by_path) == {"shots[2].resolution", "shots[2].seed", "shots[2].model", "shots[2].frames.last"}
    res = by_path["shots[2].resolution"]
    assert res.location == loc
    assert res.message.startswith("shot 'wide': veo3o1 has no resolution setting")
    # the installed providers are named in name order
    assert "providers that can: aivideoapi, kie, nanophoto" in res.message
    seed = by_path["shots[2].seed"]  # ignored, with a warning that says who takes one
    assert seed.severity is Severity.WARNING and seed.message.startswith("seed ignored: veo3o1 takes no seed")
    assert "aivideoapi, kie" in (seed.hint or "")
    assert "providers that can: aivideoapi, kie" in by_path["shots[2].model"].message
    assert "no last frame" in by_path["shots[2].frames.last"].message
    assert "board.yaml:12:5: error: shots[2].resolution: shot 'wide'" in res.format()
    refs = p.check(compiled("r", references=(url_asset("a"),)))
    assert [pr.path for pr in refs] == ["shots[0].references"]
    assert "takes no reference images" in refs[0].message
    assert "providers that can: aivideoapi, kie, nanophoto" in refs[0].message


def test_upload_format_and_size_checked_at_plan_time(tmp_path: Path) -> None:
    gif = tmp_path / "a.gif"
    gif.write_bytes(b"GIF89a")
    problems = Veo3o1Provider().check(compiled(first=local_asset(gif)))
    assert len(problems) == 1 and "JPEG, PNG or WebP" in problems[0].message
    assert problems[0].path == "shots[0].frames.first"


# -- render time against the loopback server ---------------------------------------------------


client = client_for(Veo3o1Provider)


def test_upload_then_generate_then_poll(server: Any, png: Path, clip: Path) -> None:
    srv = server("veo3o1")
    p = client(srv)
    shot = compiled("s1", first=local_asset(png), aspect_ratio="16:9")
    (req,) = p.requests([shot])
    (need,) = req.needs
    url = p.upload(Path(need.source))
    assert url.startswith(f"{srv.base_url}/uploads/")
    upload = srv.requests[-1]
    assert upload.body["file"]["format"] == "png" and upload.body["file"]["filename"] == "still.png"
    ids = p.submit(request_for(p, shot, {need.placeholder: url}))
    assert list(ids) == ["s1"]
    assert srv.accepted[0]["body"]["imageUrl"] == url
    statuses = wait_done(p, [task("s1", ids["s1"], "veo3o1")])
    st = statuses[ids["s1"]]
    assert st.state == "done" and st.progress == 100
    assert httpx.get(st.url).content == clip.read_bytes()
    assert all(
        r.headers.get("Authorization") == "REDACTED" for r in srv.requests if not r.path.startswith("/files/")
    )
    p.close()


def test_pending_then_running(server: Any) -> None:
    srv = server("veo3o1", job_seconds=30)
    p = client(srv)
    ids = p.submit(request_for(p, compiled()))
    t = task("s1", ids["s1"], "veo3o1")
    assert p.poll([t])[t.task_id].state == "pending"
    srv.tasks[t.task_id].created_at -= 15  # half way through the job
    srv.tasks[t.task_id].ready_at -= 15
    st = p.poll([t])[t.task_id]
    assert st.state == "running" and 0 < (st.progress or 0) < 100


def test_bad_key_names_the_variable(server: Any) -> None:
    srv = server("veo3o1")
    p = client(srv, key="wrong-" + KEY)
    assert "wrong-" not in str(key_refused(lambda: p.submit(request_for(p, compiled())), "VEO3O1_API_KEY"))
    missing = Veo3o1Provider(base_url=srv.base_url)
    key_refused(lambda: missing.submit(request_for(p, compiled())), "VEO3O1_API_KEY")


def test_credits_error_says_needed_and_available(server: Any) -> None:
    srv = server("veo3o1", credits=1)
    p = client(srv)
    with pytest.raises(CreditsError) as info:
        p.submit(request_for(p, compiled("intro")))
    assert "2 needed, 1 available" in str(info.value) and "'intro'" in str(info.value)
    assert srv.accepted == []


def test_invalid_request_is_rejected_naming_the_shot(server: Any) -> None:
    srv = server("veo3o1")
    p = client(srv)
    shot = compiled("intro", first=url_asset("x"))
    req = request_for(p, shot)
    req.body["imageUrl"] = f"{srv.base_url}/uploads/nothing"  # not an upload of this server
    with pytest.raises(RejectedError) as info:
        p.submit(req)
    assert "'intro'" in str(info.value) and "1000" in str(info.value)


def test_rate_limit_waits_retry_after(server: Any) -> None:
    srv = server("veo3o1")
    sleeps = Sleeps()
    p = client(srv, sleeps)
    srv.fault("429", on="submit", retry_after=4)
    ids = p.submit(request_for(p, compiled()))
    assert sleeps.calls == [4.0] and len(srv.accepted) == 1 and ids


@pytest.mark.parametrize("kind", ["500", "503", "drop"])
@pytest.mark.parametrize("on", ["submit", "poll", "upload"])
def test_transient_faults_are_retried(server: Any, png: Path, kind: str, on: str) -> None:
    srv = server("veo3o1")
    sleeps = Sleeps()
    p = client(srv, sleeps)
    srv.fault(kind, on=on, times=2)
    if on == "upload":
        assert p.upload(png).startswith(srv.base_url)
    elif on == "submit" and kind in ("503", "drop"):  # a bare 503 or no answer: maybe taken
        assert_not_sent_again(srv, p, lambda: p.submit(request_for(p, compiled())), sleeps, "/generate-video")
        return
    else:
        ids = p.submit(request_for(p, compiled()))
        assert len(srv.accepted) == 1
        if on == "poll":
            st = wait_done(p, [task("s1", ids["s1"], "veo3o1")])
            assert next(iter(st.values())).state == "done"
    assert len(sleeps.calls) == 2 and all(d <= 0.04 for d in sleeps.calls)


def test_retries_run_out(server: Any) -> None:
    srv = server("veo3o1")
    p = Veo3o1Provider(base_url=srv.base_url, api_key=KEY, sleep=Sleeps(), retries=2)
    srv.fault("500", on="submit", times=5)
    with pytest.raises(TransientError) as info:
        p.submit(request_for(p, compiled()))
    assert "5000" in str(info.value)
    assert len([r for r in srv.requests if r.path == "/generate-video"]) == 3
    assert_no_key(info.value)


def test_rate_limit_runs_out(server: Any) -> None:
    srv = server("veo3o1")
    p = Veo3o1Provider(base_url=srv.base_url, api_key=KEY, sleep=Sleeps(), retries=1)
    srv.fault("429", on="submit", times=3, retry_after=2)
    with pytest.raises(RateLimitError) as info:
        p.submit(request_for(p, compiled()))
    assert info.value.retry_after == 2.0


def test_failed_job_reports_the_reason(server: Any) -> None:
    srv = server("veo3o1")
    p = client(srv)
    srv.fault("fail_job", reason="Upstream refused the scene")
    ids = p.submit(request_for(p, compiled()))
    (st,) = wait_done(p, [task("s1", ids["s1"], "veo3o1")]).values()
    assert st.state == "failed" and st.reason == "Upstream refused the scene"
    ids = p.submit(request_for(p, compiled(prompt="a FORBIDDEN scene")))
    (st,) = wait_done(p, [task("s1", ids["s1"], "veo3o1")]).values()
    assert st.state == "failed" and "Content policy" in (st.reason or "")
