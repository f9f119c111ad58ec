"""The loopvid provider: written from the README's "Writing a provider plugin" alone.

loopvid makes 16:9 720p clips from text, or from a first frame given as a public URL; it
takes a seed, and an option of its own, `grain` (0-3), which changes the clip. 7 tokens a clip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storyboard.providers.base import CompiledShot, Cost, HttpRequest, Need, Task, TaskState, TaskStatus
from storyboard.providers.capabilities import Capabilities
from storyboard.providers.hosted import HostedProvider
from storyboard.providers.http import protocol_error
from storyboard.providers.options import ProviderOptions, option
from storyboard.providers.replies import ErrorKind, Reply, Rule, ServiceError, as_dict

PHASES = {
    "queued": TaskState.PENDING,
    "rendering": TaskState.RUNNING,
    "ready": TaskState.DONE,
    "broken": TaskState.FAILED,
}
ERRORS = {
    "KEY_UNKNOWN": Rule(ErrorKind.AUTH),
    "OUT_OF_TOKENS": Rule(ErrorKind.CREDITS, hint="buy tokens at loopvid"),
    "TOO_FAST": Rule(ErrorKind.RATE_LIMIT),
    "NOT_ALLOWED": Rule(ErrorKind.REJECTED, "the scene was refused"),
    "NO_SUCH_CLIP": Rule(ErrorKind.NOT_FOUND, "no such clip"),
    "OVERLOADED": Rule(ErrorKind.UNAVAILABLE),
}


@dataclass(frozen=True)
class LoopvidOptions(ProviderOptions):
    grain: int = option(0, "film grain, from none (0) to heavy (3)", minimum=0, maximum=3)


class LoopvidProvider(HostedProvider):
    name = "loopvid"
    env = "LOOPVID"  # LOOPVID_API_KEY, LOOPVID_BASE_URL
    default_base_url = "https://api.loopvid.example"
    submit_path = "/v2/clips"
    poll_interval = 6.0
    Options = LoopvidOptions
    options: LoopvidOptions
    capabilities = Capabilities(
        aspect_ratios=("16:9",),
        resolutions=("720p",),
        models=("fast",),
        seed=True,
        types=("text", "frames"),
        frame_images=1,
        reference_images=0,
        local_images=False,
        continues=None,
        no_field=("resolution", "model"),
    )
    errors = ERRORS

    # plan time -------------------------------------------------------------------------------
    def shot_body(self, shot: CompiledShot) -> tuple[dict[str, Any], tuple[Need, ...]]:
        self.require(shot)
        s = shot.shot
        body: dict[str, Any] = {"scene": shot.prompt, "frame": "16:9"}
        if s.first is not None and s.first.url:
            body["still"] = s.first.url
        if s.settings.seed is not None:
            body["seed"] = s.settings.seed
        if self.options.grain:
            body["grain"] = self.options.grain
        return body, ()

    def cost(self, shot: CompiledShot) -> Cost:
        return Cost(7)

    # render time -----------------------------------------------------------------------------
    def read_error(self, reply: Reply, sent: Any = None) -> ServiceError | None:
        trouble = reply.body.get("trouble")
        if not isinstance(trouble, dict):
            return None
        return ServiceError(
            str(trouble.get("kind")), str(trouble.get("say") or ""), trouble.get("need"), trouble.get("have")
        )

    def submit(self, request: HttpRequest) -> dict[str, str]:
        shot = request.shots[0]
        reply = self.http.request("POST", request.url, json=request.body, check=self.checker(shot))
        clip_id = as_dict(reply.body.get("clip")).get("id")
        if not isinstance(clip_id, str) or not clip_id:
            raise protocol_error(self.http, "no clip.id in the reply", reply, shot)
        return {shot: clip_id}

    def poll(self, tasks: list[Task]) -> dict[str, TaskStatus]:
        def one(task: Task) -> TaskStatus:
            reply = self.http.request("GET", f"/v2/clips/{task.task_id}", check=self.checker(task.shot_id))
            clip = as_dict(reply.body.get("clip"))
            if not clip:
                raise protocol_error(self.http, "no clip in the reply", reply, task.shot_id)
            state = PHASES.get(str(clip.get("phase")), TaskState.PENDING)
            progress = clip.get("progress")
            return TaskStatus(
                state,
                url=clip.get("href") if state is TaskState.DONE else None,
                reason=str(clip.get("why") or "broken") if state is TaskState.FAILED else None,
                progress=float(progress) if isinstance(progress, (int, float)) else None,
            )

        return self.poll_each(tasks, one)
