"""The environment variables that tune a render, read and checked in one place.

    STORYBOARD_POLL_INTERVAL  seconds between polls (default: the provider's own pace)
    STORYBOARD_POLL_FLOOR     the shortest wait between polls, in place of the provider's
                              documented rate limit (0 or more; for a service that allows
                              more, or a test's fake that has no limit)
    STORYBOARD_RETRY_BASE     seconds of the first backoff step (default 1)
    STORYBOARD_TASK_TIMEOUT   seconds a render waits for one task before leaving it to the
                              next render (default 1800)
    STORYBOARD_DOWNLOAD_TIMEOUT  seconds a clip's download may take, its retries included (default 600)

Each is a number of seconds greater than 0 (the floor may be 0); anything else is a ConfigError naming the
variable, rather than a silent fallback that would poll a paid service at the wrong pace.
"""

from __future__ import annotations

import ipaddress
import math
import os
from urllib.parse import urlsplit

from storyboard.errors import ConfigError

POLL_INTERVAL = "STORYBOARD_POLL_INTERVAL"
POLL_FLOOR = "STORYBOARD_POLL_FLOOR"
RETRY_BASE = "STORYBOARD_RETRY_BASE"
TASK_TIMEOUT = "STORYBOARD_TASK_TIMEOUT"
DOWNLOAD_TIMEOUT = "STORYBOARD_DOWNLOAD_TIMEOUT"

DEFAULT_RETRY_BASE = 1.0
DEFAULT_TASK_TIMEOUT = 30 * 60.0
DEFAULT_DOWNLOAD_TIMEOUT = 10 * 60.0  # a 50 MB clip at 100 kB/s: a host slower than that is stuck


def seconds(name: str, *, zero: bool = False) -> float | None:
    """The variable as seconds > 0 (or >= 0 with `zero`), or None when it is unset or blank."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
        least = "0 or more" if zero else "greater than 0"
        raise ConfigError(
            f"{name}={raw!r} is not a number of seconds {least}",
            hint=f"set {name} to a number such as 10 or 0.5, or unset it for the default",
        )
    return value


def poll_interval() -> float | None:
    return seconds(POLL_INTERVAL)


def poll_floor() -> float | None:
    return seconds(POLL_FLOOR, zero=True)


def retry_base() -> float:
    value = seconds(RETRY_BASE)
    return DEFAULT_RETRY_BASE if value is None else value


def task_timeout() -> float:
    value = seconds(TASK_TIMEOUT)
    return DEFAULT_TASK_TIMEOUT if value is None else value


def download_timeout() -> float:
    value = seconds(DOWNLOAD_TIMEOUT)
    return DEFAULT_DOWNLOAD_TIMEOUT if value is None else value


def is_loopback(url: str) -> bool:
    """Whether `url` points at this machine (plain http to it never crosses a network)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
