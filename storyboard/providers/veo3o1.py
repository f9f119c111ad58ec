"""veo3o1 (documents 000 and 001): one shot a request, one image at most, local uploads.

    POST /generate-video       {generationType: text_to_video|image_to_video, prompt,
                                aspectRatio: auto|16:9|9:16, imageUrl?}   -> data.uuid
    GET  /video-status/{uuid}  data.status pending|processing|completed|failed, videoUrl, progress
    POST /upload-video-image   multipart `file` (JPEG/PNG/WebP <= 50 MB) -> data.imageUrl

Errors travel in the body's `code` (0 ok, 1000 invalid parameters, 1001 insufficient credits
with data.required/current, 1002 auth failed, 1003 rate limited, 5000 server error); the HTTP
status beside them is not documented, so the body decides and the status only fills in.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import httpx

from storyboard.errors import (
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
    parse_retry_after,
    protocol_error,
    read_image,
    shots_label,
)

ASPECT = {"16:9": "16:9", "9:16": "9:16", "auto": "auto"}
STATES = {
    "pending": TaskState.PENDING,
    "processing": TaskState.RUNNING,
    "completed": TaskState.DONE,
    "failed": TaskState.FAILED,
}


def upload_placeholder(ref: str) -> str:
    return f"<upload:{ref}>"


def last_frame_placeholder(parent: str) -> str:
    return f"<last-frame:{parent}>"


class Veo3o1Provider(HostedProvider):
    name = "veo3o1"
    env = "VEO3O1"
    default_base_url = "https://veo3o1.com/api"
    can_upload = True
    poll_interval = 7.5  # the document: every 5-10 s

    # plan time -----------------------------------------------------------------------------
    def submit_url(self, shot: CompiledShot) -> str:
        return f"{self.base_url}/generate-video"

    def shot_body(self, shot: CompiledShot) -> tuple[dict[str, Any], tuple[Need, ...]]:
        self.require(shot)
        s = shot.shot
        body: dict[str, Any] = {
            "generationType": "text_to_video",
            "prompt": shot.prompt,
            "aspectRatio": ASPECT[s.settings.aspect_ratio],
        }
        needs: tuple[Need, ...] = ()
        image: str | None = None
        if s.continues:
            image = last_frame_placeholder(s.continues)
            needs = (Need("last_frame", s.continues, image),)
        elif s.first is not None:
            if s.first.is_local:
                image = upload_placeholder(s.first.ref)
                needs = (Need("upload", str(s.first.path), image),)
            else:
                image = s.first.url
        if image is not None:
            body["generationType"] = "image_to_video"
            body["imageUrl"] = image
        return body, needs

    def cost(self, shot: CompiledShot) -> Cost:
        return Cost(None, None)  # the documents give no price table

    # render time ---------------------------------------------------------------------------
    def _error(self, response: httpx.Response, shot: str | None = None) -> ProviderError | None:
        body = json_body(response)
        code = body.get("code") if isinstance(body, dict) else None
        if not isinstance(code, int) or (code == 0 and not response.is_success):
            return self.http.status_error(response, shot)
        if code == 0:
            return None
        assert isinstance(body, dict)
        msg = str(body.get("msg") or "")
        data = as_dict(body.get("data"))
        words = self.http.redact(f"{code}: {msg}" if msg else str(code))
        if code == 1002:
            return self.http.auth_error(words)
        if code == 1001:
            need, have = data.get("required"), data.get("current")
            detail = "not enough credits"
            if need is not None:
                detail += f": {need} needed"
                if have is not None:
                    detail += f", {have} available"
            return CreditsError(
                f"{detail} ({words})",
                provider=self.name,
                shot=shot,
                hint="top up the veo3o1 account",
            )
        if code == 1003:
            return RateLimitError(
                f"rate limited ({words})",
                provider=self.name,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if code == 5000:
            return TransientError(f"server error ({words})", provider=self.name)
        if code == 1000:
            return RejectedError(
                f"the request was refused as invalid ({words})", provider=self.name, shot=shot
            )
        return ProviderError(f"error {words}", provider=self.name, shot=shot)

    def _data(self, response: httpx.Response, shot: str | None, what: str) -> dict[str, Any]:
        body = json_body(response)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise protocol_error(self.http, f"no data in the {what} reply", response, shot)
        return data

    def upload_url(self) -> str:
        return f"{self.base_url}/upload-video-image"

    def upload(self, path: Path) -> str:
        name, content, mime = read_image(Path(path))
        response = self.http.request(
            "POST",
            "/upload-video-image",
            files={"file": (name, content, mime)},
            check=lambda r: self._error(r),
        )
        url = self._data(response, None, "upload").get("imageUrl")
        if not isinstance(url, str) or not url:
            raise protocol_error(self.http, "no data.imageUrl in the upload reply", response)
        return url

    def submit(self, request: HttpRequest) -> dict[str, str]:
        shot = shots_label(request.shots)
        response = self.http.request(
            request.method, request.url, json=request.body, check=lambda r: self._error(r, shot)
        )
        uuid = self._data(response, shot, "generate").get("uuid")
        if not isinstance(uuid, str) or not uuid:
            raise protocol_error(self.http, "no data.uuid in the generate reply", response, shot)
        return {request.shots[0]: uuid}

    def poll(self, tasks: list[Task]) -> dict[str, TaskStatus]:
        out: dict[str, TaskStatus] = {}
        for task in tasks:
            response = self.http.request(
                "GET",
                f"/video-status/{task.task_id}",
                check=functools.partial(self._error, shot=task.shot_id),
            )
            out[task.task_id] = self._status(self._data(response, task.shot_id, "status"))
        return out

    def _status(self, data: dict[str, Any]) -> TaskStatus:
        raw = str(data.get("status") or "pending")
        state = STATES.get(raw, TaskState.PENDING)
        progress = data.get("progress")
        progress = float(progress) if isinstance(progress, (int, float)) else None
        if state is TaskState.DONE:
            url = data.get("videoUrl")
            if not isinstance(url, str) or not url:
                return TaskStatus(TaskState.FAILED, reason="completed without a videoUrl", progress=progress)
            return TaskStatus(TaskState.DONE, url=url, progress=progress)
        if state is TaskState.FAILED:
            # the document says "see the error message" without naming its field
            words = next(
                (str(data[k]) for k in ("error", "errorMessage", "message", "msg") if data.get(k)),
                "generation failed (no reason given)",
            )
            return TaskStatus(TaskState.FAILED, reason=self.http.redact(words), progress=progress)
        return TaskStatus(state, progress=progress)
