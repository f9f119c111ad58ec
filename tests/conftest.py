"""Fixtures every test folder may use."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.browser import browser  # noqa: F401 - a fixture for every test folder
from tests.clips import make_clip, make_tone
from tests.examples import Rendered, example, shared_root
from tests.fonts import shipped_fonts  # noqa: F401 - the project's own CJK font, installed for a test
from tests.plugin import register

register()  # the test provider loopvid, for this session only (never installed: see tests/plugin)

# The slowest tests and groups (seconds each, 2026-12-08: docs/benchmarks.md), started first,
# so that the two xdist workers end together, not one of them alone on a long test at the
# end. By `file::function`, so it survives a move; a test not named here keeps its place.
SLOW_FIRST = (
    "test_render_examples.py::test_example_renders_offline",  # tests/report reads its renders
    "test_e2e.py::test_sigkill_midway_then_resume_without_paying_twice",
    "test_e2e.py::test_render_21_shots_through_faults",
    "test_takes.py::test_choosing_another_take_recuts_without_paying",
    "test_gemini.py::test_a_film_on_gemini",
    "test_app.py::test_sigterm_while_generating_ends_like_ctrl_c",
    "test_app.py::test_sigterm_while_stitching_ends_like_ctrl_c",
    "test_other_readers.py::",  # the export render: tests/export/conftest.py
    "test_browser.py::test_the_spliced_film_plays_in_chromium",
    "test_animatic.py::test_full_size_720p",
    "test_money.py::test_a_render_killed_at_any_moment_pays_once_per_shot",
    "test_money.py::test_under_random_faults_every_shot_is_made_or_named_uncertain",
    "test_cli.py::test_status_render_stitch_unlock",
    "test_sandbox.py::test_validate_ends_quickly_in_little_memory_on_any_template",
    "test_budget.py::test_a_documented_price_in_both_units_holds_either_budget",
    "test_scaffold.py::test_editing_a_frames_shots_prompt_changes_its_clip",
    "test_plugin.py::test_the_users_storyboard_does_not_list_it",
    "test_cli.py::test_declining_sends_nothing_and_accepting_renders",
    "test_fontfile.py::test_any_damage_to_the_directory_or_cmap_is_refused_or_harmless",
    "test_compose.py::test_the_fast_path_and_moviepy_agree",
)

MUSIC_HZ = 3000  # far above the clips' tones, so a high-pass hears only the music


@pytest.hookimpl(trylast=True)  # after pytest's own ordering by fixtures
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = f"{item.path.name}::{getattr(item, 'originalname', item.name)}"
        return next((i for i, slow in enumerate(SLOW_FIRST) if name.startswith(slow)), len(SLOW_FIRST))

    items.sort(key=rank)  # stable: the rest keep pytest's order


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


@pytest.fixture(scope="session")
def examples(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Rendered]:
    """examples(NAME): examples/NAME rendered with the preview provider, once a run, shared
    by the xdist workers (tests/examples.py). Read it, never change it: others read it too."""
    root = shared_root(tmp_path_factory)
    return lambda name: example(root, name)
