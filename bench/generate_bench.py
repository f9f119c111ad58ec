"""Generation: 21 text shots against a loopback provider server with a simulated 20 s job.

The server (tests/servers) runs in the harness; `storyboard.run.executor.generate(plan)` runs in a
child process pointed at it by <NAME>_BASE_URL / <NAME>_API_KEY, with
STORYBOARD_POLL_INTERVAL=1 so one-second polling, not the default 5-10 s, sets the
granularity. Measured: the wall time of generate() itself, against one shot's job time and
against 21 jobs in sequence (21 x job, computed, not run), and the requests sent per shot.
The clip served for every task is one of the bench clips (1280x720, 8 s, ~3 MB).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

from measure import Result, run_measured
from media import CACHE, ensure_clips

from tests.servers import start_server

N_SHOTS = 21
POLL = 1.0


def write_storyboard(folder: Path, provider: str) -> Path:
    """21 text-to-video shots; a fresh folder, so the clip cache and state start empty."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    lines = ["storyboard: 1", f"title: bench {provider}", f"provider: {provider}", "shots:"]
    for i in range(N_SHOTS):
        lines += [f"  - id: shot-{i:02d}", f"    prompt: A harbour at dawn, take {i}, slow pan"]
    path = folder / "bench.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _endpoint(srv: object, method: str, path: str) -> str:
    for route in srv.routes():  # type: ignore[attr-defined]
        if route.method == method and re.fullmatch(route.pattern, path):
            return route.endpoint
    return "other"


def bench_one(provider: str, job_seconds: float, concurrency: int) -> Result:
    clip = ensure_clips(log=False)[0]
    folder = CACHE / "gen" / f"{provider}-c{concurrency}"
    story = write_storyboard(folder, provider)
    srv = start_server(provider, clip=clip, job_seconds=job_seconds)
    try:
        env = dict(os.environ)
        prefix = provider.upper()
        env[f"{prefix}_BASE_URL"] = srv.base_url
        env[f"{prefix}_API_KEY"] = srv.api_key
        env["STORYBOARD_POLL_INTERVAL"] = str(POLL)
        args = {"storyboard": str(story), "concurrency": concurrency}
        cmd = [sys.executable, str(Path(__file__).with_name("worker.py")), "generate", json.dumps(args)]
        print(
            f"  generate: {provider}, concurrency {concurrency}, {job_seconds:g} s jobs ...",
            file=sys.stderr,
            flush=True,
        )
        run = run_measured(cmd, env=env, timeout=N_SHOTS * job_seconds * 3 + 120)
        with srv.lock:  # type: ignore[attr-defined]
            records = list(srv.requests)  # type: ignore[attr-defined]
            tasks = len(srv.tasks)  # type: ignore[attr-defined]
    finally:
        srv.close()
    kinds: dict[str, int] = {}
    for rec in records:
        k = _endpoint(srv, rec.method, rec.path)
        kinds[k] = kinds.get(k, 0) + 1
    made = run.report.get("clips", 0)
    r = Result(f"generate {provider}", f"ours, concurrency {concurrency}", [run])
    r.extra = {
        "job_seconds": job_seconds,
        "one_shot_seconds": job_seconds,
        "sequential_seconds": N_SHOTS * job_seconds,
        "ratio_one_shot": run.seconds / job_seconds,
        "ratio_sequential": run.seconds / (N_SHOTS * job_seconds),
        "requests": len(records),
        "requests_per_shot": len(records) / N_SHOTS,
        "by_endpoint": kinds,
        "tasks_created": tasks,
        "clips": made,
        "failed": run.report.get("failed", {}),
        "poll_interval": POLL,
    }
    r.note = (
        f"{len(records) / N_SHOTS:.1f} req/shot ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}); "
        f"{made}/{N_SHOTS} clips"
    )
    return r


def bench(job_seconds: float = 20.0, providers: tuple[str, ...] = ("kie", "nanophoto"),
          concurrencies: tuple[int, ...] = (4, 21)) -> list[Result]:  # fmt: skip
    return [bench_one(p, job_seconds, c) for p in providers for c in concurrencies]
