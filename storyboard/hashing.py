"""Content hashes: the one way the tool hashes a file's bytes (fingerprints, uploads, cache)."""

from __future__ import annotations

import hashlib
from pathlib import Path

_remembered: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path, *, remember: bool = True) -> str:
    """The SHA-256 of a file's bytes, read in blocks. With `remember`, kept by path, size
    and mtime within one process (plans hash the same images many times)."""
    path = Path(path)
    key: tuple[str, int, int] | None = None
    if remember:
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns)
        if key in _remembered:
            return _remembered[key]
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    digest = h.hexdigest()
    if key is not None:
        _remembered[key] = digest
    return digest


def text_sha256(data: str | bytes) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()
