"""A known API key appears in no output, no exception text, no event and no file."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from storyboard.errors import AuthError, CreditsError
from storyboard.executor import generate
from tests.media import make_clip
from tests.servers import start_server
from tests.test_executor import Events, make_plan, three, write_board

KEY = "sk-KNOWN-secret-4f9a2c7e1b"


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOARD_POLL_INTERVAL", "0.05")
    monkeypatch.setenv("STORYBOARD_RETRY_BASE", "0.01")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", seconds=8.0, fps=10)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _texts(events: Events, *more: Any) -> str:
    return repr(events.seen) + "".join(repr(m) + str(m) for m in more)


@pytest.mark.parametrize("name", ["aivideoapi", "kie"])
def test_the_key_is_never_shown_or_stored(
    tmp_path: Path,
    clip: Path,
    name: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    board = write_board(tmp_path / "film", name, three())
    with start_server(name, clip=clip, api_key=KEY, credits=10_000) as srv:
        plan = make_plan(board, srv)
        # the service fails a job twice, echoing the key in its reason; a rate limit and an
        # outage on the way; then the credits run out
        srv.fault("fail_job", times=2, reason=f"upstream refused Bearer {KEY}")
        srv.fault("429", on="submit", retry_after=0)
        srv.fault("500", on="poll")
        events = Events()
        result = generate(plan, reporter=events, concurrency=1, resubmits=1)
        assert len(srv.accepted) >= 4
        srv.credits = 0
        with pytest.raises(CreditsError) as credits:
            generate(plan, force=["a"], reporter=events)
        with pytest.raises(AuthError) as auth:
            generate(make_plan(board, srv, api_key=KEY + "-wrong"), force=["b"], reporter=events)

    sd = plan.storyboard.state_dir
    files = _files(sd)
    assert files, "the render wrote state and clips"
    for path, data in files.items():
        assert KEY.encode() not in data, path
    shown = _texts(events, result, credits.value, auth.value, credits.value.result)  # type: ignore[attr-defined]
    out, err = capsys.readouterr()
    assert KEY not in shown + out + err + caplog.text
    # the echoing reasons did go through: they were blotted out, not avoided
    echoed = [i["reason"] for k, _, i in events.seen if k == "retry" and "upstream" in i["reason"]]
    assert len(echoed) == 2 and all("Bearer ***" in r or "[redacted]" in r for r in echoed)
