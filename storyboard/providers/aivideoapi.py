"""aivideoapi (document 003): one shot a request, modes fast/quality/lite, seeds, extension.

    POST /v1/videos/generations  {model: "veo-3", input: {prompt, mode, resolution,
                                  aspect_ratio, generation_type, image_urls?, seeds?}}
                                 {model: "veo-3-extend", input: {prompt, extend_task_id}}
                                 -> {code: 200, msg, data: {taskId}}
    GET  /v1/tasks/{taskId}      {status: pending|processing|completed|failed,
                                  output: {urls: [...]}, error: {code, message}}

Errors are the HTTP status with `{error: {code, message, type}}`; task_not_found (404) is
the documented "no such task". We never send callback_url (we poll) and leave
enable_translation at its default.
"""

from __future__ import annotations

from typing import Any

from storyboard.errors import ProviderError
from storyboard.money import PriceSource
from storyboard.providers.base import (
    CompiledShot,
    Cost,
    HttpRequest,
    Need,
    NeedKind,
    Task,
    TaskState,
    TaskStatus,
)
from storyboard.providers.capabilities import Capabilities
from storyboard.providers.hosted import HostedProvider
from storyboard.providers.http import protocol_error, segment, shots_label
from storyboard.providers.replies import ErrorKind, Reply, Rule, ServiceError, as_dict, first, link

ASPECT = {"16:9": "16:9", "9:16": "9:16", "auto": "Auto"}
GENERATION_TYPE = {
    "text": "TEXT_2_VIDEO",
    "frames": "FIRST_AND_LAST_FRAMES_2_VIDEO",
    "reference": "REFERENCE_2_VIDEO",
}
# (credits, USD) a clip by mode and resolution, from the document's price table
PRICES: dict[str, dict[str, tuple[int, float]]] = {
    "fast": {"720p": (40, 0.20), "1080p": (50, 0.25), "4k": (120, 0.60)},
    "quality": {"720p": (300, 1.50), "1080p": (310, 1.55), "4k": (380, 1.90)},
    "lite": {"720p": (20, 0.10), "1080p": (30, 0.15), "4k": (100, 0.50)},
}
STATES = {
    "pending": TaskState.PENDING,
    "processing": TaskState.RUNNING,
    "completed": TaskState.DONE,
    "failed": TaskState.FAILED,
}


def task_placeholder(parent: str) -> str:
    return f"<task:{parent}>"


ERRORS = {
    "invalid_request": Rule(ErrorKind.REJECTED),
    "invalid_api_key": Rule(ErrorKind.AUTH),
    "insufficient_credits": Rule(
        ErrorKind.CREDITS, hint="see the balance with GET /v1/credits or Dashboard > Billing"
    ),
    "ip_not_allowed": Rule(
        ErrorKind.AUTH,
        "the key may not be used from this machine's IP address",
        hint="allow this IP for the key, or set {var} to another key",
    ),
    "model_not_found": Rule(ErrorKind.REJECTED, "the model is unknown or retired"),
    "task_not_found": Rule(ErrorKind.NOT_FOUND, "no such task"),
    "rate_limit_exceeded": Rule(ErrorKind.RATE_LIMIT),
    "spend_limit_exceeded": Rule(
        ErrorKind.CREDITS,
        "the key's spend limit (hourly, daily or total) is reached",
        hint="raise the key's limit in the dashboard, or wait",
    ),
    "internal_error": Rule(ErrorKind.UNAVAILABLE),
    # may also mean the prompt was refused upstream: the service's words say which
    "upstream_error": Rule(ErrorKind.UNAVAILABLE),
}


class AivideoapiProvider(HostedProvider):
    name = "aivideoapi"
    env = "AIVIDEOAPI"
    default_base_url = "https://api.aivideoapi.ai"
    submit_path = "/v1/videos/generations"
    # the price table of document 003, which carries no date
    price_source = PriceSource.document("aivideoapi's API document 003_8b5b1044ae10ad8f.txt")
    poll_interval = 10.0
    capabilities = Capabilities(
        aspect_ratios=("16:9", "9:16", "auto"),
        resolutions=("720p", "1080p", "4k"),
        models=("fast", "quality", "lite"),
        seed=True,
        types=("text", "frames", "reference"),
        frame_images=2,
        reference_images=3,
        local_images=False,
        continues="extend",
        reference_models=("fast",),
        reference_aspects=("16:9", "9:16"),
        extend_seed=True,  # the input object (seeds among its fields) serves both models
    )
    errors = ERRORS

    # plan time -----------------------------------------------------------------------------
    def shot_body(self, shot: CompiledShot) -> tuple[dict[str, Any], tuple[Need, ...]]:
        self.require(shot)
        s = shot.shot
        if s.continues:
            placeholder = task_placeholder(s.continues)
            # the input table serves both models: mode keeps the price the plan showed
            ext: dict[str, Any] = {
                "prompt": shot.prompt,
                "extend_task_id": placeholder,
                "mode": s.settings.model,
            }
            if s.settings.seed is not None:
                ext["seeds"] = s.settings.seed
            return {"model": "veo-3-extend", "input": ext}, (
                Need(NeedKind.TASK_ID, s.continues, placeholder),
            )
        settings = s.settings
        inp: dict[str, Any] = {
            "prompt": shot.prompt,
            "mode": settings.model,
            "resolution": settings.resolution,
            "aspect_ratio": ASPECT[settings.aspect_ratio],
            "generation_type": GENERATION_TYPE[s.kind],
        }
        urls = [a.url for a in s.images if a.url]
        if urls:
            inp["image_urls"] = urls
        if settings.seed is not None:
            inp["seeds"] = settings.seed
        return {"model": "veo-3", "input": inp}, ()

    def cost(self, shot: CompiledShot) -> Cost:
        # an extension has no price of its own in the document: priced as a generation
        settings = shot.shot.settings
        credits, usd = PRICES[settings.model][settings.resolution]
        return Cost(credits, usd)

    # render time ---------------------------------------------------------------------------
    def read_error(self, reply: Reply, sent: Any = None) -> ServiceError | None:
        if reply.is_success:
            return None
        err = reply.body.get("error")
        if not isinstance(err, dict):
            return None  # not the service's body: the HTTP status decides
        code = str(err.get("code") or "")
        needed = self._needed(sent) if code == "insufficient_credits" or reply.status_code == 402 else None
        return ServiceError(code or reply.status_code, str(err.get("message") or ""), needed)

    @staticmethod
    def _needed(body: Any) -> int | None:
        """What the request's mode and resolution cost, where the table has them."""
        inp = as_dict(as_dict(body).get("input"))
        price = PRICES.get(str(inp.get("mode") or "fast"), {}).get(str(inp.get("resolution") or "720p"))
        return price[0] if price else None

    def submit(self, request: HttpRequest) -> dict[str, str]:
        shot = shots_label(request.shots)
        reply = self.http.request(
            request.method, request.url, json=request.body, check=self.checker(shot, request.body)
        )
        body = reply.body
        if body.get("code") not in (None, 200):
            raise ProviderError(f"error {body.get('code')}: {body.get('msg')}", provider=self.name, shot=shot)
        task_id = as_dict(body.get("data")).get("taskId")
        if not isinstance(task_id, str) or not task_id:
            raise protocol_error(self.http, "no data.taskId in the reply", reply, shot)
        return {request.shots[0]: task_id}

    def poll(self, tasks: list[Task]) -> dict[str, TaskStatus]:
        def one(task: Task) -> TaskStatus:
            reply = self.http.request(
                "GET", f"/v1/tasks/{segment(task.task_id)}", check=self.checker(task.shot_id)
            )
            if not isinstance(reply.data, dict):
                raise protocol_error(self.http, "the task reply is not JSON", reply, task.shot_id)
            return self._status(reply.data)

        return self.poll_each(tasks, one)

    def _status(self, body: dict[str, Any]) -> TaskStatus:
        state = STATES.get(str(body.get("status") or ""), TaskState.PENDING)
        progress = body.get("progress")
        progress = float(progress) if isinstance(progress, (int, float)) else None
        if state is TaskState.DONE:
            url = link(first(as_dict(body.get("output")).get("urls")))
            return TaskStatus(TaskState.DONE, url=url, progress=progress)
        if state is TaskState.FAILED:
            err = as_dict(body.get("error"))
            words = ": ".join(str(x) for x in (err.get("code"), err.get("message")) if x)
            return TaskStatus(TaskState.FAILED, reason=words or "generation failed (no reason given)")
        return TaskStatus(state, progress=progress)
