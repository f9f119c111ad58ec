"""The state folder's layout: the one place that knows where each thing lives in `.storyboard/`.

.storyboard/
    state.json        what render has paid for (store.state)
    lock              who is rendering (store.lock)
    clips/<fp>.mp4    generated clips by fingerprint (store.cache)
    frames/<fp>.png   last frames of clips, for shots that continue them
    tmp/              scratch work of a running command, removed when it ends
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from storyboard.errors import InputError

FOLDER = ".storyboard"


@dataclass(frozen=True)
class Layout:
    root: Path  # the state folder itself

    @classmethod
    def beside(cls, storyboard_folder: Path) -> Layout:
        return cls(Path(storyboard_folder) / FOLDER)

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @property
    def lock(self) -> Path:
        return self.root / "lock"

    @property
    def clips(self) -> Path:
        return self.root / "clips"

    @property
    def frames(self) -> Path:
        return self.root / "frames"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def frame(self, fingerprint: str) -> Path:
        """The last frame of the clip with this fingerprint."""
        return self.frames / f"{fingerprint}.png"

    def check(self) -> None:
        """InputError when the state folder cannot hold what a render keeps there: one of its
        folders is a file (or a FIFO...), or it cannot be written. Checked before anything is
        paid for: a clip paid for and then with nowhere to go costs twice to get back."""
        from storyboard.spec import filekind

        for folder in (self.root, self.clips, self.frames, self.tmp):
            if folder.exists() or folder.is_symlink():
                what = filekind.kind(folder) if folder.exists() else "a broken link"
                if what != "a folder":
                    what = what or "a file"
                    raise InputError(
                        f"{folder} is {what}, not a folder: renders keep their clips and state there",
                        hint=f"move {folder} away (it is storyboard's own), then render again",
                    )
        existing = next((f for f in (self.clips, self.root, self.root.parent) if f.is_dir()), None)
        if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
            raise InputError(f"{existing} cannot be written: renders keep their clips and state there")
