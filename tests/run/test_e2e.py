"""End to end, as a user runs it: `storyboard render` of the 21-shot example against a loopback
server, through a mix of faults, and through a SIGKILL; the film must hold the downloaded clips
in storyboard order, and every shot must be paid for once.

One render per kind of fault, each on one provider: what a fault does to a shot is the
executor's, the same for every service; how each service's protocol meets each fault is tested
provider by provider (tests/providers, tests/servers), and under random faults of every kind on
all four (tests/run/test_money.py)."""

from __future__ import annotations

import colorsys
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from storyboard.media.ffmpeg import probe, run
from tests.clips import make_clip
from tests.run.boards import cli_env
from tests.servers import start_server

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "long-21"
KEY = "sk-e2e-known-key-0123456789abcdef"
FAULTS_ON = "aivideoapi"  # the README's hosted example
KILLED_ON = "nanophoto"  # its status call covers every task at once (kie's kills: test_money)


def colour(i: int) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(i / 21, 0.9, 0.9)
    return round(r * 255), round(g * 255), round(b * 255)


@pytest.fixture(scope="module")
def shot_clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """21 distinct clips, one colour each, shaped like Veo's (8 s, H.264 + AAC), but tiny."""
    folder = tmp_path_factory.mktemp("clips")
    return [
        make_clip(
            folder / f"{i:02d}.mp4", seconds=8, size=(64, 36), color="0x{:02x}{:02x}{:02x}".format(*colour(i))
        )
        for i in range(21)
    ]


def shot_prompts() -> list[str]:
    """The rendered prompt of each shot, in order, as plan sends them."""
    from storyboard import pipeline

    sb = pipeline.load(EXAMPLE / "long-21.yaml")
    return [sp.compiled.prompt for sp in pipeline.make_plan(sb, "kie").shots]


def prompt_of(task: Any) -> str:
    body = task.body
    return body.get("prompt") or body.get("input", {}).get("prompt", "")


def serve_in_order(srv: Any, clips: list[Path]) -> None:
    """Each task's download is the clip of the shot whose prompt it was asked for."""
    prompts = shot_prompts()

    def clip_for(task_id: str) -> Path:
        return clips[prompts.index(prompt_of(srv.tasks[task_id]))]

    srv.clip_for = clip_for


def workdir(tmp_path: Path) -> Path:
    """A copy of the example whose image URLs name a test host (RFC 2606's `.test`) in place
    of its example.com placeholders, which a render that pays refuses on any host: the fakes
    fetch nothing, and production code makes no exception for them."""
    folder = tmp_path / "long-21"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns(".storyboard", "renders"))
    board = folder / "long-21.yaml"
    board.write_text(
        board.read_text("utf-8").replace("https://example.com/", "https://images.test/"), "utf-8"
    )
    return folder


def render(folder: Path, srv: Any, *extra: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "storyboard",
            "render",
            str(folder / "long-21.yaml"),
            "-p",
            srv.name,
            "--yes",
            "--quiet",
            "--concurrency",
            "8",
            *extra,
        ],
        capture_output=True,
        text=True,
        env=cli_env(srv),
        timeout=timeout,
        cwd=folder,
    )


def pixel(film: Path, t: float) -> tuple[int, int, int]:
    """The colour in the middle of the frame at time t."""
    out = film.with_suffix(f".{t:.2f}.rgb")
    run(
        [
            "-y",
            "-ss",
            f"{t:.3f}",
            "-i",
            str(film),
            "-frames:v",
            "1",
            "-vf",
            "crop=8:8,scale=1:1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            str(out),
        ]
    )
    r, g, b = out.read_bytes()[:3]
    return r, g, b


def assert_film_in_order(folder: Path) -> None:
    film = folder / "renders" / "harbour.mp4"
    info = probe(film)
    assert abs(info.duration - 168.0) < 0.05
    assert info.video and info.video.codec == "h264" and info.video.pix_fmt == "yuv420p"
    assert info.audio and info.audio.codec == "aac" and info.audio.sample_rate == 48000
    for i in range(21):
        got = pixel(film, i * 8 + 4.0)  # the middle of shot i: past every fade
        want = colour(i)
        assert max(abs(a - b) for a, b in zip(got, want, strict=True)) < 40, (i, got, want)
    assert (folder / "renders" / "harbour.srt").read_text().count("-->") == 3  # three captions


def adopt_from_dashboard(srv: Any, folder: Path, lines: list[str]) -> None:
    """What the message says to do for each uncertain shot: look it up on the service's
    dashboard (its tasks, by prompt); adopt its task if it is there and alive, force it if it
    failed there (refunded) or never arrived."""
    from storyboard import pipeline

    board = str(folder / "long-21.yaml")
    sb = pipeline.load(folder / "long-21.yaml")
    prompt_of_shot = {sp.id: sp.compiled.prompt for sp in pipeline.make_plan(sb, srv.name).shots}
    for line in lines:
        shot = line.split("'")[1]
        with srv.lock:
            mine = [
                t for t in srv.tasks.values() if t.shot_id == shot or prompt_of(t) == prompt_of_shot[shot]
            ]
        live = [t for t in mine if t.state() != "failed"]
        if live:
            args = ["adopt", board, shot, live[0].task_id, "-p", srv.name]
        else:
            args = ["render", board, "-p", srv.name, "--yes", "--quiet", "--force", shot]
        done = subprocess.run(
            [sys.executable, "-m", "storyboard", *args],
            capture_output=True,
            text=True,
            env=cli_env(srv),
            cwd=folder,
            timeout=120,
        )
        assert done.returncode in (0, 1), done.stderr
        if live:
            assert f"adopted task {live[0].task_id} for shot {shot!r}" in done.stdout


def completed_by_shot(srv: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for t in srv.tasks.values():
        if t.state() == "completed":
            counts[prompt_of(t)] = counts.get(prompt_of(t), 0) + 1
    return counts


def test_render_21_shots_through_faults(tmp_path: Path, shot_clips: list[Path]) -> None:
    provider = FAULTS_ON
    folder = workdir(tmp_path)
    with start_server(provider, api_key=KEY, job_seconds=0.2) as srv:
        serve_in_order(srv, shot_clips)
        srv.fault("429", on="submit", retry_after=0.05)
        srv.fault("500", on="submit")
        srv.fault("429", on="submit", retry_after=0.05)
        srv.fault("accept_drop", on="submit")  # taken and charged, and the answer lost
        srv.fault("drop", on="poll")
        srv.fault("500", on="poll")
        srv.fault("fail_job", reason="upstream hiccup")
        srv.fault("truncate", on="download")
        srv.fault("corrupt", on="download")
        proc = render(folder, srv)
        assert "Traceback" not in proc.stderr
        # the lost answer: its shots are named uncertain with their two ways on, never resent
        assert proc.returncode == 1, proc.stderr + proc.stdout
        lost = [ln for ln in proc.stderr.splitlines() if " uncertain: " in ln]
        assert lost and all("storyboard adopt" in ln and "--force" in ln for ln in lost)
        assert "Run render again" not in proc.stderr
        adopt_from_dashboard(srv, folder, lost)
        proc = render(folder, srv)
        assert proc.returncode == 0, proc.stderr + proc.stdout
        # one failed job, resubmitted once; every other shot submitted exactly once
        prompts = shot_prompts()
        done = completed_by_shot(srv)
        assert sorted(done) == sorted(prompts) and set(done.values()) == {1}
        submitted = len(srv.accepted)
        assert submitted == 22, submitted
        assert_film_in_order(folder)
        for path in [*folder.rglob("*")]:
            if path.is_file() and path.suffix in (".json", ".srt", ".yaml", ".lock", ""):
                assert KEY not in path.read_text(errors="replace")
        assert KEY not in proc.stdout + proc.stderr

        # a second render pays for nothing and re-cuts the same film
        before = len(srv.accepted)
        again = render(folder, srv)
        assert again.returncode == 0, again.stderr
        assert len(srv.accepted) == before


def test_sigkill_midway_then_resume_without_paying_twice(tmp_path: Path, shot_clips: list[Path]) -> None:
    provider = KILLED_ON
    folder = workdir(tmp_path)
    state = folder / ".storyboard" / "state.json"
    with start_server(provider, api_key=KEY, job_seconds=30) as srv:
        serve_in_order(srv, shot_clips)
        env = cli_env(srv)
        cmd = [
            sys.executable,
            "-m",
            "storyboard",
            "render",
            str(folder / "long-21.yaml"),
            "-p",
            provider,
            "--yes",
            "--quiet",
            "--concurrency",
            "8",
        ]
        child = subprocess.Popen(cmd, env=env, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # wait until every task id is on disk
                try:
                    tasks = json.loads(state.read_text())["tasks"].values()
                    if sum(1 for r in tasks if r["status"] == "submitted") == 21:
                        break
                except (FileNotFoundError, json.JSONDecodeError, KeyError):
                    pass
                time.sleep(0.05)
            else:
                pytest.fail("the render never saved its 21 task ids")
        finally:  # however the test goes, the child does not outlive it
            os.kill(child.pid, signal.SIGKILL)
            child.communicate()
        assert len(srv.accepted) == 21

        srv.finish()  # the service finishes the jobs while we were away
        proc = render(folder, srv)
        assert proc.returncode == 0, proc.stderr
        assert len(srv.accepted) == 21  # resumed by polling: nothing submitted again
        assert_film_in_order(folder)
