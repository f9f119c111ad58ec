"""kie (document 004, and kie-polling.md for what 004 leaves out): one shot a request.

    POST /api/v1/veo/generate  {prompt, model: veo3|veo3_fast, generationType, aspectRatio:
                                16:9|9:16|Auto, imageUrls?, seeds?}  -> {code: 200, data: {taskId}}
    POST /api/v1/veo/extend    {taskId, prompt, seeds?}               -> {code: 200, data: {taskId}}

Errors travel in the body's `code` (400, 401, 402, 404, 422 content checks, 429, 455
maintenance, 500, 501 generation failed, 505 feature disabled); the HTTP status beside them
is not documented, so the body decides. Never `enableFallback` (deprecated), never
`callBackUrl` (we poll). 1080p comes from a second call once the 720p clip is done.

How to poll is NOT in 004: it is inferred from the vendor's public pages (kie-polling.md)
and lives in `KiePolling` alone, so it is easy to correct.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from storyboard.errors import (
    CreditsError,
    GenerationFailed,
    ProviderError,
    RateLimitError,
    RejectedError,
    TransientError,
)
from storyboard.providers.base import CompiledShot, Cost, HttpRequest, Need, Task, TaskState, TaskStatus
from storyboard.providers.http import (
    HostedProvider,
    Http,
    as_dict,
    json_body,
    parse_retry_after,
    protocol_error,
    shots_label,
)

MODEL = {"fast": "veo3_fast", "quality": "veo3"}
ASPECT = {"16:9": "16:9", "9:16": "9:16", "auto": "Auto"}
GENERATION_TYPE = {
    "text": "TEXT_2_VIDEO",
    "frames": "FIRST_AND_LAST_FRAMES_2_VIDEO",
    "reference": "REFERENCE_2_VIDEO",
}


def task_placeholder(parent: str) -> str:
    return f"<task:{parent}>"


def body_error(http: Http, response: httpx.Response, shot: str | None = None) -> ProviderError | None:
    """The error a kie reply means: its body `code` first, the HTTP status where there is none."""
    body = json_body(response)
    code = body.get("code") if isinstance(body, dict) else None
    if not isinstance(code, int):
        return http.status_error(response, shot)
    if code == 200:
        return None if response.is_success else http.status_error(response, shot)
    assert isinstance(body, dict)
    words = http.redact(f"{code}: {body.get('msg') or ''}".rstrip(": "))
    if code == 401:
        return http.auth_error(words)
    if code == 402:
        data = as_dict(body.get("data"))
        detail = "not enough credits"
        # 004 gives no numbers with 402; use them if a reply ever carries them
        need = next((data[k] for k in ("required", "requiredCredits") if data.get(k) is not None), None)
        have = next((data[k] for k in ("current", "credits", "balance") if data.get(k) is not None), None)
        if need is not None:
            detail += f": {need} needed"
        if have is not None:
            detail += f", {have} available"
        return CreditsError(
            f"{detail} ({words})", provider="kie", shot=shot, status=402, hint="top up at kie.ai/billing"
        )
    if code == 429:
        return RateLimitError(
            f"rate limited ({words})",
            provider="kie",
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            status=429,
        )
    if code == 505:
        return ProviderError(f"the feature is disabled ({words})", provider="kie", shot=shot, status=code)
    if code == 455 or (code >= 500 and code != 501):
        # 455 is maintenance: worth waiting for, like a server error
        return TransientError(f"service unavailable ({words})", provider="kie", status=code)
    if code == 422:
        return RejectedError(f"rejected by content checks ({words})", provider="kie", shot=shot, status=code)
    if code == 501:
        return GenerationFailed(f"generation failed ({words})", provider="kie", shot=shot, status=code)
    if code == 400:
        return RejectedError(f"the request was refused ({words})", provider="kie", shot=shot, status=code)
    return ProviderError(f"error {words}", provider="kie", shot=shot, status=code)


class KiePolling:
    """Every assumption about polling kie, in one place (kie-polling.md; not in 004).

    GET /api/v1/veo/record-info?taskId=   data.successFlag 0 generating, 1 success,
        2 failed, 3 generation failed; data.response.resultUrls[]; data.errorMessage.
    GET /api/v1/veo/get-1080p-video?taskId=&index=0   data.resultUrl; not ready for 1-3
        minutes after the 720p clip (body code 400 "1080P is processing" until then).
    """

    RECORD_INFO = "/api/v1/veo/record-info"
    HD_VIDEO = "/api/v1/veo/get-1080p-video"
    GENERATING, SUCCESS, FAILED, GENERATION_FAILED = 0, 1, 2, 3
    HD_NOT_READY = 400  # body code while the 1080p clip is being made
    HD_RETRY_SECONDS = 20.0  # the vendor suggests a try every 20-30 s

    def __init__(self, http: Http, hd_retry_seconds: float = HD_RETRY_SECONDS) -> None:
        self.http = http
        self.hd_retry_seconds = hd_retry_seconds
        self._ready: dict[str, str] = {}  # task id -> 720p URL, once record-info said success
        self._hd_tried: dict[str, float] = {}  # task id -> when get-1080p-video was last asked

    def status(self, task: Task, resolution: str) -> TaskStatus:
        if task.task_id not in self._ready:
            first = self._record(task)
            if first.state is not TaskState.DONE or resolution != "1080p":
                return first
            assert first.url is not None
            self._ready[task.task_id] = first.url
        return self._hd(task)

    def _record(self, task: Task) -> TaskStatus:
        response = self.http.request(
            "GET",
            self.RECORD_INFO,
            params={"taskId": task.task_id},
            check=lambda r: body_error(self.http, r, task.shot_id),
        )
        body = json_body(response)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise protocol_error(self.http, "no data in the record-info reply", response, task.shot_id)
        flag = data.get("successFlag")
        if flag == self.SUCCESS:
            result = as_dict(data.get("response"))
            urls = result.get("resultUrls") or []
            if not urls or not isinstance(urls[0], str):
                return TaskStatus(TaskState.FAILED, reason="succeeded without response.resultUrls")
            return TaskStatus(TaskState.DONE, url=urls[0])
        if flag in (self.FAILED, self.GENERATION_FAILED):
            words = ": ".join(str(x) for x in (data.get("errorCode"), data.get("errorMessage")) if x)
            return TaskStatus(
                TaskState.FAILED, reason=self.http.redact(words or "generation failed (no reason given)")
            )
        return TaskStatus(TaskState.RUNNING if flag == self.GENERATING else TaskState.PENDING)

    def _hd(self, task: Task) -> TaskStatus:
        now = time.monotonic()
        last = self._hd_tried.get(task.task_id)
        if last is not None and now - last < self.hd_retry_seconds:
            return TaskStatus(TaskState.RUNNING, progress=None)
        self._hd_tried[task.task_id] = now

        def check(r: httpx.Response) -> ProviderError | None:
            body = json_body(r)
            if isinstance(body, dict) and body.get("code") == self.HD_NOT_READY:
                return None  # not an error: the 1080p clip is still being made
            return body_error(self.http, r, task.shot_id)

        response = self.http.request(
            "GET", self.HD_VIDEO, params={"taskId": task.task_id, "index": 0}, check=check
        )
        body = json_body(response)
        if isinstance(body, dict) and body.get("code") == self.HD_NOT_READY:
            return TaskStatus(TaskState.RUNNING)
        data = body.get("data") if isinstance(body, dict) else None
        url = data.get("resultUrl") if isinstance(data, dict) else None
        if not isinstance(url, str) or not url:
            raise protocol_error(self.http, "no data.resultUrl in the 1080p reply", response, task.shot_id)
        return TaskStatus(TaskState.DONE, url=url)


class KieProvider(HostedProvider):
    name = "kie"
    env = "KIE"
    default_base_url = "https://api.kie.ai"
    poll_interval = 10.0

    def __init__(
        self, *args: Any, hd_retry_seconds: float = KiePolling.HD_RETRY_SECONDS, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.hd_retry_seconds = hd_retry_seconds
        self._polling: KiePolling | None = None

    # plan time -----------------------------------------------------------------------------
    def submit_url(self, shot: CompiledShot) -> str:
        path = "extend" if shot.shot.continues else "generate"
        return f"{self.base_url}/api/v1/veo/{path}"

    def shot_body(self, shot: CompiledShot) -> tuple[dict[str, Any], tuple[Need, ...]]:
        self.require(shot)
        s = shot.shot
        settings = s.settings
        if s.continues:
            placeholder = task_placeholder(s.continues)
            body: dict[str, Any] = {"taskId": placeholder, "prompt": shot.prompt}
            if settings.seed is not None:
                body["seeds"] = settings.seed
            return body, (Need("task_id", s.continues, placeholder),)
        body = {
            "prompt": shot.prompt,
            "model": MODEL[settings.model],
            "generationType": GENERATION_TYPE[s.kind],
            "aspectRatio": ASPECT[settings.aspect_ratio],
        }
        urls = [a.url for a in s.images if a.url]
        if urls:
            body["imageUrls"] = urls
        if settings.seed is not None:
            body["seeds"] = settings.seed
        return body, ()

    def cost(self, shot: CompiledShot) -> Cost:
        return Cost(None, None)  # 004 gives no price table (it points at kie.ai/billing)

    def task_extra(self, shot: CompiledShot) -> dict[str, Any]:
        return {"resolution": shot.shot.settings.resolution}

    # render time ---------------------------------------------------------------------------
    def submit(self, request: HttpRequest) -> dict[str, str]:
        shot = shots_label(request.shots)
        response = self.http.request(
            request.method,
            request.url,
            json=request.body,
            check=lambda r: body_error(self.http, r, shot),
        )
        body = json_body(response)
        data = body.get("data") if isinstance(body, dict) else None
        task_id = data.get("taskId") if isinstance(data, dict) else None
        if not isinstance(task_id, str) or not task_id:
            raise protocol_error(self.http, "no data.taskId in the reply", response, shot)
        return {request.shots[0]: task_id}

    @property
    def polling(self) -> KiePolling:
        if self._polling is None:
            self._polling = KiePolling(self.http, self.hd_retry_seconds)
        return self._polling

    def poll(self, tasks: list[Task]) -> dict[str, TaskStatus]:
        return {t.task_id: self.polling.status(t, str(t.extra.get("resolution") or "720p")) for t in tasks}
