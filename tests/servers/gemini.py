"""The Gemini API's Veo 3.1 on loopback, as Google documents it (base
https://generativelanguage.googleapis.com; the shapes of googleapis/python-genai,
google/genai/models.py, and of the video guide's REST examples):

- POST /v1beta/models/{model}:predictLongRunning   {instances: [{prompt, image?, lastFrame?,
                                                   referenceImages?}], parameters: {...}}
                                                   -> {name: "models/{model}/operations/{id}"}
- GET  /v1beta/models/{model}/operations/{id}      {name} while running; done: {name, done:
                                                   true, response: {@type, generateVideoResponse:
                                                   {generatedSamples: [{video: {uri}}]}}} or
                                                   {name, done: true, error: {code, message}}
- GET  /v1beta/files/{id}:download?alt=media       the clip, with the key: a 302 to the storage
                                                   host (`storage_url`, default this server
                                                   named `localhost`: another origin), where
                                                   /files/{id}.mp4 needs no key

Authentication is the key in `x-goog-api-key` (or `?key=`). An Authorization header is
Google's OAuth, never a key: `Bearer KEY` gets 401 UNAUTHENTICATED "Request had invalid
authentication credentials. Expected OAuth 2 access token, ..."; no key gets 403
PERMISSION_DENIED ("unregistered callers"); a wrong key 400 INVALID_ARGUMENT "API key not
valid" with details[].reason API_KEY_INVALID. Errors are {error: {code, message, status}}.

Choices where the documents are silent:
- Models served: veo-3.1-fast-generate-preview, veo-3.1-generate-preview and
  veo-3.1-lite-generate-preview (another -> 404 NOT_FOUND "models/X is not found for API
  version v1beta, or is not supported for predictLongRunning"). Lite refuses 4k, lastFrame
  and referenceImages (400 INVALID_ARGUMENT), as the guide's model table says.
- A body outside tests/provider_schemas/gemini.generate.schema.json -> 400 INVALID_ARGUMENT
  with the first problem (Google: "Invalid JSON payload received..." / "... isn't supported").
  Images must decode to a JPEG, PNG or WebP of the given mimeType. durationSeconds must be 8
  with 1080p, 4k or reference images. referenceImages with aspectRatio 9:16 -> 400
  INVALID_ARGUMENT "Your use case is currently not supported..." (the API's words, quoted in
  discuss.ai.google.dev/t/111853).
- Operation ids are 12 lower-case letters and digits. An unknown operation -> 404 NOT_FOUND.
- A prompt with FORBIDDEN is accepted; its operation ends done with raiMediaFilteredCount 1
  and raiMediaFilteredReasons (no samples). A fault fail_job ends done with error {code: 13,
  message: reason}.
- Charges: a clip costs its price in cents when accepted (fast 720p: 80). Whether Google
  charges a failed or filtered job its pages do not say: this server takes the worst case and
  refunds nothing, so a client that resubmits on its own pays twice here.
- The 429 fault is RESOURCE_EXHAUSTED with Retry-After; 500 INTERNAL; 503 UNAVAILABLE.
- A first frame (`image`) is looked at: if its pixels are, roughly (16x9, a mean difference
  under 8 of 255), the last frame of a clip this server handed out, the task's
  info["last_frame_of"] is that clip's operation id (a shot continuing another sends it), else None.
"""

from __future__ import annotations

import base64
import binascii
import os
import string
import subprocess
from pathlib import Path
from typing import Any, ClassVar

import imageio_ffmpeg

from tests.servers.base import (
    FORBIDDEN,
    FakeProvider,
    Incoming,
    Refusal,
    Reply,
    Route,
    schema_errors,
    sniff_image,
)

MODELS = ("veo-3.1-fast-generate-preview", "veo-3.1-generate-preview", "veo-3.1-lite-generate-preview")
CENTS_PER_SECOND: dict[str, dict[str, int]] = {  # Google's pricing page, as of 2026-04-09
    "veo-3.1-generate-preview": {"720p": 40, "1080p": 40, "4k": 60},
    "veo-3.1-fast-generate-preview": {"720p": 10, "1080p": 12, "4k": 30},
    "veo-3.1-lite-generate-preview": {"720p": 5, "1080p": 8},
}
OAUTH = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
    "or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)
UNSUPPORTED = (
    "Your use case is currently not supported. Please refer to Gemini API documentation for "
    "current model offering."
)
RESPONSE_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse"


def _err(status: int, name: str, message: str, reason: str | None = None) -> Refusal:
    error: dict[str, Any] = {"code": status, "message": message, "status": name}
    if reason:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "googleapis.com",
            }
        ]
    return Refusal(Reply(status, {"error": error}))


def _invalid(message: str) -> Refusal:
    return _err(400, "INVALID_ARGUMENT", message)


class GeminiServer(FakeProvider):
    name: ClassVar[str] = "gemini"
    default_api_key: ClassVar[str] = "AIzaSyTest-Qm7Xr2Lp9Zt4Wv8Nb3Kd0123"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.storage_url = ""  # where a download is redirected ("" : this server as localhost)
        self.served: dict[str, Path] = {}  # operation id -> the clip downloaded for it
        self._last_frames: dict[Path, bytes] = {}

    def routes(self) -> list[Route]:
        return [
            Route(
                "POST",
                r"/v1beta/models/(?P<model>[^/:]+):predictLongRunning",
                "submit",
                self.generate,
                auth=False,
            ),
            Route(
                "GET",
                r"/v1beta/models/(?P<model>[^/]+)/operations/(?P<op>[^/]+)",
                "poll",
                self.get_operation,
                auth=False,
            ),
            # "link": download faults (truncate, corrupt) strike the clip itself, at the storage host
            Route(
                "GET", r"/v1beta/files/(?P<file>[a-z0-9]+):download", "link", self.keyed_download, auth=False
            ),
            self.download_route(),
        ]

    def new_task_id(self) -> str:
        alphabet = string.ascii_lowercase + string.digits
        return "".join(alphabet[b % len(alphabet)] for b in os.urandom(12))

    # Google keeps what a failed job cost: nothing is refunded here (see the docstring)
    def _settle(self) -> None:
        return None

    # -- auth, as Google answers it ------------------------------------------------------------
    def check_key(self, req: Incoming) -> None:
        if req.headers.get("authorization"):
            raise _err(401, "UNAUTHENTICATED", OAUTH, "ACCESS_TOKEN_TYPE_UNSUPPORTED")
        key = req.headers.get("x-goog-api-key") or req.query.get("key")
        if not key:
            raise _err(
                403,
                "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers (callers without established identity). "
                "Please use API Key or other form of API consumer identity to call this API.",
            )
        if key != self.api_key:
            raise _err(
                400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", "API_KEY_INVALID"
            )

    def auth_error(self) -> Reply:
        return _err(
            400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", "API_KEY_INVALID"
        ).reply

    def rate_limited(self) -> Reply:
        return _err(
            429, "RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your plan."
        ).reply

    def server_error(self) -> Reply:
        return _err(500, "INTERNAL", "An internal error has occurred. Please retry.").reply

    def unavailable(self) -> Reply:
        return _err(503, "UNAVAILABLE", "The model is overloaded. Please try again later.").reply

    def not_found(self, path: str = "") -> Reply:
        return _err(404, "NOT_FOUND", f"Requested entity was not found: {path}").reply

    # -- generate -------------------------------------------------------------------------------
    def generate(self, req: Incoming, model: str) -> Reply:
        self.check_key(req)
        if model not in MODELS:
            raise _err(
                404,
                "NOT_FOUND",
                f"models/{model} is not found for API version v1beta, or is not supported for "
                "predictLongRunning. Call ListModels to see the list of available models.",
            )
        try:
            body = req.json()
        except ValueError:
            raise _invalid("Invalid JSON payload received. Unexpected token.") from None
        if not isinstance(body, dict):
            raise _invalid("Invalid JSON payload received. Expected an object.")
        problems = schema_errors("gemini.generate", body)
        if problems:
            raise _invalid(f"Invalid JSON payload received: {problems[0]}")
        (instance,) = body["instances"]
        params = body.get("parameters", {})
        resolution = params.get("resolution", "720p")
        images = [instance.get("image"), instance.get("lastFrame")]
        images += [r["image"] for r in instance.get("referenceImages", [])]
        for image in (i for i in images if i is not None):
            self._check_image(image)
        refs = "referenceImages" in instance
        if (resolution != "720p" or refs) and params.get("durationSeconds", 8) != 8:
            raise _invalid("durationSeconds must be 8 with 1080p, 4k or reference images.")
        if refs and params.get("aspectRatio", "16:9") != "16:9":
            raise _invalid(UNSUPPORTED)  # Google's own words for references at 9:16
        if model.startswith("veo-3.1-lite"):
            if resolution == "4k":
                raise _invalid("4k resolution isn't supported for this model.")
            if "lastFrame" in instance:
                raise _invalid("`lastFrame` isn't supported by this model.")
            if refs:
                raise _invalid("`referenceImages` isn't supported by this model.")
        cost = CENTS_PER_SECOND[model][resolution] * int(params.get("durationSeconds", 8))
        fail = None
        if FORBIDDEN.search(instance["prompt"]):
            fail = "rai"
        info = {
            "model": model,
            "resolution": resolution,
            "aspect": params.get("aspectRatio", "16:9"),
            "images": sum(1 for i in images if i is not None),
            "last": "lastFrame" in instance,
            "references": len(instance.get("referenceImages", [])),
            "last_frame_of": self._last_frame_of(instance["image"]) if "image" in instance else None,
        }
        with self.lock:
            ok, _ = self.balance_for(cost)
            if not ok:
                raise _err(
                    429,
                    "RESOURCE_EXHAUSTED",
                    "You exceeded your current quota, please check your plan and billing details.",
                )
            task = self.create_task(instance, body, cost, fail_reason=fail, info=info)
        return Reply(200, {"name": f"models/{model}/operations/{task.task_id}"})

    @staticmethod
    def _check_image(image: dict[str, Any]) -> None:
        try:
            data = base64.b64decode(image["bytesBase64Encoded"], validate=True)
        except (binascii.Error, ValueError):
            raise _invalid(
                "Invalid value at 'instances[0].image.bytes_base64_encoded': not base64."
            ) from None
        kind = sniff_image(data)
        if kind is None or f"image/{kind}" != image["mimeType"]:
            raise _invalid(f"Unable to process input image: not a {image['mimeType']} image.")

    def _last_frame_of(self, image: dict[str, Any]) -> str | None:
        """The operation whose clip ends on this picture (roughly: compared at 16x9), or None."""
        try:
            mine = _pixels(["-i", "pipe:0"], base64.b64decode(image["bytesBase64Encoded"]))
        except subprocess.CalledProcessError:
            return None  # not a picture ffmpeg reads: the last frame of nothing
        with self.lock:
            served = list(self.served.items())
        for op, clip in served:
            if clip not in self._last_frames:  # the frames of its last half second: the final one kept
                frames = _pixels(["-sseof", "-0.5", "-i", str(clip)], None, every=True)
                self._last_frames[clip] = frames[-len(mine) :]
            theirs = self._last_frames[clip]
            if len(theirs) == len(mine) and sum(
                abs(a - b) for a, b in zip(mine, theirs, strict=True)
            ) < 8 * len(mine):
                return op
        return None

    def download(self, req: Incoming, name: str) -> Reply:
        reply = super().download(req, name)
        if reply.status == 200:
            with self.lock:
                self.served[name] = self.clip_for(name) if self.clip_for else self.clip  # type: ignore[assignment]
        return reply

    # -- operations -------------------------------------------------------------------------
    def get_operation(self, req: Incoming, model: str, op: str) -> Reply:
        self.check_key(req)
        task = self.task(op)
        name = f"models/{model}/operations/{op}"
        if task is None or task.info.get("model") != model:
            raise _err(404, "NOT_FOUND", f"Operation not found: {name}")
        state = task.status
        out: dict[str, Any] = {"name": name}
        if state in ("pending", "processing"):
            return Reply(200, out)
        out["done"] = True
        if task.fail_reason == "rai":
            out["response"] = {
                "@type": RESPONSE_TYPE,
                "generateVideoResponse": {
                    "raiMediaFilteredCount": 1,
                    "raiMediaFilteredReasons": [
                        "Your current safety settings for person generation prevent this video "
                        "from being generated. Try rephrasing the prompt."
                    ],
                },
            }
        elif task.fail_reason is not None:
            out["error"] = {"code": int(task.fail_params.get("code", 13)), "message": task.fail_reason}
        else:
            uri = f"{self.base_url}/v1beta/files/{task.task_id}:download?alt=media"
            out["response"] = {
                "@type": RESPONSE_TYPE,
                "generateVideoResponse": {"generatedSamples": [{"video": {"uri": uri}}]},
            }
        return Reply(200, out)

    # -- the clip ---------------------------------------------------------------------------
    def keyed_download(self, req: Incoming, file: str) -> Reply:
        self.check_key(req)
        if req.query.get("alt") != "media" or not self.servable(file):
            return self.not_found(req.path)
        storage = self.storage_url or self.base_url.replace("127.0.0.1", "localhost")
        return Reply(302, b"", headers={"Location": f"{storage}/files/{file}.mp4"}, content_type="text/plain")


def _pixels(source: list[str], data: bytes | None, *, every: bool = False) -> bytes:
    """RGB bytes of a picture (or of every frame of a clip's tail, with `every`) at 16x9,
    decoded by ffmpeg itself."""
    args = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", *source, "-map", "0:v:0", "-vf", "scale=16:9"]
    args += [] if every else ["-frames:v", "1"]
    args += ["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    done = subprocess.run(args, input=data, capture_output=True, check=True, timeout=60)
    return done.stdout
