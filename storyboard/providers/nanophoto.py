"""nanophoto (document 002): shots in requests of 1-21, URLs only, one status call for all.

    POST /api/veo-3/generate      {shots: [{id, prompt, generationType, aspectRatio,
                                   imageUrls?}] (1-21), resolution: 720p|1080p|4k}
                                  -> {status, shots: [{shotId, taskId, status}], creditsUsed}
    POST /api/veo-3/check-status  {taskIds: [{shotId, taskId}], resolution}
                                  -> {status, shots: [{shotId, taskId, status, videoUrl?, error?}]}

The service generates the shots of one request one after another ("multi-shot videos take
longer because of sequential generation"), so by default every shot is its own request, sent
concurrently: 21 shots take about one shot's time, and a lost answer leaves one shot
uncertain, not 21. `providers: {nanophoto: {batch: 21}}` sends up to that many shots a
request instead (1080p and 4k then only in a request of one shot). Batching changes how the
shots are asked for, not what is made: it is not part of the fingerprint.

10/14/30 credits a shot by resolution. Errors are the HTTP status with `{error, errorCode,
...}` (INSUFFICIENT_CREDITS carries requiredCredits; TASK_NOT_FOUND is the documented "no
such task"). 100 requests an hour a key: see `min_poll_interval`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storyboard.errors import Problem, RejectedError, TaskNotFound, UnsupportedError
from storyboard.money import PriceSource
from storyboard.providers import fit
from storyboard.providers.base import CompiledShot, Cost, HttpRequest, Need, Task, TaskState, TaskStatus
from storyboard.providers.capabilities import Capabilities
from storyboard.providers.hosted import HostedProvider
from storyboard.providers.http import protocol_error, shots_label
from storyboard.providers.options import ProviderOptions, option
from storyboard.providers.replies import ErrorKind, Reply, Rule, ServiceError, link

GENERATION_TYPE = {
    "text": "TEXT_2_VIDEO",
    "frames": "FIRST_AND_LAST_FRAMES_2_VIDEO",
    "reference": "REFERENCE_2_VIDEO",
}
CREDITS = {"720p": 10, "1080p": 14, "4k": 30}  # a shot, by the request's resolution
MAX_SHOTS = 21  # a request
STATES = {
    "processing": TaskState.RUNNING,
    "completed": TaskState.DONE,
    "failed": TaskState.FAILED,
    "pending": TaskState.PENDING,
}
ERRORS = {
    "LOGIN_REQUIRED": Rule(ErrorKind.AUTH),
    "API_KEY_RATE_LIMIT_EXCEEDED": Rule(ErrorKind.RATE_LIMIT, "rate limited, 100 requests an hour"),
    "INSUFFICIENT_CREDITS": Rule(ErrorKind.CREDITS, hint="top up the nanophoto account"),
    "SHOTS_REQUIRED": Rule(ErrorKind.REJECTED),
    "PROMPT_REQUIRED": Rule(ErrorKind.REJECTED),
    "INVALID_IMAGE_COUNT": Rule(ErrorKind.REJECTED),
    "IMAGE_URLS_REQUIRED": Rule(ErrorKind.REJECTED),
    "TASK_IDS_REQUIRED": Rule(ErrorKind.REJECTED),
    "TASK_NOT_FOUND": Rule(ErrorKind.NOT_FOUND, "no such task"),
    "GENERATION_FAILED": Rule(ErrorKind.FAILED),
    "INTERNAL_ERROR": Rule(ErrorKind.UNAVAILABLE),
}


@dataclass(frozen=True)
class NanophotoOptions(ProviderOptions):
    batch: int = option(
        1,
        "shots a request (1: each shot its own request, sent concurrently; up to 21 in one "
        "request, which the service generates one after another)",
        minimum=1,
        maximum=MAX_SHOTS,
        fingerprint=False,
    )


class NanophotoProvider(HostedProvider):
    name = "nanophoto"
    env = "NANOPHOTO"
    default_base_url = "https://nanophoto.ai"
    submit_path = "/api/veo-3/generate"
    # the price table of document 002, which carries no date
    price_source = PriceSource.document("nanophoto's API document 002_1e7b2f8240923c45.txt")
    Options = NanophotoOptions
    options: NanophotoOptions
    # 100 requests an hour a key. The document asks for a poll every 5-10 s, but one
    # check-status covers every task of a resolution, and 21 one-shot submissions leave 79
    # requests an hour for polls: never more often than every 46 s (79 an hour at most); the
    # provider's own pace waits 46-92 s
    poll_interval = 92.0
    min_poll_interval = 46.0
    capabilities = Capabilities(
        aspect_ratios=("16:9", "9:16"),
        resolutions=("720p", "1080p", "4k"),
        models=("fast",),
        seed=False,
        types=("text", "frames", "reference"),
        frame_images=2,
        reference_images=3,
        local_images=False,
        continues=None,
        no_field=("model", "seed"),
        single_shot_resolutions=("1080p", "4k"),
    )
    errors = ERRORS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._resolution: dict[str, str] = {}  # task id -> resolution it was submitted at

    # plan time -----------------------------------------------------------------------------
    def groups(self, shots: list[CompiledShot]) -> list[list[CompiledShot]]:
        """The shots of each request, `batch` at a time, in storyboard order."""
        n = self.options.batch
        return [shots[i : i + n] for i in range(0, len(shots), n)]

    def check_batch(self, shots: list[CompiledShot]) -> list[Problem]:
        hint = f"providers: {{{self.name}: {{batch: 1}}}} to send each shot alone"
        return fit.batch_problems(self.name, self.capabilities, self.groups(shots), hint)

    def shot_body(self, shot: CompiledShot) -> tuple[dict[str, Any], tuple[Need, ...]]:
        self.require(shot)
        s = shot.shot
        entry: dict[str, Any] = {
            "id": s.id,
            "prompt": shot.prompt,
            "generationType": GENERATION_TYPE[s.kind],
            "aspectRatio": s.settings.aspect_ratio,
        }
        urls = [a.url for a in s.images if a.url]
        if urls:
            entry["imageUrls"] = urls
        return entry, ()

    def requests(self, shots: list[CompiledShot]) -> list[HttpRequest]:
        """One request for each group of `batch` shots (one shot each by default)."""
        problems = self.check_batch(shots)
        if problems:
            raise UnsupportedError(problems)
        out = []
        for group in self.groups(shots):
            body = {
                "shots": [self.shot_body(s)[0] for s in group],
                "resolution": group[0].shot.settings.resolution,
            }
            out.append(HttpRequest("POST", self.submit_url(group[0]), tuple(s.id for s in group), body))
        return out

    def cost(self, shot: CompiledShot) -> Cost:
        return Cost(CREDITS[shot.shot.settings.resolution], None)  # no USD price given

    def task_extra(self, shot: CompiledShot) -> dict[str, Any]:
        return {"resolution": shot.shot.settings.resolution}

    # render time ---------------------------------------------------------------------------
    def read_error(self, reply: Reply, sent: Any = None) -> ServiceError | None:
        if reply.is_success or not reply.body.get("errorCode"):
            return None  # a success, or not the service's body: the HTTP status decides
        body = reply.body
        have = next(
            (body[k] for k in ("currentCredits", "credits", "balance") if body.get(k) is not None), None
        )
        return ServiceError(
            str(body["errorCode"]), str(body.get("error") or ""), body.get("requiredCredits"), have
        )

    def submit(self, request: HttpRequest) -> dict[str, str]:
        label = shots_label(request.shots)
        reply = self.http.request(request.method, request.url, json=request.body, check=self.checker(label))
        body = reply.data
        if not isinstance(body, dict):
            raise protocol_error(self.http, "the generate reply is not JSON", reply, label)
        if body.get("status") == "failed":
            words = str(body.get("error") or "generation failed")
            raise RejectedError(f"the request was refused ({words})", provider=self.name, shot=label)
        out: dict[str, str] = {}
        items = body.get("shots")
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and item.get("shotId") and item.get("taskId"):
                out[str(item["shotId"])] = str(item["taskId"])
        ids = {s: out[s] for s in request.shots if s in out}
        if not ids:
            raise protocol_error(self.http, "no taskId for any shot", reply, label)
        # Shots the reply names no task for are left out, not the others: those are paid for
        # and must be recorded (the executor reports the missing ones).
        resolution = str((request.body or {}).get("resolution") or "720p")
        for task_id in ids.values():
            self._resolution[task_id] = resolution
        return ids

    def poll(self, tasks: list[Task]) -> dict[str, TaskStatus]:
        """One check-status call for every task of a resolution (the call names one), however
        many requests they were submitted in."""
        groups: dict[str, list[Task]] = {}
        for task in tasks:
            res = str(task.extra.get("resolution") or self._resolution.get(task.task_id) or "720p")
            groups.setdefault(res, []).append(task)
        found: dict[str, TaskStatus] = {}
        missing: list[TaskNotFound] = []
        for resolution, group in groups.items():
            try:
                found.update(self._check(group, resolution))
            except TaskNotFound as e:
                found.update(e.found)
                missing.append(e)
        if missing:
            ids = tuple(t for e in missing for t in e.task_ids)
            shots = ", ".join(t.shot_id for t in tasks if t.task_id in ids)
            raise TaskNotFound(missing[0].reason, task_ids=ids, found=found, provider=self.name, shot=shots)
        return found

    def _check(self, group: list[Task], resolution: str) -> dict[str, TaskStatus]:
        """check-status for `group`. TASK_NOT_FOUND answers for the whole call without saying
        which task it does not know: halve the group until the unknown ones are found (a few
        more requests, only when that happens), keeping the others' statuses."""
        try:
            return self._check_status(group, resolution)
        except TaskNotFound as e:
            if len(group) == 1:
                raise TaskNotFound(e.reason, task_ids=(group[0].task_id,), provider=self.name) from None
            found: dict[str, TaskStatus] = {}
            ids: list[str] = []
            half = len(group) // 2
            for part in (group[:half], group[half:]):
                try:
                    found.update(self._check(part, resolution))
                except TaskNotFound as inner:
                    found.update(inner.found)
                    ids += inner.task_ids
            raise TaskNotFound(e.reason, task_ids=tuple(ids), found=found, provider=self.name) from None

    def _check_status(self, group: list[Task], resolution: str) -> dict[str, TaskStatus]:
        label = shots_label([t.shot_id for t in group])
        body = {
            "taskIds": [{"shotId": t.shot_id, "taskId": t.task_id} for t in group],
            "resolution": resolution,
        }
        reply = self.http.request("POST", "/api/veo-3/check-status", json=body, check=self.checker(label))
        items = reply.body.get("shots")
        if not isinstance(items, list):
            raise protocol_error(self.http, "no shots in the check-status reply", reply, label)
        by_task = {str(i.get("taskId")): i for i in items if isinstance(i, dict)}
        out = {}
        for task in group:
            item = by_task.get(task.task_id)
            out[task.task_id] = self._status(item) if item else TaskStatus(TaskState.PENDING)
        return out

    def _status(self, item: dict[str, Any]) -> TaskStatus:
        state = STATES.get(str(item.get("status") or ""), TaskState.PENDING)
        if state is TaskState.DONE:
            return TaskStatus(TaskState.DONE, url=link(item.get("videoUrl")))
        if state is TaskState.FAILED:
            return TaskStatus(
                TaskState.FAILED, reason=str(item.get("error") or "generation failed (no reason given)")
            )
        return TaskStatus(state)
