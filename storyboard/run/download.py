"""Fetch a generated clip and accept it only when it is whole: a verified download.

A clip link is fetched over http(s) (or, where the provider declares it, from a file:// link
on this machine: a renderer that runs here), streamed to a temp file beside the destination,
capped in size, then verified (storyboard.media.verify) before it takes the destination's name.

Redirects are followed here, hop by hop (at most five), so that what goes with each request is
decided for its own URL: `credentials(url)` (the provider's `download_credentials`) gives the
key only on the provider's own origin, so a redirect to a storage host goes there without it.
Without `credentials`, nothing but the link is sent.

A download that fails is fetched again (a few attempts); then DownloadError. A file that
comes back byte-identical twice while failing only the decode check is what the service
made: it is accepted rather than thrown away (it was paid for).
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit
from urllib.request import url2pathname

import httpx

from storyboard import env
from storyboard.atomic import commit, temp_path
from storyboard.board.model import CLIP_SECONDS
from storyboard.errors import Cancelled, DownloadError, VerifyError
from storyboard.hashing import file_sha256
from storyboard.media.verify import MAX_BYTES, verify_clip
from storyboard.retry import Backoff


def safe_url(url: str) -> str:
    """The URL without its query (signed links carry tokens), for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparseable URL)"
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


# fetching --------------------------------------------------------------------------------------
Credentials = Callable[[str], tuple[dict[str, str], dict[str, str]]]  # url -> (headers, params)
MAX_REDIRECTS = 5


class _TooSlow(DownloadError):
    """The download's deadline passed: asking again within it cannot help."""


def _no_credentials(url: str) -> tuple[dict[str, str], dict[str, str]]:
    return {}, {}


def _open(client: httpx.Client, url: str, credentials: Credentials) -> httpx.Response:
    """The response at the end of `url`'s redirects, streaming; each hop is sent what
    `credentials` gives for its own URL (the key never follows a redirect to another host)."""
    for _ in range(MAX_REDIRECTS + 1):
        headers, params = credentials(url)
        request = client.build_request("GET", url, headers=headers, params=params or None)
        response = client.send(request, stream=True, follow_redirects=False)
        location = response.headers.get("Location") if response.is_redirect else None
        if not location:
            return response
        response.close()
        url = urljoin(url, location)
        if urlsplit(url).scheme not in ("http", "https"):
            raise DownloadError(f"a redirect led to {safe_url(url)!r}: only http(s) links are fetched")
    raise DownloadError(f"more than {MAX_REDIRECTS} redirects from {safe_url(url)}")


def _stream(
    client: httpx.Client,
    url: str,
    tmp: Path,
    max_bytes: int,
    stop: threading.Event | None,
    deadline: float,
    credentials: Credentials = _no_credentials,
) -> None:
    # the read timeout bounds each wait for bytes; a host that trickles a byte a second never
    # trips it, so the whole download, retries included, has a deadline of its own
    response = _open(client, url, credentials)
    with contextlib.closing(response):
        if response.status_code >= 400:
            status = response.status_code
            raise DownloadError(f"HTTP {status} for {safe_url(url)}", status=status)
        length = response.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > max_bytes:
            too_big = f"{safe_url(url)} is {int(length)} bytes, over the {max_bytes} limit"
            raise DownloadError(too_big, fatal=True)
        got = 0
        with open(tmp, "wb") as f:
            for chunk in response.iter_bytes():  # as they come: a size would wait to fill it
                if stop is not None and stop.is_set():
                    raise Cancelled()
                got += len(chunk)
                if time.monotonic() > deadline:
                    raise _TooSlow(
                        f"{safe_url(url)} was too slow: {got} bytes when {env.download_timeout():.0f} s "
                        f"were up, and it was given up (set {env.DOWNLOAD_TIMEOUT} to wait longer)"
                    )
                if got > max_bytes:
                    too_big = f"{safe_url(url)} sent more than the {max_bytes} byte limit"
                    raise DownloadError(too_big, fatal=True)
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        if length and length.isdigit() and got != int(length):
            raise DownloadError(f"got {got} of {length} bytes from {safe_url(url)}")


def _copy(path: Path, tmp: Path, max_bytes: int, stop: threading.Event | None) -> None:
    """A file:// link: the same capped, synced copy as a download (a FIFO or a device is not
    a clip: only a regular file is read)."""
    try:
        st = path.stat()
    except OSError as e:
        raise DownloadError(f"{path} cannot be read: {e.strerror or e}", status=404) from None
    if not stat.S_ISREG(st.st_mode):
        raise DownloadError(f"{path} is not a file", fatal=True)
    if st.st_size > max_bytes:
        raise DownloadError(f"{path} is {st.st_size} bytes, over the {max_bytes} limit", fatal=True)
    with open(path, "rb") as src, open(tmp, "wb") as f:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            if stop is not None and stop.is_set():
                raise Cancelled()
            f.write(chunk)
        f.flush()
        os.fsync(f.fileno())


def fetch(
    url: str,
    dest: Path,
    *,
    expected_seconds: float = CLIP_SECONDS,
    max_bytes: int = MAX_BYTES,
    client: httpx.Client | None = None,
    attempts: int = 3,
    stop: threading.Event | None = None,
    credentials: Credentials | None = None,
    schemes: tuple[str, ...] = ("http", "https"),
) -> Path:
    """Download `url` to `dest`, verified; DownloadError after `attempts` failed tries.

    `schemes`: the link schemes the provider declares (Provider.clip_schemes); a file:// link
    names a file on this machine. `stop`, when set, abandons the download (Cancelled) and
    leaves nothing behind.
    `credentials(url)`: the headers and query parameters each request sends (see above).
    """
    parts = urlsplit(url) if isinstance(url, str) else None
    on_disk = parts is not None and parts.scheme == "file" and parts.netloc in ("", "localhost")
    remote = parts is not None and parts.scheme in ("http", "https") and bool(parts.netloc)
    if parts is None or parts.scheme not in schemes or not (on_disk or remote):
        shown = safe_url(url) if isinstance(url, str) else repr(url)
        allowed = " or ".join(f"{s}://" for s in schemes)
        raise DownloadError(f"refusing to download {shown!r}: only {allowed} links are fetched")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    own = client is None
    if client is None:
        # redirects are followed hop by hop (_open): what each hop is sent is decided there
        client = httpx.Client(timeout=httpx.Timeout(60.0, connect=20.0), follow_redirects=False)
    backoff = Backoff.from_env(cap=30.0)
    tmp = temp_path(dest, ".part")
    hashes: dict[str, int] = {}
    last: DownloadError | None = None
    deadline = time.monotonic() + env.download_timeout()
    try:
        tried = 0
        for attempt in range(max(1, attempts)):
            tried += 1
            if attempt:
                _sleep(backoff.delay(attempt - 1), stop)
            try:
                if on_disk:
                    assert parts is not None
                    _copy(Path(url2pathname(parts.path)), tmp, max_bytes, stop)
                else:
                    _stream(client, url, tmp, max_bytes, stop, deadline, credentials or _no_credentials)
                verify_clip(tmp, expected_seconds=expected_seconds, max_bytes=max_bytes)
            except VerifyError as e:
                last = DownloadError(f"{safe_url(url)}: {e.message}")
                if e.decode_only:
                    digest = file_sha256(tmp, remember=False)
                    hashes[digest] = hashes.get(digest, 0) + 1
                    if hashes[digest] >= 2:  # the same bytes twice: that is the clip
                        last = None
                        break
                continue
            except httpx.HTTPError as e:
                last = DownloadError(f"{safe_url(url)}: {type(e).__name__}: {e}".replace(url, safe_url(url)))
                continue
            except _TooSlow as e:
                last = e
                break  # its time is up: the next render asks again
            except DownloadError as e:
                if e.fatal:
                    raise
                status = e.status
                if status is not None and 400 <= status < 500 and status not in (408, 425, 429):
                    raise  # the link is gone or refused: asking again will not help
                last = e
                continue
            else:
                last = None
                break
        if last is not None:
            raise DownloadError(
                f"could not download a whole clip after {tried} attempt{'s' * (tried > 1)}: {last.message}"
            )
        return commit(tmp, dest)
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
