"""`status` and `unlock`: the saved state of a storyboard."""

from __future__ import annotations

from pathlib import Path

import click

from storyboard import pipeline
from storyboard.cli.app import _provider_option, cli, say


# status / unlock ------------------------------------------------------------------------------
def _age(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@_provider_option
def status(file: Path, provider: str | None) -> None:
    """Each shot's state: made, submitted (task id and age), failed (reason), or not yet made."""
    from storyboard.plan.decide import shot_states

    sb = pipeline.load(file)
    p = pipeline.make_plan(sb, provider)
    width = max(len(s.id) for s in sb.shots)
    for st in shot_states(p):
        line = f"  {st.shot_id.ljust(width)}  {st.state:<9}"
        if st.task_id:
            line += f" task {st.task_id} {_age(st.age_seconds)}"
        if st.reason:
            line += f" reason: {st.reason}"
        say(line)


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Remove the lock even if its owner seems alive.")
def unlock(file: Path, force: bool) -> None:
    """Clear a stale lock left by a render that died."""
    from storyboard.store.lock import clear_lock

    sb = pipeline.load(file)
    info = clear_lock(sb.state_dir, force=force)
    if info is None:
        say(f"{file!s} was not locked")
    else:
        say(f"unlocked {file!s} (the lock of {info.describe()})")
