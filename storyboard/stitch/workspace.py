"""The stitcher's scratch folder: beside the output (or in the state folder's tmp/), never in
/tmp, and removed on every exit: an error, Ctrl-C, or SIGTERM (which the CLI turns into
KeyboardInterrupt). A folder left by a process that was killed outright (SIGKILL, a power
cut) is named after its process id and removed by the next stitch that finds it dead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

PREFIX = ".storyboard-stitch-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def remove_stale(folder: Path) -> None:
    """Remove scratch folders whose process is gone."""
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            if not entry.name.startswith(PREFIX) or not entry.is_dir():
                continue
            pid = entry.name[len(PREFIX) :].split("-", 1)[0]
            if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                shutil.rmtree(entry, ignore_errors=True)


@contextlib.contextmanager
def workspace(parent: Path) -> Iterator[Path]:
    """A new scratch folder in `parent`, removed when the block ends however it ends."""
    made = not parent.exists()
    parent.mkdir(parents=True, exist_ok=True)
    remove_stale(parent)
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        if made:  # a folder made for the scratch goes with it (unless another run uses it)
            with contextlib.suppress(OSError):
                parent.rmdir()
