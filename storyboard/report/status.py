"""Where each shot stands, for the page: the one place that reads plan/decide, so that when
its interface changes only this function follows it."""

from __future__ import annotations

from storyboard import pipeline
from storyboard.report.model import Status


def shot_status(plan: pipeline.Plan) -> dict[str, Status]:
    """Each shot's state and what a render would do about it, by shot id (no network)."""
    from storyboard.plan.decide import shot_states

    view = {v.id: v for v in pipeline.plan_view(plan)}
    return {
        st.shot_id: Status(
            state=st.state, symbol=view[st.shot_id].symbol, task_id=st.task_id, reason=st.reason
        )
        for st in shot_states(plan)
    }
