"""A provider's own options, as a storyboard gives them: `providers: {nanophoto: {batch: 21}}`.

A provider declares them as a frozen dataclass subclass of `ProviderOptions` (set as its
`Options` class attribute), each field typed (bool, int, float or str) with a default, and
described with `option(...)`:

    @dataclass(frozen=True)
    class NanophotoOptions(ProviderOptions):
        batch: int = option(1, "shots a request", minimum=1, maximum=21, fingerprint=False)

`ProviderOptions.problems(raw)` lists what is wrong with what a storyboard wrote (an unknown
option with did-you-mean, a value of the wrong type or out of range), each with its path
below the provider's mapping; `parse(raw)` makes the typed options or raises ConfigError.
An option with `fingerprint=True` changes what is generated, so its value is part of every
shot's fingerprint; one that only changes how it is asked for (batching) is not.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from storyboard.errors import ConfigError

OptionsT = TypeVar("OptionsT", bound="ProviderOptions")

_TYPE_WORDS = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}


def option(
    default: Any,
    help: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: tuple[Any, ...] | None = None,
    fingerprint: bool = True,
) -> Any:
    """A declared option: its default, what it does, its bounds, and whether it changes what
    is generated (then it is part of the fingerprint)."""
    meta = {
        "help": help,
        "minimum": minimum,
        "maximum": maximum,
        "choices": choices,
        "fingerprint": fingerprint,
    }
    return dataclasses.field(default=default, metadata=meta)


@dataclass(frozen=True)
class OptionProblem:
    path: tuple[str, ...]  # below `providers.<name>`: () for the mapping itself, (option,)
    message: str
    hint: str | None = None
    key: bool = False  # the problem is the key (an unknown option), not its value


@dataclass(frozen=True)
class ProviderOptions:
    """No options: the default for a provider that declares none."""

    @classmethod
    def declared(cls) -> dict[str, tuple[type, dataclasses.Field[Any]]]:
        hints = typing.get_type_hints(cls)
        return {f.name: (hints[f.name], f) for f in dataclasses.fields(cls)}

    @classmethod
    def problems(cls, raw: Any) -> list[OptionProblem]:
        if raw is None:
            return []
        declared = cls.declared()
        if not isinstance(raw, Mapping):
            return [OptionProblem((), f"options are a mapping of name: value, not {_what(raw)}")]
        out: list[OptionProblem] = []
        for name, value in raw.items():
            if name not in declared:
                known = ", ".join(declared) if declared else "none"
                import difflib  # lazy: start-up (only for a misspelt name)

                close = difflib.get_close_matches(str(name), list(declared), n=1, cutoff=0.6)
                out.append(
                    OptionProblem(
                        (str(name),),
                        f"there is no option {name!r} (options: {known})",
                        f"did you mean {close[0]!r}?" if close else None,
                        key=True,
                    )
                )
                continue
            kind, spec = declared[name]
            why = _value_problem(kind, spec, value)
            if why:
                out.append(OptionProblem((str(name),), why, _describe(kind, spec)))
        return out

    @classmethod
    def parse(cls: type[OptionsT], raw: Any, provider: str = "") -> OptionsT:
        if isinstance(raw, cls):
            return raw
        problems = cls.problems(raw)
        if problems:
            where = f"providers.{provider}" if provider else "options"
            lines = "; ".join(f"{'.'.join((where, *p.path))}: {p.message}" for p in problems)
            raise ConfigError(lines, hint=problems[0].hint)
        return cls(**dict(raw or {}))

    def fingerprinted(self) -> dict[str, Any]:
        """The options that change what is generated, by name (part of the fingerprint)."""
        return {
            f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.metadata.get("fingerprint")
        }

    @classmethod
    def help(cls) -> dict[str, str]:
        """Each option with what it takes, for documentation and messages."""
        return {name: _describe(kind, spec) for name, (kind, spec) in cls.declared().items()}


def _what(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    return "nothing" if value is None else type(value).__name__


def _value_problem(kind: type, spec: dataclasses.Field[Any], value: Any) -> str | None:
    ok = (
        isinstance(value, bool)
        if kind is bool
        else isinstance(value, int) and not isinstance(value, bool)
        if kind is int
        else isinstance(value, (int, float)) and not isinstance(value, bool)
        if kind is float
        else isinstance(value, kind)
    )
    if not ok:
        return f"expected {_TYPE_WORDS.get(kind, kind.__name__)}, not {_what(value)}"
    meta = spec.metadata
    if meta.get("choices") is not None and value not in meta["choices"]:
        return f"{value!r} is not one of {', '.join(map(str, meta['choices']))}"
    if meta.get("minimum") is not None and value < meta["minimum"]:
        return f"{value} is below the least allowed, {meta['minimum']:g}"
    if meta.get("maximum") is not None and value > meta["maximum"]:
        return f"{value} is above the most allowed, {meta['maximum']:g}"
    return None


def _describe(kind: type, spec: dataclasses.Field[Any]) -> str:
    meta = spec.metadata
    text = f"{meta.get('help') or spec.name}: {_TYPE_WORDS.get(kind, kind.__name__)}"
    lo, hi = meta.get("minimum"), meta.get("maximum")
    if lo is not None and hi is not None:
        text += f" from {lo:g} to {hi:g}"
    elif lo is not None:
        text += f", at least {lo:g}"
    elif hi is not None:
        text += f", at most {hi:g}"
    if meta.get("choices") is not None:
        text += f", one of {', '.join(map(str, meta['choices']))}"
    return f"{text}; default {spec.default!r}"
