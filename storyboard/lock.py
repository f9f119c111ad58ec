"""One render at a time per storyboard: an exclusive lock file in its state folder.

`.storyboard/lock` is created with O_CREAT|O_EXCL (so two renders cannot both make it) and
held with fcntl.flock for the render's life (so the kernel knows when the owner is gone). It
holds the owner's pid, host, command and start time, for the message the next render shows.
A lock whose pid is dead on this host is stale: it is reported as such and `clear_lock`
(the `storyboard unlock` command) removes it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from storyboard.errors import LockError

LOCK_NAME = "lock"


@dataclass(frozen=True)
class LockInfo:
    pid: int
    host: str
    command: str
    started: float  # epoch seconds

    @property
    def on_this_host(self) -> bool:
        return self.host == socket.gethostname()

    @property
    def stale(self) -> bool:
        """The owner is certainly gone: its pid is dead on this host."""
        return self.on_this_host and not _pid_alive(self.pid)

    def describe(self) -> str:
        since = time.strftime("%H:%M", time.localtime(self.started))
        day = time.strftime("%Y-%m-%d", time.localtime(self.started))
        if day != time.strftime("%Y-%m-%d"):
            since = f"{day} {since}"
        return f"pid {self.pid} on host {self.host} since {since} ({self.command})"


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def lock_path(state_dir: Path) -> Path:
    return Path(state_dir) / LOCK_NAME


def read_lock(state_dir: Path) -> LockInfo | None:
    """Who holds the lock, or None when there is none. A lock being written right now (empty)
    is read again for a moment; one that stays unreadable is described as unknown."""
    path = lock_path(state_dir)
    for _ in range(20):
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError:
            text = ""
        try:
            d = json.loads(text)
            return LockInfo(int(d["pid"]), str(d["host"]), str(d["command"]), float(d["started"]))
        except (ValueError, KeyError, TypeError):
            time.sleep(0.025)
    st = path.stat() if path.exists() else None
    return LockInfo(0, "unknown", "unreadable lock file", st.st_mtime if st else time.time())


def _message(info: LockInfo, state_dir: Path, storyboard: Path | None) -> str:
    target = str(storyboard) if storyboard else "FILE"
    if info.stale:
        return (
            f"{state_dir} is locked by {info.describe()}, but that process is gone: "
            f"the lock looks stale. If no render of it is running, run "
            f"`storyboard unlock {target}`"
        )
    return (
        f"{state_dir} is locked by {info.describe()}: wait for it, or if it is gone run "
        f"`storyboard unlock {target}`"
    )


class Lock:
    """The held lock; release() (or leaving the `with` block) removes it."""

    def __init__(self, path: Path, fd: int, info: LockInfo) -> None:
        self.path = path
        self.info = info
        self._fd: int | None = fd
        self._pid = os.getpid()

    @property
    def held(self) -> bool:
        """Held by this process (a forked child does not inherit the right to write)."""
        return self._fd is not None and os.getpid() == self._pid

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            # Remove the file only if it is still ours (an `unlock --force` may have replaced it).
            with contextlib.suppress(OSError):
                if os.stat(self.path).st_ino == os.fstat(fd).st_ino:
                    os.unlink(self.path)
        finally:
            os.close(fd)  # drops the flock

    def __enter__(self) -> Lock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def acquire(state_dir: Path, command: str | None = None, *, storyboard: Path | None = None) -> Lock:
    """Take the storyboard's lock, or raise LockError naming the owner."""
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    path = lock_path(state_dir)
    if command is None:
        command = " ".join(["storyboard", *sys.argv[1:2]]) if sys.argv else "storyboard"
    info = LockInfo(os.getpid(), socket.gethostname(), command, time.time())
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        owner = read_lock(state_dir)
        if owner is None:  # released between our attempt and the read: try once more
            return acquire(state_dir, command, storyboard=storyboard)
        raise LockError(_message(owner, state_dir, storyboard)) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, json.dumps(info.__dict__).encode())
        os.fsync(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)
        raise
    return Lock(path, fd, info)


def _flock_free(path: Path) -> bool:
    """Nobody holds the flock on the lock file (the owner, if any, has exited)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(fd)  # also releases the probe's flock
    return True


def clear_lock(state_dir: Path, force: bool = False) -> LockInfo | None:
    """Remove a stale lock; the owner it named, or None when there was no lock.

    Refuses (LockError) while the owner is alive, or on another host, unless `force`.
    """
    state_dir = Path(state_dir)
    info = read_lock(state_dir)
    if info is None:
        return None
    path = lock_path(state_dir)
    if not force:
        alive = not info.stale and not (info.on_this_host and _flock_free(path))
        if alive:
            where = "" if info.on_this_host else " (another host: this one cannot tell if it runs)"
            raise LockError(
                f"{state_dir} is locked by {info.describe()}, which is still running{where}",
                hint="wait for it to finish; to remove the lock anyway, unlock with --force",
            )
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    return info
