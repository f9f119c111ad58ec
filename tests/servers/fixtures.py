"""pytest fixtures for the loopback providers. In a conftest.py or test module:

    from tests.servers.fixtures import provider_clip, provider_server  # noqa: F401

    @pytest.mark.parametrize("provider_server", ["kie", "veo3o1"], indirect=True)
    def test_x(provider_server): ...

The parameter is a provider name, or a dict of start_server arguments with "name"
(e.g. {"name": "kie", "credits": 5, "job_seconds": 0.2}). Unparametrized: "kie".
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clips import make_clip
from tests.servers import FakeProvider, start_server


@pytest.fixture(scope="session")
def provider_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An 8 s 160x90 24 fps H.264+AAC clip, shaped like what Veo returns; made once."""
    return make_clip(
        tmp_path_factory.mktemp("provider_clip") / "clip.mp4", seconds=8.0, size=(160, 90), fps=24
    )


@pytest.fixture
def provider_server(request: pytest.FixtureRequest, provider_clip: Path) -> Iterator[FakeProvider]:
    """A started fake provider serving `provider_clip`; closed after the test."""
    param = getattr(request, "param", "kie")
    kwargs = dict(param) if isinstance(param, dict) else {"name": param}
    kwargs.setdefault("clip", provider_clip)
    with start_server(**kwargs) as srv:
        yield srv
