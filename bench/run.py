"""Benchmarks of storyboard against baselines, run by hand (never by the test suite).

    python bench/run.py [--quick] [--only stitch|generate|startup|preview]
                                       [--runs N] [--skip-moviepy]

Prints the machine, then one table: wall seconds (median of --runs; the moviepy baselines
and the generation runs once), CPU seconds of the whole process tree, the peak memory of the
process tree (RSS of the child and all its descendants, ffmpeg included, summed and sampled
every 20 ms), the load average, and the ratio of ours to each baseline. Also writes
bench/.cache/results-<time>.json with every run. See bench/README.md and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for p in (str(REPO), str(BENCH)):
    if p not in sys.path:
        sys.path.insert(0, p)

from measure import Result  # noqa: E402
from media import CACHE  # noqa: E402

from storyboard.media.ffmpeg import ffmpeg_exe  # noqa: E402

GROUPS = ("stitch", "generate", "startup", "preview")


def machine() -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        m = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
        mem = f"{int(m.group(1)) / 1024 / 1024:.1f} GiB" if m else "?"
    except OSError:
        pass
    ver = subprocess.run([ffmpeg_exe(), "-version"], capture_output=True, text=True).stdout
    ff = ver.splitlines()[0].split(" Copyright")[0] if ver else "?"
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": mem,
        "python": platform.python_version(),
        "ffmpeg": ff,
        "os": platform.platform(),
        "load_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _fmt_s(r: Result) -> str:
    lo, hi = r.spread
    s = f"{r.seconds:8.2f}"
    return s + (f" ({lo:.2f}-{hi:.2f})" if len(r.runs) > 1 else "") + f" x{len(r.runs)}"


def ratios(results: list[Result]) -> dict[int, str]:
    """For each baseline row: ours / baseline, ours being the group's 'ours' row(s)."""
    out: dict[int, str] = {}
    for i, r in enumerate(results):
        if not r.baseline:
            continue
        ours = [o for o in results if o.group == r.group and o.name.startswith("ours")]
        if ours:
            out[i] = " ".join(f"{o.seconds / r.seconds:.2f}" for o in ours)
    return out


def table(results: list[Result]) -> str:
    rat = ratios(results)
    head = (
        f"{'group':<18} {'case':<46} {'wall s median (min-max) xN':<30} {'CPU s':>7} "
        f"{'peak tree MB':>12} {'load1':>6}  {'ours/this':>9}  note"
    )
    lines = [head, "-" * len(head)]
    for i, r in enumerate(results):
        name = ("  " if r.baseline else "* ") + r.name
        lines.append(
            f"{r.group:<18} {name:<46} {_fmt_s(r):<30} {r.cpu:7.1f} {r.peak_tree / 1e6:12.0f} "
            f"{r.load:6.2f}  {rat.get(i, ''):>9}  {r.note}"
        )
    return "\n".join(lines)


def details(results: list[Result]) -> list[str]:
    out = []
    for r in results:
        e = r.extra
        if "joins_vs_xfade" in e or "joins_vs_moviepy" in e:
            for k in ("joins_vs_xfade", "joins_vs_moviepy"):
                if k in e:
                    j = e[k]
                    out.append(
                        f"{r.group}: picture at the 20 joins, ours vs {k.removeprefix('joins_vs_')}: "
                        f"mean abs diff max "
                        f"{j['max']:.2f}, mean {j['mean']:.2f} (0-255; same if < {j['threshold']:g}; "
                        f"a different picture scores {j['control_min']:.1f}+) -> "
                        f"{'SAME' if j['same'] else 'DIFFERENT'}"
                    )
        if "ratio_one_shot" in e:
            out.append(
                f"{r.group} {r.name}: {r.seconds:.1f} s = {e['ratio_one_shot']:.2f}x one shot "
                f"({e['one_shot_seconds']:g} s), {e['ratio_sequential']:.2f}x 21 in sequence "
                f"({e['sequential_seconds']:g} s, computed); {e['requests_per_shot']:.2f} requests/shot "
                f"{e['by_endpoint']}; poll interval {e['poll_interval']:g} s"
            )
        if "heavy_imported" in e:
            top = ", ".join(f"{n} {ms:.0f}" for n, ms in e["top_ms"][:5])
            out.append(f"{r.name}: heavy imports {e['heavy_imported']}; import ms: {top}")
        if "clean_decode" in e:
            said = e["clean_decode"][:200] or "clean"
            out.append(f"{r.group} / {r.name}: decoding every frame with -xerror: {said}")
        if "output_seconds" in e:
            out.append(f"{r.group} / {r.name}: output {e['output_seconds']:.2f} s")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1 run each, 3 s jobs, no moviepy")
    ap.add_argument("--only", choices=GROUPS, action="append", help="run only this group (repeatable)")
    ap.add_argument(
        "--runs", type=int, default=None, help="runs of each fast case (default 3; 1 with --quick)"
    )
    ap.add_argument("--skip-moviepy", action="store_true", help="skip the minutes-long moviepy baselines")
    ap.add_argument(
        "--job-seconds",
        type=float,
        default=None,
        help="simulated generation time (default 20; 3 with --quick)",
    )
    a = ap.parse_args()
    runs = a.runs or (1 if a.quick else 3)
    job = a.job_seconds or (3.0 if a.quick else 20.0)
    groups = a.only or list(GROUPS)
    moviepy = not (a.skip_moviepy or a.quick)

    info = machine()
    print("machine: " + "; ".join(f"{k} {v}" for k, v in info.items()), flush=True)
    started = time.time()
    results: list[Result] = []
    if "startup" in groups:
        import startup_bench

        results += startup_bench.bench(reps=3 if a.quick else 10)
    if "stitch" in groups:
        import stitch_bench

        results += stitch_bench.bench(runs=runs, moviepy=moviepy)
    if "preview" in groups:
        import preview_bench

        results += preview_bench.bench(runs=runs)
    if "generate" in groups:
        import generate_bench

        results += generate_bench.bench(job_seconds=job)

    print()
    print(table(results))
    print()
    for line in details(results):
        print(line)
    info["load_at_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nload average at start {info['load_at_start']}, at end {info['load_at_end']}; "
          f"{time.time() - started:.0f} s in all; * = ours")  # fmt: skip
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"results-{time.strftime('%Y%m%d-%H%M%S')}.json"
    args = {"quick": a.quick, "only": groups, "runs": runs, "moviepy": moviepy, "job_seconds": job}
    path.write_text(
        json.dumps({"machine": info, "args": args, "results": [r.to_json() for r in results]}, indent=1)
    )
    print(f"results: {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
