"""Fetch a generated clip and accept it only when it is whole: a verified download.

A clip link is fetched over http(s) only, streamed to a temp file beside the destination,
capped in size, then verified before it takes the destination's name:

- the MP4's top-level boxes tile the file exactly (a cut-short file fails here even when its
  index at the front still reads fine), with ftyp, moov and mdat present;
- ffmpeg reads it, with an H.264 video stream, and it lasts about the expected time;
- it decodes without errors (a corrupted transfer fails here).

A download that fails is fetched again (a few attempts); then DownloadError. A file that
comes back byte-identical twice while failing only the decode check is what the service
made: it is accepted rather than thrown away (it was paid for).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import struct
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from storyboard import env
from storyboard.errors import DownloadError, StitchError
from storyboard.model import CLIP_SECONDS
from storyboard.stitch.ffmpeg import MediaInfo, ffmpeg_exe, probe

MAX_BYTES = 500 * 1024 * 1024  # a 4k 8 s clip is ~50-100 MB
MIN_BYTES = 1024
TOLERANCE = 1.5  # seconds a clip may differ from the expected length
CHUNK = 1 << 16


class Cancelled(Exception):
    """The download was stopped from outside (Ctrl-C); nothing was kept."""


class VerifyError(DownloadError):
    """The file is not a whole, readable clip."""

    decode_only = False  # structure and probe were fine; only decoding complained


def safe_url(url: str) -> str:
    """The URL without its query (signed links carry tokens), for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparseable URL)"
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


# verification ----------------------------------------------------------------------------------
def check_boxes(path: Path) -> None:
    """The MP4's top-level boxes must tile the file exactly and include ftyp, moov, mdat."""
    size = path.stat().st_size
    seen: list[bytes] = []
    with open(path, "rb") as f:
        pos = 0
        while pos < size:
            f.seek(pos)
            head = f.read(8)
            if len(head) < 8:
                raise VerifyError(f"cut short inside a box header at byte {pos} of {size}")
            box_size, kind = struct.unpack(">I4s", head)
            if box_size == 1:
                large = f.read(8)
                if len(large) < 8:
                    raise VerifyError(f"cut short inside a box header at byte {pos} of {size}")
                box_size = struct.unpack(">Q", large)[0]
            elif box_size == 0:  # the last box runs to the end of the file
                box_size = size - pos
            if box_size < 8 or not all(32 <= c < 127 for c in kind):
                raise VerifyError(f"not an MP4 file (bad box at byte {pos})")
            if pos + box_size > size:
                name = kind.decode("ascii")
                raise VerifyError(
                    f"cut short: its {name!r} box needs {pos + box_size} bytes, the file has {size}"
                )
            seen.append(kind)
            pos += box_size
    if not seen or seen[0] not in (b"ftyp", b"styp"):
        raise VerifyError("not an MP4 file (no ftyp box at the start)")
    for need in (b"moov", b"mdat"):
        if need not in seen:
            raise VerifyError(f"not a whole MP4 file (no {need.decode()} box)")


def _decode_errors(path: Path) -> str:
    """ffmpeg's complaints when decoding the clip ('' when it decodes cleanly)."""
    proc = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
        errors="replace",
    )
    text = proc.stderr.strip()
    if proc.returncode != 0 and not text:
        text = f"ffmpeg exit {proc.returncode}"
    return text


def verify_clip(
    path: Path,
    *,
    expected_seconds: float = CLIP_SECONDS,
    tolerance: float = TOLERANCE,
    min_bytes: int = MIN_BYTES,
    max_bytes: int = MAX_BYTES,
    decode: bool = True,
) -> MediaInfo:
    """What the clip holds, or VerifyError saying why it is not a whole H.264 MP4 clip of
    about `expected_seconds`."""
    path = Path(path)
    size = path.stat().st_size
    if size < min_bytes:
        raise VerifyError(f"only {size} bytes: too small to be a clip")
    if size > max_bytes:
        raise VerifyError(f"{size} bytes: larger than the {max_bytes} byte limit")
    check_boxes(path)
    try:
        info = probe(path)
    except StitchError as e:
        raise VerifyError(f"unreadable ({e.message})") from None
    if info.video is None:
        raise VerifyError("it holds no video stream")
    if info.video.codec != "h264":
        raise VerifyError(f"its video is {info.video.codec}, not H.264")
    if abs(info.duration - expected_seconds) > tolerance:
        raise VerifyError(f"it lasts {info.duration:.2f} s, expected about {expected_seconds:.1f} s")
    if decode:
        complaints = _decode_errors(path)
        if complaints:
            lines = [ln for ln in complaints.splitlines() if "Last message repeated" not in ln]
            err = VerifyError("it does not decode: " + (lines or ["?"])[0].strip()[:200])
            err.decode_only = True
            raise err
    return info


# fetching --------------------------------------------------------------------------------------
def _stream(client: httpx.Client, url: str, tmp: Path, max_bytes: int, stop: threading.Event | None) -> None:
    with client.stream("GET", url) as response:
        if response.status_code >= 400:
            err = DownloadError(f"HTTP {response.status_code} for {safe_url(url)}")
            err.status = response.status_code  # type: ignore[attr-defined]
            raise err
        length = response.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > max_bytes:
            err = DownloadError(f"{safe_url(url)} is {int(length)} bytes, over the {max_bytes} limit")
            err.fatal = True  # type: ignore[attr-defined]
            raise err
        got = 0
        with open(tmp, "wb") as f:
            for chunk in response.iter_bytes(CHUNK):
                if stop is not None and stop.is_set():
                    raise Cancelled()
                got += len(chunk)
                if got > max_bytes:
                    err = DownloadError(f"{safe_url(url)} sent more than the {max_bytes} byte limit")
                    err.fatal = True  # type: ignore[attr-defined]
                    raise err
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        if length and length.isdigit() and got != int(length):
            raise DownloadError(f"got {got} of {length} bytes from {safe_url(url)}")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(
    url: str,
    dest: Path,
    *,
    expected_seconds: float = CLIP_SECONDS,
    max_bytes: int = MAX_BYTES,
    client: httpx.Client | None = None,
    attempts: int = 3,
    stop: threading.Event | None = None,
) -> Path:
    """Download `url` to `dest`, verified; DownloadError after `attempts` failed tries.

    `stop`, when set, abandons the download (Cancelled) and leaves nothing behind.
    """
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        shown = safe_url(url) if isinstance(url, str) else repr(url)
        raise DownloadError(f"refusing to download {shown!r}: only http(s) links are fetched")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    own = client is None
    if client is None:
        # No Authorization header: clip links are public, and the key must not travel to a CDN.
        client = httpx.Client(
            timeout=httpx.Timeout(60.0, connect=20.0), follow_redirects=True, max_redirects=5
        )
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    tmp = Path(name)
    hashes: dict[str, int] = {}
    last: DownloadError | None = None
    try:
        for attempt in range(max(1, attempts)):
            if attempt:
                delay = min(30.0, env.retry_base() * 2 ** (attempt - 1))
                _sleep(random.uniform(delay / 2, delay) if delay else 0.0, stop)
            try:
                _stream(client, url, tmp, max_bytes, stop)
                verify_clip(tmp, expected_seconds=expected_seconds, max_bytes=max_bytes)
            except VerifyError as e:
                last = DownloadError(f"{safe_url(url)}: {e.message}")
                if e.decode_only:
                    digest = _sha256(tmp)
                    hashes[digest] = hashes.get(digest, 0) + 1
                    if hashes[digest] >= 2:  # the same bytes twice: that is the clip
                        last = None
                        break
                continue
            except httpx.HTTPError as e:
                last = DownloadError(f"{safe_url(url)}: {type(e).__name__}: {e}".replace(url, safe_url(url)))
                continue
            except DownloadError as e:
                if getattr(e, "fatal", False):
                    raise
                status = getattr(e, "status", None)
                if status is not None and 400 <= status < 500 and status not in (408, 425, 429):
                    raise  # the link is gone or refused: asking again will not help
                last = e
                continue
            else:
                last = None
                break
        if last is not None:
            raise DownloadError(
                f"could not download a whole clip after {max(1, attempts)} attempts: {last.message}"
            )
        os.replace(tmp, dest)
        return dest
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if own:
            client.close()


def _sleep(seconds: float, stop: threading.Event | None) -> None:
    if stop is None:
        time.sleep(seconds)
    elif stop.wait(seconds):
        raise Cancelled()
