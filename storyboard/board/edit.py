"""Edits the tool makes to a storyboard file for the user, in place: the text changes only
where the edit is, so comments, order and layout stay as written."""

from __future__ import annotations

import re

from storyboard.atomic import write_atomic
from storyboard.board.model import Storyboard
from storyboard.errors import ConfigError


def set_select(sb: Storyboard, shot_id: str, take: int) -> None:
    """Write `select: take` into the shot's mapping (replacing one there)."""
    doc = sb.doc
    if doc is None:
        raise ConfigError(f"{sb.path} was not read from a file: nothing to edit")
    shot = next((s for s in sb.shots if s.id == shot_id), None)
    if shot is None:
        raise ConfigError(
            f"no shot {shot_id!r} in {sb.path.name}", hint="shots: " + ", ".join(s.id for s in sb.shots)
        )
    takes = shot.takes
    if take > takes:
        raise ConfigError(
            f"shot {shot_id!r} has {takes} take{'s' if takes != 1 else ''}: there is no take {take}",
            hint=f"set takes: {take} on the shot (or render --takes {take}) to make it first",
        )
    lines = doc.text.splitlines(keepends=True)
    where = ("shots", shot.index, "select")
    if where in doc.value_marks:  # replace the number that is there
        line, col = doc.value_marks[where]
        text = lines[line - 1]
        m = re.match(r"\d+", text[col - 1 :])
        if m is None:
            raise ConfigError(f"{sb.path}:{line}:{col}: select is not a number: set it by hand")
        lines[line - 1] = text[: col - 1] + str(take) + text[col - 1 + m.end() :]
    else:  # a new line under the shot's id, at its indentation
        id_key = ("shots", shot.index, "id")
        if id_key not in doc.key_marks:
            raise ConfigError(f"{sb.path}: cannot find shot {shot_id!r}'s id: add `select: {take}` by hand")
        line, col = doc.key_marks[id_key]
        before = lines[line - 1][: col - 1]
        if "{" in before:  # a flow mapping ({id: a, ...}) has no line to add
            raise ConfigError(
                f"{sb.path}:{line}: shot {shot_id!r} is written on one line: "
                f"add `select: {take}` to it by hand"
            )
        ending = "\r\n" if lines[line - 1].endswith("\r\n") else "\n"
        if not lines[line - 1].endswith(("\n", "\r")):
            lines[line - 1] += ending
        lines.insert(line, " " * (col - 1) + f"select: {take}" + ending)
    mode = sb.path.stat().st_mode & 0o7777
    write_atomic(sb.path, "".join(lines))
    sb.path.chmod(mode)  # the user's file keeps its own mode
