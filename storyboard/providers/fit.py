"""Whether a shot fits a provider, and which other installed providers it fits: the
capability rules (capabilities.issues) as located Problems, each naming who can. Asking every
installed provider is the registry's, so this sits above it, and `base` (the default `check`)
above this."""

from __future__ import annotations

from typing import Any

from storyboard.board.model import Shot
from storyboard.errors import Problem, Severity
from storyboard.providers import registry
from storyboard.providers.capabilities import Capabilities, issues, words
from storyboard.providers.values import CompiledShot

# a provider that cannot make the shot's kind at all, or take its images as they are given
# (a file, a link), is no answer to any of its other issues
STRUCTURAL = frozenset({"type", "continues", "last_frame", "local_image", "url_image"})


def who_can(key: str, shot: Shot, besides: str = "") -> list[str]:
    """The installed providers (other than `besides`) with no issue of this kind for the shot,
    and able to make a shot of its kind (frames, references, continuing)."""

    def can(cls: Any) -> bool:  # a provider class, as the registry loaded it
        c = cls.capabilities
        if c is None or cls.name == besides:
            return False
        found = issues(cls.name, c, shot)
        return not any(i.key == key or (i.key in STRUCTURAL and not i.warning) for i in found)

    return [name for name, yes in registry.ask(can, "checking what it can do for a shot") if yes]


def _message(shot: Shot, reason: str, can: list[str]) -> str:
    who = f"providers that can: {words(can)}" if can else "no provider can"
    return f"shot {shot.id!r}: {reason}; {who}"


def problems(name: str, c: Capabilities | None, compiled: CompiledShot) -> list[Problem]:
    """`issues` as Problems: where, which field, why, who can, how to fix. Warnings say who
    takes what was ignored in their hint."""
    shot = compiled.shot
    if c is None:
        return []
    out = []
    for i in issues(name, c, shot):
        path = f"shots[{shot.index}].{i.path}"
        if i.warning:
            can = who_can(i.key, shot, besides=name)
            hint = f"{i.hint}; providers that take one: {words(can)}" if can else i.hint
            out.append(Problem(i.reason, path, compiled.location, hint, Severity.WARNING))
            continue
        message = _message(shot, i.reason, who_can(i.key, shot, besides=name))
        out.append(Problem(message, path, compiled.location, i.hint))
    return out


def batch_problems(
    name: str, c: Capabilities | None, requests: list[list[CompiledShot]], hint: str
) -> list[Problem]:
    """Rules about the shots of one request together: a resolution made only in a request of
    one shot, in a request of several (`requests`: the shots of each request, as the
    provider groups them; `hint`: how to send fewer a request)."""
    if c is None or not c.single_shot_resolutions:
        return []
    out = []
    for group in requests:
        if len(group) < 2:
            continue
        for compiled in group:
            shot = compiled.shot
            res = shot.settings.resolution
            if res not in c.single_shot_resolutions:
                continue
            reason = (
                f"{name} makes {res} clips only in a request with a single shot, and it "
                f"sends this one in a request of {len(group)} shots"
            )
            out.append(
                Problem(
                    _message(shot, reason, who_can("resolution", shot, besides=name)),
                    path=f"shots[{shot.index}].resolution",
                    location=compiled.location,
                    hint=f"set resolution: 720p for every shot, or {hint}",
                )
            )
    return out
