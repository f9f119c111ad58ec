"""veo3o1 on loopback, as 000_8f0a3eaec0126d6c.txt (Chinese) and 001_b5f3fe9760942637.txt
(Danish) document it. The documented base is https://veo3o1.com/api, so the paths sit
directly under `base_url`:

- POST /generate-video        {generationType, prompt, aspectRatio?, imageUrl?, imageKey?}
- GET  /video-status/{uuid}
- POST /upload-video-image    multipart field `file`: JPEG/PNG/WebP (by content), <= 50 MB
- GET  /files/{uuid}.mp4      the clip (the `videoUrl`), no auth
- GET  /uploads/{imageKey}    an uploaded image (the `imageUrl`), no auth

Every reply is `{code, msg, data}`. Choices where the documents are silent:
- HTTP status: the documents give only body codes. This server sends the HTTP status that
  matches each code: 0 -> 200, 1000 -> 400, 1001 -> 402, 1002 -> 401, 1003 -> 429,
  5000 -> 500 (and an unknown uuid -> 404 with code 1000). Error replies carry `data: null`
  except 1001, whose data is `{required, current}` as documented.
- Price: 2 credits a video (the documented 1001 example says `required: 2`).
- A failed task's status carries `data.error` (the documents say "check the error message"
  without naming the field) and `progress: 100`, `estimatedTime: 0`.
- text_to_video with an imageUrl or imageKey is refused (1000): an image there would be
  silently ignored or is a client bug. image_to_video needs imageUrl (documented).
- imageUrl must be an http(s) URL; a URL of this server's /uploads/ must be a real upload,
  and an imageKey must name an upload (and match imageUrl when both are sent).
- The prompt check: a prompt containing the word FORBIDDEN is accepted and the task ends
  failed (the documents show no content-rejection code), then refunded.
- The 429 fault is HTTP 429 with code 1003 and Retry-After; the 500 fault is HTTP 500 with
  code 5000; the 503 fault is a bare HTTP 503 from the "load balancer".
"""

from __future__ import annotations

import datetime as dt
import math
import os
import uuid
from typing import Any, ClassVar

from tests.servers.base import (
    FORBIDDEN,
    FakeProvider,
    Incoming,
    Refusal,
    Reply,
    Route,
    parse_multipart,
    schema_errors,
    set_link,
    sniff_image,
)

_MIME = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def _body(status: int, code: int, msg: str, data: Any = None) -> Reply:
    return Reply(status, {"code": code, "msg": msg, "data": data})


class Veo3o1Server(FakeProvider):
    name: ClassVar[str] = "veo3o1"
    default_api_key: ClassVar[str] = "vo-Bn6Lr9Ce2Wm4Zh7Pt1Xq"
    price_per_video: ClassVar[int] = 2

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_upload_bytes = 50 * 1024 * 1024  # documented; tests may lower it
        self.uploads: dict[str, dict[str, Any]] = {}  # imageKey -> {data, format, imageUrl}

    def routes(self) -> list[Route]:
        return [
            Route("POST", r"/generate-video", "submit", self.generate),
            Route("GET", r"/video-status/(?P<uuid>[^/]+)", "poll", self.status),
            Route("POST", r"/upload-video-image", "upload", self.upload),
            Route("GET", r"/uploads/(?P<key>[^/]+)", "other", self.get_upload, auth=False),
            self.download_route(),
        ]

    def new_task_id(self) -> str:
        return str(uuid.uuid4())

    def price(self, body: dict[str, Any]) -> int:
        return self.price_per_video

    # -- documented errors -----------------------------------------------------------------
    def invalid(self, detail: str) -> Refusal:
        return Refusal(_body(400, 1000, f"Invalid parameters: {detail}"))

    def auth_error(self) -> Reply:
        return _body(401, 1002, "Authentication failed")

    def rate_limited(self) -> Reply:
        return _body(429, 1003, "Rate limit exceeded")

    def server_error(self) -> Reply:
        return _body(500, 5000, "Server error")

    # -- routes ----------------------------------------------------------------------------
    def generate(self, req: Incoming) -> Reply:
        try:
            body = req.json()
        except ValueError:
            raise self.invalid("the body is not JSON") from None
        errors = schema_errors("veo3o1.generate", body)
        if errors:
            raise self.invalid(errors[0])
        self._check_image(body)
        cost = self.price(body)
        fail = None
        if FORBIDDEN.search(body["prompt"]):
            fail = "Content policy violation: the prompt was rejected"
        with self.lock:
            ok, current = self.balance_for(cost)
            if not ok:
                return _body(402, 1001, "Insufficient credits", {"required": cost, "current": current})
            task = self.create_task(body, body, cost, fail_reason=fail)
        created = dt.datetime.fromtimestamp(task.created_at, dt.timezone.utc)
        return _body(
            200,
            0,
            "Success",
            {
                "uuid": task.task_id,
                "status": "pending",
                "generationType": body["generationType"],
                "prompt": body["prompt"],
                "aspectRatio": body.get("aspectRatio", "auto"),
                "createdAt": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        )

    def _check_image(self, body: dict[str, Any]) -> None:
        url, key = body.get("imageUrl"), body.get("imageKey")
        mine = f"{self.base_url}/uploads/"
        with self.lock:
            if isinstance(url, str) and url.startswith(mine) and url[len(mine) :] not in self.uploads:
                raise self.invalid(f"imageUrl {url} is not an uploaded image")
            if key is not None:
                if key not in self.uploads:
                    raise self.invalid(f"imageKey {key!r} is not an uploaded image")
                if url is not None and self.uploads[key]["imageUrl"] != url:
                    raise self.invalid("imageKey and imageUrl name different images")

    def status(self, req: Incoming, uuid: str) -> Reply:
        task = self.task(uuid)
        if task is None:
            return _body(404, 1000, "Video not found")
        state = task.status
        data: dict[str, Any] = {
            "uuid": task.task_id,
            "status": state,
            "progress": task.progress(),
            "estimatedTime": math.ceil(task.remaining()),
        }
        if state == "completed":
            data["videoUrl"] = task.result_url
        elif state == "failed":
            data["error"] = task.fail_reason
        return _body(200, 0, "Success", data)

    def strip_link(self, body: Any, value: Any = None, *, remove: bool = True) -> bool:
        data = body.get("data")
        if isinstance(data, dict) and data.get("status") == "completed" and "videoUrl" in data:
            return set_link(data, "videoUrl", value, remove)
        return False

    def upload(self, req: Incoming) -> Reply:
        try:
            parts = parse_multipart(req.headers.get("content-type", ""), req.raw)
        except ValueError as e:
            raise self.invalid(f"{e}; send multipart/form-data with a 'file' field") from None
        form: dict[str, Any] = {}
        data = b""
        for name, filename, ctype, content in parts:
            if name in form:
                raise self.invalid(f"field {name!r} sent twice")
            form[name] = {
                "filename": filename,
                "contentType": ctype,
                "size": len(content),
                "format": sniff_image(content),
            }
            if name == "file":
                data = content
        req.record.body = form
        errors = schema_errors("veo3o1.upload", form)
        if "file" in form and form["file"]["format"] is None:
            errors.insert(0, "file: unsupported image format (JPEG, PNG or WebP only)")
        if "file" in form and form["file"]["size"] > self.max_upload_bytes:
            errors.insert(0, f"file: larger than {self.max_upload_bytes} bytes (50MB)")
        if errors:
            raise self.invalid(errors[0])
        fmt = form["file"]["format"]
        key = f"r2-{os.urandom(8).hex()}"
        url = f"{self.base_url}/uploads/{key}"
        with self.lock:
            self.uploads[key] = {"data": data, "format": fmt, "imageUrl": url}
        return _body(200, 0, "Upload successful", {"imageUrl": url, "imageKey": key})

    def get_upload(self, req: Incoming, key: str) -> Reply:
        with self.lock:
            up = self.uploads.get(key)
        if up is None:
            return self.not_found(req.path)
        return Reply(200, up["data"], content_type=_MIME[up["format"]])
