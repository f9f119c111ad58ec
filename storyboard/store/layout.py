"""The state folder's layout: the one place that knows where each thing lives in `.storyboard/`.

.storyboard/
    state.json        what render has paid for (store.state)
    lock              who is rendering (store.lock)
    clips/<fp>.mp4    generated clips by fingerprint (store.cache)
    frames/<fp>.png   last frames of clips, for shots that continue them
    tmp/              scratch work of a running command, removed when it ends
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
