"""Write a cut's timeline: the format by the file's extension, the file whole or absent, and
the captions as subtitles beside it.

.otio   OpenTimelineIO (every track, every fact, in our `storyboard` metadata too)
.edl    CMX 3600 (the picture track: cuts, dissolves, fades, captions as locators)
.xml    FCP 7 XML (Premiere, DaVinci Resolve: picture, shot sound, music with its volume)
"""

from __future__ import annotations

import enum
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from storyboard.atomic import write_atomic
from storyboard.errors import ConfigError, InputError
from storyboard.load import filekind

if TYPE_CHECKING:
    from storyboard.export.source import Cut


class Format(enum.Enum):
    OTIO = ".otio"
    EDL = ".edl"
    FCP_XML = ".xml"

    @property
    def label(self) -> str:
        return {"OTIO": "OpenTimelineIO", "EDL": "CMX 3600 EDL", "FCP_XML": "FCP 7 XML"}[self.name]

    @property
    def packages(self) -> tuple[tuple[str, str], ...]:
        """(module, PyPI name) of what writing it takes."""
        base = (("opentimelineio", "opentimelineio"),)
        if self is Format.EDL:
            return (*base, ("otio_cmx3600_adapter", "otio-cmx3600-adapter"))
        if self is Format.FCP_XML:
            return (*base, ("otio_fcp_adapter", "otio-fcp-adapter"))
        return base


EXTENSIONS = ", ".join(f.value for f in Format)


def format_of(path: Path) -> Format:
    """The format a timeline path asks for; InputError for any other extension."""
    suffix = Path(path).suffix.lower()
    for f in Format:
        if f.value == suffix:
            return f
    raise InputError(
        f"the timeline {path} must end in {EXTENSIONS}",
        hint="e.g. --timeline renders/cut.otio (OpenTimelineIO), cut.edl (CMX 3600) or cut.xml (FCP 7 XML)",
    )


def write_shared(path: Path, text: str) -> None:
    """A timeline or a page is for other people and programs to open: an ordinary file's mode."""
    write_atomic(path, text, shared=True)


def _require(fmt: Format) -> None:
    missing = [pypi for module, pypi in fmt.packages if importlib.util.find_spec(module) is None]
    if missing:
        raise ConfigError(
            f"writing a {fmt.label} timeline needs {' and '.join(missing)}, which is not installed",
            hint=f"pip install {' '.join(missing)} (OpenTimelineIO has wheels for Python 3.10-3.13; "
            "on newer Pythons it builds with CMake and a C++ compiler)",
        )


def _is_ours(path: Path, fmt: Format) -> bool:
    """Whether an existing file is a timeline of that format (which may be replaced)."""
    try:
        head = path.read_bytes()[:4096].decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    except OSError:
        return False
    if not head:
        return True
    if fmt is Format.OTIO:
        return head.startswith("{") and '"OTIO_SCHEMA"' in head
    if fmt is Format.EDL:
        return head.startswith(("TITLE:", "FCM:")) or head[:3].isdigit()
    return "<xmeml" in head


def check_destination(path: Path, protected: tuple[Path, ...] = ()) -> Path:
    """Refuse a timeline path that would overwrite anything but an older timeline, or a
    format whose packages are missing: call it before anything is spent. Returns the path
    made absolute."""
    path = Path(path).resolve()
    if path.is_dir():
        raise InputError(
            f"the timeline {path} is a folder: give a file in it",
            hint=f"e.g. --timeline {path / 'cut.otio'} (or .edl, .xml)",
        )
    fmt = format_of(path)
    _require(fmt)
    what = filekind.kind(path)
    if what is not None:  # a FIFO, a socket, a device: never replaced by a timeline
        raise InputError(
            f"the timeline {path} is {what}: refusing to replace it", hint="give another file name"
        )
    for p in protected:
        if path == Path(p).resolve():
            raise InputError(f"the timeline {path} would overwrite {Path(p).name}")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(f"the timeline's folder {parent} is a file, not a folder")
            break
    if path.is_file() and not _is_ours(path, fmt):
        raise InputError(
            f"{path} exists and is not a timeline ({fmt.label}): refusing to overwrite it",
            hint="choose another name, or remove that file yourself",
        )
    srt = path.with_suffix(".srt")
    if filekind.kind(srt):  # a folder, a FIFO, a device: never replaced by the subtitles
        raise InputError(f"the subtitles beside the timeline, {srt}, would replace {filekind.kind(srt)}")
    return path


@dataclass(frozen=True)
class Written:
    path: Path
    format: Format
    subtitles: Path | None  # the captions as .srt beside it (None: no shot has one)
    clips: int
    crossfades: int
    fades: int  # shots entering from black


def render_timeline(cut: Cut, fmt: Format) -> str:
    """The cut's timeline as text in `fmt`."""
    import opentimelineio as otio  # lazy: start-up

    from storyboard.export.otio_timeline import build  # lazy: start-up

    timeline = build(cut)
    if fmt is Format.OTIO:
        return str(otio.adapters.write_to_string(timeline, "otio_json"))
    if fmt is Format.EDL:
        from storyboard.export.edl import edl_text  # lazy: start-up

        return edl_text(timeline, cut.fps)
    from storyboard.export.fcp import fcp_xml  # lazy: start-up

    return fcp_xml(timeline, cut)


def write_timeline(cut: Cut, path: Path) -> Written:
    """Write the cut's timeline to `path` (its format by extension) and its captions as
    subtitles beside it, each file whole or not at all."""
    from storyboard.stitch.captions import timeline_srt  # lazy: start-up

    path = check_destination(path)
    fmt = format_of(path)
    text = render_timeline(cut, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_shared(path, text)
    srt = None
    captions = timeline_srt(cut.timeline)  # the same subtitles the film has beside it
    if captions:
        srt = path.with_suffix(".srt")
        write_shared(srt, captions)
    placed = cut.timeline.placed
    return Written(
        path=path,
        format=fmt,
        subtitles=srt,
        clips=len(placed),
        crossfades=sum(1 for p in placed if p.overlap > 0),
        fades=sum(1 for p in placed if p.fade_in > 0),
    )
