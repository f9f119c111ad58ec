"""One render at a time per storyboard: an exclusive lock file in its state folder.

`.storyboard/lock` holds the owner's pid, host, command and start time, and the owner holds
an fcntl.flock on it for the render's life, so the kernel knows when the owner is gone. The
file is written and flocked under a temporary name, then linked into place (link fails if
the name exists): it never appears empty or unlocked.

A lock file whose flock is free was left by an owner that is certainly dead (a SIGKILL, a
power cut): when it names this host, the next render takes it over and says so. A held flock
(a live owner) or a lock from another host (whose flock this host cannot see, say over NFS)
is refused with a LockError naming the owner; `clear_lock` (`storyboard unlock`) removes
those by hand.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from storyboard.errors import LockError
from storyboard.store.layout import Layout


@dataclass(frozen=True)
class LockInfo:
    pid: int
    host: str
    command: str
    started: float  # epoch seconds

    @property
    def on_this_host(self) -> bool:
        import socket  # lazy: start-up (plan reads the state without taking its lock)

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
    return Layout(Path(state_dir)).lock


def read_lock(state_dir: Path) -> LockInfo | None:
    """Who holds the lock, or None when there is none. A lock being written right now (empty)
    is read again for a moment; one that stays unreadable is described as unknown."""
    path = lock_path(state_dir)
    Layout(Path(state_dir)).check_kinds()  # a FIFO as the lock would block the read for ever
    for _ in range(20):
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError:
            text = ""
        parsed = _parse(text.encode())
        if parsed is not None:
            return parsed
        time.sleep(0.025)
    return _unreadable(path)


def _parse(data: bytes) -> LockInfo | None:
    try:
        d = json.loads(data)
        return LockInfo(int(d["pid"]), str(d["host"]), str(d["command"]), float(d["started"]))
    except (ValueError, KeyError, TypeError):
        return None


def _unreadable(path: Path) -> LockInfo:
    try:
        when = path.stat().st_mtime
    except OSError:
        when = time.time()
    return LockInfo(0, "unknown", "unreadable lock file", when)


def _message(info: LockInfo, state_dir: Path, storyboard: Path | None, *, alive: bool) -> str:
    target = str(storyboard) if storyboard else "FILE"
    if alive:
        return (
            f"{state_dir} is locked by {info.describe()}, which is still running: wait for it to "
            f"finish (if it hangs, stop it with `kill {info.pid}`: it saves its tasks and unlocks)"
        )
    if info.host == "unknown":
        return (
            f"{state_dir} is locked by an {info.command}: if no render of it is running, "
            f"run `storyboard unlock --force {target}`"
        )
    return (
        f"{state_dir} is locked by {info.describe()}, on another host, which this one cannot "
        f"check: wait for it, or if it is gone run `storyboard unlock --force {target}`"
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


def acquire(
    state_dir: Path,
    command: str | None = None,
    *,
    storyboard: Path | None = None,
    on_takeover: Callable[[LockInfo], None] | None = None,
) -> Lock:
    """Take the storyboard's lock, or raise LockError naming the owner. A lock left on this
    host by a process that is gone is taken over; `on_takeover` hears whose it was."""
    state_dir = Path(state_dir)
    Layout(state_dir).check_kinds()
    state_dir.mkdir(parents=True, exist_ok=True)
    path = lock_path(state_dir)
    if command is None:
        command = " ".join(["storyboard", *sys.argv[1:2]]) if sys.argv else "storyboard"
    import socket  # lazy: start-up (only a render takes the lock)

    info = LockInfo(os.getpid(), socket.gethostname(), command, time.time())
    for _ in range(20):  # each round loses only to another render acting at the same moment
        lock = _create(path, info)
        if lock is not None:
            return lock
        taken = _take_over(path, info, state_dir, storyboard)
        if taken is not None:
            lock, gone = taken
            if on_takeover is not None:
                with contextlib.suppress(Exception):  # a display glitch must not cost the lock
                    on_takeover(gone)
            return lock
    raise LockError(f"{state_dir} is being locked and unlocked by other renders: try again")


def _create(path: Path, info: LockInfo) -> Lock | None:
    """A new lock file, or None when one exists."""
    fd, tmp = tempfile.mkstemp(prefix=".lock.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a fresh file: nobody else has it
        os.write(fd, json.dumps(info.__dict__).encode())
        os.fsync(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            os.close(fd)
            return None
    except BaseException:
        with contextlib.suppress(OSError):
            os.close(fd)
        raise
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return Lock(path, fd, info)


def _take_over(
    path: Path, info: LockInfo, state_dir: Path, storyboard: Path | None
) -> tuple[Lock, LockInfo] | None:
    """The existing lock file, flocked and rewritten as ours when its owner is certainly
    gone: (the lock, who held it). None to try again (it changed meanwhile); LockError when
    it is held, or is another host's or unreadable."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return None  # released meanwhile
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = read_lock(state_dir)
            if owner is None:
                os.close(fd)
                return None
            raise LockError(_message(owner, state_dir, storyboard, alive=True)) from None
        # the flock is ours; is the file still the lock (not unlinked by a releasing owner)?
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if not same:
            os.close(fd)
            return None
        owner = _parse(os.pread(fd, 4096, 0))
        if owner is None or not owner.on_this_host:
            shown = owner or _unreadable(path)
            raise LockError(_message(shown, state_dir, storyboard, alive=False))
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info.__dict__).encode(), 0)
        os.fsync(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.close(fd)
        raise
    return Lock(path, fd, info), owner


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

    Refuses (LockError) while the owner is alive, or on another host, unless `force`. Even
    with `force`, a lock whose holder still holds it on this host (its flock is taken: the
    render is running) is never removed: two renders would then write one state file.
    """
    state_dir = Path(state_dir)
    info = read_lock(state_dir)
    if info is None:
        return None
    path = lock_path(state_dir)
    if info.on_this_host and not _flock_free(path):
        raise LockError(
            f"{state_dir} is locked by {info.describe()}, which is running now: its lock is not "
            "removed, even with --force (two renders would write one state file)",
            hint=f"wait for it to finish, or stop it (kill {info.pid}): it saves its tasks and unlocks",
        )
    if not force:
        alive = not info.stale and not info.on_this_host
        if alive:
            where = "" if info.on_this_host else " (another host: this one cannot tell if it runs)"
            raise LockError(
                f"{state_dir} is locked by {info.describe()}, which is still running{where}",
                hint="wait for it to finish; to remove the lock anyway, unlock with --force",
            )
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    return info
