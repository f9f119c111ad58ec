"""A storyboard as it was at a git revision, read without a checkout.

The storyboard at that revision, and the files it names there (its images, music, font and
templates, as checks.files_named finds them), each within its kind's size limit and streamed
from `git cat-file`, are copied into a temporary folder and loaded from there like any
storyboard: validated whole, its images read and hashed as they were, so its fingerprints are
the ones a render at that revision made. Nothing else of the folder is written: a commit that
adds a 1 GB file beside the storyboard costs diff nothing. The working copy, the index and
HEAD are not touched. Files kept in Git LFS arrive as LFS pointers: such a storyboard's images
do not validate at a revision.
"""

from __future__ import annotations

import posixpath
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from storyboard import pipeline
from storyboard.board.model import Storyboard
from storyboard.errors import ConfigError, InputError, ValidationError
from storyboard.load.document import MAX_FILE_BYTES, load
from storyboard.validate.checks import MAX_BYTES, files_named, too_big


@dataclass(frozen=True)
class Revision:
    rev: str  # as the user gave it
    commit: str  # the full commit id
    path: str  # the storyboard's path in the repository at that commit (posix)
    storyboard: Storyboard | None  # None: the file did not exist at that revision


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, check=False)
    except FileNotFoundError as e:
        raise ConfigError("git is not installed: diff reads the storyboard's history with it") from e


def _text(proc: subprocess.CompletedProcess[bytes]) -> str:
    return (proc.stdout if proc.returncode == 0 else proc.stderr).decode("utf-8", "replace").strip()


def locate(file: Path) -> tuple[Path, str]:
    """The repository's top folder and the file's path in it (posix)."""
    file = Path(file).resolve()
    top = _git(file.parent, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise ConfigError(
            f"{file.parent} is not in a git repository: diff compares with a revision",
            hint="git init and commit the storyboard first",
        )
    root = Path(_text(top)).resolve()
    return root, file.relative_to(root).as_posix()


def resolve(root: Path, rev: str) -> str:
    got = _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    if got.returncode != 0:
        count = _git(root, "rev-list", "--count", "HEAD")
        commits = int(_text(count)) if count.returncode == 0 and _text(count).isdigit() else 0
        if commits == 0:
            hint = "nothing is committed yet: commit the storyboard, then diff against HEAD"
        elif commits == 1:
            hint = "the repository has one commit: HEAD is the only revision to compare with"
        else:
            hint = f"e.g. HEAD, HEAD~1 ... HEAD~{commits - 1}, a branch or a commit id"
        raise ConfigError(f"no revision {rev!r} in {root}", hint=hint)
    return _text(got)


def _entry(root: Path, commit: str, path: str) -> tuple[str, int] | None:
    """(object id, size) of the plain file at `path` in `commit`; None for no such file, a
    folder, a link (it could point anywhere) or a submodule."""
    listed = _git(root, "ls-tree", "-l", "-z", "--full-tree", commit, "--", path)
    if listed.returncode != 0 or not listed.stdout:
        return None
    meta, _, name = listed.stdout.rstrip(b"\0").partition(b"\t")
    mode, kind, oid, size = meta.decode().split()
    if kind != "blob" or mode not in ("100644", "100755") or name.decode("utf-8", "replace") != path:
        return None
    return oid, int(size)


def _stream(root: Path, oid: str, into: Path, limit: int) -> None:
    """Write the blob `oid` to `into` in pieces, never more than `limit` bytes."""
    into.parent.mkdir(parents=True, exist_ok=True)
    with (
        subprocess.Popen(["git", "-C", str(root), "cat-file", "blob", oid], stdout=subprocess.PIPE) as proc,
        open(into, "wb") as out,
    ):
        assert proc.stdout is not None
        written = 0
        while piece := proc.stdout.read(1 << 20):
            written += len(piece)
            if written > limit:  # git said its size: only a changing repository gets here
                proc.kill()
                raise InputError(f"{into.name} grew past {limit:,} bytes while it was read from git")
            out.write(piece)
    if proc.returncode != 0:
        raise ConfigError(f"git cat-file could not read {into.name} (object {oid})")


def _copy_named(
    root: Path, commit: str, folder: PurePosixPath, copy: Path, sb_file: Path, label: str
) -> None:
    """Copy into `copy` the files the storyboard at `sb_file` names, as they were at `commit`,
    each within its kind's limit. A file over it is a located problem of the revision."""
    try:
        doc = load(sb_file)
    except ValidationError:
        return  # the storyboard itself is broken there: loading it says so
    problems = []
    done: set[str] = set()
    todo: list[tuple[str, Path, int]] = []  # every size is known before a byte is written
    for named in files_named(doc):
        ref = posixpath.normpath(named.ref)
        if ref.startswith(("/", "../")) or ref == ".." or "\\" in ref:
            continue  # it names a file outside the folder: validation says so
        rel = posixpath.join(str(folder), ref) if str(folder) != "." else ref
        if rel in done:
            continue
        done.add(rel)
        found = _entry(root, commit, rel)
        if found is None:
            continue  # missing at that revision (or a link): validation says so
        oid, size = found
        if size > MAX_BYTES[named.kind]:
            problems.append(doc.problem(named.path, f"{named.ref!r}: {too_big(named.kind, size)}"))
            continue
        todo.append((oid, copy / rel, MAX_BYTES[named.kind]))
    if problems:
        raise _relabel(ValidationError(problems), sb_file, label)
    for oid, into, limit in todo:
        _stream(root, oid, into, limit)


@contextmanager
def storyboard_at(file: Path, rev: str = "HEAD") -> Iterator[Revision]:
    """The storyboard `file` as it was at `rev`, loaded from a temporary copy of its folder
    at that revision (removed afterwards). ValidationError, its locations naming
    `REV:path`, when it was not valid there."""
    root, rel = locate(file)
    commit = resolve(root, rev)
    folder = PurePosixPath(rel).parent
    exists = _git(root, "cat-file", "-e", f"{commit}:{rel}").returncode == 0
    if not exists:
        yield Revision(rev, commit, rel, None)
        return
    size = _git(root, "cat-file", "-s", f"{commit}:{rel}")
    if size.returncode == 0 and _text(size).isdigit() and int(_text(size)) > MAX_FILE_BYTES:
        raise InputError(
            f"{rev}:{rel} is {int(_text(size)) / 1e6:.1f} MB; a storyboard is at most "
            f"{MAX_FILE_BYTES / 1e6:.0f} MB of text"
        )
    found = _entry(root, commit, rel)
    if found is None:
        raise InputError(f"{rev}:{rel} is not a plain file (a link or a folder?): diff reads files only")
    with tempfile.TemporaryDirectory(prefix="storyboard-rev-") as tmp:
        copy = Path(tmp) / "tree"
        path = copy / rel
        _stream(root, found[0], path, MAX_FILE_BYTES)
        _copy_named(root, commit, folder, copy, path, f"{rev}:{rel}")
        try:
            sb = pipeline.load(path)
        except ValidationError as e:
            raise _relabel(e, path, f"{rev}:{rel}") from e
        yield Revision(rev, commit, rel, sb)


def _relabel(err: ValidationError, path: Path, label: str) -> ValidationError:
    """Problems found in the temporary copy, said of `REV:path`."""
    problems = []
    for p in err.problems:
        loc = p.location
        if loc is not None and Path(loc.file).resolve() == path.resolve():
            loc = replace(loc, file=label)
        elif loc is not None:
            loc = replace(loc, file=f"{label.split(':', 1)[0]}:{loc.file}")
        problems.append(replace(p, location=loc, message=p.message.replace(str(path.parent), "")))
    return ValidationError(problems)
