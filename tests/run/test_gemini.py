"""A film on Google's own Gemini API, against its strict loopback copy (tests/servers/gemini.py):
what is sent, what is paid, what is fetched with the key, and what a failed job costs.

- five shots (text, a first frame, first and last frames, two reference images, a 9:16 one):
  five accepted submissions, every clip fetched with the key and no Authorization header;
- an unchanged render sends nothing; `model: quality` on one shot sends exactly one request,
  to the quality model (the model is in the URL path: the fingerprint covers it);
- a dropped answer, then `adopt FILE SHOT <operation name>`: resumed, nothing sent again;
- a failed job is not resubmitted on its own (Google does not say it refunds one): the plan
  prices the --force that makes it again;
- the key is in no output and no file, in any encoding;
- a shot that continues another starts on the parent clip's last frame, sent inline (the
  server compares its pixels with the clip it handed out).
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from tests.clips import make_image
from tests.run.boards import use, write_board
from tests.servers import FakeProvider, start_server

FAST = "/v1beta/models/veo-3.1-fast-generate-preview:predictLongRunning"
QUALITY = "/v1beta/models/veo-3.1-generate-preview:predictLongRunning"
SHOTS: list[dict[str, Any]] = [
    {"id": "text", "prompt": "a harbour at dawn"},
    {"id": "first", "prompt": "the keeper looks out", "frames": {"first": "hero"}},
    {"id": "both", "prompt": "the sun climbs", "frames": {"first": "hero", "last": "sunrise"}},
    {"id": "refs", "prompt": "the keeper and the lamp", "references": ["hero", "lamp"]},
    {"id": "tall", "prompt": "the tower, top to bottom", "aspect_ratio": "9:16"},
]


@pytest.fixture(autouse=True)
def _fast(fast: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """tests/conftest.py's pace, and no Google key from this shell."""
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)


def film(folder: Path, shots: list[dict[str, Any]]) -> Path:
    for name, color in (("hero", "orange"), ("sunrise", "yellow"), ("lamp", "gray")):
        if not (folder / "images" / f"{name}.png").exists():
            make_image(folder / "images" / f"{name}.png", color=color)
    # each image has a placeholder link beside its file: gemini sends the file, never the link
    images = {
        n: {"file": f"images/{n}.png", "url": f"https://example.com/{n}.png"}
        for n in ("hero", "sunrise", "lamp")
    }
    return write_board(folder, "gemini", shots, images=images)


class Runs:
    """Every CLI run's output, to look for the key in afterwards."""

    def __init__(self) -> None:
        self.outputs: list[str] = []

    def __call__(self, *args: str) -> Any:
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        self.outputs.append(result.output)
        return result


def posts(srv: FakeProvider, since: int = 0) -> list[Any]:
    return [r for r in srv.requests[since:] if r.method == "POST"]


def encodings(key: str) -> list[str]:
    """The key as a service or a file might carry it."""
    return [
        key,
        urllib.parse.quote(key, safe=""),
        json.dumps(key)[1:-1],
        "".join(f"&#{ord(c)};" for c in key),
        key[4:16],
    ]


def test_a_film_on_gemini(clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "film"
    board = film(folder, [dict(s) for s in SHOTS])
    run = Runs()
    with start_server("gemini", clip=clip) as srv:
        use(monkeypatch, srv)
        planned = run("plan", str(board), "--json")
        assert planned.exit_code == 0, planned.output
        data = json.loads(planned.stdout)
        assert data["warnings"] == []  # no word about the placeholder links: none is sent
        assert data["cost"]["usd"] == 5 * 0.80  # fast 720p, 8 s at $0.10
        assert [urllib.parse.urlsplit(r["url"]).path for r in data["requests"]] == [FAST] * 5
        said = run("plan", str(board)).output  # where the dollars came from, and as of when
        where = "https://ai.google.dev/gemini-api/docs/pricing"
        assert f"Prices: dollars from Google's Gemini API pricing ({where}), 2026-04-09." in said, said

        made = run("render", str(board), "--yes", "--quiet")
        assert made.exit_code == 0, made.output
        assert (folder / "renders" / "board.mp4").is_file()
        assert len(srv.accepted) == 5 and len(posts(srv)) == 5
        sent = {a["body"]["instances"][0]["prompt"]: a["body"] for a in srv.accepted}
        assert "image" in sent["the keeper looks out"]["instances"][0]
        assert {"image", "lastFrame"} <= set(sent["the sun climbs"]["instances"][0])
        assert len(sent["the keeper and the lamp"]["instances"][0]["referenceImages"]) == 2
        assert sent["the tower, top to bottom"]["parameters"]["aspectRatio"] == "9:16"
        # every clip through Google's keyed link, then the storage host, which got no key
        links = [r for r in srv.requests if r.path.startswith("/v1beta/files/")]
        stored = [r for r in srv.requests if r.path.startswith("/files/")]
        assert len(links) == len(stored) == 5 and all(r.status == 302 for r in links)
        assert all(r.headers.get("x-goog-api-key") == "REDACTED" for r in links)
        assert all("x-goog-api-key" not in {k.lower() for k in r.headers} for r in stored)
        assert all("authorization" not in {k.lower() for k in r.headers} for r in srv.requests)

        asked = len(srv.requests)
        again = run("render", str(board), "--yes", "--quiet")
        assert again.exit_code == 0, again.output
        assert len(srv.requests) == asked  # unchanged: nothing sent, not even a poll

        # one shot moves to the quality model: the same body, another URL, another clip
        shots = [dict(s) for s in SHOTS]
        shots[4]["model"] = "quality"
        film(folder, shots)
        replanned = json.loads(run("plan", str(board), "--json").stdout)
        assert [urllib.parse.urlsplit(r["url"]).path for r in replanned["requests"]] == [QUALITY]
        assert replanned["cost"]["usd"] == 3.20
        before = len(srv.requests)
        moved = run("render", str(board), "--yes", "--quiet")
        assert moved.exit_code == 0, moved.output
        assert [r.path for r in posts(srv, before)] == [QUALITY]

        # a dropped answer: the shot is uncertain, and adopting the operation resumes it
        shots[0]["prompt"] = "a harbour at dusk"
        film(folder, shots)
        srv.fault("accept_drop", on="submit")
        lost = run("render", str(board), "--yes", "--quiet")
        assert lost.exit_code == 1 and "uncertain" in lost.output
        name = next(
            f"models/veo-3.1-fast-generate-preview/operations/{a['task_id']}" for a in srv.accepted[-1:]
        )
        paid = len(srv.accepted)
        adopted = run("adopt", str(board), "text", name)
        assert adopted.exit_code == 0, adopted.output
        assert f"adopted task {name} for shot 'text'" in adopted.output
        resumed = run("render", str(board), "--yes", "--quiet")
        assert resumed.exit_code == 0, resumed.output
        assert len(srv.accepted) == paid == 7
        key = srv.api_key

    for out in run.outputs:
        for form in encodings(key):
            assert form not in out
    for path in folder.rglob("*"):
        if path.is_file():
            data_bytes = path.read_bytes()
            for form in encodings(key):
                assert form.encode() not in data_bytes, path


def test_a_failed_job_is_not_paid_for_twice_on_its_own(
    clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "film"
    board = film(folder, [dict(s) for s in SHOTS[:2]] + [{"id": "bad", "prompt": "a FORBIDDEN sight"}])
    run = Runs()
    with start_server("gemini", clip=clip) as srv:
        use(monkeypatch, srv)
        srv.fault("fail_job", reason="Video generation failed due to an internal error.")
        first = run("render", str(board), "--yes", "--quiet", "--concurrency", "1")
        assert first.exit_code == 1
        assert "error 13: Video generation failed due to an internal error." in first.output
        assert "blocked by Google's safety filters" in first.output
        assert "gemini may charge for failed jobs, so it was not sent again" in first.output
        assert len(srv.accepted) == 3  # one job failed, one was filtered: neither sent again
        assert sorted(srv.paid_for().values()) == [1, 1, 1]

        # the next render sends nothing for them; the plan says so, and prices the --force
        shown = run("plan", str(board))
        failed = [ln for ln in shown.output.splitlines() if ln.strip().startswith("x ")]
        assert len(failed) == 2 and all("failed; --force: $0.80" in ln for ln in failed), shown.output
        assert "--force" in failed[0] and "gemini may charge for failed jobs" in failed[0]
        asked = len(srv.accepted)
        again = run("render", str(board), "--yes", "--quiet")
        assert again.exit_code == 1 and len(srv.accepted) == asked
        status = json.loads(run("status", str(board), "--json").stdout)
        assert sorted(s["state"] for s in status["shots"]) == ["failed", "failed", "made"]

        which = next(s["id"] for s in status["shots"] if s["state"] == "failed" and s["id"] != "bad")
        priced = json.loads(run("plan", str(board), "--json", "--force", which).stdout)
        assert priced["cost"]["usd"] == 0.80 and len(priced["requests"]) == 1
        forced = run("render", str(board), "--yes", "--quiet", "--force", which)
        assert forced.exit_code == 1  # `bad` is still failed, and says how to make it again
        assert len(srv.accepted) == asked + 1


def two_colours(path: Path, first: str, last: str) -> Path:
    """An 8 s clip that is `first` for 4 s, then `last`: its last frame is not its first."""
    from storyboard.media.ffmpeg import run as ffmpeg

    path.parent.mkdir(parents=True, exist_ok=True)
    colours = [f"color=c={c}:s=64x36:r=10:d=4" for c in (first, last)]
    args = ["-y", "-f", "lavfi", "-i", colours[0], "-f", "lavfi", "-i", colours[1]]
    args += ["-f", "lavfi", "-i", "sine=f=440:sample_rate=48000:d=8"]
    args += ["-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0[v]", "-map", "[v]", "-map", "2:a"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-t", "8"]
    ffmpeg(
        [*args, str(path)],
        what="two_colours",
    )
    return path


def test_a_shot_continuing_another_starts_on_its_last_frame_sent_inline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`continues` on gemini: the parent is made first; its clip's last frame (blue, not its
    red first) is the child's `image`, inline; the loopback server compares the pixels with
    the clip it handed out. Two submissions, and an unchanged render sends none."""
    clips = {
        "a harbour at dawn": two_colours(tmp_path / "clips" / "a.mp4", "red", "blue"),
        "the boat leaves": two_colours(tmp_path / "clips" / "b.mp4", "lime", "yellow"),
    }
    folder = tmp_path / "film"
    shots = [
        {"id": "a", "prompt": "a harbour at dawn"},
        {"id": "b", "prompt": "the boat leaves", "continues": "a"},
    ]
    board = write_board(folder, "gemini", shots)
    run = Runs()
    with start_server("gemini") as srv:
        srv.clip_for = lambda task_id: clips[srv.tasks[task_id].body["prompt"]]
        use(monkeypatch, srv)
        planned = run("plan", str(board), "--json")
        assert planned.exit_code == 0, planned.output
        data = json.loads(planned.stdout)
        child = data["requests"][1]
        assert child["body"]["instances"][0]["image"] == {
            "bytesBase64Encoded": "<last frame of a>",
            "mimeType": "image/png",
        }
        assert child["needs"] == [
            {"kind": "last_frame_inline", "source": "a", "placeholder": "<last frame of a>"}
        ]
        made = run("render", str(board), "--yes", "--quiet")
        assert made.exit_code == 0, made.output
        assert [urllib.parse.urlsplit(p.path).path for p in posts(srv)] == [FAST, FAST]
        first, second = srv.accepted
        assert first["body"]["instances"][0]["prompt"] == "a harbour at dawn"
        parent = srv.tasks[first["task_id"]]
        assert parent.info["last_frame_of"] is None  # a text shot: no image
        assert srv.tasks[second["task_id"]].info["last_frame_of"] == first["task_id"]
        before = len(srv.requests)
        again = run("render", str(board), "--yes", "--quiet")
        assert again.exit_code == 0, again.output
        assert posts(srv, before) == []
