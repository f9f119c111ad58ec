"""nanophoto on loopback, as 002_1e7b2f8240923c45.txt documents it (base https://nanophoto.ai):

- POST /api/veo-3/generate      {shots: [{id, prompt, generationType, aspectRatio, imageUrls?}],
                                 resolution?}  -> {status: "processing", shots, creditsUsed}
- POST /api/veo-3/check-status  {taskIds: [{shotId, taskId}], resolution?}
- GET  /files/{taskId}.mp4      the clip (each shot's `videoUrl`), no auth

One task per shot; `accepted` gets one entry per shot, `shot_id` the shot's id and `body`
the whole request body. Errors are `{error, errorCode, ...}` with the documented HTTP status.
Price: 10 credits a shot at 720p, 14 at 1080p, 30 at 4k (documented); a request is charged
whole or refused whole (402 with `requiredCredits`, the whole request's price).

Choices where the document is silent:
- Which errorCode: SHOTS_REQUIRED when `shots` is missing, not a list or empty;
  PROMPT_REQUIRED when a shot's prompt is missing or blank; IMAGE_URLS_REQUIRED when an image
  mode has no `imageUrls` or an image is not an http(s) URL (base64, data:); INVALID_IMAGE_COUNT
  when the count does not fit the generationType (images on TEXT_2_VIDEO, 0 or 3 for
  FIRST_AND_LAST, 0 or 4+ for REFERENCE). Everything else the document forbids (unknown
  fields, bad enums, more than 21 shots, 1080p/4k with several shots, duplicate shot ids) has
  no documented code: HTTP 400 with errorCode INVALID_REQUEST. The first problem found wins.
- check-status: unknown task, a taskId that belongs to another shotId, or a resolution other
  than the one the task was generated at -> 404 TASK_NOT_FOUND (the server needs the right
  resolution to find a task). Missing/empty taskIds -> 400 TASK_IDS_REQUIRED.
- The shots of one request are generated one after another, as the document says
  ("multi-shot videos take longer because of sequential generation"): with `job_seconds` J,
  the i-th shot (from 0) of a request is done J * (i + 1) after it was accepted.
- Per-shot status is "processing" until the shot is done (the document never shows
  "pending"). The overall status is "processing" while any shot is unfinished; once all are
  finished it is "failed" if any failed, else "completed". Completed shots carry videoUrl and
  generationTime (seconds); failed ones `error`.
- The prompt check: a shot whose prompt contains FORBIDDEN is accepted; its task fails with
  error "Video generation failed: the prompt was rejected by the content filter"; refunded.
- The 429 fault is HTTP 429 API_KEY_RATE_LIMIT_EXCEEDED with Retry-After; 500 is HTTP 500
  INTERNAL_ERROR; 503 a bare HTTP 503 from the "load balancer".
- Image URLs are not fetched, so any http(s) host is accepted ("public" is not checked).
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
    is_http_url,
    schema_errors,
    set_link,
)

PRICES: dict[str, int] = {"720p": 10, "1080p": 14, "4k": 30}
_COUNTS = {
    "TEXT_2_VIDEO": (0, 0),
    "FIRST_AND_LAST_FRAMES_2_VIDEO": (1, 2),
    "REFERENCE_2_VIDEO": (1, 3),
}


def _err(status: int, code: str, message: str, **extra: Any) -> Refusal:
    return Refusal(Reply(status, {"error": message, "errorCode": code, **extra}))


class NanophotoServer(FakeProvider):
    name: ClassVar[str] = "nanophoto"
    default_api_key: ClassVar[str] = "np-Vd3Fk7Xz1Qw5Nt8Ys2Ug"

    def routes(self) -> list[Route]:
        return [
            Route("POST", r"/api/veo-3/generate", "submit", self.generate),
            Route("POST", r"/api/veo-3/check-status", "poll", self.check_status),
            self.download_route(),
        ]

    def new_task_id(self) -> str:
        return f"task_{os.urandom(8).hex()}"

    def price(self, body: dict[str, Any]) -> int:
        """What a (valid) generate body costs."""
        return PRICES[body.get("resolution", "720p")] * len(body["shots"])

    def auth_error(self) -> Reply:
        return _err(401, "LOGIN_REQUIRED", "Authentication required").reply

    def rate_limited(self) -> Reply:
        return _err(
            429, "API_KEY_RATE_LIMIT_EXCEEDED", "API key rate limit exceeded (100 requests per hour)"
        ).reply

    def server_error(self) -> Reply:
        return _err(500, "INTERNAL_ERROR", "Internal server error").reply

    def generate(self, req: Incoming) -> Reply:
        try:
            body = req.json()
        except ValueError:
            raise _err(400, "INVALID_REQUEST", "The body is not JSON") from None
        shots = body.get("shots") if isinstance(body, dict) else None
        if not isinstance(shots, list) or not shots:
            raise _err(400, "SHOTS_REQUIRED", "shots is required: a list of 1-21 shots")
        for i, shot in enumerate(shots):
            if isinstance(shot, dict):
                self._check_shot(i, shot)
        errors = schema_errors("nanophoto.generate", body)
        if errors:
            raise _err(400, "INVALID_REQUEST", errors[0])
        ids = [s["id"] for s in shots]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise _err(400, "INVALID_REQUEST", f"shot ids must be unique: {', '.join(dupes)}")
        cost = self.price(body)
        resolution = body.get("resolution", "720p")
        out = []
        with self.lock:  # check and charge the whole batch at once
            ok, _current = self.balance_for(cost)
            if not ok:
                raise _err(402, "INSUFFICIENT_CREDITS", "Insufficient credits", requiredCredits=cost)
            queued = 0.0  # the jobs before this one in the request
            for shot in shots:
                fail = None
                if FORBIDDEN.search(shot["prompt"]):
                    fail = "Video generation failed: the prompt was rejected by the content filter"
                task = self.create_task(
                    shot,
                    body,
                    PRICES[resolution],
                    shot_id=shot["id"],
                    fail_reason=fail,
                    info={"resolution": resolution},
                )
                # one request's shots are generated one after another: each starts when the
                # one before it is done
                queued += task.ready_at - task.created_at
                task.ready_at = task.created_at + queued
                out.append({"shotId": shot["id"], "taskId": task.task_id, "status": "processing"})
        return Reply(200, {"status": "processing", "shots": out, "creditsUsed": cost})

    def _check_shot(self, i: int, shot: dict[str, Any]) -> None:
        prompt = shot.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise _err(400, "PROMPT_REQUIRED", f"shots[{i}].prompt is required")
        kind = shot.get("generationType")
        urls = shot.get("imageUrls")
        if isinstance(urls, list) and not all(is_http_url(u) for u in urls):
            raise _err(
                400,
                "IMAGE_URLS_REQUIRED",
                f"shots[{i}].imageUrls: public image URLs only; base64 is not supported",
            )
        if kind not in _COUNTS:
            return  # the schema names the bad generationType
        low, high = _COUNTS[kind]
        if urls is None and low > 0:
            raise _err(400, "IMAGE_URLS_REQUIRED", f"shots[{i}]: {kind} needs imageUrls")
        if isinstance(urls, list) and not low <= len(urls) <= high:
            want = "no images" if high == 0 else f"{low}-{high} images"
            raise _err(400, "INVALID_IMAGE_COUNT", f"shots[{i}]: {kind} takes {want}, got {len(urls)}")

    def check_status(self, req: Incoming) -> Reply:
        try:
            body = req.json()
        except ValueError:
            raise _err(400, "INVALID_REQUEST", "The body is not JSON") from None
        ids = body.get("taskIds") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not ids:
            raise _err(400, "TASK_IDS_REQUIRED", "taskIds is required")
        errors = schema_errors("nanophoto.check-status", body)
        if errors:
            raise _err(400, "INVALID_REQUEST", errors[0])
        resolution = body.get("resolution", "720p")
        shots = []
        with self.lock:
            for item in ids:
                task = self.tasks.get(item["taskId"])
                if (
                    task is None
                    or task.shot_id != item["shotId"]
                    or task.info.get("resolution") != resolution
                ):
                    raise _err(404, "TASK_NOT_FOUND", f"Task not found: {item['taskId']}")
                shots.append(self._shot_status(task))
        states = [s["status"] for s in shots]
        if "processing" in states:
            overall = "processing"
        elif "failed" in states:
            overall = "failed"
        else:
            overall = "completed"
        return Reply(200, {"status": overall, "shots": shots})

    def strip_link(self, body: Any, value: Any = None, *, remove: bool = True) -> bool:
        for shot in body.get("shots") or []:
            if shot.get("status") == "completed" and "videoUrl" in shot:
                return set_link(shot, "videoUrl", value, remove)
        return False

    def _shot_status(self, task: Task) -> dict[str, Any]:
        state = task.status
        out: dict[str, Any] = {"shotId": task.shot_id, "taskId": task.task_id}
        if state == "completed":
            out["status"] = "completed"
            out["videoUrl"] = task.result_url
            out["generationTime"] = max(1, round(task.ready_at - task.created_at))
        elif state == "failed":
            out["status"] = "failed"
            out["error"] = task.fail_reason
        else:
            out["status"] = "processing"
        return out
