"""Child-process entry for the cases that run Python code (ours and moviepy), so the harness
can time them and sample their process tree apart from itself.

    python bench/worker.py CASE JSON-ARGS

Prints one JSON line last: {"seconds": <time of the work itself>, ...}. The timer starts
before the work's own imports (storyboard.stitch.cut, moviepy), so they are counted; the
interpreter's start-up is not (startup_bench measures that).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for p in (str(REPO), str(BENCH)):
    if p not in sys.path:
        sys.path.insert(0, p)


def case_ours(clips: list[str], output: str, crossfade: float) -> dict[str, Any]:
    # Each run makes the film: without it the previous run's manifest would say it is up to
    # date (the manifest stays, as after a user's edit: the clips' hashes are not read again).
    Path(output).unlink(missing_ok=True)
    t0 = time.perf_counter()
    from storyboard.stitch.cut import stitch
    from storyboard.stitch.spec import ClipCut, CutSpec

    cuts = tuple(
        ClipCut(
            shot_id=f"s{i:02d}",
            path=Path(c),
            trim=(0.0, 8.0),
            transition="crossfade" if crossfade and i else "cut",
            transition_duration=crossfade if crossfade and i else 0.0,
        )
        for i, c in enumerate(clips)
    )
    spec = CutSpec(clips=cuts, output=Path(output), size=(1280, 720), fps=24.0)
    result = stitch(spec)
    return {
        "seconds": time.perf_counter() - t0,
        "method": result.method,
        "duration": result.duration,
    }


def case_moviepy(clips: list[str], output: str, crossfade: float) -> dict[str, Any]:
    t0 = time.perf_counter()
    from moviepy import VideoFileClip, concatenate_videoclips, vfx

    sources = [VideoFileClip(c) for c in clips]
    if crossfade:
        # The documented moviepy 2 crossfade: each later clip fades in over the one before,
        # composed with negative padding. The first clip enters by a cut, as in our spec.
        parts = [sources[0]] + [c.with_effects([vfx.CrossFadeIn(crossfade)]) for c in sources[1:]]
        film = concatenate_videoclips(parts, method="compose", padding=-crossfade)
    else:
        film = concatenate_videoclips(sources)
    # Defaults otherwise (libx264 preset medium, its audio defaults); logger=None only
    # silences the progress bar.
    film.write_videofile(output, logger=None)
    duration = film.duration
    film.close()
    for c in sources:
        c.close()
    return {"seconds": time.perf_counter() - t0, "duration": duration}


def case_generate(storyboard: str, concurrency: int) -> dict[str, Any]:
    from storyboard import pipeline
    from storyboard.run.executor import generate

    sb = pipeline.load(Path(storyboard))
    plan = pipeline.make_plan(sb, need_key=True)
    t0 = time.perf_counter()
    result = generate(plan, concurrency=concurrency)
    return {
        "seconds": time.perf_counter() - t0,
        "clips": len(result.clips),
        "failed": result.failed,
        "submitted": len(result.submitted),
    }


CASES = {"ours": case_ours, "moviepy": case_moviepy, "generate": case_generate}


def main() -> None:
    case, raw = sys.argv[1], sys.argv[2]
    report = CASES[case](**json.loads(raw))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
