"""Start-up: `storyboard validate` and `storyboard plan` of the 21-shot example, as a user runs
them (a whole new process each time, median of several), and whether moviepy or numpy were
imported (python -X importtime), with the heaviest imports for the record.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from measure import Result, run_measured
from media import CACHE, REPO

EXAMPLE = REPO / "examples" / "long-21" / "long-21.yaml"
HEAVY = ("moviepy", "numpy", "PIL", "imageio")


def storyboard_exe() -> list[str]:
    exe = Path(sys.executable).with_name("storyboard")
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "storyboard"]


def example() -> Path:
    """The 21-shot example; if it is absent, a plain 21-shot storyboard in the cache."""
    if EXAMPLE.is_file():
        return EXAMPLE
    folder = CACHE / "long21-fallback"
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["storyboard: 1", "title: bench 21", "shots:"]
    for i in range(21):
        lines += [f"  - id: s{i:02d}", f"    prompt: Shot {i} of the harbour at dawn"]
    path = folder / "long-21.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def importtime(args: list[str], cwd: Path) -> dict:
    """Which heavy modules a command imports, and its ten heaviest top-level imports."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "storyboard", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
    )
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            rows.append((int(m.group(2)), len(m.group(3)), m.group(4)))
    names = {name for _, _, name in rows}
    heavy = {h: any(n == h or n.startswith(h + ".") for n in names) for h in HEAVY}
    top = sorted((r for r in rows if r[1] <= 2), reverse=True)[:10]  # top-level imports only
    return {
        "heavy_imported": heavy,
        "modules": len(rows),
        "import_ms_total": sum(us for us, indent, _ in rows if indent <= 1) / 1000,
        "top_ms": [(name, us / 1000) for us, _, name in top],
    }


def bench(reps: int = 10) -> list[Result]:
    story = example()
    cwd = story.parent
    results = []
    cases = [
        ("validate", ["validate", story.name]),
        ("plan (preview)", ["plan", story.name]),
    ]
    # A plan made by an earlier run would be the same: the state folder is not written by
    # validate or plan, but clear it so nothing cached is read either.
    shutil.rmtree(cwd / ".storyboard", ignore_errors=True)
    for name, args in cases:
        print(f"  startup: {name} x{reps} ...", file=sys.stderr, flush=True)
        runs = [run_measured([*storyboard_exe(), *args], cwd=cwd) for _ in range(reps)]
        r = Result("startup", f"storyboard {name}", runs)
        r.extra = importtime(args, cwd)
        r.extra["file"] = str(story.relative_to(REPO)) if story.is_relative_to(REPO) else str(story)
        heavy = [h for h, yes in r.extra["heavy_imported"].items() if yes]
        r.note = f"imports {', '.join(heavy)}" if heavy else "no moviepy/numpy/PIL imported"
        results.append(r)
    # the interpreter alone, for scale
    runs = [run_measured([sys.executable, "-c", "pass"]) for _ in range(reps)]
    results.append(Result("startup", "python -c pass (for scale)", runs, baseline="yes"))
    return results
