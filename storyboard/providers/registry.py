"""Which providers are installed: every one, built-in or not, is an entry point in the
`storyboard.providers` group (storyboard's own pyproject registers the built-ins), so the
plugin path is the tested path.

    [project.entry-points."storyboard.providers"]
    myname = "mypkg.module:MyProvider"

Finding them reads the `entry_points.txt` of each installed distribution on sys.path, in
the path's order (the first distribution of a name wins, as importlib.metadata does), and
parses the group with configparser. It does not import importlib.metadata: that module and
what it pulls in (zipfile, email, csv) cost 17-30 ms a start here, more than the whole scan
(about 1 ms for 50 distributions), and `validate` and `plan` run on every edit. Zipped
distributions on sys.path are not scanned. Nothing is imported until a provider is asked for.
"""

from __future__ import annotations

import functools
import inspect
import os
import re
import sys
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

from storyboard.errors import ConfigError

if TYPE_CHECKING:
    from storyboard.providers.base import Provider
    from storyboard.providers.options import OptionProblem

GROUP = "storyboard.providers"
_DIST = re.compile(r"^(?P<name>[^-]+)(?:-[^-]*)?\.(?:dist-info|egg-info)$")


@dataclass(frozen=True)
class Entry:
    name: str  # the provider's name
    target: str  # "module:Class"
    dist: str  # the distribution that registered it


def _normalise(dist: str) -> str:
    return re.sub(r"[-_.]+", "-", dist).lower()


@functools.cache
def entries() -> dict[str, tuple[Entry, ...]]:
    """Every registration of a provider, by name (more than one entry is a conflict)."""
    seen: set[str] = set()
    found: dict[str, list[Entry]] = {}
    for folder in sys.path:
        try:
            listing = sorted(os.scandir(folder or "."), key=lambda d: d.name)
        except OSError:
            continue
        for item in listing:
            m = _DIST.match(item.name)
            if m is None or not item.is_dir():
                continue
            dist = _normalise(m.group("name"))
            if dist in seen:
                continue
            seen.add(dist)
            try:
                with open(os.path.join(item.path, "entry_points.txt"), encoding="utf-8") as f:
                    text = f.read()
            except OSError:
                continue
            if GROUP not in text:
                continue
            import configparser  # only when a distribution registers providers

            parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
            parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep names' case
            try:
                parser.read_string(text)
            except configparser.Error:
                continue
            if parser.has_section(GROUP):
                for name, target in parser.items(GROUP):
                    found.setdefault(name.strip(), []).append(Entry(name.strip(), target.strip(), dist))
    return {name: tuple(regs) for name, regs in sorted(found.items())}


def names() -> list[str]:
    """The installed providers' names, sorted."""
    return list(entries())


def example_hosted() -> tuple[str, str]:
    """A hosted provider for help texts and suggestions to name, with its key variable:
    (name, KEY_VARIABLE). The first installed one that needs a key, by name."""
    for name in names():
        try:
            cls = get(name)
        except ConfigError:  # a broken plugin must not break a help text
            continue
        if not cls.local and cls.needs_key:
            return name, f"{cls.env}_API_KEY"
    return "NAME", "NAME_API_KEY"


def name_problem(name: str) -> tuple[str, str | None] | None:
    """(message, hint) when no installed provider has this name, else None."""
    known = names()
    if name in known:
        return None
    installed = ", ".join(known) if known else "none (install storyboard with pip: `pip install .`)"
    message = f"unknown provider {name!r}: the installed providers are {installed}"
    from storyboard.spec.schema import did_you_mean  # only for a wrong name: it loads jsonschema

    return message, did_you_mean(name, known)


def option_problems(name: str, raw: object) -> list[OptionProblem]:
    """What is wrong with `providers: {name: raw}` in a storyboard: an unknown provider (the
    key), or the provider's own verdict on its options (paths below `providers.<name>`)."""
    from storyboard.providers.options import OptionProblem

    problem = name_problem(name)
    if problem is not None:
        return [OptionProblem((), problem[0], problem[1], key=True)]
    try:
        cls = _load(name)
    except ConfigError as e:
        return [OptionProblem((), e.message, e.hint, key=True)]
    return cls.Options.problems(raw)


def get(name: str) -> type[Provider]:
    """The provider class registered as `name`; ConfigError (never a traceback) when it is
    unknown, registered twice, cannot be imported, or does not keep the contract."""
    problem = name_problem(name)
    if problem is not None:
        message, hint = problem
        raise ConfigError(message, hint=hint or f"choose one of: {', '.join(names())}")
    return _load(name)


@functools.cache
def _load(name: str) -> type[Provider]:
    from storyboard.providers.base import Provider

    regs = entries()[name]
    if len(regs) > 1:
        who = ", ".join(f"{e.dist} ({e.target})" for e in regs)
        raise ConfigError(
            f"provider {name!r} is registered by more than one package: {who}",
            hint="uninstall one of them",
        )
    entry = regs[0]
    module_name, _, attr = entry.target.partition(":")
    try:
        cls = import_module(module_name)
        for part in attr.split(".") if attr else []:
            cls = getattr(cls, part)
    except Exception as e:  # a broken plugin is the user's to fix, with its own words
        raise ConfigError(
            f"provider plugin {name!r} ({entry.target}, from {entry.dist}) could not be loaded: "
            f"{type(e).__name__}: {e}",
            hint=f"reinstall or fix the {entry.dist} package",
        ) from None
    if not (isinstance(cls, type) and issubclass(cls, Provider)):
        raise ConfigError(f"provider plugin {name!r} ({entry.target}) is not a Provider subclass")
    broken = contract_problems(cls, name)
    if broken:
        raise ConfigError(
            f"provider plugin {name!r} ({entry.target}) does not keep the Provider contract: "
            + "; ".join(broken),
            hint="see the README's section on writing a provider plugin",
        )
    return cls


def contract_problems(cls: type[Provider], name: str) -> list[str]:
    """What a provider class lacks, in words (empty when it keeps the contract)."""
    from storyboard.providers.base import Provider

    out = []
    if getattr(cls, "name", None) != name:
        out.append(f"its `name` is {getattr(cls, 'name', None)!r}, registered as {name!r}")
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(getattr(cls, "__abstractmethods__", ())))
        out.append(f"it does not implement {missing}")
    if cls.local:
        if cls.render is Provider.render:
            out.append("a local provider must implement render()")
    else:
        for hook in ("submit", "poll"):
            if getattr(cls, hook) is getattr(Provider, hook):
                out.append(f"a hosted provider must implement {hook}()")
        if cls.needs_key and not cls.env:
            out.append("a provider that needs a key must set `env` (NAME in NAME_API_KEY)")
    return out


def classes() -> list[type[Provider]]:
    """Every installed provider that loads, by name (a broken plugin is left out here; it is
    reported when it is asked for by name)."""
    out = []
    for name in names():
        try:
            out.append(_load(name))
        except ConfigError:
            continue
    return out
