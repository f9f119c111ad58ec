"""A status that says "completed" without a usable link is "done, no link", never a failure
(failing it would pay for the shot again): every provider reports it the same way, through
`replies.link`, against its loopback server with the link taken out of one status."""

from __future__ import annotations

from typing import Any

import pytest

from storyboard import providers
from storyboard.providers.base import TaskState
from storyboard.providers.replies import link
from tests.providers.conftest import Sleeps, compiled, request_for, task

PROVIDERS = ("veo3o1", "nanophoto", "aivideoapi", "kie")
# what a careless reply may carry in place of the link
NOT_LINKS = (None, "", "   ", "null", "/files/clip.mp4", "ftp://cdn.example.com/a.mp4", "https://", 42, ["x"])


def test_only_an_absolute_http_url_is_a_link() -> None:
    for value in NOT_LINKS:
        assert link(value) is None, value
    assert link("https://cdn.example.com/a.mp4?sig=1") == "https://cdn.example.com/a.mp4?sig=1"
    assert link(" http://127.0.0.1:8/files/t.mp4 ") == "http://127.0.0.1:8/files/t.mp4"


def _done(name: str, srv: Any, **settings: Any) -> tuple[Any, Any]:
    """A client and the task of one shot the server has finished."""
    p = providers.get(name)(base_url=srv.base_url, api_key=srv.api_key, sleep=Sleeps(), retries=0)
    shot = compiled(**settings)
    ids = p.submit(request_for(p, shot))
    srv.finish()
    return p, task("s1", ids["s1"], name, **p.task_extra(shot))


@pytest.mark.parametrize("name", PROVIDERS)
def test_completed_without_its_link_is_done_without_a_link(name: str, server: Any) -> None:
    srv = server(name)
    p, t = _done(name, srv)
    srv.fault("no_link")
    (stripped,) = p.poll([t]).values()
    assert stripped.state is TaskState.DONE and stripped.url is None  # not FAILED
    (whole,) = p.poll([t]).values()  # the fault took one status: the next has its link
    assert whole.state is TaskState.DONE and whole.url and whole.url.startswith(srv.base_url)
    assert srv.pending_faults == [] and len(srv.accepted) == 1


@pytest.mark.parametrize("name", PROVIDERS)
@pytest.mark.parametrize("value", ["", None, "/files/clip.mp4"])
def test_a_link_that_is_not_one_is_no_link(name: str, value: Any, server: Any) -> None:
    srv = server(name)
    p, t = _done(name, srv)
    srv.fault("no_link", value=value if name != "aivideoapi" else [value])
    (status,) = p.poll([t]).values()
    assert status.state is TaskState.DONE and status.url is None


def test_kie_1080p_without_its_link_is_done_without_a_link(server: Any) -> None:
    srv = server("kie", hd_seconds=3600.0)
    p, t = _done("kie", srv, resolution="1080p")
    p.polling.hd_retry_seconds = 0.0
    (first,) = p.poll([t]).values()  # the 720p clip is done; the 1080p one is being made
    assert first.state is TaskState.RUNNING
    srv.hd_seconds = 0.0
    srv.fault("no_link")
    (hd,) = p.poll([t]).values()  # get-1080p-video, its resultUrl taken out
    assert hd.state is TaskState.DONE and hd.url is None and srv.pending_faults == []
    (hd,) = p.poll([t]).values()
    assert hd.url is not None and hd.url.endswith("-1080p.mp4")


def test_the_fault_is_spent_only_on_a_status_with_a_link(server: Any) -> None:
    srv = server("veo3o1", job_seconds=60.0)
    p = providers.get("veo3o1")(base_url=srv.base_url, api_key=srv.api_key, sleep=Sleeps(), retries=0)
    t = task("s1", p.submit(request_for(p, compiled()))["s1"], "veo3o1")
    srv.fault("no_link")
    (running,) = p.poll([t]).values()
    assert running.state is not TaskState.DONE and len(srv.pending_faults) == 1
    srv.finish()
    (stripped,) = p.poll([t]).values()
    assert stripped.state is TaskState.DONE and stripped.url is None and srv.pending_faults == []
