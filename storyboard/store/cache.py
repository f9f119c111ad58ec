"""Generated clips, kept by fingerprint: `.storyboard/clips/<fingerprint>.mp4`.

A clip enters the cache only whole and verified, by an atomic rename of a temp file made in
the same folder, so a crash never leaves a half clip under a fingerprint's name.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from pathlib import Path

from storyboard.spec.model import CLIP_SECONDS
from storyboard.store.atomic import commit, temp_path
from storyboard.store.layout import Layout

_FP = re.compile(r"^[0-9a-f]{16,128}$")


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
            from storyboard.media.verify import verify_clip

            verify_clip(tmpfile, expected_seconds=expected_seconds)
        self.dir.mkdir(parents=True, exist_ok=True)
        if tmpfile.parent.resolve() != self.dir.resolve():
            # another filesystem may not rename atomically: copy beside the clips first
            staged = self.temp(fingerprint)
            shutil.copyfile(tmpfile, staged)
            tmpfile.unlink()
            tmpfile = staged
        return commit(tmpfile, dest)

    def clean_temps(self) -> None:
        """Remove temp files a killed render left behind."""
        if self.dir.is_dir():
            for p in self.dir.glob(".*.part*"):
                with contextlib.suppress(OSError):
                    p.unlink()
