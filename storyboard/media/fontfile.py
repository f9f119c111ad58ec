"""A font file's structure, checked before any library reads it: sizes before trust.

A TrueType or OpenType file is a directory of tables, each an offset and a length; a
collection (.ttc) is a list of such directories. fontTools and FreeType read a table by
what its directory entry claims, so a font whose `cmap` claims 2 GB in a 2 GB sparse file
held 4.2 GB of memory before it was refused. Here every claim is checked against the file's
real size, and what the character map would build against a memory bound, reading only the
directory and the character map's headers (a few KB, standard library only, so validate can
call it).

    problem("fonts/Caption.ttf")  # None, or what is wrong, in words
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

# the first bytes of a TrueType (1.0 or Apple's 'true'), OpenType (CFF) or collection file
MAGIC = (b"\x00\x01\x00\x00", b"OTTO", b"true", b"ttcf")
MAX_FONT_BYTES = 128 * 2**20  # the largest CJK super-collections are about 120 MB
MAX_CMAP_BYTES = 16 * 2**20  # a full-Unicode character map is well under 2 MB
MAX_FACES = 256  # in one collection
MAX_MAPPED = 300_000  # code points one character map may map: twice what Unicode assigns
_FORMAT_HEADERS = {12: 16, 13: 16}  # the formats whose groups map ranges of code points


class _Bad(Exception):
    pass


def problem(path: Path | str) -> str | None:
    """What makes `path` a font that must not be read, in words; None if its structure holds."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FONT_BYTES:
            return too_big(size)
        with path.open("rb") as f:
            _check(f, size)
    except _Bad as e:
        return str(e)
    except OSError as e:
        return f"cannot read the font ({e.strerror or e})"
    return None


def too_big(size: int) -> str:
    return f"the font is {size / 2**20:.0f} MB; a font file is at most {MAX_FONT_BYTES // 2**20} MB"


def _read(f: BinaryIO, size: int, offset: int, length: int, what: str) -> bytes:
    if offset + length > size:
        raise _Bad(f"{what} runs past the end of the file ({offset + length:,} of {size:,} bytes)")
    f.seek(offset)
    return f.read(length)


def _check(f: BinaryIO, size: int) -> None:
    head = _read(f, size, 0, 12, "the font's header")
    if head[:4] not in MAGIC:
        raise _Bad("it is not a TrueType or OpenType font")
    if head[:4] != b"ttcf":
        _face(f, size, 0)
        return
    (count,) = struct.unpack(">I", head[8:12])
    if not 0 < count <= MAX_FACES:
        raise _Bad(f"the collection claims {count:,} faces; a font collection holds 1 to {MAX_FACES}")
    offsets = struct.unpack(f">{count}I", _read(f, size, 12, 4 * count, "the collection's list of faces"))
    for offset in offsets:
        _face(f, size, offset)


def _face(f: BinaryIO, size: int, offset: int) -> None:
    (tables,) = struct.unpack(">H", _read(f, size, offset + 4, 2, "the font's table directory")[:2])
    directory = _read(f, size, offset + 12, 16 * tables, "the font's table directory")
    for i in range(tables):
        tag, _, start, length = struct.unpack(">4sIII", directory[16 * i : 16 * i + 16])
        name = tag.decode("latin-1").strip()
        if start + length > size:
            raise _Bad(
                f"its '{name}' table claims {length:,} bytes at offset {start:,}, past the end of "
                f"the {size:,}-byte file (the file is cut short or crafted)"
            )
        if tag == b"cmap":
            _cmap(_read(f, size, start, _cmap_length(length), "the character map"), length)


def _cmap_length(length: int) -> int:
    if length > MAX_CMAP_BYTES:
        raise _Bad(
            f"its character map ('cmap') claims {length / 2**20:.0f} MB; "
            f"a character map is at most {MAX_CMAP_BYTES // 2**20} MB"
        )
    return length


def _cmap(data: bytes, length: int) -> None:
    """Every subtable inside the table, and the code points those that map ranges would map."""
    if length < 4:
        raise _Bad("its character map ('cmap') is too short to hold a header")
    (count,) = struct.unpack(">H", data[2:4])
    if 4 + 8 * count > length:
        raise _Bad(f"its character map ('cmap') claims {count:,} subtables, more than it holds")
    for i in range(count):
        (offset,) = struct.unpack(">I", data[8 + 8 * i : 12 + 8 * i])
        if offset + 2 > length:
            raise _Bad(f"its character map ('cmap') places a subtable at {offset:,}, outside the table")
        (fmt,) = struct.unpack(">H", data[offset : offset + 2])
        header = _FORMAT_HEADERS.get(fmt)
        if header is None:
            continue  # the other formats map at most 65,536 code points, bounded by their bytes
        if offset + header > length:
            raise _Bad(f"its character map ('cmap') has a format {fmt} subtable cut short")
        sub_length, _, groups = struct.unpack(">III", data[offset + 4 : offset + 16])
        if offset + sub_length > length or header + 12 * groups > sub_length:
            raise _Bad(
                f"its character map ('cmap') has a format {fmt} subtable claiming {groups:,} "
                f"groups, more than its {min(sub_length, length - offset):,} bytes hold"
            )
        mapped = 0
        for start, end, _ in struct.iter_unpack(
            ">III", data[offset + header : offset + header + 12 * groups]
        ):
            mapped += max(0, min(end, 0x10FFFF) - start + 1)
            if mapped > MAX_MAPPED:
                raise _Bad(
                    f"its character map ('cmap') maps more than {MAX_MAPPED:,} characters; "
                    "Unicode assigns about 150,000"
                )
