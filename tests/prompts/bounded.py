"""Run storyboard code in a child process with a memory ceiling, and measure what it took.

Template attacks are run here rather than in the test process: if a bound ever breaks, the
child hits its ceiling and dies, instead of taking gigabytes from the machine the tests
share. The child's peak RSS and CPU time come from wait4(), the kernel's own account.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

CEILING = 2 * 2**30  # address space: a broken bound fails fast instead of swapping
WATCHDOG = 60.0  # seconds of wall time before the child is killed (a hang, not slowness)


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str
    peak_mb: float
    cpu_seconds: float


def run(args: list[str], cwd: Path | None = None) -> Run:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (CEILING, CEILING))

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, *args],
            cwd=cwd,
            stdout=out,
            stderr=err,
            preexec_fn=limit,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        )
        timer = threading.Timer(WATCHDOG, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)  # reaps it: Popen must not wait again
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    return Run(
        proc.returncode,
        stdout,
        stderr,
        usage.ru_maxrss / 1024,  # KiB on Linux
        usage.ru_utime + usage.ru_stime,
    )


RENDER_ALL = """
import json, sys
from pathlib import Path
from storyboard.board import model
from storyboard.load import document
from storyboard.prompts.templating import check_all

out = []
for i, prompt in enumerate(json.loads(sys.stdin.read())):
    path = Path(sys.argv[1]) / f"t{i}.yaml"
    path.write_text("storyboard: 1\\nshots:\\n  - id: a\\n    prompt: " + json.dumps(prompt) + "\\n")
    sb = model.from_document(document.load(path))
    out.append([p.message for p in check_all(sb)])
print(json.dumps(out))
"""


def render_each(prompts: list[str], folder: Path) -> list[list[str]]:
    """The template problems of each prompt, rendered in one bounded child process."""
    proc = subprocess.run(
        [sys.executable, "-c", RENDER_ALL, str(folder)],
        input=json.dumps(prompts).encode(),
        capture_output=True,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (CEILING, CEILING)),
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    result: list[list[str]] = json.loads(proc.stdout)
    return result
