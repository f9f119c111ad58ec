"""Generated clips, kept by fingerprint: `.storyboard/clips/<fingerprint>.mp4`.

A clip enters the cache only whole and verified, by an atomic rename of a temp file made in
the same folder, so a crash never leaves a half clip under a fingerprint's name. What was
accepted (size, SHA-256, where it came from) is recorded in the state, and checked before
the clip is used again: a clip damaged since is fetched again, never trusted.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from storyboard.atomic import commit, second_name, temp_path
from storyboard.board.model import CLIP_SECONDS
from storyboard.hashing import file_sha256
from storyboard.store.layout import Layout
from storyboard.store.state import ClipRecord

if TYPE_CHECKING:
    from storyboard.store.state import ClipRecord

_FP = re.compile(r"^[0-9a-f]{16,128}$")


class Integrity(str, Enum):
    INTACT = "intact"  # there, and as accepted (or accepted before sizes were recorded)
    DAMAGED = "damaged"  # there, but not the bytes that were accepted
    ABSENT = "absent"


class Cache:
    def __init__(self, state_dir: Path) -> None:
        self.dir = Layout(Path(state_dir)).clips

    def path(self, fingerprint: str) -> Path:
        if not _FP.match(fingerprint):  # it names a file: never let it be a path
            raise ValueError(f"not a fingerprint: {fingerprint!r}")
        return self.dir / f"{fingerprint}.mp4"

    def has(self, fingerprint: str) -> bool:
        p = self.path(fingerprint)
        try:
            return p.is_file() and p.stat().st_size > 0
        except OSError:
            return False

    def integrity(self, fingerprint: str, record: ClipRecord | None, *, deep: bool = False) -> Integrity:
        """Is the cached clip the one accepted? Its size always; with `deep`, its hash too."""
        p = self.path(fingerprint)
        try:
            st = p.stat()
        except OSError:
            return Integrity.ABSENT
        if not p.is_file() or st.st_size == 0:
            return Integrity.DAMAGED if p.exists() else Integrity.ABSENT
        if record is None:
            return Integrity.INTACT  # accepted before sizes were recorded
        if st.st_size != record.size:
            return Integrity.DAMAGED
        if deep:
            try:
                if file_sha256(p, remember=False) != record.sha256:
                    return Integrity.DAMAGED
            except OSError:
                return Integrity.DAMAGED
        return Integrity.INTACT

    def temp(self, fingerprint: str, suffix: str = ".part.mp4") -> Path:
        """A fresh temp file beside the cached clips (same filesystem, so put() renames)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        return temp_path(self.dir / fingerprint[:16], suffix)

    def put(
        self,
        fingerprint: str,
        tmpfile: Path,
        *,
        verify: bool = True,
        expected_seconds: float = CLIP_SECONDS,
    ) -> Path:
        """Move a finished clip into the cache under its fingerprint; return its path.

        With `verify` (the default) the clip is checked first (storyboard.media.verify.verify_clip);
        pass verify=False only for a file that was just verified.
        """
        dest = self.path(fingerprint)
        tmpfile = Path(tmpfile)
        if verify:
            from storyboard.media.verify import verify_clip  # lazy: start-up (it loads subprocess)

            verify_clip(tmpfile, expected_seconds=expected_seconds)
        self.dir.mkdir(parents=True, exist_ok=True)
        if tmpfile.parent.resolve() != self.dir.resolve():
            # another filesystem may not rename atomically: copy beside the clips first
            staged = self.temp(fingerprint)
            shutil.copyfile(tmpfile, staged)
            tmpfile.unlink()
            tmpfile = staged
        return commit(tmpfile, dest)

    def link(self, old: str, new: str) -> bool:
        """The clip cached under fingerprint `old` is under `new` as well (a second name, made
        atomically); False when there is none under `old`."""
        return second_name(self.path(old), self.path(new))

    def record_of(self, fingerprint: str, url: str | None = None) -> ClipRecord:
        """What the cache holds under the fingerprint, to record as accepted."""
        p = self.path(fingerprint)
        return ClipRecord(p.stat().st_size, file_sha256(p, remember=False), url)

    def clean_temps(self) -> None:
        """Remove temp files a killed render left behind."""
        if self.dir.is_dir():
            for p in self.dir.glob(".*.part*"):
                with contextlib.suppress(OSError):
                    p.unlink()
