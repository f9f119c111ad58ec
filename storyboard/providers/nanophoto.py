"""nanophoto (document 002): every shot of a storyboard in one request; URLs only.

    POST /api/veo-3/generate      {shots: [{id, prompt, generationType, aspectRatio,
                                   imageUrls?}] (1-21), resolution: 720p|1080p|4k}
                                  -> {status, shots: [{shotId, taskId, status}], creditsUsed}
    POST /api/veo-3/check-status  {taskIds: [{shotId, taskId}], resolution}
                                  -> {status, shots: [{shotId, taskId, status, videoUrl?, error?}]}

1080p and 4k only for a request with one shot; 10/14/30 credits a shot. Errors are the HTTP
status with `{error, errorCode, ...}` (INSUFFICIENT_CREDITS carries requiredCredits).
"""

from __future__ import annotations

import functools
from typing import Any

import httpx

from storyboard.errors import (
    CreditsError,
    GenerationFailed,
    Problem,
    ProviderError,
    RateLimitError,
    RejectedError,
    TransientError,
    UnsupportedError,
)
from storyboard.providers import capabilities
from storyboard.providers.base import CompiledShot, Cost, HttpRequest, Need, Task, TaskState, TaskStatus
from storyboard.providers.http import (
    HostedProvider,
    json_body,
    parse_retry_after,
    protocol_error,
    shots_label,
)

GENERATION_TYPE = {
    "text": "TEXT_2_VIDEO",
    "frames": "FIRST_AND_LAST_FRAMES_2_VIDEO",
    "reference": "REFERENCE_2_VIDEO",
}
CREDITS = {"720p": 10, "1080p": 14, "4k": 30}  # a shot, by the request's resolution
STATES = {
    "processing": TaskState.RUNNING,
    "completed": TaskState.DONE,
    "failed": TaskState.FAILED,
    "pending": TaskState.PENDING,
}
# errorCodes that mean the request's shots were refused as sent
REFUSED = {"SHOTS_REQUIRED", "PROMPT_REQUIRED", "INVALID_IMAGE_COUNT", "IMAGE_URLS_REQUIRED"}


class NanophotoProvider(HostedProvider):
    name = "nanophoto"
    env = "NANOPHOTO"
    default_base_url = "https://nanophoto.ai"
    batch = True
    # the document asks for a poll every 5-10 s but allows 100 requests an hour a key; one
    # check-status covers every shot, and the executor waits between half of this and all
    # of it, so at most 90 polls an hour
    poll_interval = 80.0
    min_poll_interval = 36.0  # 100 requests an hour: a chosen interval is never shorter

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._resolution: dict[str, str] = {}  # task id -> resolution it was submitted at

    # plan time -----------------------------------------------------------------------------
    def submit_url(self, shot: CompiledShot) -> str:
        return f"{self.base_url}/api/veo-3/generate"

    def check_batch(self, shots: list[CompiledShot]) -> list[Problem]:
        return capabilities.batch_problems(self.name, shots)

    def shot_body(self, shot: CompiledShot) -> tuple[dict[str, Any], tuple[Need, ...]]:
        self.require(shot)
        s = shot.shot
        entry: dict[str, Any] = {
            "id": s.id,
            "prompt": shot.prompt,
            "generationType": GENERATION_TYPE[s.kind],
            "aspectRatio": s.settings.aspect_ratio,
        }
        urls = [a.url for a in s.images if a.url]
        if urls:
            entry["imageUrls"] = urls
        return entry, ()

    def requests(self, shots: list[CompiledShot]) -> list[HttpRequest]:
        """One request for every shot given: the service stitches nothing we need, but one
        request is what it is built for (and its rate limit is per request)."""
        if not shots:
            return []
        problems = self.check_batch(shots)
        if problems:
            raise UnsupportedError(problems)
        entries = [self.shot_body(s)[0] for s in shots]
        body = {"shots": entries, "resolution": shots[0].shot.settings.resolution}
        return [HttpRequest("POST", self.submit_url(shots[0]), tuple(s.id for s in shots), body)]

    def cost(self, shot: CompiledShot) -> Cost:
        return Cost(CREDITS[shot.shot.settings.resolution], None)  # no USD price given

    def task_extra(self, shot: CompiledShot) -> dict[str, Any]:
        return {"resolution": shot.shot.settings.resolution}

    # render time ---------------------------------------------------------------------------
    def _error(self, response: httpx.Response, shots: str | None = None) -> ProviderError | None:
        if response.is_success:
            return None
        body = json_body(response)
        if not isinstance(body, dict) or not body.get("errorCode"):
            return self.http.status_error(response, shots)
        code = str(body["errorCode"])
        words = self.http.redact(f"{code}: {body.get('error') or ''}".rstrip(": "))
        if code == "LOGIN_REQUIRED" or response.status_code in (401, 403):
            return self.http.auth_error(words)
        if code == "API_KEY_RATE_LIMIT_EXCEEDED" or response.status_code == 429:
            return RateLimitError(
                f"rate limited, 100 requests an hour ({words})",
                provider=self.name,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                status=response.status_code,
            )
        if code == "INSUFFICIENT_CREDITS":
            need = body.get("requiredCredits")
            detail = "not enough credits"
            if need is not None:
                detail += f": {need} needed"
            for key in ("currentCredits", "credits", "balance"):  # not documented; if present
                if body.get(key) is not None:
                    detail += f", {body[key]} available"
                    break
            return CreditsError(
                f"{detail} ({words})",
                provider=self.name,
                shot=shots,
                status=402,
                hint="top up the nanophoto account",
            )
        if code in REFUSED or response.status_code == 400:
            return RejectedError(
                f"the request was refused ({words})", provider=self.name, shot=shots, status=400
            )
        if code == "GENERATION_FAILED":
            return GenerationFailed(f"generation failed ({words})", provider=self.name, shot=shots)
        if code == "INTERNAL_ERROR" or response.status_code >= 500:
            return TransientError(f"server error ({words})", provider=self.name, status=500)
        return ProviderError(words, provider=self.name, shot=shots, status=response.status_code)

    def submit(self, request: HttpRequest) -> dict[str, str]:
        label = shots_label(request.shots)
        response = self.http.request(
            request.method, request.url, json=request.body, check=lambda r: self._error(r, label)
        )
        body = json_body(response)
        if not isinstance(body, dict):
            raise protocol_error(self.http, "the generate reply is not JSON", response, label)
        if body.get("status") == "failed":
            words = self.http.redact(str(body.get("error") or "generation failed"))
            raise RejectedError(f"the request was refused ({words})", provider=self.name, shot=label)
        out: dict[str, str] = {}
        items = body.get("shots")
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and item.get("shotId") and item.get("taskId"):
                out[str(item["shotId"])] = str(item["taskId"])
        ids = {s: out[s] for s in request.shots if s in out}
        if not ids:
            raise protocol_error(self.http, "no taskId for any shot", response, label)
        # Shots the reply names no task for are left out, not the others: those are paid for
        # and must be recorded (the executor reports the missing ones).
        resolution = str((request.body or {}).get("resolution") or "720p")
        for task_id in ids.values():
            self._resolution[task_id] = resolution
        return ids

    def poll(self, tasks: list[Task]) -> dict[str, TaskStatus]:
        """One check-status call for all tasks of a resolution (the call names one)."""
        groups: dict[str, list[Task]] = {}
        for task in tasks:
            res = str(task.extra.get("resolution") or self._resolution.get(task.task_id) or "720p")
            groups.setdefault(res, []).append(task)
        out: dict[str, TaskStatus] = {}
        for resolution, group in groups.items():
            label = shots_label([t.shot_id for t in group])
            body = {
                "taskIds": [{"shotId": t.shot_id, "taskId": t.task_id} for t in group],
                "resolution": resolution,
            }
            response = self.http.request(
                "POST",
                "/api/veo-3/check-status",
                json=body,
                check=functools.partial(self._error, shots=label),
            )
            reply = json_body(response)
            items = reply.get("shots") if isinstance(reply, dict) else None
            if not isinstance(items, list):
                raise protocol_error(self.http, "no shots in the check-status reply", response, label)
            by_task = {str(i.get("taskId")): i for i in items if isinstance(i, dict)}
            for task in group:
                item = by_task.get(task.task_id)
                out[task.task_id] = self._status(item) if item else TaskStatus(TaskState.PENDING)
        return out

    def _status(self, item: dict[str, Any]) -> TaskStatus:
        state = STATES.get(str(item.get("status") or ""), TaskState.PENDING)
        if state is TaskState.DONE:
            url = item.get("videoUrl")
            if not isinstance(url, str) or not url:
                return TaskStatus(TaskState.FAILED, reason="completed without a videoUrl")
            return TaskStatus(TaskState.DONE, url=url)
        if state is TaskState.FAILED:
            words = str(item.get("error") or "generation failed (no reason given)")
            return TaskStatus(TaskState.FAILED, reason=self.http.redact(words))
        return TaskStatus(state)
