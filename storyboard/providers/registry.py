"""Which providers are installed: every one, built-in or not, is an entry point in the
`storyboard.providers` group (storyboard's own pyproject registers the built-ins), so the
plugin path is the tested path.

    [project.entry-points."storyboard.providers"]
    myname = "mypkg.module:MyProvider"

Finding them reads the `entry_points.txt` of each installed distribution on sys.path, in
the path's order (the first distribution of a name wins, as importlib.metadata does), and
reads the group as configparser would (`_group`). It imports neither importlib.metadata
(that module and what it pulls in, zipfile, email, csv, cost 17-30 ms a start here, more than
the whole scan: about 1 ms for 50 distributions) nor configparser (1-2 ms, for a file of a
few lines), and `validate` and `plan` run on every edit. Zipped
distributions on sys.path are not scanned.

Plugins are isolated from each other and from the tool. Nothing is imported until a name is
used (`get`) or a listing asks every provider (`ask`: "providers that can", help texts). A
plugin whose code raises anything but Ctrl-C (SystemExit at import, a class attribute that
raises, a capability check that fails) is an error only where it is the provider asked for by
name; in a listing it is left out with a warning, said once, naming it and its package. A name
registered twice never displaces a built-in (the entry points of the `storyboard`
distribution); between two other packages the first on sys.path is used, with a warning
naming both. The registry prints nothing: the CLI passes a listener to `reporting`.

Over 400 lines on purpose: finding, loading, checking and blaming a plugin share one rule
(a plugin's failure is its own, said once, never the tool's), which reads best in one place.
"""

from __future__ import annotations

import functools
import inspect
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import import_module
from typing import Any, TypeVar

from storyboard.errors import ConfigError, Problem, ProviderError, Severity
from storyboard.hints import did_you_mean
from storyboard.providers.capabilities import Capabilities
from storyboard.providers.options import OptionProblem, ProviderOptions

# The registry stands under the contract: the contract's default check asks it which other
# providers can make a shot (providers.fit). So it names the contract's class instead of
# importing it, finds it among a loaded class's bases, and hands classes on untyped: its
# callers hold them as `ProviderClass`.
CONTRACT = ("storyboard.providers.base", "Provider")
ProviderClass = Any  # a subclass of storyboard.providers.base.Provider, checked on loading

GROUP = "storyboard.providers"
BUILT_IN = "storyboard"  # the distribution whose entry points are the built-in providers
T = TypeVar("T")
_DIST = re.compile(r"^(?P<name>[^-]+)(?:-[^-]*)?\.(?:dist-info|egg-info)$")


@dataclass(frozen=True)
class Entry:
    name: str  # the provider's name
    target: str  # "module:Class"
    dist: str  # the distribution that registered it

    @property
    def built_in(self) -> bool:
        return self.dist == BUILT_IN

    @property
    def where(self) -> str:
        return f"{self.target}, from the {self.dist} package"


_SECTION = re.compile(r"\[(?P<name>.+)\]")  # configparser's own: `[a] b` is the section "a"


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
            for name, target in _group(text, GROUP) or ():
                found.setdefault(name, []).append(Entry(name, target, dist))
    return {name: tuple(regs) for name, regs in sorted(found.items())}


def _group(text: str, group: str) -> list[tuple[str, str]] | None:
    """The `name = target` lines of one section of an entry_points.txt, as configparser reads
    them with `=` as the only delimiter and names' case kept: whole-line `#`/`;` comments, a
    more indented line continues the value above, [DEFAULT] applies to every section. None for
    a file configparser refuses (a line outside any section or without `=`, an empty name, a
    section or a name given twice), which is skipped whole as before."""
    sections: dict[str, dict[str, str]] = {}
    names: dict[str, str] | None = None
    key: str | None = None  # the name whose value a more indented line continues
    indent = blank = 0  # blank: empty lines since the last line (kept inside a value)
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            blank += not line
            continue
        level = len(raw) - len(raw.lstrip())
        if names is not None and key is not None and level > indent:
            names[key] = (names[key] + "\n" * (blank + 1) + line).strip()
            blank = 0
            continue
        blank = 0
        indent = level
        header = _SECTION.match(line)
        if header:
            if header["name"] in sections:
                return None
            names, key = sections.setdefault(header["name"], {}), None
            continue
        name, equals, value = line.partition("=")
        name = name.strip()
        if names is None or not equals or not name or name in names:
            return None
        names[name], key = value.strip(), name
    if group not in sections:
        return None
    return list({**sections.get("DEFAULT", {}), **sections[group]}.items())


def names() -> list[str]:
    """The installed providers' names, sorted (nothing is imported)."""
    return list(entries())


# warnings: each said once, to whoever listens (the CLI prints them) ---------------------------
_said: dict[tuple[str, str], Problem] = {}
_listeners: list[Callable[[Problem], None]] = []
_lock = threading.Lock()
_left_out: set[str] = set()  # plugins that loaded, then failed a listing's question


@contextmanager
def reporting(listener: Callable[[Problem], None]) -> Iterator[None]:
    """While the block runs, each warning about an installed plugin is passed to `listener`
    when it is found (a warning found earlier in the process is not said again)."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


def warnings() -> list[Problem]:
    """Every warning about installed plugins found so far, in the order found."""
    return list(_said.values())


def _warn(kind: str, name: str, message: str, hint: str | None) -> None:
    with _lock:
        if (kind, name) in _said:
            return
        problem = _said[(kind, name)] = Problem(message, hint=hint, severity=Severity.WARNING)
    for listener in list(_listeners):
        listener(problem)


def reset() -> None:
    """Forget what was found, loaded and said (tests install and remove plugins)."""
    entries.cache_clear()
    _load.cache_clear()
    with _lock:
        _said.clear()
        _left_out.clear()


def _words(e: BaseException) -> str:
    """A plugin's exception in one line: its type and its own words, cut short."""
    text = " ".join(str(e).split())
    text = text if len(text) <= 200 else text[:199] + "…"
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


# choosing and loading ---------------------------------------------------------------------
def _entry(name: str) -> Entry:
    """The registration of `name` that is used: the built-in one if storyboard registers the
    name, else the first on sys.path. Any other is a warning, naming each package."""
    regs = entries()[name]
    chosen = next((e for e in regs if e.built_in), regs[0])
    others = [e for e in regs if e is not chosen]
    if others:
        who = ", ".join(f"{e.dist} ({e.target})" for e in others)
        dists = " and ".join(e.dist for e in others)
        if chosen.built_in:
            _warn(
                "twice",
                name,
                f"the package {who} also registers a provider named {name!r}: "
                f"the built-in {name} is used, not theirs",
                hint=f"uninstall {dists}, or have it register its provider under another name",
            )
        else:
            _warn(
                "twice",
                name,
                f"provider {name!r} is registered by more than one package: {chosen.dist} "
                f"({chosen.target}), {who}; the one from {chosen.dist} is used (the first on sys.path)",
                hint="uninstall one of them",
            )
    return chosen


# What the tool reads of a provider class without an instance; read once when it loads, so
# that a class attribute that raises is found here, not in the middle of someone else's plan.
_CLASS_ATTRIBUTES = (
    "env",
    "default_base_url",
    "needs_key",
    "free",
    "clip_schemes",
    "burns_captions",
    "capabilities",
    "Options",
)


@functools.cache
def _load(name: str) -> ProviderClass | ConfigError:
    """The class registered as `name`, or why it cannot be used (kept: a broken plugin is
    imported once, not once a question)."""
    entry = _entry(name)
    try:
        return _import(entry)
    except ConfigError as e:
        return e
    except KeyboardInterrupt:
        raise
    except BaseException as e:  # a plugin's own code ran: SystemExit included, never for the rest
        return ConfigError(
            f"provider plugin {name!r} ({entry.where}) could not be loaded: {_words(e)}",
            hint=f"reinstall or fix the {entry.dist} package",
        )


def _contract(cls: object) -> type | None:
    """The contract's own class among the bases of `cls`; None when it is no Provider subclass."""
    for base in cls.__mro__ if isinstance(cls, type) else ():
        if (base.__module__, base.__qualname__) == CONTRACT:
            return base
    return None


def _import(entry: Entry) -> ProviderClass:
    name = entry.name
    module_name, _, attr = entry.target.partition(":")
    cls = import_module(module_name)
    for part in attr.split(".") if attr else []:
        cls = getattr(cls, part)
    if _contract(cls) is None:
        raise ConfigError(
            f"provider plugin {name!r} ({entry.where}) is not a Provider subclass",
            hint=f"fix the {entry.dist} package's entry point",
        )
    for attribute in _CLASS_ATTRIBUTES:
        try:
            getattr(cls, attribute)
        except KeyboardInterrupt:
            raise
        except BaseException as e:
            raise ConfigError(
                f"provider plugin {name!r} ({entry.where}) is broken: reading its `{attribute}` "
                f"raised {_words(e)}",
                hint=f"reinstall or fix the {entry.dist} package",
            ) from None
    broken = contract_problems(cls, name)
    if broken:
        raise ConfigError(
            f"provider plugin {name!r} ({entry.where}) does not keep the Provider contract: "
            + "; ".join(broken),
            hint="see the README's section on writing a provider plugin",
        )
    return cls


def contract_problems(cls: ProviderClass, name: str) -> list[str]:
    """What a provider class lacks, in words (empty when it keeps the contract)."""
    contract = _contract(cls)
    if contract is None:
        return ["it is not a Provider subclass"]
    out = []
    if getattr(cls, "name", None) != name:
        out.append(f"its `name` is {getattr(cls, 'name', None)!r}, registered as {name!r}")
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(getattr(cls, "__abstractmethods__", ())))
        out.append(f"it does not implement {missing}")
    for hook in ("submit", "poll"):
        if getattr(cls, hook) is getattr(contract, hook):
            out.append(f"a provider must implement {hook}()")
    if cls.needs_key and not cls.env:
        out.append("a provider that needs a key must set `env` (NAME in NAME_API_KEY)")
    if cls.capabilities is not None and not isinstance(cls.capabilities, Capabilities):
        out.append("its `capabilities` is not a Capabilities (from storyboard.providers.capabilities)")
    if not (isinstance(cls.Options, type) and issubclass(cls.Options, ProviderOptions)):
        out.append("its `Options` is not a ProviderOptions subclass (from storyboard.providers.options)")
    return out


def failure(name: str, error: BaseException) -> ProviderError | None:
    """What to say when the provider in use raised `error` while asked something (at plan
    time: its checks, a shot's request, its price): a ProviderError naming the plugin, the hook
    it failed in and the shot, for the CLI to say plainly (exit 1). None for a built-in (a bug
    of ours) or when no code of the plugin's was running (the error is not its own)."""
    try:
        entry = _entry(name)
    except KeyError:
        return None
    if entry.built_in:
        return None
    package = entry.target.partition(":")[0].split(".")[0]
    hook: str | None = None  # the provider's method we called (maybe one it inherits)
    first: str | None = None  # the outermost function of the plugin's own code
    shot: str | None = None
    tb = error.__traceback__
    while tb is not None:
        frame, tb = tb.tb_frame, tb.tb_next
        own = str(frame.f_globals.get("__name__", "")).split(".")[0] == package
        me = frame.f_locals.get("self")
        asked = _contract(type(me)) is not None and getattr(me, "name", None) == name
        if (asked and hook is None) or (own and first is None):
            if asked and hook is None:
                hook = frame.f_code.co_name
            if own and first is None:
                first = frame.f_code.co_name
            # a shot it was asked about (by its type's name: the registry imports no contract)
            found = (v.id for v in frame.f_locals.values() if type(v).__name__ == "CompiledShot")
            shot = shot or next(found, None)
    if first is None:
        return None  # none of its code ran: not its failure
    hook = hook or first
    what = f" for shot {shot!r}" if shot else ""
    out = ProviderError(
        f"provider plugin {name!r} ({entry.where}) failed in its {hook}(){what} while the plan was "
        f"made: {_words(error)}",
        hint=f"reinstall or fix the {entry.dist} package, or choose another provider with -p",
    )
    out.provider, out.shot = name, shot
    return out


# asked for by name: an error --------------------------------------------------------------
def name_problem(name: str) -> tuple[str, str | None] | None:
    """(message, hint) when no installed provider has this name, else None."""
    known = names()
    if name in known:
        return None
    installed = ", ".join(known) if known else "none (install storyboard with pip: `pip install .`)"
    message = f"unknown provider {name!r}: the installed providers are {installed}"

    return message, did_you_mean(name, known)


def get(name: str) -> ProviderClass:
    """The provider class registered as `name`; ConfigError (never a traceback) when it is
    unknown, cannot be imported, or does not keep the contract."""
    problem = name_problem(name)
    if problem is not None:
        message, hint = problem
        raise ConfigError(message, hint=hint or f"choose one of: {', '.join(names())}")
    got = _load(name)
    if isinstance(got, ConfigError):
        raise ConfigError(got.message, hint=got.hint)  # a new one: a raised error keeps its traceback
    return got


def option_problems(name: str, raw: object) -> list[OptionProblem]:
    """What is wrong with `providers: {name: raw}` in a storyboard: an unknown provider (the
    key), or the provider's own verdict on its options (paths below `providers.<name>`). A
    plugin that cannot say is a warning: its options go unchecked until it is used."""
    problem = name_problem(name)
    if problem is not None:
        return [OptionProblem((), problem[0], problem[1], key=True)]
    for _, found in ask(lambda cls: cls.Options.problems(raw), "checking its options", only=name):
        return found
    return []


# asked of every provider: a broken plugin is left out, with a warning ------------------------
def _usable(name: str) -> ProviderClass | None:
    got = _load(name)
    if isinstance(got, ConfigError):
        _warn("broken", name, f"{got.message}; it is left out", got.hint)
        return None
    return None if name in _left_out else got


def ask(
    question: Callable[[ProviderClass], T], doing: str, *, only: str | None = None
) -> Iterator[tuple[str, T]]:
    """(name, answer) of each installed provider that loads, by name, as the caller goes (a
    caller that stops early loads no more). A plugin that raises anything but Ctrl-C while
    answering (`doing` says what it was asked) is left out of this and every later listing,
    with a warning; a built-in's exception is a bug of ours, and raised."""
    for name in [only] if only is not None else names():
        cls = _usable(name)
        if cls is None:
            continue
        try:
            answer = question(cls)
        except KeyboardInterrupt:
            raise
        except BaseException as e:
            entry = _entry(name)
            if entry.built_in:
                raise
            with _lock:
                _left_out.add(name)
            _warn(
                "broken",
                name,
                f"provider plugin {name!r} ({entry.where}) failed {doing}: {_words(e)}; it is left out",
                hint=f"reinstall or fix the {entry.dist} package",
            )
            continue
        yield name, answer


def classes() -> list[ProviderClass]:
    """Every installed provider that loads, by name (a broken plugin is left out, with a
    warning; asked for by name, it is an error)."""
    return [cls for _, cls in ask(lambda cls: cls, "")]


def example_hosted() -> tuple[str, str]:
    """A hosted provider for help texts and suggestions to name, with its key variable:
    (name, KEY_VARIABLE). The first installed one that needs a key, by name."""
    for name, env in ask(lambda cls: cls.env if not cls.free and cls.needs_key else None, "naming its key"):
        if env:
            return name, f"{env}_API_KEY"
    return "NAME", "NAME_API_KEY"
