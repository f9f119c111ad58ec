"""kie on loopback, as 004_8759c4ae7d4280e4.txt and kie-polling.md document it
(base https://api.kie.ai):

- POST /api/v1/veo/generate        -> {code: 200, msg: "success", data: {taskId}}
- POST /api/v1/veo/extend          {taskId, prompt, seeds?, watermark?, callBackUrl?} -> new taskId
- GET  /api/v1/veo/record-info?taskId=...      status of any task (successFlag 0/1/2/3)
- GET  /api/v1/veo/get-1080p-video?taskId=...&index=0   data.resultUrl once the 1080p is ready
- GET  /files/{taskId}.mp4, /files/{taskId}-1080p.mp4, /files/{taskId}-origin.mp4, no auth

Choices where the documents are silent:
- HTTP status: every reply the service itself makes is HTTP 200 and the body's `code` carries
  the outcome (004 lists 400...505 as values of `code` under "success response (200)"):
  401 auth, 402 credits, 404 unknown task or path, 422 validation (and content rejection),
  429 rate limit, 500 server error, 501 generation failed. Only the 503 fault (a bare HTTP
  503 from the "load balancer") and `drop` break this. `data` is null on errors.
- Invalid bodies get code 422 ("验证错误 - 请求参数验证失败"), not 400: 004 gives 400 the
  meaning "1080P is still processing", which is what get-1080p-video answers until ready.
- enableFallback is deprecated ("remove it from the request"): any request sending it is
  refused with 422, although 004's own example still carries it.
- The prompt check: a prompt containing FORBIDDEN is refused at submit with code 422 and the
  documented "Your request was rejected by Flow(...)" message; no task, no charge.
- Price (not documented in these files): 60 credits a veo3_fast task, 250 a veo3 task; an
  extension costs its original task's model price. Too few -> code 402, the numbers in msg.
- record-info: data {taskId, successFlag, response, errorCode, errorMessage, createTime,
  completeTime}; times are epoch milliseconds; response is null until success, then
  {taskId, resultUrls, originUrls (null for 16:9), resolution: "720p"}. A failed task (fault
  fail_job) has successFlag params.get("flag", 3), errorCode params.get("code", 501),
  errorMessage the reason. Missing taskId -> 422; unknown -> 404.
- get-1080p-video: only for 16:9 tasks (else 422); index must be 0 (else 422); until the task
  has completed and `hd_seconds` more have passed -> code 400 "1080P is processing...";
  a failed task -> 501; ready -> data {resultUrl}. `srv.hd_seconds` defaults to 0.
- extend: only tasks that completed (unknown -> 404, not completed -> 422); the new task
  keeps the original's model and aspect ratio.
- The 429 fault is body code 429 (HTTP 200) with a Retry-After header; 500 is body code 500.
- callBackUrl is validated (http(s)) but never called: no traffic leaves 127.0.0.1.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

from tests.servers.base import (
    FORBIDDEN,
    FakeProvider,
    Incoming,
    Refusal,
    Reply,
    Route,
    Task,
    schema_errors,
    set_link,
)

PRICES: dict[str, int] = {"veo3_fast": 60, "veo3": 250}
REJECTED = (
    "Your request was rejected by Flow({}). You may consider using our other fallback "
    "channels, which are likely to succeed. Please refer to the documentation."
)
HD_PROCESSING = "1080P is processing. It should be ready in 1-2 minutes. Please check back shortly."


def _reply(code: int, msg: str, data: Any = None) -> Reply:
    return Reply(200, {"code": code, "msg": msg, "data": data})


def _err(code: int, msg: str) -> Refusal:
    return Refusal(_reply(code, msg))


class KieServer(FakeProvider):
    name: ClassVar[str] = "kie"
    default_api_key: ClassVar[str] = "kie-Hs5Ty8Pq2Mx6Jc4Rw9Lb"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hd_seconds = 0.0  # how long after completion the 1080p version is ready

    def routes(self) -> list[Route]:
        return [
            Route("POST", r"/api/v1/veo/generate", "submit", self.generate),
            Route("POST", r"/api/v1/veo/extend", "submit", self.extend),
            Route("GET", r"/api/v1/veo/record-info", "poll", self.record_info),
            Route("GET", r"/api/v1/veo/get-1080p-video", "poll", self.get_1080p),
            self.download_route(),
        ]

    def new_task_id(self) -> str:
        return f"veo_task_{os.urandom(8).hex()}"

    def price(self, body: dict[str, Any]) -> int:
        """What a (valid) generate body costs."""
        return PRICES[body.get("model", "veo3_fast")]

    def auth_error(self) -> Reply:
        return _reply(401, "Unauthorized: the authentication credentials are missing or invalid")

    def rate_limited(self) -> Reply:
        return _reply(429, "Rate limited: the request limit for this resource was exceeded")

    def server_error(self) -> Reply:
        return _reply(500, "Server error: an unexpected error occurred")

    def not_found(self, path: str = "") -> Reply:
        if path.startswith("/api/"):  # the API answers in its body; /files is a plain CDN
            return _reply(404, "Not found: the resource or endpoint does not exist")
        return super().not_found(path)

    # -- helpers ---------------------------------------------------------------------------
    def _body(self, req: Incoming, schema: str) -> dict[str, Any]:
        try:
            body = req.json()
        except ValueError:
            raise _err(422, "Validation error: the body is not JSON") from None
        if isinstance(body, dict) and "enableFallback" in body:
            raise _err(422, "Validation error: enableFallback is deprecated; remove it from the request")
        errors = schema_errors(schema, body)
        if errors:
            raise _err(422, f"Validation error: {errors[0]}")
        if FORBIDDEN.search(body["prompt"]):
            raise _err(422, REJECTED.format("the prompt violates the content policy"))
        return body

    def _create(self, body: dict[str, Any], cost: int, **kwargs: Any) -> Reply:
        with self.lock:
            ok, current = self.balance_for(cost)
            if not ok:
                raise _err(402, f"Insufficient credits: this task needs {cost}, the balance is {current}")
            task = self.create_task(body, body, cost, **kwargs)
        return _reply(200, "success", {"taskId": task.task_id})

    def _lookup(self, req: Incoming) -> Task:
        task_id = req.query.get("taskId")
        if not task_id:
            raise _err(422, "Validation error: taskId is required")
        task = self.task(task_id)
        if task is None:
            raise _err(404, f"Not found: task {task_id} does not exist")
        return task

    # -- routes ----------------------------------------------------------------------------
    def generate(self, req: Incoming) -> Reply:
        body = self._body(req, "kie.generate")
        model = body.get("model", "veo3_fast")
        info = {"model": model, "aspectRatio": body.get("aspectRatio", "16:9")}
        return self._create(body, PRICES[model], info=info)

    def extend(self, req: Incoming) -> Reply:
        body = self._body(req, "kie.extend")
        parent = self.task(body["taskId"])
        if parent is None:
            raise _err(404, f"Not found: task {body['taskId']} does not exist")
        if parent.status != "completed":
            raise _err(
                422,
                f"Validation error: task {parent.task_id} is {parent.status}; "
                "only completed videos can be extended",
            )
        return self._create(body, PRICES[parent.info["model"]], parent=parent.task_id, info=dict(parent.info))

    def record_info(self, req: Incoming) -> Reply:
        task = self._lookup(req)
        state = task.status
        data: dict[str, Any] = {
            "taskId": task.task_id,
            "successFlag": 0,
            "response": None,
            "errorCode": None,
            "errorMessage": None,
            "createTime": int(task.created_at * 1000),
            "completeTime": None,
        }
        if state == "completed":
            origin = None
            if task.info["aspectRatio"] != "16:9":
                origin = [f"{self.base_url}/files/{task.task_id}-origin.mp4"]
            data["successFlag"] = 1
            data["completeTime"] = int(task.ready_at * 1000)
            data["response"] = {
                "taskId": task.task_id,
                "resultUrls": [task.result_url],
                "originUrls": origin,
                "resolution": "720p",
            }
        elif state == "failed":
            data["successFlag"] = int(task.fail_params.get("flag", 3))
            data["completeTime"] = int(task.ready_at * 1000)
            data["errorCode"] = int(task.fail_params.get("code", 501))
            data["errorMessage"] = task.fail_reason
        return _reply(200, "success", data)

    def get_1080p(self, req: Incoming) -> Reply:
        task = self._lookup(req)
        if req.query.get("index", "0") != "0":
            raise _err(422, "Validation error: index out of range (one video per task: 0)")
        if task.info["aspectRatio"] != "16:9":
            raise _err(422, "Validation error: 1080P is only available for 16:9 videos")
        state = task.status
        if state == "failed":
            raise _err(501, f"Generation failed: {task.fail_reason}")
        if not self._hd_ready(task):
            raise _err(400, HD_PROCESSING)
        return _reply(200, "success", {"resultUrl": f"{self.base_url}/files/{task.task_id}-1080p.mp4"})

    def strip_link(self, body: Any, value: Any = None, *, remove: bool = True) -> bool:
        data = body.get("data")
        if not isinstance(data, dict):
            return False
        response = data.get("response")
        if data.get("successFlag") == 1 and isinstance(response, dict) and "resultUrls" in response:
            return set_link(response, "resultUrls", value, remove)  # record-info
        if "resultUrl" in data:
            return set_link(data, "resultUrl", value, remove)  # get-1080p-video
        return False

    def _hd_ready(self, task: Task) -> bool:
        return task.status == "completed" and self.clock() >= task.ready_at + self.hd_seconds

    def servable(self, name: str) -> bool:
        for suffix in ("-1080p", "-origin"):
            if name.endswith(suffix):
                task = self.task(name[: -len(suffix)])
                if task is None:
                    return False
                if suffix == "-1080p":
                    return task.info["aspectRatio"] == "16:9" and self._hd_ready(task)
                return task.status == "completed" and task.info["aspectRatio"] != "16:9"
        return super().servable(name)
