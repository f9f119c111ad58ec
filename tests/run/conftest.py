"""Fixtures of the render tests: what the fake services hand back, and a fast pace."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clips import make_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the fake services hand back: an 8 s clip, tiny (160x90, 10 fps)."""
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", seconds=8.0, fps=10)


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Polls and backoffs in hundredths of a second, a lost contact given up after seconds."""
    monkeypatch.setenv("STORYBOARD_POLL_INTERVAL", "0.05")
    monkeypatch.setenv("STORYBOARD_RETRY_BASE", "0.01")
    monkeypatch.setenv("STORYBOARD_CONTACT_TIMEOUT", "5")
