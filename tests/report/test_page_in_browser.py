"""The contact sheet of the 21-shot example in a real headless Chromium: it loads with no
console errors, every image and every video loads, and a screenshot is kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.report.conftest import Sheet

ALL_LOADED = """() => [...document.querySelectorAll('video')].every(v => v.readyState >= 1 || v.error)"""


def _open(browser: Any, page_file: Path) -> tuple[Any, list[str]]:
    page = browser.new_page(viewport={"width": 1500, "height": 900})
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    # A video with preload=metadata stops its download once it has it: ERR_ABORTED is that.
    page.on(
        "requestfailed",
        lambda r: (
            problems.append(f"failed to load {r.url}: {r.failure}")
            if r.failure != "net::ERR_ABORTED"
            else None
        ),
    )
    page.goto(page_file.as_uri())
    page.wait_for_load_state("load")
    page.wait_for_function(ALL_LOADED, timeout=30_000)
    return page, problems


def test_every_image_and_video_loads(browser: Any, harbour: Sheet, artifacts: Path) -> None:
    page, problems = _open(browser, harbour.page)
    try:
        images = page.evaluate(
            "() => [...document.images].map(i => [i.alt, i.complete, i.naturalWidth, i.naturalHeight])"
        )
        assert len(images) == 21 + 21 * 3 + 2  # the strip, each shot's 3 stills, 2 input images
        for alt, complete, w, h in images:
            assert complete and w > 0 and h > 0, alt
        videos = page.evaluate(
            "() => [...document.querySelectorAll('video')].map(v => "
            "[v.currentSrc, v.readyState, v.duration, v.videoWidth, v.error && v.error.code])"
        )
        assert len(videos) == 1 + 21
        film, *clips = videos
        for src, ready, _duration, width, error in videos:
            assert error is None and ready >= 1 and width > 0, src
        assert film[2] == pytest.approx(168, abs=0.1)  # the whole film, playable at the top
        assert all(c[2] == pytest.approx(8, abs=0.1) for c in clips)
        posters = page.evaluate(
            "() => [...document.querySelectorAll('article.shot')].map(a => "
            "[a.querySelector('video').poster, a.querySelectorAll('.stills img')[1].src])"
        )
        assert all(poster == middle and poster.startswith("data:image/jpeg") for poster, middle in posters)
        cards = page.evaluate("() => [...document.querySelectorAll('article.shot')].map(a => a.dataset.shot)")
        assert len(cards) == 21 and cards[0] == "dawn-sea" and cards[-1] == "last-light"
        assert not problems, problems
        # Each video's picture before the screenshot, and no loading spinner over it.
        page.wait_for_function(
            "() => [...document.querySelectorAll('video')].every("
            "v => v.readyState >= 3 && v.networkState !== HTMLMediaElement.NETWORK_LOADING)",
            timeout=30_000,
        )
        shot = artifacts / "report-long-21.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 50_000
        print(f"\nscreenshot of the 21-shot contact sheet: {shot}")
    finally:
        page.close()


def test_a_clip_plays(browser: Any, lighthouse: Sheet) -> None:
    """Not only metadata: the first shot's clip plays and its time advances."""
    page, problems = _open(browser, lighthouse.page)
    try:
        page.evaluate(
            "() => { const v = document.querySelector('article.shot video'); v.muted = true; v.play(); }"
        )
        page.wait_for_function(
            "() => document.querySelector('article.shot video').currentTime > 0.3", timeout=20_000
        )
        assert not problems, problems
    finally:
        page.close()


FONT_LOADED = """async (text) => {
  const loaded = await document.fonts.load('16px "storyboard-caption"', text);
  await document.fonts.ready;
  return [loaded.map(f => f.status), document.fonts.check('16px "storyboard-caption"', text)];
}"""


def test_the_caption_font_is_the_storyboards_own(browser: Any, vertical: Sheet, artifacts: Path) -> None:
    """The title and the Chinese caption are drawn with the storyboard's caption font, on a
    machine with no such font installed: the page embeds it."""
    html = vertical.page.read_text("utf-8")
    assert "@font-face" in html and "data:font/otf;base64," in html
    page, problems = _open(browser, vertical.page)
    try:
        statuses, ready = page.evaluate(FONT_LOADED, "最后一班船")
        assert statuses == ["loaded"] and ready
        caption = page.locator("dd", has_text="最后一班船")
        assert caption.count() == 1
        family = caption.evaluate("e => getComputedStyle(e).fontFamily")
        assert family.split(",")[0].strip('" ') == "storyboard-caption", family
        assert not problems, problems
        shot = artifacts / "report-vertical-caption-font.png"
        caption.scroll_into_view_if_needed()
        page.screenshot(path=str(shot))
        print(f"\nscreenshot of the contact sheet with its caption font: {shot}")
    finally:
        page.close()
