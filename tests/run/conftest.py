"""Fixtures of the render tests: a fast pace (what the fake services hand back, `clip`, is
tests/conftest.py's)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Polls and backoffs in hundredths of a second, a lost contact given up after seconds."""
    monkeypatch.setenv("STORYBOARD_POLL_INTERVAL", "0.05")
    monkeypatch.setenv("STORYBOARD_RETRY_BASE", "0.01")
    monkeypatch.setenv("STORYBOARD_CONTACT_TIMEOUT", "5")
