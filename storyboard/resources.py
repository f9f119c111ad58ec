"""Files installed with the package: the JSON Schema and the prompt templates.

Each folder is the package's own folder on disk, found from its `__init__` (every pip install,
editable or not): importlib.resources, for a package inside a zip file, is imported only then,
as it costs 4-8 ms of every start (zipfile, tempfile) and validate reads the schema each run.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:  # pragma: no cover - Python 3.10
        from importlib.abc import Traversable


def _folder(package: str) -> Traversable:
    found = importlib.import_module(package).__file__  # the folder's __init__, nothing more
    if found is not None and Path(found).parent.is_dir():
        return Path(found).parent
    from importlib.resources import files  # lazy: start-up (only a zipped install needs it)

    return files(package)


def schema_file(name: str = "storyboard.schema.json") -> Traversable:
    return _folder("storyboard.schemas").joinpath(name)


def template_dir() -> Traversable:
    return _folder("storyboard.templates")


def builtin_templates() -> list[str]:
    return sorted(p.name[: -len(".j2")] for p in template_dir().iterdir() if p.name.endswith(".j2"))
