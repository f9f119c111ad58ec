"""Generation: 21 text shots against a loopback provider whose jobs end over a spread of time.

The server (tests/servers) runs in the harness; `storyboard.run.executor.generate(plan)` runs in a
child process pointed at it by <NAME>_BASE_URL / <NAME>_API_KEY, with
STORYBOARD_POLL_INTERVAL=1 so one-second polling, not the default 5-10 s, sets the
granularity. Each job lasts between half and all of `job_seconds` (a seeded spread: not every
job ends in the same second), and nanophoto generates one request's shots one after another,
as its document says.

Measured for each provider, in one run: a one-shot render (its job J1: overhead = wall - J1),
then the 21-shot render (its longest job L). The target of issue 9: wall(21) <= 1.2 x L +
overhead. nanophoto is measured both ways: a shot a request (its default) and all 21 in one
request (`providers: {nanophoto: {batch: 21}}`), which its sequential generation makes ~21x
slower. The clip served for every task is one of the bench clips (1280x720, 8 s, ~3 MB), so
the downloads' full-decode verification is part of the figure.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from measure import Result, run_measured
from media import CACHE, ensure_clips

from tests.servers import start_server

N_SHOTS = 21
POLL = 1.0
SPREAD = 0.5  # each job lasts job_seconds x (1 - SPREAD x u), u uniform in [0, 1)


def write_storyboard(folder: Path, provider: str, n: int, batch: int | None = None) -> Path:
    """n text-to-video shots; a fresh folder, so the clip cache and state start empty."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    lines = ["storyboard: 1", f"title: bench {provider}", f"provider: {provider}"]
    if batch is not None:
        lines += ["providers:", f"  {provider}:", f"    batch: {batch}"]
    lines.append("shots:")
    for i in range(n):
        lines += [f"  - id: shot-{i:02d}", f"    prompt: A harbour at dawn, take {i}, slow pan"]
    path = folder / "bench.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _render(provider: str, n: int, job_seconds: float, batch: int | None) -> tuple[float, float, int, dict]:
    """(wall seconds of generate(), the longest job's seconds, tasks made, the child's report)."""
    clip = ensure_clips(log=False)[0]
    tag = f"{provider}-{n}" + (f"-b{batch}" if batch else "")
    story = write_storyboard(CACHE / "gen" / tag, provider, n, batch)
    srv = start_server(provider, clip=clip, job_seconds=job_seconds)
    srv.job_spread = SPREAD if n > 1 else 0.0  # a one-shot job lasts the whole job_seconds
    try:
        env = dict(os.environ)
        prefix = provider.upper()
        env[f"{prefix}_BASE_URL"] = srv.base_url
        env[f"{prefix}_API_KEY"] = srv.api_key
        env["STORYBOARD_POLL_INTERVAL"] = str(POLL)
        env["STORYBOARD_POLL_FLOOR"] = "0"  # the fakes have no rate limit (nanophoto's is 46 s)
        args = {"storyboard": str(story), "concurrency": 4}
        cmd = [sys.executable, str(Path(__file__).with_name("worker.py")), "generate", json.dumps(args)]
        run = run_measured(cmd, env=env, timeout=n * job_seconds * 3 + 120)
        with srv.lock:
            longest = max((t.ready_at - t.created_at for t in srv.tasks.values()), default=0.0)
            tasks = len(srv.tasks)
    finally:
        srv.close()
    return run.seconds, longest, tasks, {"run": run}


def bench_one(provider: str, job_seconds: float, batch: int | None = None) -> Result:
    label = provider + (f" (batch {batch})" if batch else "")
    print(
        f"  generate: {label}, one shot then {N_SHOTS}, {job_seconds:g} s jobs ...",
        file=sys.stderr,
        flush=True,
    )
    one, one_job, _, _ = _render(provider, 1, job_seconds, batch)
    overhead = one - one_job
    wall, longest, tasks, info = _render(provider, N_SHOTS, job_seconds, batch)
    target = 1.2 * longest + overhead
    r = Result(f"generate {label}", "ours, 21 shots", [info["run"]])
    r.extra = {
        "job_seconds": job_seconds,
        "spread": SPREAD,
        "one_shot_seconds": one,
        "overhead_seconds": overhead,
        "longest_job_seconds": longest,
        "target_seconds": target,
        "ratio_to_target": wall / target,
        "ratio_to_longest_job": wall / longest if longest else None,
        "tasks_created": tasks,
        "poll_interval": POLL,
    }
    r.note = (
        f"21 shots {wall:.1f} s; longest job {longest:.1f} s; one shot {one:.1f} s "
        f"(overhead {overhead:.1f} s); target 1.2 x L + overhead = {target:.1f} s: "
        f"{'met' if wall <= target else 'MISSED'} ({wall / target:.2f}x)"
    )
    return r


PROVIDERS = ("veo3o1", "nanophoto", "aivideoapi", "kie")


def bench(job_seconds: float = 20.0, providers: tuple[str, ...] = PROVIDERS) -> list[Result]:
    out = [bench_one(p, job_seconds) for p in providers]
    if "nanophoto" in providers:
        out.append(bench_one("nanophoto", job_seconds, batch=N_SHOTS))  # the one-request way
    return out
