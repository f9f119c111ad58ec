"""Reading `.storyboard/state.json`: version upgrades, and a check of every field against
schemas/state.schema.json, so a damaged or hand-edited file is a located message (the file,
the task, the field, and how to mend it), never a crash."""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

from storyboard.conforms import conforms
from storyboard.errors import InputError
from storyboard.resources import schema_file
from storyboard.store.layout import Layout

VERSION = 3
# Before version 3 a folder's `made` records were one storyboard's, though which one is not
# written: they are kept under this name (no file has it) until a storyboard of the folder
# loads the state and takes them as its own (store.state).
EARLIER = ""


def read(path: Path) -> dict[str, Any]:
    """The state file's data, upgraded and checked; an empty state when there is none."""
    Layout(path.parent).check_kinds()  # a FIFO or /dev/zero as the state would block or never end
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return empty()
    except NotADirectoryError:
        raise _damaged(path, "its folder is not a folder") from None
    except (OSError, UnicodeDecodeError) as e:
        raise _damaged(path, str(e)) from None
    try:
        data = json.loads(text, parse_constant=_not_a_number)
    except ValueError as e:
        raise _damaged(path, f"not valid JSON ({e})") from None
    except RecursionError:
        raise _damaged(path, "not a state file: its JSON is nested too deeply") from None
    if not _finite(data):  # 1e999 reads as inf without asking parse_constant
        raise _damaged(path, "it holds a number too large to be one (such as 1e999)")
    if not isinstance(data, dict) or not isinstance(data.get("version"), int):
        raise _damaged(path, "it is not a storyboard state file")
    if data["version"] > VERSION:
        raise InputError(
            f"{path} was written by a newer storyboard (state version {data['version']})",
            hint="upgrade storyboard to render this storyboard",
        )
    _upgrade(data)
    _check(path, data)  # in the terms of the version it was written in (a message names its field)
    _by_storyboard(data)
    return data


def empty() -> dict[str, Any]:
    return {
        "version": VERSION,
        "lineage": "",
        "serial": 0,
        "tasks": {},
        "clips": {},
        "made": {},
        "made_by": {},
        "uploads": {},
    }


def _by_storyboard(data: dict[str, Any]) -> None:
    """Version 2 to 3: the records of shots made become one storyboard's (EARLIER)."""
    if data["version"] < 3:
        data["made"] = {EARLIER: data["made"]} if data["made"] else {}
        data["made_by"] = {EARLIER: data["made_by"]} if data["made_by"] else {}
        data["version"] = 3


def _upgrade(data: dict[str, Any]) -> None:
    """Bring a version 1 file up to version 2 in memory (written back on the next save)."""
    if data["version"] < 2:
        fresh = "made_by" not in data
        for key in ("tasks", "made", "made_by", "uploads"):
            data.setdefault(key, {})
        if fresh and isinstance(data["made"], dict) and isinstance(data["tasks"], dict):
            # written before clips were kept by provider: each task names its own
            for shot_id, fp in data["made"].items():
                rec = data["tasks"].get(fp)
                provider = rec.get("provider") if isinstance(rec, dict) else None
                if provider:
                    data["made_by"].setdefault(provider, {})[shot_id] = fp
        data["version"] = 2
    data.setdefault("clips", {})


@cache
def _schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_file("state.schema.json").read_text("utf-8"))
    return loaded


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator  # lazy: start-up (only a damaged file)

    return Draft202012Validator(_schema())


def _check(path: Path, data: dict[str, Any]) -> None:
    """Every wrong field of the file, each named (the task, the field) with the fix. A file
    that conforms is told so without importing jsonschema (storyboard.conforms)."""
    if conforms(data, _schema()):
        return
    errors = sorted(_validator().iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if not errors:
        return
    lines = []
    for err in errors[:10]:
        where = ""
        for part in err.absolute_path:
            text = str(part)
            if len(text) == 64 and where.endswith("tasks"):
                text = text[:12]  # a fingerprint: its first 12 characters name it
            where += f"[{part}]" if isinstance(part, int) else (f".{text}" if where else text)
        lines.append(f"{where or '(top)'}: {err.message}")
    more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
    raise _damaged(path, "; ".join(lines) + more)


def _finite(data: Any) -> bool:
    """No float in the parsed file is infinite (walked without recursion)."""
    todo = [data]
    while todo:
        value = todo.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return False
        if isinstance(value, dict):
            todo.extend(value.values())
        elif isinstance(value, list):
            todo.extend(value)
    return True


def _not_a_number(name: str) -> Any:
    raise ValueError(f"{name} is not a number a state file holds")


def _damaged(path: Path, why: str) -> InputError:
    return InputError(
        f"{path} is damaged: {why}",
        hint=(
            "it records the tasks already paid for. Restore it from a backup if you have one, or "
            "correct the field named; otherwise move it aside (mv "
            f"{path} {path}.bad) and render again: clips already in .storyboard/clips are reused, "
            "but shots in flight will be submitted (and paid) again"
        ),
    )
