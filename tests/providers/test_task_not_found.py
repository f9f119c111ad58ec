"""TaskNotFound is raised by a poll only for the service's own documented "no such task"
answer: never for a bare 404 page (a proxy's), never by a service that documents none, and
the other tasks of the same poll are still reported."""

from __future__ import annotations

from typing import Any

import pytest

from storyboard import providers
from storyboard.errors import ProviderError, RejectedError, TaskNotFound
from storyboard.providers.base import TaskState
from tests.providers.conftest import Sleeps, compiled, request_for, task

DOCUMENTED = {"nanophoto": "TASK_NOT_FOUND", "aivideoapi": "task_not_found", "kie": "404"}


def client(srv: Any) -> Any:
    return providers.get(srv.name)(base_url=srv.base_url, api_key=srv.api_key, sleep=Sleeps(), retries=0)


@pytest.mark.parametrize("name", ["veo3o1", "nanophoto", "aivideoapi", "kie"])
def test_only_the_documented_answer_is_task_not_found(name: str, server: Any) -> None:
    srv = server(name)
    p = client(srv)
    known = task("s1", p.submit(request_for(p, compiled()))["s1"], name, resolution="720p")
    ghost = task("s2", "0badc0de0badc0de", name, resolution="720p")
    if name in DOCUMENTED:
        with pytest.raises(TaskNotFound) as info:
            p.poll([known, ghost])
        assert info.value.task_ids == (ghost.task_id,) and DOCUMENTED[name] in str(info.value)
        assert info.value.found[known.task_id].state is TaskState.DONE
        assert "'s2'" in str(info.value)
    else:  # veo3o1 documents no such answer: its refusal says nothing certain about the task
        with pytest.raises(ProviderError) as other:
            p.poll([ghost])
        assert not isinstance(other.value, TaskNotFound)
    # a proxy's bare 404 page is no answer about the task at all
    srv.fault("echo", on="poll", status=404, times=3)
    with pytest.raises(ProviderError) as page:
        p.poll([known])
    assert not isinstance(page.value, TaskNotFound) and page.value.status == 404


@pytest.mark.parametrize("name", ["aivideoapi", "kie"])
def test_not_found_on_a_submission_is_a_refusal(name: str, server: Any) -> None:
    """An extension of a task the service does not know is refused (nothing was made), not a
    TaskNotFound: only polls ask about tasks."""
    p = client(server(name))
    shot = compiled("b", index=1, continues="a")
    (need,) = p.requests([shot])[0].needs
    with pytest.raises(RejectedError) as info:
        p.submit(request_for(p, shot, {need.placeholder: "0badc0de0badc0de"}))
    assert not isinstance(info.value, TaskNotFound) and "'b'" in str(info.value)


@pytest.mark.parametrize("name", ["aivideoapi", "kie"])  # polled task by task
def test_each_unknown_task_keeps_its_own_words(name: str, server: Any) -> None:
    p = client(server(name))
    ghosts = [task(f"s{i}", f"0badc0de{i}" * 2, name, resolution="720p") for i in (1, 2)]
    with pytest.raises(TaskNotFound) as info:
        p.poll(ghosts)
    assert info.value.task_ids == tuple(g.task_id for g in ghosts)
    for ghost, other in (ghosts, ghosts[::-1]):
        words = info.value.reason_for(ghost.task_id)
        assert DOCUMENTED[name] in words and other.task_id not in words, words
