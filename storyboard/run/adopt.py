"""Attach a task id found on the service's dashboard to a shot whose request's answer was lost.

An uncertain shot (its request went out, its answer never came) may well be running at the
service, paid for. `adopt` records the task id the user found there, after one status request
shows the service knows it, so the next render polls and downloads it instead of paying again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from storyboard.errors import ConfigError, ProviderError, TaskNotFound
from storyboard.plan.compiler import Plan
from storyboard.plan.decide import Action, decide
from storyboard.providers.base import Task, TaskStatus
from storyboard.secrets import Redactor
from storyboard.store.cache import Cache
from storyboard.store.layout import Layout
from storyboard.store.lock import acquire
from storyboard.store.state import State


@dataclass(frozen=True)
class Adopted:
    shot_id: str
    task: Task
    status: TaskStatus  # what the service said of it
    was: Action  # what the render would have done before


def adopt(plan: Plan, shot_id: str, task_id: str, *, force: bool = False) -> Adopted:
    """Record `task_id` as the shot's submitted task; the next render resumes it.

    Refused for a shot that is not uncertain unless `force` (attaching another task to a shot
    that is made or in flight would throw away what it has); the task id is checked with one
    status request first, and refused if the service does not know it."""
    try:
        sp = plan.shot(shot_id)
    except KeyError:
        raise ConfigError(
            f"no shot {shot_id!r} in {plan.storyboard.path.name}",
            hint="shots: " + ", ".join(s.key for s in plan.entries),
        ) from None
    provider = sp.maker  # the shot's own: a film's shots may go to several
    task_id = task_id.strip()
    why = provider.task_id_problem(task_id)  # what the service issues; never a control
    if why is not None:
        raise ConfigError(
            f"{task_id[:80]!r} is not a task id of {provider.name}: {why}",
            hint="copy the task id as the service gave it (its dashboard, or the render's message)",
        )
    sb = plan.storyboard
    redactor = Redactor([provider.api_key])
    with acquire(sb.state_dir, "storyboard adopt", storyboard=sb.path) as lock:
        state = State.of(sb, lock=lock)
        state.redactor = redactor
        was = decide(plan, state, Cache(sb.state_dir))[shot_id]
        if was.action is not Action.UNCERTAIN and not force:
            raise ConfigError(
                f"shot {shot_id!r} is not uncertain ({was.action.value}: {was.reason}): nothing to adopt",
                hint="adopt attaches a task id to a shot whose request's answer was lost; "
                "--force attaches it anyway, replacing what the shot has",
            )
        extra = dict(provider.task_extra(sp.compiled))
        task = Task(sp.id, task_id, provider.name, sp.fingerprint, time.time(), extra)
        provider.workdir = Layout(sb.state_dir).provider(provider.name)
        try:
            status = provider.poll([task]).get(task_id)
        except TaskNotFound as e:
            raise ConfigError(
                redactor.redact(f"{provider.name} has no task {task_id!r}: {e.reason}"),
                hint="check the task id on the service's dashboard (and -p for another provider)",
            ) from None
        except Exception as e:  # no answer about it: record nothing
            words = e.reason if isinstance(e, ProviderError) else f"{type(e).__name__}: {e}"
            raise ProviderError(
                redactor.redact(f"could not check task {task_id!r}: {words}"),
                provider=provider.name,
                hint="nothing was recorded; try again when the service answers",
            ) from None
        finally:
            provider.close()
        if status is None:
            raise ConfigError(
                f"{provider.name} did not report on task {task_id!r}: nothing was recorded",
                hint="check the task id on the service's dashboard",
            )
        state.record_submitted([task], adopted=True)
    return Adopted(shot_id, task, status, was.action)
