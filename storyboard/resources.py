"""Files installed with the package: the JSON Schema and the prompt templates."""

from __future__ import annotations

import sys
from importlib.resources import files

if sys.version_info >= (3, 11):
    from importlib.resources.abc import Traversable
else:  # pragma: no cover - Python 3.10
    from importlib.abc import Traversable


def schema_file(name: str = "storyboard.schema.json") -> Traversable:
    return files("storyboard.schemas").joinpath(name)


def template_dir() -> Traversable:
    return files("storyboard.templates")


def builtin_templates() -> list[str]:
    return sorted(p.name[: -len(".j2")] for p in template_dir().iterdir() if p.name.endswith(".j2"))
