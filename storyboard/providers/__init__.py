"""The provider registry: built-ins, plus plugins from the `storyboard.providers` entry points.

A new provider is one module holding a `Provider` subclass (see base.py) registered here or,
from another package, as an entry point: `[project.entry-points."storyboard.providers"]
myname = "mypkg.module:MyProvider"`.
"""

from __future__ import annotations

from importlib import import_module

from storyboard.errors import ConfigError
from storyboard.providers.base import Provider

BUILTIN = {
    "preview": "storyboard.providers.preview.provider:PreviewProvider",
    "veo3o1": "storyboard.providers.veo3o1:Veo3o1Provider",
    "nanophoto": "storyboard.providers.nanophoto:NanophotoProvider",
    "aivideoapi": "storyboard.providers.aivideoapi:AivideoapiProvider",
    "kie": "storyboard.providers.kie:KieProvider",
}


def _plugins() -> dict[str, str]:
    from importlib.metadata import entry_points  # only when a name is not built in: it is slow

    return {ep.name: ep.value for ep in entry_points(group="storyboard.providers")}


def names() -> list[str]:
    return list(dict.fromkeys([*BUILTIN, *_plugins()]))


def get(name: str) -> type[Provider]:
    target = BUILTIN.get(name) or _plugins().get(name)  # built-ins first, without a lookup
    if target is None:
        raise ConfigError(f"unknown provider {name!r}", hint="choose one of: " + ", ".join(names()))
    module_name, _, attr = target.partition(":")
    cls = getattr(import_module(module_name), attr)
    if not (isinstance(cls, type) and issubclass(cls, Provider)):
        raise ConfigError(f"provider plugin {name!r} ({target}) is not a Provider subclass")
    return cls
