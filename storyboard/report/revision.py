"""A storyboard as it was at a git revision, read without a checkout.

The storyboard's folder at that revision (`git archive REV -- folder`: the YAML, its images,
templates and music as they were) is unpacked into a temporary folder and loaded from there
like any storyboard: validated whole, its images read and hashed as they were, so its
fingerprints are the ones a render at that revision made. The working copy, the index and
HEAD are not touched. Files kept in Git LFS arrive as LFS pointers (git archive does not
fetch them): such a storyboard's images do not validate at a revision.
"""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from storyboard import pipeline
from storyboard.errors import ConfigError, InputError, ValidationError
from storyboard.spec.document import MAX_FILE_BYTES
from storyboard.spec.model import Storyboard


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


def _unpack(archive: Path, into: Path) -> None:
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            name = PurePosixPath(member.name)
            if name.is_absolute() or ".." in name.parts:
                raise InputError(f"the revision's archive holds an unsafe path: {member.name}")
            if member.issym() or member.islnk():
                continue  # a link could point anywhere: the folder is read as plain files
            if not (member.isfile() or member.isdir()):
                continue
            if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12: say which filter (3.12 asks)
                tar.extract(member, into, set_attrs=False, filter="data")
            else:  # the paths are checked above
                tar.extract(member, into, set_attrs=False)


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
    with tempfile.TemporaryDirectory(prefix="storyboard-rev-") as tmp:
        tar = Path(tmp) / "revision.tar"  # streamed to disk: a folder of media is not held in memory
        what = str(folder) if str(folder) != "." else "."
        with open(tar, "wb") as out:
            archive = subprocess.run(
                ["git", "-C", str(root), "archive", "--format=tar", commit, "--", what],
                stdout=out,
                stderr=subprocess.PIPE,
                check=False,
            )
        if archive.returncode != 0:
            raise ConfigError(
                f"git archive {rev} failed: {archive.stderr.decode('utf-8', 'replace').strip()}"
            )
        copy = Path(tmp) / "tree"
        _unpack(tar, copy)
        tar.unlink()
        path = copy / rel
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
