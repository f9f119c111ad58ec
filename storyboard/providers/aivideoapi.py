"""aivideoapi (document 003): one shot a request, modes fast/quality/lite, seeds, extension.

    POST /v1/videos/generations  {model: "veo-3", input: {prompt, mode, resolution,
                                  aspect_ratio, generation_type, image_urls?, seeds?}}
                                 {model: "veo-3-extend", input: {prompt, extend_task_id}}
                                 -> {code: 200, msg, data: {taskId}}
    GET  /v1/tasks/{taskId}      {status: pending|processing|completed|failed,
                                  output: {urls: [...]}, error: {code, message}}

Errors are the HTTP status with `{error: {code, message, type}}`. We never send callback_url
(we poll) and leave enable_translation at its default.
"""

from __future__ import annotations

import functools
from typing import Any

import httpx

from storyboard.errors import (
    AuthError,
    CreditsError,
    ProviderError,
    RateLimitError,
    RejectedError,
    TransientError,
)
from storyboard.providers.base import CompiledShot, Cost, HttpRequest, Need, Task, TaskState, TaskStatus
from storyboard.providers.http import (
    HostedProvider,
    as_dict,
    json_body,
    key_variable,
    parse_retry_after,
    protocol_error,
    shots_label,
)

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


class AivideoapiProvider(HostedProvider):
    name = "aivideoapi"
    env = "AIVIDEOAPI"
    default_base_url = "https://api.aivideoapi.ai"
    poll_interval = 10.0

    # plan time -----------------------------------------------------------------------------
    def submit_url(self, shot: CompiledShot) -> str:
        return f"{self.base_url}/v1/videos/generations"

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
            return {"model": "veo-3-extend", "input": ext}, (Need("task_id", s.continues, placeholder),)
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
    def _error(
        self, response: httpx.Response, shot: str | None = None, body_sent: Any = None
    ) -> ProviderError | None:
        if response.is_success:
            return None
        body = json_body(response)
        err = body.get("error") if isinstance(body, dict) else None
        if not isinstance(err, dict):
            return self.http.status_error(response, shot)
        code = str(err.get("code") or "")
        words = self.http.redact(f"{code}: {err.get('message') or ''}".rstrip(": "))
        status = response.status_code
        if code == "invalid_api_key" or status == 401:
            return self.http.auth_error(words)
        if code == "ip_not_allowed" or status == 403:
            var = key_variable(self.env)
            return AuthError(
                f"the key may not be used from this machine's IP address ({words})",
                provider=self.name,
                hint=f"allow this IP for the key, or set {var} to another key",
                status=status,
            )
        if code == "insufficient_credits" or status == 402:
            return CreditsError(
                f"not enough credits{self._needed(body_sent)} ({words})",
                provider=self.name,
                shot=shot,
                hint="see the balance with GET /v1/credits or Dashboard > Billing",
                status=status,
            )
        if code == "spend_limit_exceeded":
            return CreditsError(
                f"the key's spend limit (hourly, daily or total) is reached ({words})",
                provider=self.name,
                shot=shot,
                hint="raise the key's limit in the dashboard, or wait",
                status=status,
            )
        if status == 429:
            return RateLimitError(
                f"rate limited ({words})",
                provider=self.name,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                status=status,
            )
        if status >= 500:
            # upstream_error (503) may also mean the prompt was refused upstream: the words say
            return TransientError(f"server error ({words})", provider=self.name, status=status)
        if code == "invalid_request" or status == 400:
            return RejectedError(
                f"the request was refused ({words})", provider=self.name, shot=shot, status=status
            )
        return ProviderError(words, provider=self.name, shot=shot, status=status)

    @staticmethod
    def _needed(body: Any) -> str:
        """ ": 40 needed" from the request's mode and resolution, where the table has them."""
        inp = body.get("input") if isinstance(body, dict) else None
        if not isinstance(inp, dict):
            return ""
        price = PRICES.get(str(inp.get("mode") or "fast"), {}).get(str(inp.get("resolution") or "720p"))
        return f": {price[0]} needed" if price else ""

    def submit(self, request: HttpRequest) -> dict[str, str]:
        shot = shots_label(request.shots)
        response = self.http.request(
            request.method,
            request.url,
            json=request.body,
            check=lambda r: self._error(r, shot, request.body),
        )
        body = json_body(response)
        data = body.get("data") if isinstance(body, dict) else None
        task_id = data.get("taskId") if isinstance(data, dict) else None
        if isinstance(body, dict) and body.get("code") not in (None, 200):
            raise ProviderError(
                self.http.redact(f"error {body.get('code')}: {body.get('msg')}"),
                provider=self.name,
                shot=shot,
            )
        if not isinstance(task_id, str) or not task_id:
            raise protocol_error(self.http, "no data.taskId in the reply", response, shot)
        return {request.shots[0]: task_id}

    def poll(self, tasks: list[Task]) -> dict[str, TaskStatus]:
        out: dict[str, TaskStatus] = {}
        for task in tasks:
            response = self.http.request(
                "GET", f"/v1/tasks/{task.task_id}", check=functools.partial(self._error, shot=task.shot_id)
            )
            body = json_body(response)
            if not isinstance(body, dict):
                raise protocol_error(self.http, "the task reply is not JSON", response, task.shot_id)
            out[task.task_id] = self._status(body)
        return out

    def _status(self, body: dict[str, Any]) -> TaskStatus:
        state = STATES.get(str(body.get("status") or ""), TaskState.PENDING)
        progress = body.get("progress")
        progress = float(progress) if isinstance(progress, (int, float)) else None
        if state is TaskState.DONE:
            output = as_dict(body.get("output"))
            urls = output.get("urls") or []
            if not urls or not isinstance(urls[0], str):
                return TaskStatus(TaskState.FAILED, reason="completed without output.urls")
            return TaskStatus(TaskState.DONE, url=urls[0], progress=progress)
        if state is TaskState.FAILED:
            err = as_dict(body.get("error"))
            words = ": ".join(str(x) for x in (err.get("code"), err.get("message")) if x)
            return TaskStatus(
                TaskState.FAILED, reason=self.http.redact(words or "generation failed (no reason given)")
            )
        return TaskStatus(state, progress=progress)
