"""How a case is measured: run it as a child process, time it, and sample the memory of the
whole process tree (the child and every descendant, e.g. the ffmpeg it starts) via /proc.

Peak memory is the largest SUM of the tree's resident set sizes seen at one sample (every
~20 ms). Summing RSS counts shared pages (libc, libav*) once per process, so it is an upper
bound on what the tree really holds; getrusage(RUSAGE_CHILDREN).ru_maxrss is also kept as a
cross-check: the largest single descendant ever, which is a lower bound.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
SAMPLE_SECONDS = 0.02


def _ppid_and_rss() -> dict[int, tuple[int, int]]:
    """pid -> (ppid, rss bytes) for every process visible in /proc."""
    out: dict[int, tuple[int, int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                data = f.read()
        except OSError:  # gone between listdir and open
            continue
        # the command name is in parentheses and may hold spaces: split after the last ')'
        rest = data[data.rfind(b")") + 2 :].split()
        out[int(name)] = (int(rest[1]), int(rest[21]) * PAGE)
    return out


def tree_rss(root: int) -> tuple[int, int]:
    """(sum of RSS of root and all its descendants, number of processes)."""
    table = _ppid_and_rss()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, count, stack = 0, 0, [root]
    while stack:
        pid = stack.pop()
        if pid in table:
            total += table[pid][1]
            count += 1
        stack.extend(children.get(pid, ()))
    return total, count


class TreeSampler:
    """Samples tree_rss(pid) in a thread until stopped; keeps the peak."""

    def __init__(self, pid: int, interval: float = SAMPLE_SECONDS) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.max_procs = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            rss, n = tree_rss(self.pid)
            self.peak = max(self.peak, rss)
            self.max_procs = max(self.max_procs, n)
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Run:
    """One measured run of a command."""

    wall: float  # seconds, as the harness saw the child process
    cpu: float  # user+system seconds of the whole tree (less sensitive to other load)
    inner: float | None  # seconds the child reported for the work itself (None: not given)
    peak_tree: int  # bytes: peak sum of RSS over the process tree
    peak_single: int  # bytes: ru_maxrss of the largest descendant (lower bound)
    procs: int  # most processes seen in the tree at once
    load: tuple[float, float, float]  # load average when the run ended
    report: dict = field(default_factory=dict)  # whatever JSON the child printed last

    @property
    def seconds(self) -> float:
        return self.inner if self.inner is not None else self.wall


def run_measured(
    cmd: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float | None = None,
) -> Run:
    """Run cmd as a child, sampling its process tree; the child's last stdout line, if JSON
    with a "seconds" key, gives the time of the work itself (without interpreter start-up)."""
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = ru0.ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        list(cmd), env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    with TreeSampler(proc.pid) as sampler:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise RuntimeError(f"timed out after {timeout} s: {' '.join(cmd[:3])} ...") from None
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    after = ru1.ru_maxrss
    cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    if proc.returncode != 0:
        tail = "\n".join((stderr or stdout).strip().splitlines()[-15:])
        raise RuntimeError(f"exit {proc.returncode}: {' '.join(map(str, cmd[:4]))} ...\n{tail}")
    report: dict = {}
    lines = [ln for ln in stdout.strip().splitlines() if ln.strip()]
    if lines and lines[-1].startswith("{"):
        try:
            report = json.loads(lines[-1])
        except ValueError:
            report = {}
    inner = report.get("seconds")
    # ru_maxrss (KiB) only rises: it tells this child's tree only when it set a new record.
    single = after * 1024 if after > before else 0
    return Run(
        wall=wall,
        cpu=cpu,
        inner=float(inner) if inner is not None else None,
        peak_tree=sampler.peak,
        peak_single=single,
        procs=sampler.max_procs,
        load=os.getloadavg(),
        report=report,
    )


@dataclass
class Result:
    """A case measured one or more times."""

    group: str
    name: str
    runs: list[Run]
    baseline: str | None = None  # "this is a baseline" marker, for the table
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def spread(self) -> tuple[float, float]:
        s = [r.seconds for r in self.runs]
        return min(s), max(s)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs)

    @property
    def peak_tree(self) -> int:
        return max(r.peak_tree for r in self.runs)

    @property
    def peak_single(self) -> int:
        return max(r.peak_single for r in self.runs)

    @property
    def load(self) -> float:
        return max(r.load[0] for r in self.runs)

    def to_json(self) -> dict:
        return {
            "group": self.group,
            "name": self.name,
            "seconds_median": self.seconds,
            "seconds_all": [r.seconds for r in self.runs],
            "wall_all": [r.wall for r in self.runs],
            "cpu_median": self.cpu,
            "peak_tree_mb": self.peak_tree / 1e6,
            "peak_single_mb": self.peak_single / 1e6,
            "max_procs": max(r.procs for r in self.runs),
            "load1_max": self.load,
            "note": self.note,
            "extra": self.extra,
            "reports": [r.report for r in self.runs],
        }
