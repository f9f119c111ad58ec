"""Files that are whole or absent: every write the tool makes goes through here.

A file is written to a temp file in its own folder, flushed and fsynced, renamed over its
name, and the folder is fsynced so the rename itself survives a power cut. A crash at any
moment leaves the old file or the new one, never a half-written one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on a folder: the rename is as durable as they allow
    finally:
        os.close(fd)


def temp_path(dest: Path, suffix: str = ".tmp") -> Path:
    """A new empty file beside `dest` (same filesystem, so it can be renamed onto it)."""
    dest = Path(dest)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=suffix, dir=dest.parent)
    os.close(fd)
    return Path(name)


def share(path: Path) -> None:
    """Give a file the mode an ordinary new file gets (the umask's): mkstemp makes temp files
    only their owner can read, which suits the state but not a film, a timeline or a page."""
    umask = os.umask(0)
    os.umask(umask)
    Path(path).chmod(0o666 & ~umask)


def commit(tmp: Path, dest: Path, *, shared: bool = False) -> Path:
    """Move a finished temp file onto `dest` durably: fsync it, rename, fsync the folder.
    `shared`: with an ordinary file's mode, for what users open and send on."""
    if shared:
        share(tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, dest)
    fsync_dir(Path(dest).parent)
    return Path(dest)


@contextlib.contextmanager
def replacing(dest: Path, suffix: str = ".tmp", *, shared: bool = False) -> Iterator[Path]:
    """Yield a temp path beside `dest`; when the block ends normally it becomes `dest`
    (durably), and on any exception it is removed and `dest` is untouched."""
    tmp = temp_path(dest, suffix)
    try:
        yield tmp
        commit(tmp, dest, shared=shared)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def write_atomic(path: Path, data: str | bytes, *, shared: bool = False) -> None:
    """Replace `path` with `data` so that a crash at any moment leaves the old or the new file.
    `shared`: an ordinary file's mode (the umask's), not the temp file's owner-only one."""
    path = Path(path)
    with replacing(path, shared=shared) as tmp, open(tmp, "wb") as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)


def second_name(src: Path, dest: Path) -> bool:
    """Give the file `src` the name `dest` too, whole or not at all: a hard link (no byte
    copied) where the filesystem has them, else a copy, renamed over `dest` durably. False
    when there is no `src`."""
    src, dest = Path(src), Path(dest)
    if not src.is_file():
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(dest, ".link")
    try:
        tmp.unlink()
        try:
            os.link(src, tmp)
        except OSError:  # no hard links here (or across folders): the bytes themselves
            shutil.copyfile(src, tmp)
        commit(tmp, dest)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return True
