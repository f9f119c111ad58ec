"""kie (document 004, and kie-polling.md for what 004 leaves out): one shot a request.

    POST /api/v1/veo/generate  {prompt, model: veo3|veo3_fast, generationType, aspectRatio:
                                16:9|9:16|Auto, imageUrls?, seeds?}  -> {code: 200, data: {taskId}}
    POST /api/v1/veo/extend    {taskId, prompt, seeds?}               -> {code: 200, data: {taskId}}

Errors travel in the body's `code` (400, 401, 402, 404, 422 content checks, 429, 455
maintenance, 500, 501 generation failed, 505 feature disabled); the HTTP status beside them
is not documented, so the body decides (404 from record-info: the task is unknown). No price
table is published (004 points at kie.ai/billing). Never `enableFallback` (deprecated), never
`callBackUrl` (we poll). 1080p comes from a second call once the 720p clip is done.

How to poll is NOT in 004: it is inferred from the vendor's public pages (kie-polling.md)
and lives in `KiePolling` alone, so it is easy to correct.
"""

from __future__ import annotations

import time
from typing import Any

from storyboard.errors import ProviderError
from storyboard.providers.base import CompiledShot, HttpRequest, Need, NeedKind, Task, TaskState, TaskStatus
from storyboard.providers.capabilities import Capabilities
from storyboard.providers.hosted import HostedProvider
from storyboard.providers.http import protocol_error, shots_label
from storyboard.providers.replies import ErrorKind, Reply, Rule, ServiceError, as_dict, first, link

MODEL = {"fast": "veo3_fast", "quality": "veo3"}
ASPECT = {"16:9": "16:9", "9:16": "9:16", "auto": "Auto"}
GENERATION_TYPE = {
    "text": "TEXT_2_VIDEO",
    "frames": "FIRST_AND_LAST_FRAMES_2_VIDEO",
    "reference": "REFERENCE_2_VIDEO",
}


def task_placeholder(parent: str) -> str:
    return f"<task:{parent}>"


def read_error(reply: Reply, sent: Any = None) -> ServiceError | None:
    """kie's error in a reply: its body `code` (HTTP's numbers) decides, 200 is success; a
    body without one is not kie's, so the HTTP status decides."""
    code = reply.body.get("code")
    if not isinstance(code, int) or code == 200:
        return None
    data = as_dict(reply.body.get("data"))
    # 004 gives no numbers with 402; use them if a reply ever carries them
    need = next((data[k] for k in ("required", "requiredCredits") if data.get(k) is not None), None)
    have = next((data[k] for k in ("current", "credits", "balance") if data.get(k) is not None), None)
    return ServiceError(code, str(reply.body.get("msg") or ""), need, have)


ERRORS = {
    400: Rule(ErrorKind.REJECTED),
    401: Rule(ErrorKind.AUTH),
    402: Rule(ErrorKind.CREDITS, hint="top up at kie.ai/billing"),
    404: Rule(ErrorKind.NOT_FOUND, "no such task"),  # record-info of a task it does not know
    422: Rule(ErrorKind.REJECTED, "rejected by content checks"),
    429: Rule(ErrorKind.RATE_LIMIT),
    455: Rule(ErrorKind.UNAVAILABLE, "service unavailable (maintenance)"),  # worth waiting for
    500: Rule(ErrorKind.UNAVAILABLE, "service unavailable"),
    501: Rule(ErrorKind.FAILED),
    505: Rule(ErrorKind.OTHER, "the feature is disabled"),
}


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

    def __init__(self, provider: KieProvider, hd_retry_seconds: float = HD_RETRY_SECONDS) -> None:
        self.provider = provider
        self.http = provider.http
        self.hd_retry_seconds = hd_retry_seconds
        self._ready: dict[str, str] = {}  # task id -> 720p URL, once record-info said success
        self._hd_tried: dict[str, float] = {}  # task id -> when get-1080p-video was last asked

    def status(self, task: Task, resolution: str) -> TaskStatus:
        if task.task_id not in self._ready:
            made = self._record(task)
            if made.state is not TaskState.DONE or made.url is None or resolution != "1080p":
                return made
            self._ready[task.task_id] = made.url
        return self._hd(task)

    def _record(self, task: Task) -> TaskStatus:
        reply = self.http.request(
            "GET",
            self.RECORD_INFO,
            params={"taskId": task.task_id},
            check=self.provider.checker(task.shot_id),
        )
        data = reply.body.get("data")
        if not isinstance(data, dict):
            raise protocol_error(self.http, "no data in the record-info reply", reply, task.shot_id)
        flag = data.get("successFlag")
        if flag == self.SUCCESS:
            urls = as_dict(data.get("response")).get("resultUrls")
            return TaskStatus(TaskState.DONE, url=link(first(urls)))
        if flag in (self.FAILED, self.GENERATION_FAILED):
            words = ": ".join(str(x) for x in (data.get("errorCode"), data.get("errorMessage")) if x)
            return TaskStatus(TaskState.FAILED, reason=words or "generation failed (no reason given)")
        return TaskStatus(TaskState.RUNNING if flag == self.GENERATING else TaskState.PENDING)

    def _hd(self, task: Task) -> TaskStatus:
        now = time.monotonic()
        last = self._hd_tried.get(task.task_id)
        if last is not None and now - last < self.hd_retry_seconds:
            return TaskStatus(TaskState.RUNNING, progress=None)
        self._hd_tried[task.task_id] = now

        def check(r: Reply) -> ProviderError | None:
            if r.body.get("code") == self.HD_NOT_READY:
                return None  # not an error: the 1080p clip is still being made
            return self.provider.error_of(r, task.shot_id)

        reply = self.http.request(
            "GET", self.HD_VIDEO, params={"taskId": task.task_id, "index": 0}, check=check
        )
        if reply.body.get("code") == self.HD_NOT_READY:
            return TaskStatus(TaskState.RUNNING)
        return TaskStatus(TaskState.DONE, url=link(as_dict(reply.body.get("data")).get("resultUrl")))


class KieProvider(HostedProvider):
    name = "kie"
    env = "KIE"
    default_base_url = "https://api.kie.ai"
    poll_interval = 10.0
    capabilities = Capabilities(
        aspect_ratios=("16:9", "9:16", "auto"),
        resolutions=("720p", "1080p"),
        models=("fast", "quality"),
        seed=True,
        types=("text", "frames", "reference"),
        frame_images=2,
        reference_images=3,
        local_images=False,
        continues="extend",
        reference_models=("fast",),
        reference_aspects=("16:9",),
        resolution_aspects=(("1080p", ("16:9",)),),
        extend_seed=True,  # POST /api/v1/veo/extend {taskId, prompt, seeds?}
    )
    errors = ERRORS
    errors_on_success = True  # HTTP 200 with its error code in the body

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
            return body, (Need(NeedKind.TASK_ID, s.continues, placeholder),)
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

    def task_extra(self, shot: CompiledShot) -> dict[str, Any]:
        return {"resolution": shot.shot.settings.resolution}

    # render time ---------------------------------------------------------------------------
    def submit(self, request: HttpRequest) -> dict[str, str]:
        shot = shots_label(request.shots)
        reply = self.http.request(request.method, request.url, json=request.body, check=self.checker(shot))
        task_id = as_dict(reply.body.get("data")).get("taskId")
        if not isinstance(task_id, str) or not task_id:
            raise protocol_error(self.http, "no data.taskId in the reply", reply, shot)
        return {request.shots[0]: task_id}

    @property
    def polling(self) -> KiePolling:
        if self._polling is None:
            self._polling = KiePolling(self, self.hd_retry_seconds)
        return self._polling

    def read_error(self, reply: Reply, sent: Any = None) -> ServiceError | None:
        return read_error(reply, sent)

    def poll(self, tasks: list[Task]) -> dict[str, TaskStatus]:
        return self.poll_each(
            tasks, lambda t: self.polling.status(t, str(t.extra.get("resolution") or "720p"))
        )
