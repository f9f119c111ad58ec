"""gemini: Google's Gemini API Veo 3.1 — requests, checks, prices, and the client on loopback."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from storyboard.errors import AuthError, RejectedError, Severity, TaskNotFound, UnsupportedError
from storyboard.providers.base import Auth, CompiledShot, Cost, Need
from storyboard.providers.gemini import GeminiProvider
from storyboard.run.download import fetch
from tests.clips import make_image
from tests.providers.conftest import (
    ASPECTS,
    MODELS,
    RESOLUTIONS,
    SEEDS,
    SHAPES,
    Sleeps,
    assert_fault_retried,
    assert_no_key,
    client_for,
    compiled,
    fill,
    key_refused,
    local_asset,
    request_for,
    schema_errors,
    task,
    url_asset,
    wait_done,
)

FAST = "/v1beta/models/veo-3.1-fast-generate-preview:predictLongRunning"
OPERATION = "models/veo-3.1-fast-generate-preview/operations/abc123"


@pytest.fixture
def stills(tmp_path: Path) -> dict[str, Path]:
    return {
        n: make_image(tmp_path / f"{n}.png", color=c)
        for n, c in zip("abc", ("red", "blue", "lime"), strict=True)
    }


def shaped(shape: str, stills: dict[str, Path], **settings: Any) -> CompiledShot:
    """One shot of each kind, its images files in the storyboard's folder."""
    img = {n: local_asset(p) for n, p in stills.items()}
    if shape == "text":
        return compiled(**settings)
    if shape == "first":
        return compiled(first=img["a"], **settings)
    if shape == "first_last":
        return compiled(first=img["a"], last=img["b"], **settings)
    if shape == "ref1":
        return compiled(references=(img["a"],), **settings)
    if shape == "ref3":
        return compiled(references=tuple(img.values()), **settings)
    return compiled("s2", index=1, continues="s1", **settings)


def doc_allows(shape: str, s: dict[str, Any]) -> bool:
    """From Google's guide: 16:9 or 9:16; lite makes 720p/1080p from text or a first frame;
    reference images only at 16:9 (Google refuses them at 9:16: discuss.ai.google.dev/t/111853);
    a shot continues another from its first frame, the parent's last (the Gemini API's
    extension is not used)."""
    if s["aspect_ratio"] == "auto":
        return False
    if shape.startswith("ref") and s["aspect_ratio"] != "16:9":
        return False
    if s["model"] == "lite":
        return s["resolution"] != "4k" and shape in ("text", "first", "continues")
    return True


def test_check_agrees_with_the_documents_and_bodies_validate(stills: dict[str, Path]) -> None:
    p = GeminiProvider()
    n_ok = 0
    for shape, aspect, res, model, seed in itertools.product(SHAPES, ASPECTS, RESOLUTIONS, MODELS, SEEDS):
        settings = {"aspect_ratio": aspect, "resolution": res, "model": model, "seed": seed}
        shot = shaped(shape, stills, **settings)
        found = p.check(shot)
        problems = [x for x in found if x.severity is Severity.ERROR]
        assert (not problems) == doc_allows(shape, settings), (shape, settings, problems)
        warned = [x.path.rsplit(".", 1)[-1] for x in found if x.severity is Severity.WARNING]
        assert warned == (["seed"] if seed is not None else []), (shape, settings, found)
        if problems:
            with pytest.raises(UnsupportedError):
                p.shot_body(shot)
            continue
        n_ok += 1
        body, needs = p.shot_body(shot)
        assert schema_errors("gemini.generate", fill(body, needs)) == [], (shape, settings)
        assert "seed" not in str(body)
    # fast/quality: 6 shapes at 16:9, 4 at 9:16 (no references); lite: text, first, continues
    assert n_ok == (6 + 4) * 3 * 2 * 2 + 3 * 2 * 2 * 2


def test_bodies_carry_images_inline_and_the_model_in_the_path(stills: dict[str, Path]) -> None:
    p = GeminiProvider()
    shot = compiled(first=local_asset(stills["a"]), last=local_asset(stills["b"]), aspect_ratio="9:16")
    body, needs = p.shot_body(shot)
    assert body == {
        "instances": [
            {
                "prompt": "a lighthouse at dawn",
                "image": {"bytesBase64Encoded": "<inline:a.png>", "mimeType": "image/png"},
                "lastFrame": {"bytesBase64Encoded": "<inline:b.png>", "mimeType": "image/png"},
            }
        ],
        "parameters": {"aspectRatio": "9:16", "resolution": "720p", "durationSeconds": 8},
    }
    assert needs == (
        Need("inline", str(stills["a"]), "<inline:a.png>"),
        Need("inline", str(stills["b"]), "<inline:b.png>"),
    )
    refs = compiled(references=(local_asset(stills["a"]), local_asset(stills["c"])), model="quality")
    body, _ = p.shot_body(refs)
    assert body["instances"][0]["referenceImages"] == [
        {
            "image": {"bytesBase64Encoded": "<inline:a.png>", "mimeType": "image/png"},
            "referenceType": "asset",
        },
        {
            "image": {"bytesBase64Encoded": "<inline:c.png>", "mimeType": "image/png"},
            "referenceType": "asset",
        },
    ]
    base = "https://generativelanguage.googleapis.com/v1beta/models"
    assert p.submit_url(compiled()) == f"{base}/veo-3.1-fast-generate-preview:predictLongRunning"
    assert p.submit_url(refs) == f"{base}/veo-3.1-generate-preview:predictLongRunning"
    assert p.submit_url(compiled(model="lite")) == f"{base}/veo-3.1-lite-generate-preview:predictLongRunning"
    # an option names a Google model outright; a negative prompt goes with every shot
    named = GeminiProvider(options={"quality": "veo-3.1-generate-001", "negative_prompt": "text, logos"})
    assert named.submit_url(refs) == f"{base}/veo-3.1-generate-001:predictLongRunning"
    assert named.shot_body(compiled())[0]["parameters"]["negativePrompt"] == "text, logos"
    problems = GeminiProvider.Options.problems({"quality": "../../v1/admin"})
    assert [pr.path for pr in problems] == [("quality",)] and "not a Google model name" in problems[0].message


def test_problem_messages_locate_what_a_model_cannot_take(stills: dict[str, Path]) -> None:
    p = GeminiProvider()
    lite = compiled("l", index=2, first=local_asset(stills["a"]), last=local_asset(stills["b"]), model="lite")
    (last,) = p.check(lite)
    assert last.path == "shots[2].frames.last"
    assert "gemini's lite model takes one image only (the first frame), so no last frame" in last.message
    assert last.hint == "remove frames.last"
    (res,) = p.check(compiled(model="lite", resolution="4k"))
    assert res.path == "shots[0].resolution" and "gemini's lite model makes no 4k clips" in res.message
    (portrait,) = p.check(compiled(references=(local_asset(stills["a"]),), aspect_ratio="9:16"))
    assert portrait.path == "shots[0].aspect_ratio"
    assert "gemini makes reference shots only at aspect ratio 16:9" in portrait.message
    assert portrait.hint == "set aspect_ratio: 16:9"
    (link,) = p.check(compiled(first=url_asset("dawn")))
    assert link.path == "shots[0].frames.first" and "is only a link" in link.message
    assert "images: {dawn: {file: images/dawn.png}}" in (link.hint or "")
    # a local file is what it sends: no word about links, and no link is ever sent
    both = compiled(
        first=local_asset(stills["a"]).__class__(
            ref="a.png", label="images.a", url="https://example.com/a.png", path=stills["a"]
        )
    )
    assert p.check(both) == []
    assert not p.sends_url(both.shot.first)  # type: ignore[arg-type]
    assert p.check(compiled("b", index=1, continues="a")) == []  # its first frame goes inline


def test_costs_are_dollars_a_second_from_googles_table() -> None:
    p = GeminiProvider()
    table = {
        ("quality", "720p"): 3.20,
        ("quality", "1080p"): 3.20,
        ("quality", "4k"): 4.80,
        ("fast", "720p"): 0.80,
        ("fast", "1080p"): 0.96,
        ("fast", "4k"): 2.40,
        ("lite", "720p"): 0.40,
        ("lite", "1080p"): 0.64,
    }
    for (model, res), usd in table.items():
        assert p.cost(compiled(model=model, resolution=res)) == Cost(None, usd)


def test_operation_names_are_task_ids_and_nothing_else_is() -> None:
    p = GeminiProvider()
    assert p.task_id_problem(OPERATION) is None
    for bad in (
        "abc123",
        "models/veo-3.1-fast-generate-preview/operations/../../files/x",
        "models/x/operations/a b",
        "models/x/operations/a\x1b[31m",
        "models/x/operations/" + "a" * 190,
        "models/x/operations/abc?key=1",
    ):
        assert p.task_id_problem(bad) is not None, bad


# -- render time --------------------------------------------------------------------------------
client = client_for(GeminiProvider)


def headers_seen(srv: Any) -> list[dict[str, str]]:
    return [{k.lower(): v for k, v in r.headers.items()} for r in srv.requests]


def test_generate_poll_and_download_with_the_key_only_on_googles_host(
    server: Any, clip: Path, stills: dict[str, Path], tmp_path: Path
) -> None:
    srv = server("gemini")
    p = client(srv)
    shot = compiled("a", references=(local_asset(stills["a"]), local_asset(stills["b"])), model="quality")
    ids = p.submit(request_for(p, shot))
    assert ids["a"].startswith("models/veo-3.1-generate-preview/operations/")
    assert srv.accepted[-1]["body"]["instances"][0]["referenceImages"][1]["referenceType"] == "asset"
    (st,) = wait_done(p, [task("a", ids["a"], "gemini")]).values()
    assert st.state == "done" and st.url.startswith(srv.base_url + "/v1beta/files/")
    dest = fetch(st.url, tmp_path / "clip.mp4", expected_seconds=1.0, credentials=p.download_credentials)
    assert dest.read_bytes() == clip.read_bytes()
    # every request carried the key as Google wants it, none an Authorization header, and the
    # storage host behind the redirect got no key
    for r in srv.requests:
        assert "authorization" not in {k.lower() for k in r.headers}, r.path
    keyed = [r for r in srv.requests if not r.path.startswith("/files/")]
    assert keyed and all(r.headers.get("x-goog-api-key") == "REDACTED" for r in keyed)
    (stored,) = [r for r in srv.requests if r.path.startswith("/files/")]
    assert "x-goog-api-key" not in {k.lower() for k in stored.headers} and stored.headers.get(
        "Host", ""
    ).startswith("localhost")
    assert srv.credits == 10_000 - 320  # quality 720p: $3.20


def test_a_bearer_header_is_refused_as_google_refuses_it(server: Any) -> None:
    srv = server("gemini")

    class Bearer(GeminiProvider):
        auth = Auth()  # as every other provider sends its key

    p = client_for(Bearer)(srv)
    with pytest.raises(AuthError) as info:
        p.submit(request_for(p, compiled()))
    assert "Expected OAuth 2 access token" in str(info.value)
    assert_no_key(info.value)
    assert srv.accepted == []


def test_bad_key(server: Any) -> None:
    srv = server("gemini")
    p = client(srv, key="AIza-wrong")
    err = key_refused(lambda: p.submit(request_for(p, compiled())), "GEMINI_API_KEY")
    assert "AIza-wrong" not in str(err) and "API_KEY_INVALID" in str(err)
    p = client(srv, key="")
    key_refused(lambda: p.submit(request_for(p, compiled())), "GEMINI_API_KEY")


def test_a_finished_operation_with_an_error_is_a_failed_job_not_a_failed_request(server: Any) -> None:
    srv = server("gemini")
    p = client(srv)
    srv.fault("fail_job", reason="Video generation failed due to an internal error.")
    ids = p.submit(request_for(p, compiled()))
    (st,) = wait_done(p, [task("s1", ids["s1"], "gemini")]).values()
    assert st.state == "failed" and st.reason == "error 13: Video generation failed due to an internal error."
    ids = p.submit(request_for(p, compiled(prompt="a FORBIDDEN thing")))
    (st,) = wait_done(p, [task("s1", ids["s1"], "gemini")]).values()
    assert st.state == "failed" and (st.reason or "").startswith(
        "blocked by Google's safety filters: Your current"
    )
    assert srv.credits == 10_000 - 2 * 80  # Google's pages do not say it refunds them: this server does not


def test_unknown_operations_and_models(server: Any) -> None:
    srv = server("gemini")
    p = client(srv)
    with pytest.raises(TaskNotFound) as info:
        p.poll([task("a", "models/veo-3.1-fast-generate-preview/operations/nosuchop1234", "gemini")])
    assert "NOT_FOUND" in str(info.value) and "'a'" in str(info.value)
    odd = client(srv, options={"fast": "veo-9-generate"})
    with pytest.raises(RejectedError) as refused:
        odd.submit(request_for(odd, compiled()))
    assert "is not found for API version v1beta" in str(refused.value)


def test_the_operation_name_is_encoded_segment_by_segment(server: Any) -> None:
    srv = server("gemini")
    p = client(srv)
    ids = p.submit(request_for(p, compiled()))
    wait_done(p, [task("s1", ids["s1"], "gemini")])
    polled = {r.path for r in srv.requests if r.method == "GET" and "/operations/" in r.path}
    assert polled == {f"/v1beta/{ids['s1']}"}


@pytest.mark.parametrize("kind", ["429", "500", "503", "drop"])
@pytest.mark.parametrize("on", ["submit", "poll"])
def test_faults_are_retried(server: Any, kind: str, on: str) -> None:
    srv = server("gemini")
    sleeps = Sleeps()
    assert_fault_retried(srv, client(srv, sleeps), sleeps, kind, on, retry_after=2, lost=("drop",), path=FAST)
