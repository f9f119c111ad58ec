"""The offline `preview` render of the 21-shot example, the whole command as a user runs it:

    storyboard render long-21.yaml --quiet -o bench/.cache/long21.mp4

in a copy of the example folder, so its .storyboard clip cache starts empty (cold: 21
animatic clips drawn, then the stitch), then again with everything cached (warm: only the
stitch).
"""

from __future__ import annotations

import shutil
import sys

from measure import Result, run_measured
from media import CACHE
from startup_bench import EXAMPLE, storyboard_exe


def bench(runs: int = 3) -> list[Result]:
    if not EXAMPLE.is_file():
        print(f"  preview: {EXAMPLE} is absent; skipped", file=sys.stderr)
        return []
    work = CACHE / "preview" / EXAMPLE.parent.name
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(EXAMPLE.parent, work, ignore=shutil.ignore_patterns(".storyboard", "renders"))
    out = CACHE / "long21.mp4"
    cmd = [*storyboard_exe(), "render", EXAMPLE.name, "--quiet", "-o", str(out)]
    print("  preview: cold render ...", file=sys.stderr, flush=True)
    cold = Result(
        "preview render", "cold (21 clips drawn + stitch)", [run_measured(cmd, cwd=work, timeout=3600)]
    )
    warm_runs = []
    for i in range(runs):
        print(f"  preview: warm render {i + 1}/{runs} ...", file=sys.stderr, flush=True)
        warm_runs.append(run_measured(cmd, cwd=work, timeout=1800))
    warm = Result("preview render", "warm (all cached: stitch only)", warm_runs)
    for r in (cold, warm):
        r.note = r.runs[-1].report.get("method", "") if r.runs[-1].report else ""
    return [cold, warm]
