"""Loopback fakes of the hosted Veo 3.1 services (four resellers and Google's Gemini API),
for clients, executors and e2e tests.

    from tests.servers import start_server
    with start_server("kie", clip=path_to_mp4) as srv:
        client = KieProvider(base_url=srv.base_url, api_key=srv.api_key)
        ...
        srv.requests, srv.accepted, srv.tasks, srv.credits, srv.fault("429", on="poll")

Each provider module's docstring states what its document leaves open and what was chosen.
Request bodies are checked against tests/provider_schemas/<provider>.<request>.schema.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.servers.aivideoapi import AivideoapiServer
from tests.servers.base import FakeProvider, Fault, ManualClock, RequestRecord, Task, load_schema
from tests.servers.gemini import GeminiServer
from tests.servers.kie import KieServer
from tests.servers.nanophoto import NanophotoServer
from tests.servers.veo3o1 import Veo3o1Server

SERVERS: dict[str, type[FakeProvider]] = {
    "veo3o1": Veo3o1Server,
    "nanophoto": NanophotoServer,
    "aivideoapi": AivideoapiServer,
    "kie": KieServer,
    "gemini": GeminiServer,
}
# the resellers, whose fakes share one body of protocol tests (tests/servers/test_servers.py);
# gemini's is tested on its own terms there too (a key header, not Bearer)
PROVIDERS: tuple[str, ...] = ("veo3o1", "nanophoto", "aivideoapi", "kie")


def start_server(
    name: str,
    clip: Path | str | None = None,
    api_key: str | None = None,
    job_seconds: float = 0.0,
    credits: int = 10_000,
    **attrs: Any,
) -> FakeProvider:
    """A running fake of provider `name` on 127.0.0.1; close it (or use `with`).

    `clip` is the MP4 served for completed tasks; `api_key` defaults to the class's
    `default_api_key`; `attrs` set attributes after construction (kie: hd_seconds=...;
    veo3o1: max_upload_bytes=...).
    """
    try:
        cls = SERVERS[name]
    except KeyError:
        raise ValueError(f"unknown provider {name!r}; one of {', '.join(SERVERS)}") from None
    srv = cls(clip=clip, api_key=api_key, job_seconds=job_seconds, credits=credits)
    for key, value in attrs.items():
        if not hasattr(srv, key):
            raise TypeError(f"{name} server has no attribute {key!r}")
        setattr(srv, key, value)
    return srv.start()


__all__ = [
    "PROVIDERS",
    "SERVERS",
    "AivideoapiServer",
    "FakeProvider",
    "Fault",
    "GeminiServer",
    "KieServer",
    "ManualClock",
    "NanophotoServer",
    "RequestRecord",
    "Task",
    "Veo3o1Server",
    "load_schema",
    "start_server",
]
