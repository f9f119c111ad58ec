"""The spliced film plays in a real browser (Debian's Chromium, headless): the right length,
and pictures that keep coming past every join, each clip's colour where it should be."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from storyboard.stitch.cut import stitch
from storyboard.stitch.spec import CutSpec
from tests.stitch.conftest import clip, make_service_clip

SECONDS = 64 / 24
COLOURS = {"red": (255, 0, 0), "blue": (0, 0, 255), "lime": (0, 255, 0)}

PAGE = """
<video id="v" muted playsinline src="film.mp4"></video><canvas id="c" width="160" height="90"></canvas>
<script>
const v = document.getElementById('v');
window.ready = new Promise(r => v.addEventListener('loadedmetadata', () => r(v.duration)));
window.colourAt = async (from, t) => {
  // Play from `from` (before a join) across the time t (past it): the frames must keep coming.
  v.currentTime = from;
  await new Promise(r => v.addEventListener('seeked', r, {once: true}));
  let frames = 0;
  const count = () => { frames++; v.requestVideoFrameCallback(count); };
  v.requestVideoFrameCallback(count);
  await v.play();
  while (v.currentTime < t + 0.3 && !v.ended) await new Promise(r => setTimeout(r, 20));
  v.pause();
  const c = document.getElementById('c').getContext('2d');
  c.drawImage(v, 0, 0, 160, 90);
  return {frames, time: v.currentTime, rgb: Array.from(c.getImageData(80, 45, 1, 1).data.slice(0, 3)),
          error: v.error && v.error.code};
};
</script>
"""


def test_the_spliced_film_plays_in_chromium(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    names = ["red", "blue", "lime", "red", "blue"]
    paths = {n: make_service_clip(tmp_path / f"{n}.mp4", n, seconds=SECONDS) for n in COLOURS}
    xf = {"transition": "crossfade", "transition_duration": 0.5}
    clips = [clip(f"s{i}", paths[n], (0, 8), **(xf if i % 2 else {})) for i, n in enumerate(names)]
    result = stitch(CutSpec(clips=tuple(clips), output=tmp_path / "film.mp4", size=(160, 90)))
    assert result.method == "encode-joins"
    # Served from one http origin (a file:// page may not read its video's pixels).
    files = {
        "index.html": (PAGE.encode(), "text/html"),
        "film.mp4": (result.output.read_bytes(), "video/mp4"),
    }
    page = browser.new_page()

    def serve(route) -> None:  # type: ignore[no-untyped-def]
        # Byte ranges, as any web server gives a film: without them Chromium cannot seek, and
        # each join was reached by playing the film from its start in real time.
        body, kind = files[route.request.url.rsplit("/", 1)[-1]]
        asked = re.fullmatch(r"bytes=(\d+)-(\d*)", route.request.headers.get("range", ""))
        if asked is None:
            route.fulfill(status=200, body=body, content_type=kind, headers={"Accept-Ranges": "bytes"})
            return
        first = int(asked[1])
        last = min(int(asked[2]) if asked[2] else len(body) - 1, len(body) - 1)
        part = {"Accept-Ranges": "bytes", "Content-Range": f"bytes {first}-{last}/{len(body)}"}
        route.fulfill(status=206, body=body[first : last + 1], content_type=kind, headers=part)

    page.route("http://film.test/*", serve)
    page.goto("http://film.test/index.html")
    duration = page.evaluate("window.ready")
    assert duration == pytest.approx(result.duration, abs=0.05)
    # Played from before each join (and its crossfade) to a little into the next shot (its
    # copied GOPs): the frames keep coming, and there it shows its colour.
    starts = [0.0]
    for c in clips[1:]:
        starts.append(starts[-1] + SECONDS - (0.5 if c.transition == "crossfade" else 0.0))
    for i, start in enumerate(starts[1:], start=1):
        got = page.evaluate("([a, t]) => window.colourAt(a, t)", [start - 0.4, start + 0.6])
        assert got["error"] is None
        assert got["time"] > start + 0.6 and got["frames"] >= 10, got  # frames advanced past the join
        want = COLOURS[names[i]]
        assert all(abs(a - b) < 60 for a, b in zip(got["rgb"], want, strict=True)), (i, got)
    page.close()
