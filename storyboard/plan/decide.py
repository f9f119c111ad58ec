"""Where each shot stands, from the cache and the saved state: no network, nothing heavy.

`plan` and `status` need this and nothing of the executor (whose HTTP stack is slow to load).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from storyboard.plan.compiler import Plan
from storyboard.store.cache import Cache
from storyboard.store.state import State


@dataclass(frozen=True)
class ShotState:
    shot_id: str
    state: str  # made | submitted | failed | uncertain | new | changed
    task_id: str | None
    age_seconds: float | None
    reason: str | None
    fingerprint: str


def shot_states(plan: Plan) -> list[ShotState]:
    """Where each shot of the plan stands, from the cache and the saved state (no network)."""
    sd = plan.storyboard.state_dir
    state = State.load(sd)
    cache = Cache(sd)
    now = time.time()
    out = []
    for sp in plan.shots:
        fp = sp.fingerprint
        rec = state.task(fp) or {}
        task_id = rec.get("task_id")
        if cache.has(fp):
            age = now - cache.path(fp).stat().st_mtime
            out.append(ShotState(sp.id, "made", task_id, age, None, fp))
        elif rec.get("status") in ("submitted", "done"):
            age = now - float(rec.get("submitted_at") or now)
            why = "finished; clip not downloaded yet" if rec["status"] == "done" else None
            out.append(ShotState(sp.id, "submitted", task_id, age, why, fp))
        elif rec.get("status") == "failed":
            age = now - float(rec.get("failed_at") or rec.get("submitted_at") or now)
            out.append(ShotState(sp.id, "failed", task_id, age, rec.get("reason"), fp))
        elif rec.get("status") == "uncertain":
            age = now - float(rec.get("uncertain_at") or now)
            out.append(ShotState(sp.id, "uncertain", None, age, rec.get("reason"), fp))
        elif state.last_made(sp.id, plan.provider.name) not in (None, fp):
            out.append(ShotState(sp.id, "changed", None, None, None, fp))
        else:
            out.append(ShotState(sp.id, "new", None, None, None, fp))
    return out
