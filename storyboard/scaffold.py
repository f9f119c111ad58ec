"""`storyboard init DIR`: a small storyboard that validates and renders offline at once."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from storyboard.errors import InputError
from storyboard.load.document import STORYBOARD_NAME
from storyboard.resources import schema_file

if TYPE_CHECKING:
    from storyboard.resources import Traversable


def _package_files() -> Traversable:
    return files("storyboard").joinpath("init")


def _walk(node: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    """Every file under `node` with its relative path (Traversable has no rglob)."""
    out: list[tuple[str, Traversable]] = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        rel = f"{prefix}{child.name}"
        if child.is_dir():
            if child.name != "__pycache__":
                out += _walk(child, rel + "/")
        else:
            out.append((rel, child))
    return out


GITIGNORE = """\
# API keys: never commit them
.env
# render state and the clips it paid for (large; keep them, but not in git)
.storyboard/
renders/
"""


SCHEMA_NAME = "storyboard.schema.json"  # a copy of the format's schema, beside the storyboard
MODELINE = f"# yaml-language-server: $schema={SCHEMA_NAME}\n".encode()


def _schema() -> bytes:
    """The schema of the storyboard installed here: copied into the new folder, so that the
    modeline names it relatively and works in any clone (an absolute path into this
    machine's site-packages would not)."""
    return schema_file().read_bytes()


def _free_name(directory: Path) -> Path:
    """A sibling folder that does not exist yet: my-film-2, my-film-3..."""
    n = 2
    while (candidate := directory.with_name(f"{directory.name}-{n}")).exists():
        n += 1
    return candidate


def init_project(directory: Path) -> Path:
    """Create DIR/storyboard.yaml with its own images and music; return the storyboard's path.

    Refuses (InputError) when DIR already holds a storyboard, or when one of the files to
    write already exists: init never overwrites the user's work.
    """
    directory = Path(directory)
    target = directory / STORYBOARD_NAME
    if target.exists():
        raise InputError(
            f"{target} already exists: init never overwrites a storyboard",
            hint=f"choose a new or empty folder, e.g. `storyboard init {_free_name(directory)}`",
        )
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory} is a file, not a folder: give a folder to create")
    payload = _walk(_package_files())
    clashes = [rel for rel in [r for r, _ in payload] + [SCHEMA_NAME] if (directory / rel).exists()]
    if clashes:
        raise InputError(
            f"{directory} already holds {', '.join(clashes)}: init never overwrites files",
            hint="choose a new or empty folder",
        )
    try:
        for rel, src in payload:
            dest = directory / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            data = src.read_bytes()
            if rel == STORYBOARD_NAME:
                data = MODELINE + data
            dest.write_bytes(data)
        (directory / SCHEMA_NAME).write_bytes(_schema())
        ignore = directory / ".gitignore"  # keys and paid clips stay out of git; the storyboard goes in
        if not ignore.exists():
            ignore.write_text(GITIGNORE, encoding="utf-8")
        else:  # the folder's own: add what it lacks, keep what it has
            have = ignore.read_text(encoding="utf-8")
            lacking = [
                ln
                for ln in GITIGNORE.splitlines()
                if ln and not ln.startswith("#") and ln not in have.splitlines()
            ]
            if lacking:
                sep = "" if have.endswith("\n") or not have else "\n"
                ignore.write_text(have + sep + "\n".join(lacking) + "\n", encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot create the storyboard in {directory}: {e.strerror or e}") from e
    return target
