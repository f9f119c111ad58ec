"""What a file holds, judged by its first bytes: a .png that holds text is refused here, not
by a provider after credits are spent. No Pillow: validation must stay quick."""

from __future__ import annotations


def image_kind(head: bytes) -> str | None:
    """JPEG, PNG or WebP by their magic bytes, else None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    return None


def audio_kind(head: bytes) -> str | None:
    """MP3, WAV, M4A/MP4, OGG or FLAC by their magic bytes, else None."""
    if _id3(head) or _mpeg_frame(head):
        return "MP3"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "WAV"
    if head[4:8] == b"ftyp":
        return "M4A"
    if head.startswith(b"OggS"):
        return "OGG"
    if head.startswith(b"fLaC"):
        return "FLAC"
    return None


def _id3(head: bytes) -> bool:
    """An ID3v2 tag: "ID3", version 2-4, then a size in four 7-bit bytes."""
    return (
        len(head) >= 10
        and head.startswith(b"ID3")
        and head[3] in (2, 3, 4)
        and all(b < 0x80 for b in head[6:10])
    )


def _mpeg_frame(head: bytes) -> bool:
    """An MPEG audio frame header: 11 sync bits, a layer, a bitrate that is not 'bad'."""
    return (
        len(head) >= 3
        and head[0] == 0xFF
        and head[1] & 0xE0 == 0xE0
        and head[1] & 0x06 != 0
        and head[2] & 0xF0 != 0xF0
    )


def what_it_is(head: bytes) -> str:
    """A guess at what a refused file holds, so the fix is obvious."""
    if not head:
        return "the file is empty"
    known = {
        b"GIF8": "a GIF image",
        b"BM": "a BMP image",
        b"%PDF": "a PDF document",
        b"II*\x00": "a TIFF image",
        b"MM\x00*": "a TIFF image",
        b"PK\x03\x04": "a ZIP archive",
    }
    for magic, name in known.items():
        if head.startswith(magic):
            return f"it holds {name}"
    if head[4:8] == b"ftyp":
        return "it holds a video or HEIC image"
    if image_kind(head):
        return f"it holds a {image_kind(head)} image"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "its content is not a known format"
    return "it holds text"
