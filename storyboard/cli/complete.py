"""Shell completion of what a storyboard's state holds: the takes made of a shot
(`select FILE SHOT <Tab>`) and `SHOT@K` for `--force`.

The parameter types below are all a command imports; the storyboard is read, and the decision
render would take asked (plan.decide: which takes have a clip in the cache), only when a Tab
asks, so start-up and `--help` load none of it. The decision checks clips by size, not by hash:
about a quarter of a second for a small storyboard. Completion never fails loudly: a file
that does not load completes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem

from storyboard.cli.app import _file_in_words, complete_shots

MAX_TAKES = 8  # `select` and `--takes` take 1 to 8


def takes_made(file: Path, provider: str | None = None) -> dict[str, list[tuple[int, str, bool]]]:
    """{shot id: [(take, its key, the cut's?)]} for every take whose clip is made (by `provider`,
    or the storyboard's own), in take order; {} when the file does not load."""
    try:
        from storyboard import pipeline  # lazy: only when a Tab asks
        from storyboard.plan.decide import Action  # lazy: only when a Tab asks

        plan = pipeline.make_plan(pipeline.load(file, provider), provider, takes=MAX_TAKES)
        decisions = pipeline.decide(plan)
    except Exception:  # a broken file, a provider not installed: nothing to offer
        return {}
    made: dict[str, list[tuple[int, str, bool]]] = {}
    for d in decisions:
        if d.action is Action.CACHED:
            made.setdefault(d.shot.id, []).append((d.shot.take, d.shot_id, d.shot.selected))
    return {shot: sorted(takes) for shot, takes in made.items()}


def _file(ctx: click.Context) -> Path | None:
    file = ctx.params.get("file") or _file_in_words()
    return Path(file) if file else None


class TakeNumber(click.IntRange):
    """A take of the shot before it (1 to 8); Tab offers the takes made of that shot."""

    def __init__(self) -> None:
        super().__init__(1, MAX_TAKES)

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        file, shot = _file(ctx), ctx.params.get("shot")
        if file is None or not shot:
            return []
        return [
            CompletionItem(str(take), help="made, the cut's" if selected else "made: nothing to pay")
            for take, _, selected in takes_made(file).get(shot, [])
            if str(take).startswith(incomplete)
        ]


class ShotKey(click.ParamType):
    """A shot's id, or SHOT@K for its take K (checked against the plan, which knows the takes)."""

    name = "shot"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        return str(value)

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        shots = complete_shots(ctx, param, "")  # the ids from the YAML alone, in file order
        shots = [s for s in shots if str(s.value).startswith(incomplete.split("@")[0])]
        file = _file(ctx)  # the decision only when a shot is left to offer the takes of
        made = takes_made(file, ctx.params.get("provider")) if file is not None and shots else {}
        offered = []
        for item in shots:
            offered.append(item)
            offered += [  # the cut's take is the shot's own id
                CompletionItem(key, help=f"take {take}, made")
                for take, key, selected in made.get(item.value, [])
                if not selected
            ]
        return [item for item in offered if str(item.value).startswith(incomplete)]
