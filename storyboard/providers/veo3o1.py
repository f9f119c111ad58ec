"""veo3o1 (documents 000 and 001): one shot a request, one image at most, local uploads.

    POST /generate-video       {generationType: text_to_video|image_to_video, prompt,
                                aspectRatio: auto|16:9|9:16, imageUrl?}   -> data.uuid
    GET  /video-status/{uuid}  data.status pending|processing|completed|failed, videoUrl, progress
    POST /upload-video-image   multipart `file` (JPEG/PNG/WebP <= 50 MB) -> data.imageUrl

Errors travel in the body's `code` (0 ok, 1000 invalid parameters, 1001 insufficient credits
with data.required/current, 1002 auth failed, 1003 rate limited, 5000 server error); the HTTP
status beside them is not documented, so the body decides and the status only fills in.
The documents name no "no such task" answer, so a poll never raises TaskNotFound.
No price table is published.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from storyboard.providers.base import CompiledShot, HttpRequest, Need, NeedKind, Task, TaskState, TaskStatus
from storyboard.providers.capabilities import Capabilities
from storyboard.providers.hosted import HostedProvider
from storyboard.providers.http import protocol_error, read_image, segment, shots_label
from storyboard.providers.replies import ErrorKind, Reply, Rule, ServiceError, as_dict, link

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


ERRORS = {
    1000: Rule(ErrorKind.REJECTED, "the request was refused as invalid"),
    1001: Rule(ErrorKind.CREDITS, hint="top up the veo3o1 account"),
    1002: Rule(ErrorKind.AUTH),
    1003: Rule(ErrorKind.RATE_LIMIT),
    5000: Rule(ErrorKind.UNAVAILABLE),
}


class Veo3o1Provider(HostedProvider):
    name = "veo3o1"
    env = "VEO3O1"
    default_base_url = "https://veo3o1.com/api"
    submit_path = "/generate-video"
    poll_interval = 7.5  # the document: every 5-10 s
    capabilities = Capabilities(
        aspect_ratios=("16:9", "9:16", "auto"),
        resolutions=("720p",),
        models=("fast",),
        seed=False,
        types=("text", "frames"),
        frame_images=1,
        reference_images=0,
        local_images=True,
        continues="last_frame",
        no_field=("resolution", "model", "seed"),
        upload_formats=(".jpg", ".jpeg", ".png", ".webp"),
        upload_max_bytes=50 * 1024 * 1024,
    )
    errors = ERRORS
    errors_on_success = True  # HTTP 200 with its error code in the body

    # plan time -----------------------------------------------------------------------------
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
            needs = (Need(NeedKind.LAST_FRAME, s.continues, image),)
        elif s.first is not None:
            if s.first.is_local:
                image = upload_placeholder(s.first.ref)
                needs = (Need(NeedKind.UPLOAD, str(s.first.path), image),)
            else:
                image = s.first.url
        if image is not None:
            body["generationType"] = "image_to_video"
            body["imageUrl"] = image
        return body, needs

    def upload_url(self) -> str:
        return f"{self.base_url}/upload-video-image"

    # render time ---------------------------------------------------------------------------
    def read_error(self, reply: Reply, sent: Any = None) -> ServiceError | None:
        code = reply.body.get("code")
        if not isinstance(code, int) or code == 0:
            return None  # a success, or not the service's body: the HTTP status decides
        data = as_dict(reply.body.get("data"))
        return ServiceError(code, str(reply.body.get("msg") or ""), data.get("required"), data.get("current"))

    def _data(self, reply: Reply, shot: str | None, what: str) -> dict[str, Any]:
        data = reply.body.get("data")
        if not isinstance(data, dict):
            raise protocol_error(self.http, f"no data in the {what} reply", reply, shot)
        return data

    def upload(self, path: Path) -> str:
        name, content, mime = read_image(Path(path))
        reply = self.http.request("POST", "/upload-video-image", files={"file": (name, content, mime)})
        url = self._data(reply, None, "upload").get("imageUrl")
        if not isinstance(url, str) or not url:
            raise protocol_error(self.http, "no data.imageUrl in the upload reply", reply)
        return url

    def submit(self, request: HttpRequest) -> dict[str, str]:
        shot = shots_label(request.shots)
        reply = self.http.request(request.method, request.url, json=request.body, check=self.checker(shot))
        uuid = self._data(reply, shot, "generate").get("uuid")
        if not isinstance(uuid, str) or not uuid:
            raise protocol_error(self.http, "no data.uuid in the generate reply", reply, shot)
        return {request.shots[0]: uuid}

    def poll(self, tasks: list[Task]) -> dict[str, TaskStatus]:
        def one(task: Task) -> TaskStatus:
            reply = self.http.request(
                "GET", f"/video-status/{segment(task.task_id)}", check=self.checker(task.shot_id)
            )
            return self._status(self._data(reply, task.shot_id, "status"))

        return self.poll_each(tasks, one)

    def _status(self, data: dict[str, Any]) -> TaskStatus:
        state = STATES.get(str(data.get("status") or "pending"), TaskState.PENDING)
        progress = data.get("progress")
        progress = float(progress) if isinstance(progress, (int, float)) else None
        eta = data.get("estimatedTime")  # seconds, the document says
        eta = float(eta) if isinstance(eta, (int, float)) and not isinstance(eta, bool) else None
        if state is TaskState.DONE:
            return TaskStatus(TaskState.DONE, url=link(data.get("videoUrl")), progress=progress)
        if state is TaskState.FAILED:
            # the document says "see the error message" without naming its field
            words = next(
                (str(data[k]) for k in ("error", "errorMessage", "message", "msg") if data.get(k)),
                "generation failed (no reason given)",
            )
            return TaskStatus(TaskState.FAILED, reason=words, progress=progress)
        return TaskStatus(state, progress=progress, eta_seconds=eta)
