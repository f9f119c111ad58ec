"""aivideoapi on loopback, as 003_8b5b1044ae10ad8f.txt documents it (base https://api.aivideoapi.ai):

- POST /v1/videos/generations  {model: "veo-3"|"veo-3-extend", callback_url?, input: {...}}
                               -> {code: 200, msg: "success", data: {taskId}}
- GET  /v1/tasks/{taskId}      {id, status, model, created_at, progress | completed_at+output
                               | error}
- GET  /files/{taskId}.mp4     the clip (`output.urls[0]`), no auth

Errors are `{error: {code, message, type}}` with the documented HTTP status: 400
invalid_request, 401 invalid_api_key, 402 insufficient_credits, 404 model_not_found /
task_not_found, 429 rate_limit_exceeded, 500 internal_error, 503 upstream_error.
Price per clip (documented): fast 40/50/120, quality 300/310/380, lite 20/30/100 credits at
720p/1080p/4k.

Choices where the document is silent:
- A model that is not veo-3 / veo-3-extend -> 404 model_not_found; a missing model -> 400
  invalid_request "'model' is required." (the documented example message).
- veo-3-extend: input {prompt, extend_task_id, mode?, seeds?, watermark?,
  enable_translation?}. The document calls extend_task_id "the original task's upstream task
  id" but shows no other id than `taskId`: this server takes the taskId it returned. An
  unknown id -> 404 task_not_found; a task not completed -> 400 invalid_request. An
  extension costs the mode's price at the original task's resolution.
- Without generation_type: no image_urls -> TEXT_2_VIDEO, 1-2 -> FIRST_AND_LAST; 3 refused.
- The prompt check: a prompt containing FORBIDDEN is accepted (200 + taskId); the task then
  fails with error {code: "upstream_error", message: ...} and is refunded (the document lists
  sensitive content among upstream_error causes).
- A failed task (fault fail_job) has error {code: params.get("code", "upstream_error"),
  message: reason}.
- progress is null while pending (as documented) and an integer 0-99 while processing.
- The 429 fault is HTTP 429 rate_limit_exceeded with Retry-After; 500 is internal_error; 503
  is the documented upstream_error body with HTTP 503.
- callback_url is validated (http(s)) and recorded but never called: no traffic leaves
  127.0.0.1 and tests poll. GET /v1/credits is mentioned without a reply shape: not served.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from tests.servers.base import (
    FORBIDDEN,
    FakeProvider,
    Incoming,
    Refusal,
    Reply,
    Route,
    schema_errors,
    set_link,
)

PRICES: dict[str, dict[str, int]] = {
    "fast": {"720p": 40, "1080p": 50, "4k": 120},
    "quality": {"720p": 300, "1080p": 310, "4k": 380},
    "lite": {"720p": 20, "1080p": 30, "4k": 100},
}


def _err(status: int, code: str, kind: str, message: str) -> Refusal:
    return Refusal(Reply(status, {"error": {"code": code, "message": message, "type": kind}}))


def _invalid(message: str) -> Refusal:
    return _err(400, "invalid_request", "invalid_request_error", message)


class AivideoapiServer(FakeProvider):
    name: ClassVar[str] = "aivideoapi"
    default_api_key: ClassVar[str] = "sk-Qm7Xr2Lp9Zt4Wv8Nb3Kd"

    def routes(self) -> list[Route]:
        return [
            Route("POST", r"/v1/videos/generations", "submit", self.generate),
            Route("GET", r"/v1/tasks/(?P<task_id>[^/]+)", "poll", self.get_task),
            self.download_route(),
        ]

    def new_task_id(self) -> str:
        return str(uuid.uuid4())

    def price(self, body: dict[str, Any]) -> int:
        """What a (valid) body costs; an extension is priced at its parent's resolution."""
        inp = body["input"]
        resolution = inp.get("resolution", "720p")
        if body["model"] == "veo-3-extend":
            parent = self.task(inp["extend_task_id"])
            resolution = parent.info.get("resolution", "720p") if parent else "720p"
        return PRICES[inp.get("mode", "fast")][resolution]

    def auth_error(self) -> Reply:
        return _err(
            401,
            "invalid_api_key",
            "authentication_error",
            "Invalid API key: it is wrong, disabled or deleted.",
        ).reply

    def rate_limited(self) -> Reply:
        return _err(429, "rate_limit_exceeded", "rate_limit_error", "Too many requests; slow down.").reply

    def server_error(self) -> Reply:
        return _err(500, "internal_error", "api_error", "Internal server error.").reply

    def unavailable(self) -> Reply:
        return _err(
            503, "upstream_error", "upstream_error", "The upstream AI service returned an error."
        ).reply

    def generate(self, req: Incoming) -> Reply:
        try:
            body = req.json()
        except ValueError:
            raise _invalid("The body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise _invalid("The body must be a JSON object.")
        if "model" not in body:
            raise _invalid("'model' is required.")
        model = body["model"]
        if model not in ("veo-3", "veo-3-extend"):
            raise _err(
                404,
                "model_not_found",
                "invalid_request_error",
                f"Model {model!r} does not exist or is disabled.",
            )
        errors = schema_errors("aivideoapi.generate", body)
        if errors:
            raise _invalid(errors[0])
        inp = body["input"]
        info: dict[str, Any] = {"model": model, "resolution": inp.get("resolution", "720p")}
        parent_id = None
        if model == "veo-3-extend":
            parent_id = inp["extend_task_id"]
            parent = self.task(parent_id)
            if parent is None:
                raise _err(
                    404, "task_not_found", "invalid_request_error", f"Task {parent_id} does not exist."
                )
            if parent.status != "completed":
                raise _invalid(f"extend_task_id: task {parent_id} is {parent.status}, not completed.")
            info["resolution"] = parent.info.get("resolution", "720p")
        fail = None
        if FORBIDDEN.search(inp["prompt"]):
            fail = "The input contains sensitive content and was rejected upstream."
        cost = self.price(body)
        with self.lock:
            ok, _current = self.balance_for(cost)
            if not ok:
                raise _err(
                    402,
                    "insufficient_credits",
                    "billing_error",
                    "Your credit balance is too low. Please top up.",
                )
            task = self.create_task(body, body, cost, fail_reason=fail, parent=parent_id, info=info)
        return Reply(200, {"code": 200, "msg": "success", "data": {"taskId": task.task_id}})

    def strip_link(self, body: Any, value: Any = None, *, remove: bool = True) -> bool:
        output = body.get("output")
        if body.get("status") == "completed" and isinstance(output, dict) and "urls" in output:
            return set_link(output, "urls", value, remove)
        return False

    def get_task(self, req: Incoming, task_id: str) -> Reply:
        task = self.task(task_id)
        if task is None:
            raise _err(404, "task_not_found", "invalid_request_error", f"Task {task_id} does not exist.")
        state = task.status
        out: dict[str, Any] = {
            "id": task.task_id,
            "status": state,
            "model": task.info["model"],
            "created_at": int(task.created_at),
        }
        if state == "pending":
            out["progress"] = None
        elif state == "processing":
            out["progress"] = task.progress()
        elif state == "completed":
            out["completed_at"] = int(task.ready_at)
            out["output"] = {"urls": [task.result_url], "metadata": {"resolution": task.info["resolution"]}}
        else:
            out["error"] = {
                "code": task.fail_params.get("code", "upstream_error"),
                "message": task.fail_reason,
            }
        return Reply(200, out)
