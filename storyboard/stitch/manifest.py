"""Is the film up to date? A small manifest beside it (`.<film>.inputs.json`) records what it
was made from: every setting of the cut (clips in order, trims, transitions, captions and
their font, music, size, rate, engine) and each file's SHA-256, written atomically after
the film. The next stitch of the same inputs finds the manifest, the film and its .srt as
they were, says so and writes nothing.

An input whose size and modification time are as recorded is taken to hold what it held
(its hash is not read again, as git's index does); one that changed is hashed and compared,
so a file touched but unchanged still counts as the same. The film and its .srt, which the
stitcher itself wrote, are compared by size and modification time alone (hashing a 100 MB
film would cost more than a cuts-only stitch).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from storyboard.atomic import write_atomic
from storyboard.hashing import file_sha256, text_sha256
from storyboard.stitch.spec import CutSpec, StitchResult

VERSION = 1
# Bumped when the stitcher would make a different film from the same inputs.
STITCHER = "2"


def path_for(output: Path) -> Path:
    return output.with_name(f".{output.name}.inputs.json")


def _settings(spec: CutSpec, engine: str) -> str:
    """Every setting of the cut except the files' contents, as one canonical text."""
    data = asdict(spec)
    data.pop("work_dir", None)  # where scratch goes does not change the film
    if not data.get("ending"):  # a film that ends on a cut: recorded as it was before `ending:`
        data.pop("ending", None)
    data["engine"] = engine
    data["stitcher"] = STITCHER
    return json.dumps(data, sort_keys=True, default=str)


def _files(spec: CutSpec) -> list[Path]:
    files = [Path(c.path) for c in spec.clips]
    if spec.music is not None:
        files.append(Path(spec.music.path))
    if spec.caption_font is not None:
        files.append(Path(spec.caption_font))
    return files


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _identity(path: Path, known: dict[str, Any]) -> dict[str, Any] | None:
    """{size, mtime, sha256} of a file, reusing a known hash when its stat is unchanged."""
    st = _stat(path)
    if st is None:
        return None
    old = known.get(str(path.resolve()))
    if old and (old.get("size"), old.get("mtime")) == st and old.get("sha256"):
        return {"size": st[0], "mtime": st[1], "sha256": old["sha256"]}
    return {"size": st[0], "mtime": st[1], "sha256": file_sha256(path)}


def _load(output: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path_for(output).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("version") == VERSION else None


def up_to_date(spec: CutSpec, engine: str) -> StitchResult | None:
    """The recorded result when the film matches its inputs, else None."""
    output = Path(spec.output)
    data = _load(output)
    if data is None or data.get("settings") != text_sha256(_settings(spec, engine)):
        return None
    files: dict[str, Any] = data.get("files", {})
    outputs: dict[str, Any] = data.get("outputs", {})
    for path in _files(spec):
        now = _identity(path, files)
        if now is None or files.get(str(path.resolve()), {}).get("sha256") != now["sha256"]:
            return None
    for path in (output, output.with_suffix(".srt")):
        st = _stat(path)
        was = outputs.get(str(path.resolve()), {})
        if st is None or (was.get("size"), was.get("mtime")) != st:
            return None
    r = data.get("result", {})
    return StitchResult(
        output=output,
        srt=output.with_suffix(".srt"),
        duration=float(r.get("duration", 0.0)),
        method=str(r.get("method", "")),
        why=tuple(r.get("why", ())),
        warnings=tuple(r.get("warnings", ())),
        up_to_date=True,
    )


def clips_of(output: Path) -> list[Path] | None:
    """The clips the film at `output` was cut from, in order; None when no manifest says so
    (a film cut before manifests listed them, or by hand)."""
    data = _load(output)
    clips = data.get("clips") if data else None
    if not isinstance(clips, list) or not all(isinstance(c, str) for c in clips):
        return None
    return [Path(c) for c in clips]


def record(spec: CutSpec, engine: str, result: StitchResult) -> None:
    """Write the manifest for a film just made (after the film and its .srt)."""
    output = Path(spec.output)
    old = _load(output) or {}
    known = old.get("files", {})
    files = {str(p.resolve()): _identity(p, known) for p in _files(spec)}
    outputs = {}
    for p in (result.output, result.srt):
        st = _stat(p)
        if st is not None:
            outputs[str(p.resolve())] = {"size": st[0], "mtime": st[1]}
    data = {
        "version": VERSION,
        "settings": text_sha256(_settings(spec, engine)),
        "clips": [str(Path(c.path).resolve()) for c in spec.clips],  # in order: what the film is
        "files": files,
        "outputs": outputs,
        "result": {
            "duration": result.duration,
            "method": str(result.method),
            "why": list(result.why),
            "warnings": list(result.warnings),
        },
    }
    write_atomic(path_for(output), json.dumps(data, indent=1, sort_keys=True) + "\n", shared=True)
