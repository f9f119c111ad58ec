"""gemini: Veo 3.1 on Google's own Gemini API (ai.google.dev/gemini-api/docs/video).

    POST /v1beta/models/{model}:predictLongRunning     x-goog-api-key: KEY
         {instances: [{prompt, image?, lastFrame?, referenceImages?: [{image, referenceType}]}],
          parameters: {aspectRatio, resolution, durationSeconds, negativePrompt?}}
         -> an operation {name: "models/{model}/operations/{id}"}
    GET  /v1beta/{operation name}
         -> {name, done?, error?: {code, message}, response?: {generateVideoResponse:
             {generatedSamples: [{video: {uri}}], raiMediaFilteredCount?, raiMediaFilteredReasons?}}}
    GET  {video.uri}                                   the clip, with the key (Google's own host)

The shapes are those of Google's SDK (googleapis/python-genai, google/genai/models.py:
_GenerateVideosParameters_to_mldev, _GenerateVideosOperation_from_mldev) and the REST
examples of the guide. Images travel inline, `{bytesBase64Encoded, mimeType}`, read from the
storyboard's own files at render time (the plan shows a placeholder, the fingerprint their
hash): the Gemini API fetches no links. A shot that `continues` another starts on its last
frame: once the parent's clip is made, that frame (a PNG) is the request's `image`, inline
(the parent's fingerprint stands for it in this shot's); a `frames.last` may end it. The
model is in the URL path, so `model: quality` and `model: fast` are different requests to
the fingerprint as well as to Google.

Errors are Google's `{error: {code, message, status}}` with the HTTP status; a finished
operation carries its job's own `error` in a 200 reply, read by `_status`, never as a failed
request. A Bearer header is refused (401 "Expected OAuth 2 access token"): the key goes in
`x-goog-api-key`, and only to the API's own origin.

Models, as the guide and the pricing page name them (read 2026-12-07; pricing as updated
2026-04-09): fast = veo-3.1-fast-generate-preview, quality = veo-3.1-generate-preview,
lite = veo-3.1-lite-generate-preview. Lite makes 720p and 1080p only, from text or a first
frame (no last frame, no reference images). Reference images make 16:9 clips only: Google
answers 9:16 with them 400 INVALID_ARGUMENT "Your use case is currently not supported"
(discuss.ai.google.dev/t/veo-3-1-reference-images-docs-say-available-api-says-not-supported/111853).
Every clip is 8 s (1080p, 4k and reference images require 8). The Gemini API takes no seed
(the SDK refuses one outside Vertex AI).
Whether a failed or safety-filtered job is charged is not stated in Google's own pages we
could read, so `refunds_failures` is None: a failed shot is not sent again on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from storyboard.board.model import CLIP_SECONDS, Asset
from storyboard.errors import ProviderError
from storyboard.money import PriceSource
from storyboard.providers.base import (
    Auth,
    CompiledShot,
    Cost,
    HttpRequest,
    Need,
    NeedKind,
    Task,
    TaskState,
    TaskStatus,
)
from storyboard.providers.capabilities import IMAGE_FORMATS, Capabilities
from storyboard.providers.hosted import HostedProvider
from storyboard.providers.http import path_segments, protocol_error, segment, shots_label
from storyboard.providers.options import OptionProblem, ProviderOptions, option
from storyboard.providers.replies import ErrorKind, Reply, Rule, ServiceError, as_dict

MODELS = {
    "fast": "veo-3.1-fast-generate-preview",
    "quality": "veo-3.1-generate-preview",
    "lite": "veo-3.1-lite-generate-preview",
}
# US dollars a second of video (with its audio, the default), by model and resolution: Google's
# pricing page, https://ai.google.dev/gemini-api/docs/pricing, Veo 3.1 section, as updated
# 2026-04-09 (Fast cut that day). Its rows, "Veo 3.1 Standard video with audio price (default)
# $0.40 (720p and 1080p) $0.60 (4k)", "Veo 3.1 Fast ... $0.10 (720p) $0.12 (1080p) $0.30 (4k)",
# "Veo 3.1 Lite ... $0.05 (720p) $0.08 (1080p) (4k output not supported)", are quoted alike by
# transcriptions of the page read 2026-07-11, 2026-09-20 and 2026-10-07 (audit 2026-12-08).
USD_PER_SECOND: dict[str, dict[str, float]] = {
    "quality": {"720p": 0.40, "1080p": 0.40, "4k": 0.60},
    "fast": {"720p": 0.10, "1080p": 0.12, "4k": 0.30},
    "lite": {"720p": 0.05, "1080p": 0.08},
}
MIME = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}
MODEL_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{0,79}")  # one path segment: veo-3.1-generate-001
OPERATION = r"models/[a-z0-9][a-z0-9.-]{0,79}/operations/[A-Za-z0-9_-]{1,100}"

ERRORS = {
    "API_KEY_INVALID": Rule(ErrorKind.AUTH, "the API key is not valid"),
    "UNAUTHENTICATED": Rule(ErrorKind.AUTH),
    "PERMISSION_DENIED": Rule(
        ErrorKind.AUTH,
        "the key may not use this model",
        hint="check the key's project in Google AI Studio (billing on, the Veo models allowed), or set {var}",
    ),
    "INVALID_ARGUMENT": Rule(ErrorKind.REJECTED),
    "FAILED_PRECONDITION": Rule(
        ErrorKind.REJECTED,
        "the project cannot use this now (billing not set up, or a region Google does not serve)",
        hint="set up billing for the key's project in Google AI Studio",
    ),
    "NOT_FOUND": Rule(ErrorKind.NOT_FOUND, "no such operation or model"),
    "RESOURCE_EXHAUSTED": Rule(ErrorKind.RATE_LIMIT, "rate limited or out of quota"),
    "INTERNAL": Rule(ErrorKind.UNAVAILABLE),
    "UNAVAILABLE": Rule(ErrorKind.UNAVAILABLE),
    "DEADLINE_EXCEEDED": Rule(ErrorKind.UNAVAILABLE),
}


def inline_placeholder(path: Path) -> str:
    return f"<inline:{path.name}>"


def last_frame_placeholder(parent: str) -> str:
    return f"<last frame of {parent}>"


@dataclass(frozen=True)
class GeminiOptions(ProviderOptions):
    """Which Google model each of our models is (the URL path: part of every fingerprint),
    and a negative prompt for every shot."""

    fast: str = option(MODELS["fast"], "the Google model for `model: fast`", fingerprint=False)
    quality: str = option(MODELS["quality"], "the Google model for `model: quality`", fingerprint=False)
    lite: str = option(MODELS["lite"], "the Google model for `model: lite`", fingerprint=False)
    negative_prompt: str = option("", "what no clip should show (Google's negativePrompt)")

    @classmethod
    def problems(cls, raw: Any) -> list[OptionProblem]:
        out = super().problems(raw)
        if out or not isinstance(raw, dict):
            return out
        for name in MODELS:
            value = raw.get(name)
            if isinstance(value, str) and not MODEL_NAME.fullmatch(value):
                out.append(
                    OptionProblem(
                        (name,),
                        f"{value!r} is not a Google model name (lower-case letters, digits, '.' and '-')",
                        f"for example {name}: {MODELS[name]}",
                    )
                )
        return out


FULL = Capabilities(
    aspect_ratios=("16:9", "9:16"),
    resolutions=("720p", "1080p", "4k"),
    models=("fast", "quality", "lite"),
    seed=False,
    types=("text", "frames", "reference"),
    frame_images=2,
    reference_images=3,
    reference_aspects=("16:9",),  # Google refuses 9:16 with references (see the docstring)
    inline_images=True,
    url_images=False,
    upload_formats=IMAGE_FORMATS,
    upload_max_bytes=20 * 1024 * 1024,  # an inline request stays under Google's 20 MB
    continues="last_frame",  # its first frame, `image`, is the parent's last, sent inline
)


class GeminiProvider(HostedProvider):
    name = "gemini"
    env = "GEMINI"
    price_source = PriceSource.document(
        "Google's Gemini API pricing (https://ai.google.dev/gemini-api/docs/pricing)", "2026-04-09"
    )
    key_aliases: ClassVar[tuple[str, ...]] = ("GOOGLE_API_KEY",)
    default_base_url = "https://generativelanguage.googleapis.com"
    auth = Auth(header="x-goog-api-key", scheme="")
    fetches_own_clips = True  # video.uri is on the API's own host and needs the key
    refunds_failures = None  # not stated by Google's pages we read: never resubmitted on our own
    task_id_pattern = OPERATION
    task_id_words = "an operation name as Google gives it: models/MODEL/operations/ID"
    poll_interval = 10.0  # the guide polls every 10 s
    capabilities = replace(
        FULL,
        by_model=(  # lite: text or a first frame, at 720p or 1080p
            (
                "lite",
                FULL.limited(
                    resolutions=("720p", "1080p"),
                    types=("text", "frames"),
                    frame_images=1,
                    reference_images=0,
                ),
            ),
        ),
    )
    Options = GeminiOptions
    errors = ERRORS

    @property
    def models(self) -> dict[str, str]:
        opts = self.options
        assert isinstance(opts, GeminiOptions)
        return {"fast": opts.fast, "quality": opts.quality, "lite": opts.lite}

    # plan time -----------------------------------------------------------------------------
    def submit_url(self, shot: CompiledShot) -> str:
        model = self.models[shot.shot.settings.model]
        return f"{self.base_url}/v1beta/models/{segment(model)}:predictLongRunning"

    def shot_body(self, shot: CompiledShot) -> tuple[dict[str, Any], tuple[Need, ...]]:
        self.require(shot)
        s = shot.shot
        needs: list[Need] = []

        def image(asset: Asset) -> dict[str, str]:
            path = asset.path
            assert path is not None  # check() refused images without a file
            placeholder = inline_placeholder(path)
            if all(n.placeholder != placeholder for n in needs):
                needs.append(Need(NeedKind.INLINE, str(path), placeholder))
            return {"bytesBase64Encoded": placeholder, "mimeType": MIME.get(path.suffix.lower(), "image/png")}

        instance: dict[str, Any] = {"prompt": shot.prompt}
        if s.kind == "reference":
            instance["referenceImages"] = [
                {"image": image(a), "referenceType": "asset"} for a in s.references
            ]
        else:
            if s.continues:  # once the parent's clip is made, its last frame (a PNG) goes inline
                placeholder = last_frame_placeholder(s.continues)
                needs.append(Need(NeedKind.LAST_FRAME_INLINE, s.continues, placeholder))
                instance["image"] = {"bytesBase64Encoded": placeholder, "mimeType": "image/png"}
            elif s.first is not None:
                instance["image"] = image(s.first)
            if s.last is not None:
                instance["lastFrame"] = image(s.last)
        parameters: dict[str, Any] = {
            "aspectRatio": s.settings.aspect_ratio,
            "resolution": s.settings.resolution,
            "durationSeconds": int(CLIP_SECONDS),
        }
        opts = self.options
        assert isinstance(opts, GeminiOptions)
        if opts.negative_prompt:
            parameters["negativePrompt"] = opts.negative_prompt
        return {"instances": [instance], "parameters": parameters}, tuple(needs)

    def cost(self, shot: CompiledShot) -> Cost:
        settings = shot.shot.settings
        per_second = USD_PER_SECOND.get(settings.model, {}).get(settings.resolution)
        if per_second is None:
            return Cost(None, None)
        return Cost(None, round(per_second * CLIP_SECONDS, 2))

    # render time ---------------------------------------------------------------------------
    def read_error(self, reply: Reply, sent: Any = None) -> ServiceError | None:
        err = reply.body.get("error")
        if not isinstance(err, dict):
            return None  # not Google's body (a proxy's page): the HTTP status decides
        status = str(err.get("status") or "")
        reasons = [as_dict(d).get("reason") for d in err.get("details") or [] if isinstance(d, dict)]
        code = "API_KEY_INVALID" if "API_KEY_INVALID" in reasons else status or reply.status_code
        return ServiceError(code, str(err.get("message") or ""))

    def submit(self, request: HttpRequest) -> dict[str, str]:
        shot = shots_label(request.shots)
        reply = self.http.request(
            request.method, request.url, json=request.body, check=self.checker(shot, request.body)
        )
        name = reply.body.get("name")
        if not isinstance(name, str) or self.task_id_problem(name) is not None:
            raise protocol_error(self.http, "no operation name in the reply", reply, shot)
        return {request.shots[0]: name}

    def poll(self, tasks: list[Task]) -> dict[str, TaskStatus]:
        def one(task: Task) -> TaskStatus:
            if self.task_id_problem(task.task_id) is not None:  # never steer a request with it
                raise ProviderError(
                    f"{task.task_id[:80]!r} is not an operation name", provider=self.name, shot=task.shot_id
                )
            reply = self.http.request(
                "GET", f"/v1beta/{path_segments(task.task_id)}", check=self.checker(task.shot_id)
            )
            if not isinstance(reply.data, dict):
                raise protocol_error(self.http, "the operation reply is not JSON", reply, task.shot_id)
            return self._status(reply.data)

        return self.poll_each(tasks, one)

    def _status(self, op: dict[str, Any]) -> TaskStatus:
        if op.get("done") is not True:
            return TaskStatus(TaskState.RUNNING)
        error = op.get("error")
        if isinstance(error, dict):  # the job's own failure, in a 200 reply
            words = ": ".join(
                str(x) for x in (error.get("code"), error.get("message")) if x not in (None, "")
            )
            return TaskStatus(
                TaskState.FAILED, reason=f"error {words}" if words else "failed (no reason given)"
            )
        video = as_dict(as_dict(op.get("response")).get("generateVideoResponse"))
        reasons = video.get("raiMediaFilteredReasons")
        if isinstance(reasons, list) and reasons:
            said = "; ".join(str(r) for r in reasons)
            return TaskStatus(TaskState.FAILED, reason=f"blocked by Google's safety filters: {said}")
        samples = video.get("generatedSamples")
        first = as_dict(samples[0]) if isinstance(samples, list) and samples else {}
        uri = as_dict(first.get("video")).get("uri")
        if isinstance(uri, str) and uri:
            return TaskStatus(TaskState.DONE, url=uri)
        # done without a video or a reason: not a failure, only a reason to ask again
        return TaskStatus(TaskState.RUNNING)
