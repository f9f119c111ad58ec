"""Start-up: `storyboard --help`, one Tab of completion, `validate` and `plan` of an example,
as a user runs them: a whole new process each time, beside `python -c pass` measured in the
same series (the cases take turns, so a busy minute slows them all alike), median of the
runs. Then, for each, what it imported (python -X importtime): the heavy modules, and the
heaviest imports for the record.

    python bench/startup_bench.py [--runs N]        # this group alone (default 10 runs)
    python bench/run.py --only startup              # the same, in the table of every group

The package's bytecode is compiled first (as `pip install` does): a tree never compiled, or
run with PYTHONDONTWRITEBYTECODE, compiles every module at every start instead.
"""

from __future__ import annotations

import compileall
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for p in (str(REPO), str(BENCH)):
    if p not in sys.path:
        sys.path.insert(0, p)

from measure import Result, run_measured  # noqa: E402
from media import CACHE  # noqa: E402

EXAMPLES = REPO / "examples"
HEAVY = (
    "jsonschema",
    "jinja2",
    "httpx",
    "moviepy",
    "opentimelineio",
    "numpy",
    "PIL",
    "imageio",
    "rich",
    "storyboard.plan.compiler",
    "storyboard.pipeline",
)
TARGETS = {"--help": 0.10, "tab": 0.10, "validate": 0.15, "plan": 0.15}  # seconds, issue 25


def storyboard_exe() -> list[str]:
    exe = Path(sys.executable).with_name("storyboard")
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "storyboard"]


def example(name: str) -> Path:
    """examples/NAME/NAME.yaml; if it is absent, a plain 21-shot storyboard in the cache."""
    path = EXAMPLES / name / f"{name}.yaml"
    if path.is_file():
        return path
    folder = CACHE / f"{name}-fallback"
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["storyboard: 1", f"title: bench {name}", "shots:"]
    for i in range(21):
        lines += [f"  - id: s{i:02d}", f"    prompt: Shot {i} of the harbour at dawn"]
    path = folder / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def tab(words: str) -> dict[str, str]:
    """The variables a shell sets for one Tab (click's bash protocol; the program is
    storyboard, so the variable is _STORYBOARD_COMPLETE)."""
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    return {"_STORYBOARD_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}


def importtime(cmd: list[str], cwd: Path, env: dict[str, str]) -> dict:
    """Which heavy modules a command imports, and its ten heaviest top-level imports."""
    python, args = (cmd[0], cmd[2:]) if cmd[1:2] == ["-m"] else (sys.executable, cmd[1:])
    proc = subprocess.run(
        [python, "-X", "importtime", "-m", "storyboard", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
    )
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            rows.append((int(m.group(2)), len(m.group(3)), m.group(4)))
    names = {name for _, _, name in rows}
    heavy = sorted(h for h in HEAVY if any(n == h or n.startswith(h + ".") for n in names))
    top = sorted((r for r in rows if r[1] <= 2), reverse=True)[:10]  # top-level imports only
    return {
        "heavy_imported": heavy,
        "modules": len(rows),
        "import_ms_total": sum(us for us, indent, _ in rows if indent <= 1) / 1000,
        "top_ms": [(name, us / 1000) for us, _, name in top],
    }


def bench(reps: int = 10, examples: tuple[str, ...] = ("three-shot", "long-21")) -> list[Result]:
    compileall.compile_dir(REPO / "storyboard", quiet=1)  # as an installed package has it
    exe = storyboard_exe()
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cases: list[tuple[str, str, list[str], Path, dict[str, str]]] = [
        ("--help", "storyboard --help", [*exe, "--help"], REPO, base),
        ("tab", "one Tab: `storyboard re<Tab>`", exe, REPO, {**base, **tab("storyboard re")}),
    ]
    for name in examples:
        story = example(name)
        # nothing cached is read: validate and plan write no state, but clear what a render left
        shutil.rmtree(story.parent / ".storyboard", ignore_errors=True)
        cases += [
            ("validate", f"storyboard validate {name}", [*exe, "validate", story.name], story.parent, base),
            ("plan", f"storyboard plan {name} (preview)", [*exe, "plan", story.name], story.parent, base),
        ]
    cases.append(("python", "python -c pass (for scale)", [sys.executable, "-c", "pass"], REPO, base))

    runs: dict[str, list] = {label: [] for _, label, *_ in cases}
    for i in range(reps + 1):  # taking turns; the first round warms the disk cache, not counted
        print(f"  startup: round {i}/{reps} ...", file=sys.stderr, flush=True)
        for _, label, cmd, cwd, env in cases:
            run = run_measured(cmd, cwd=cwd, env=env)
            if i:
                runs[label].append(run)
    results = []
    for kind, label, cmd, cwd, env in cases:
        r = Result("startup", label, runs[label], baseline="yes" if kind == "python" else "")
        if kind != "python":
            r.extra = importtime(cmd, cwd, env)
            heavy = r.extra["heavy_imported"]
            target = TARGETS[kind]
            within = "within" if r.seconds <= target else "OVER"
            r.note = f"target {target:.2f} s: {within}; " + (
                f"imports {', '.join(heavy)}" if heavy else "no heavy module imported"
            )
        results.append(r)
    return results


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10, help="runs of each case (default 10)")
    a = ap.parse_args()
    print("load average at start " + " ".join(f"{x:.2f}" for x in os.getloadavg()), flush=True)
    found = bench(reps=a.runs)
    for r in found:
        lo, hi = r.spread
        n = len(r.runs)
        print(f"{r.name:<44} {r.seconds:6.3f} s ({lo:.3f}-{hi:.3f}) x{n}  CPU {r.cpu:.3f}  {r.note}")
    for r in found:
        if r.extra:
            top = ", ".join(f"{n} {ms:.0f}" for n, ms in r.extra["top_ms"][:6])
            print(f"{r.name}: {r.extra['modules']} modules; heaviest imports (ms): {top}")
    print("load average at end " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
