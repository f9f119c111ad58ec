"""The state folder's layout: the one place that knows where each thing lives in `.storyboard/`.

.storyboard/
    state.json        what render has paid for (store.state)
    lock              who is rendering (store.lock)
    clips/<fp>.mp4    generated clips by fingerprint (store.cache)
    frames/<fp>.png   last frames of clips, for shots that continue them
    providers/<name>/ what a provider keeps between renders (the preview's queue)
    tmp/              scratch work of a running command, removed when it ends
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from storyboard.errors import InputError
from storyboard.load import filekind

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

    def provider(self, name: str) -> Path:
        """The folder a provider may keep its own files in (Provider.workdir)."""
        return self.root / "providers" / name

    def frame(self, fingerprint: str) -> Path:
        """The last frame of the clip with this fingerprint."""
        return self.frames / f"{fingerprint}.png"

    def check_kinds(self) -> None:
        """InputError when something in the state folder is not what storyboard keeps there:
        a folder of its own that is a file (or a FIFO...), its state or lock that is a FIFO or
        a device (a read would block, or never end), or any of them a link (it would lead
        reads and writes out of the storyboard's folder). Only stat calls: nothing is opened."""

        def refuse(path: Path, what: str) -> InputError:
            return InputError(
                f"{path} is {what}: renders keep their clips and state there",
                hint=f"move {path} away (it is storyboard's own), then run the command again",
            )

        for path, folder in (
            (self.clips, True),
            (self.frames, True),
            (self.tmp, True),
            (self.state, False),
            (self.lock, False),
        ):
            if path.is_symlink():
                raise refuse(path, "a link")
            what = filekind.kind(path)
            if folder and path.exists() and what != "a folder":
                raise refuse(path, what or "a file, not a folder")
            if not folder and what is not None:
                raise refuse(path, what)
        if self.root.exists() and not self.root.is_dir():
            raise refuse(self.root, filekind.kind(self.root) or "a file, not a folder")

    def check(self) -> None:
        """check_kinds, and that the state folder can be written: before anything is paid
        for, as a clip paid for and then with nowhere to go costs twice to get back."""
        self.check_kinds()
        existing = next((f for f in (self.clips, self.root, self.root.parent) if f.is_dir()), None)
        if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
            raise InputError(f"{existing} cannot be written: renders keep their clips and state there")
