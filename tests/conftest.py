"""Fixtures every test folder may use."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import browser  # noqa: F401 - a fixture for every test folder
from tests.clips import make_clip, make_tone
from tests.fonts import shipped_fonts  # noqa: F401 - the project's own CJK font, installed for a test
from tests.plugin import register

register()  # the test provider loopvid, for this session only (never installed: see tests/plugin)

MUSIC_HZ = 3000  # far above the clips' tones, so a high-pass hears only the music


@pytest.fixture(autouse=True)
def unlimited_fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The services in tests/servers have no rate limit: polls are not held to the documented
    ones (which production keeps on every host, this machine's too). Child processes inherit it."""
    monkeypatch.setenv("STORYBOARD_POLL_FLOOR", "0")


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What a loopback service hands back for a made job: Veo's 8 s, tiny (64x36 at 10 fps).
    Read-only, so made once a session (a folder's conftest or module may give its own)."""
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", seconds=8.0, size=(64, 36), fps=10)


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Polls every 20 ms and retries from 10 ms: the loopback services answer at once."""
    monkeypatch.setenv("STORYBOARD_POLL_INTERVAL", "0.02")
    monkeypatch.setenv("STORYBOARD_RETRY_BASE", "0.01")


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("media")
    return {
        "red": make_clip(d / "red.mp4", color="red", tone=440, gop=12),
        "blue": make_clip(d / "blue.mp4", color="blue", tone=660, gop=12),
        "lime": make_clip(d / "lime.mp4", color="lime", tone=550, gop=12),
        "mute": make_clip(d / "mute.mp4", color="yellow", audio=False, gop=12),
        "portrait": make_clip(d / "portrait.mp4", size=(90, 160), fps=30, color="lime", audio=False),
        "fast": make_clip(d / "fast.mp4", fps=30, color="blue", tone=660),
        "music": make_tone(d / "music.wav", seconds=1.5, tone=MUSIC_HZ),
    }


@pytest.fixture(scope="session")
def veo_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clip shaped as Veo's exactly (8 s of 1280x720 H.264 at 24 fps, AAC 48 kHz stereo), so
    a 720p film of such clips is cut by copying, in a second or two: for the tests that render
    whole films to count what they paid (a tiny clip would make every such cut a full encode)."""
    return make_clip(tmp_path_factory.mktemp("veo") / "veo.mp4", seconds=8.0, size=(1280, 720), fps=24)
