"""Verified downloads from a real HTTP server on 127.0.0.1: whole clips only."""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from storyboard.errors import DownloadError
from storyboard.media.verify import VerifyError, check_boxes, verify_clip
from storyboard.run.download import fetch
from tests.clips import make_clip, make_tone


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOARD_RETRY_BASE", "0.01")


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    d = tmp_path_factory.mktemp("media")
    good = make_clip(d / "good.mp4", seconds=8.0, fps=10).read_bytes()
    flipped = bytearray(good)
    mid = len(good) // 2
    for i in range(mid, mid + 3000):  # damage inside mdat: boxes and index still read fine
        flipped[i] ^= 0x55
    return {
        "good": good,
        "short": make_clip(d / "short.mp4", seconds=2.0, fps=10).read_bytes(),
        "audio": make_tone(d / "tone.m4a", seconds=8.0).read_bytes(),
        "flipped": bytes(flipped),
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        srv = self.server
        with srv.mutex:
            srv.hits[self.path] += 1
            n = srv.hits[self.path]
            srv.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        if self.path.startswith("/go/"):  # /go/<port>/<path>: a redirect to that port's <path>
            port, _, rest = self.path.removeprefix("/go/").partition("/")
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{port}/{rest}" if port != "here" else f"/{rest}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        name, _, rule = self.path.strip("/").partition("/")
        data = srv.media.get(name.removesuffix(".mp4"))
        if data is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        # rule "badN[-trunc]": the first N answers are garbage (or cut short); "bad": all are
        times, _, how = rule.removeprefix("bad").partition("-")
        bad = rule.startswith("bad") and n <= int(times or "99")
        if bad and how == "trunc":
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.close_connection = True
            return
        if bad:
            # never a box header by chance (random bytes read as one ~2% of the time, and then
            # the verifier says "cut short", not "not an MP4"): a new garbage each answer
            data = b"\xff" * 8 + os.urandom(len(data) - 8)
        if rule == "huge":
            self.send_response(200)
            self.send_header("Content-Length", str(10**12))
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, media: dict[str, bytes]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.media = media
        self.hits: Counter[str] = Counter()
        self.seen: list[tuple[str, dict[str, str]]] = []  # (path, headers) of every request
        self.mutex = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def _serve(media: dict[str, bytes]) -> Iterator[_Server]:
    srv = _Server(media)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def server(media: dict[str, bytes]) -> Iterator[_Server]:
    yield from _serve(media)


@pytest.fixture
def other(media: dict[str, bytes]) -> Iterator[_Server]:
    """A second host (another origin: its own port), as a storage host behind a redirect."""
    yield from _serve(media)


def test_the_key_goes_to_its_own_origin_and_never_across_a_redirect(
    server: _Server, other: _Server, tmp_path: Path
) -> None:
    from storyboard.providers.base import origin

    def credentials(url: str) -> tuple[dict[str, str], dict[str, str]]:
        own = origin(url) == origin(server.url)
        return ({"x-goog-api-key": "KEY-1234567890"}, {}) if own else ({}, {})

    # on its own host (a redirect within it keeps the key), then to another host (without it)
    port = other.server_address[1]
    dest = fetch(
        f"{server.url}/go/here/go/{port}/good.mp4/ok", tmp_path / "clip.mp4", credentials=credentials
    )
    assert dest.read_bytes() == server.media["good"]
    assert [(p, h.get("x-goog-api-key")) for p, h in server.seen] == [
        (f"/go/here/go/{port}/good.mp4/ok", "KEY-1234567890"),
        (f"/go/{port}/good.mp4/ok", "KEY-1234567890"),
    ]
    assert [(p, h.get("x-goog-api-key"), h.get("authorization")) for p, h in other.seen] == [
        ("/good.mp4/ok", None, None)
    ]
    # without credentials a download sends nothing but the link, wherever it leads
    fetch(f"{server.url}/go/{port}/good.mp4/ok", tmp_path / "again.mp4")
    assert all("x-goog-api-key" not in h for _, h in server.seen[2:] + other.seen[1:])


def test_redirects_are_followed_five_times_at_most(server: _Server, tmp_path: Path) -> None:
    url = f"{server.url}/" + "go/here/" * 6 + "good.mp4/ok"
    with pytest.raises(DownloadError, match="more than 5 redirects"):
        fetch(url, tmp_path / "clip.mp4", attempts=1)
    assert _only(tmp_path) == []


def _only(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_good_clip_is_fetched_and_verified(server: _Server, tmp_path: Path) -> None:
    dest = fetch(f"{server.url}/good.mp4/ok", tmp_path / "clip.mp4")
    assert dest.read_bytes() == server.media["good"]
    assert _only(tmp_path) == ["clip.mp4"]


def test_a_truncated_download_is_fetched_again(server: _Server, tmp_path: Path) -> None:
    url = f"{server.url}/good.mp4/bad2-trunc"
    dest = fetch(url, tmp_path / "clip.mp4", attempts=3)
    assert dest.read_bytes() == server.media["good"]
    assert server.hits["/good.mp4/bad2-trunc"] == 3
    assert _only(tmp_path) == ["clip.mp4"]


def test_a_corrupt_download_is_fetched_again(server: _Server, tmp_path: Path) -> None:
    dest = fetch(f"{server.url}/good.mp4/bad1", tmp_path / "clip.mp4")
    assert dest.read_bytes() == server.media["good"]
    assert server.hits["/good.mp4/bad1"] == 2


def test_always_corrupt_gives_up_with_a_download_error(server: _Server, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match=r"after 3 attempts: .*not an MP4"):
        fetch(f"{server.url}/good.mp4/bad", tmp_path / "clip.mp4", attempts=3)
    assert server.hits["/good.mp4/bad"] == 3
    assert _only(tmp_path) == []  # nothing half-kept


@pytest.mark.parametrize(
    ("name", "why"),
    [("short", r"lasts 2\.\d+ s, expected about 8\.0 s"), ("audio", "no video stream")],
)
def test_the_wrong_media_is_refused(server: _Server, tmp_path: Path, name: str, why: str) -> None:
    with pytest.raises(DownloadError, match=why):
        fetch(f"{server.url}/{name}.mp4/ok", tmp_path / "clip.mp4", attempts=2)
    assert _only(tmp_path) == []


def test_a_gone_link_is_not_asked_again(server: _Server, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="HTTP 404"):
        fetch(f"{server.url}/nothing.mp4", tmp_path / "clip.mp4", attempts=3)
    assert server.hits["/nothing.mp4"] == 1


def test_the_size_cap_is_kept(server: _Server, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="over the 1000000 limit"):
        fetch(f"{server.url}/good.mp4/huge", tmp_path / "clip.mp4", max_bytes=1_000_000)
    with pytest.raises(DownloadError, match="limit"):
        fetch(f"{server.url}/good.mp4/ok", tmp_path / "clip.mp4", max_bytes=10_000)
    assert _only(tmp_path) == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/clip.mp4", "clip.mp4", "http://"])
def test_only_http_links_are_fetched(tmp_path: Path, url: str) -> None:
    with pytest.raises(DownloadError, match="only http"):
        fetch(url, tmp_path / "clip.mp4")
    assert _only(tmp_path) == []


def test_a_file_link_is_copied_and_verified_only_where_the_provider_declares_it(
    media: dict[str, bytes], tmp_path: Path
) -> None:
    """A renderer on this machine (clip_schemes ("file",)) gives file:// links: the same capped,
    verified copy. From any other provider a file:// link is refused, and never a FIFO."""
    src = tmp_path / "made" / "clip.mp4"
    src.parent.mkdir()
    src.write_bytes(media["good"])
    dest = tmp_path / "cache" / "clip.mp4"
    with pytest.raises(DownloadError, match="only http"):
        fetch(src.as_uri(), dest)  # a hosted provider's schemes
    assert not dest.exists()
    fetch(src.as_uri(), dest, schemes=("file",))
    assert dest.read_bytes() == media["good"] and src.is_file()  # a copy: the source is the provider's
    short = tmp_path / "made" / "short.mp4"
    short.write_bytes(media["short"])
    with pytest.raises(DownloadError, match="8"):
        fetch(short.as_uri(), tmp_path / "cache" / "short.mp4", schemes=("file",))
    fifo = tmp_path / "made" / "fifo.mp4"
    os.mkfifo(fifo)
    with pytest.raises(DownloadError, match="not a file"):
        fetch(fifo.as_uri(), tmp_path / "cache" / "fifo.mp4", schemes=("file",))
    with pytest.raises(DownloadError, match="only file"):
        fetch("https://cdn.test/clip.mp4", tmp_path / "cache" / "x.mp4", schemes=("file",))
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["clip.mp4"]


def test_bytes_that_come_back_identical_are_what_the_service_made(server: _Server, tmp_path: Path) -> None:
    # decodes with errors, but the same bytes twice: not a transfer fault, so it is kept
    dest = fetch(f"{server.url}/flipped.mp4/ok", tmp_path / "clip.mp4", attempts=3)
    assert dest.read_bytes() == server.media["flipped"]
    assert server.hits["/flipped.mp4/ok"] == 2


def test_verify_clip_explains_each_fault(media: dict[str, bytes], tmp_path: Path) -> None:
    good = tmp_path / "good.mp4"
    good.write_bytes(media["good"])
    info = verify_clip(good)
    assert info.video is not None and info.video.codec == "h264"
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(media["good"][: len(media["good"]) * 2 // 3])
    with pytest.raises(VerifyError, match="cut short"):
        check_boxes(cut)
    flipped = tmp_path / "flipped.mp4"
    flipped.write_bytes(media["flipped"])
    with pytest.raises(VerifyError, match="does not decode") as err:
        verify_clip(flipped)
    assert err.value.decode_only
    tiny = tmp_path / "tiny.mp4"
    tiny.write_bytes(b"\x00" * 10)
    with pytest.raises(VerifyError, match="too small"):
        verify_clip(tiny)
