"""The few MP4 boxes the stitcher reads or rewrites itself, where ffmpeg has no option for it:
the video track's avcC (to list every parameter set a spliced film uses), its sync samples
(to find IDR pictures, where copying may start), and moving `moov` to the front with every
chunk offset shifted (what `-movflags +faststart` does, done here in the same pass).

Only `moov` is parsed (a few hundred KB at most); `mdat` is copied through untouched.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from storyboard.errors import StitchError

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"mvex"}
# Boxes with fields before their children: stsd (version, flags, entry count), the visual
# sample entries (78 bytes of ISO/IEC 14496-12 8.5.2 fields).
PREFIX = {b"stsd": 8, b"avc1": 78, b"avc3": 78}


@dataclass
class Box:
    kind: bytes
    data: bytes = b""  # a leaf's payload
    children: list[Box] | None = None
    prefix: bytes = b""  # fields before the children

    def find(self, *path: bytes) -> Box | None:
        box: Box | None = self
        for kind in path:
            if box is None or box.children is None:
                return None
            box = next((c for c in box.children if c.kind == kind), None)
        return box

    def encode(self) -> bytes:
        body = (
            self.data if self.children is None else self.prefix + b"".join(c.encode() for c in self.children)
        )
        size = len(body) + 8
        if size >= 1 << 32:
            return struct.pack(">I4sQ", 1, self.kind, size + 8) + body
        return struct.pack(">I4s", size, self.kind) + body


def _headers(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """(kind, payload start, box end) of each box in data[start:end]."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        head = 8
        if size == 1:
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            head = 16
        elif size == 0:
            size = end - pos
        if size < head or pos + size > end:
            raise StitchError(f"a damaged MP4 box {kind!r} at byte {pos}")
        yield kind, pos + head, pos + size
        pos += size


def parse(data: bytes, start: int = 0, end: int | None = None) -> list[Box]:
    boxes = []
    for kind, body, stop in _headers(data, start, end):
        if kind in CONTAINERS or kind in PREFIX:
            skip = PREFIX.get(kind, 0)
            boxes.append(Box(kind, children=parse(data, body + skip, stop), prefix=data[body : body + skip]))
        else:
            boxes.append(Box(kind, data=data[body:stop]))
    return boxes


@dataclass
class Layout:
    """A file's top-level boxes: (kind, offset, size), and its parsed moov."""

    top: list[tuple[bytes, int, int]]
    moov: Box = field(repr=False)


def read_layout(path: Path) -> Layout:
    top: list[tuple[bytes, int, int]] = []
    moov = None
    size = path.stat().st_size
    with open(path, "rb") as f:
        pos = 0
        while pos + 8 <= size:
            f.seek(pos)
            head = f.read(16)
            n, kind = struct.unpack_from(">I4s", head)
            if n == 1:
                n = struct.unpack_from(">Q", head, 8)[0]
            elif n == 0:
                n = size - pos
            if n < 8 or pos + n > size:
                raise StitchError(f"{path.name}: a damaged MP4 box at byte {pos}")
            top.append((kind, pos, n))
            if kind == b"moov":
                f.seek(pos)
                moov = parse(f.read(n))[0]
            pos += n
    if moov is None:
        raise StitchError(f"{path.name}: no moov box")
    return Layout(top, moov)


def video_trak(moov: Box) -> Box:
    for trak in moov.children or []:
        hdlr = trak.find(b"mdia", b"hdlr")
        if trak.kind == b"trak" and hdlr is not None and hdlr.data[8:12] == b"vide":
            return trak
    raise StitchError("no video track")


def sample_entry(trak: Box) -> Box:
    stsd = trak.find(b"mdia", b"minf", b"stbl", b"stsd")
    if stsd is None or not stsd.children:
        raise StitchError("the video track has no sample description")
    return stsd.children[0]


def avcc(path: Path) -> bytes:
    """The avcC record of the file's video track."""
    entry = sample_entry(video_trak(read_layout(path).moov))
    box = entry.find(b"avcC")
    if box is None:
        raise StitchError(f"{path.name}: its picture is not H.264 in an avcC sample entry")
    return box.data


def _u32s(data: bytes, skip: int) -> list[int]:
    n = struct.unpack_from(">I", data, skip)[0]
    return list(struct.unpack_from(f">{n}I", data, skip + 4))


def _chunk_offsets(stbl: Box) -> list[int]:
    stco = stbl.find(b"stco")
    if stco is not None:
        return _u32s(stco.data, 4)
    co64 = stbl.find(b"co64")
    if co64 is None:
        raise StitchError("the video track has no chunk offsets")
    n = struct.unpack_from(">I", co64.data, 4)[0]
    return list(struct.unpack_from(f">{n}Q", co64.data, 8))


def sync_samples(path: Path) -> list[tuple[int, int, int]]:
    """(sample number from 0, file offset, size) of every sync sample of the video track."""
    stbl = video_trak(read_layout(path).moov).find(b"mdia", b"minf", b"stbl")
    assert stbl is not None
    stsz = stbl.find(b"stsz")
    stsc = stbl.find(b"stsc")
    if stsz is None or stsc is None:
        raise StitchError(f"{path.name}: the video track has no sample table")
    fixed, count = struct.unpack_from(">II", stsz.data, 4)
    sizes = [fixed] * count if fixed else list(struct.unpack_from(f">{count}I", stsz.data, 12))
    chunks = _chunk_offsets(stbl)
    n = struct.unpack_from(">I", stsc.data, 4)[0]
    runs = [struct.unpack_from(">III", stsc.data, 8 + 12 * i) for i in range(n)]
    offsets: list[int] = []
    for i, (first, per, _) in enumerate(runs):
        last = runs[i + 1][0] - 1 if i + 1 < len(runs) else len(chunks)
        for chunk in range(first - 1, last):
            pos = chunks[chunk]
            for _ in range(per):
                if len(offsets) == count:
                    break
                offsets.append(pos)
                pos += sizes[len(offsets) - 1]
    stss = stbl.find(b"stss")
    keys = [k - 1 for k in _u32s(stss.data, 4)] if stss is not None else list(range(count))
    return [(k, offsets[k], sizes[k]) for k in keys if k < len(offsets)]


def _shift_offsets(moov: Box, delta: int) -> None:
    for trak in moov.children or []:
        stbl = trak.find(b"mdia", b"minf", b"stbl")
        if trak.kind != b"trak" or stbl is None:
            continue
        for box in stbl.children or []:
            if box.kind == b"stco":
                values = [v + delta for v in _u32s(box.data, 4)]
                if values and max(values) >= 1 << 32:
                    raise StitchError("the film is too large for 32-bit chunk offsets")
                box.data = box.data[:8] + struct.pack(f">{len(values)}I", *values)
            elif box.kind == b"co64":
                n = struct.unpack_from(">I", box.data, 4)[0]
                values = [v + delta for v in struct.unpack_from(f">{n}Q", box.data, 8)]
                box.data = box.data[:8] + struct.pack(f">{n}Q", *values)


def rewrite(src: Path, dst: Path, *, avcc: bytes | None = None) -> None:
    """Write src to dst with the video track's avcC replaced (when given) and moov first
    (before mdat), every chunk offset shifted to match. The media data is copied as is."""
    layout = read_layout(src)
    moov = layout.moov
    if avcc is not None:
        entry = sample_entry(video_trak(moov))
        box = entry.find(b"avcC")
        if box is None:
            raise StitchError(f"{src.name}: no avcC to replace")
        box.data = avcc
    head = [t for t in layout.top if t[0] in (b"ftyp", b"styp")]
    rest = [t for t in layout.top if t[0] not in (b"ftyp", b"styp", b"moov")]
    if [t[0] for t in rest].count(b"mdat") != 1:
        raise StitchError(f"{src.name}: expected one mdat box")
    size = len(moov.encode())
    mdat = next(t for t in rest if t[0] == b"mdat")
    new_mdat = sum(t[2] for t in head) + size + sum(t[2] for t in rest[: rest.index(mdat)])
    _shift_offsets(moov, new_mdat - mdat[1])
    data = moov.encode()
    assert len(data) == size
    with open(src, "rb") as f, open(dst, "wb") as out:
        for _, pos, n in head:
            f.seek(pos)
            out.write(f.read(n))
        out.write(data)
        for _, pos, n in rest:
            f.seek(pos)
            _copy(f, out, n)


def _copy(f: object, out: object, n: int) -> None:
    left = n
    while left > 0:
        chunk = f.read(min(left, 1 << 20))  # type: ignore[attr-defined]
        if not chunk:
            raise StitchError("the file ended early while being rewritten")
        out.write(chunk)  # type: ignore[attr-defined]
        left -= len(chunk)
