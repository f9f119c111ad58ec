"""What a path is, in words, for messages: "a folder", "a named pipe (FIFO)", "a socket"...

A storyboard names files; anything else at that path (a folder, a FIFO that would block a
read for ever, a device) is refused by its name, so the fix is obvious. Looking is done with
lstat/stat only: nothing is opened.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def kind(path: Path | str) -> str | None:
    """None for a regular file (links followed) or nothing at all; else what stands there."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode):
        return None
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"  # pragma: no cover - doors, whiteouts: other systems


def not_a_file(path: Path | str) -> str | None:
    """ "this is a folder, not a file" and the like; None for a regular file or a missing one."""
    what = kind(path)
    return f"this is {what}, not a file" if what else None
