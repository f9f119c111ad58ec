"""The work a render hands to threads: submit (with its uploads), download.

Each worker returns a typed result to the loop and never raises: whatever goes wrong in a
thread reaches the loop as a result, so a render can never wait for an answer that will not
come. Workers write the journal themselves, at the moment it matters:

    submit:  fulfil needs (uploads, a parent's last frame or task id)    nothing paid yet
             journal the intent (durably) -- a failed write sends nothing
             send
             journal the answer: task ids, or "not taken", or "uncertain"
             -- a failed write stops the render and hands the ids to the user

The loop alone changes jobs; workers only read them.
"""

from __future__ import annotations

import base64
import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from storyboard.board.model import CLIP_SECONDS
from storyboard.errors import (
    AuthError,
    Cancelled,
    CreditsError,
    GenerationFailed,
    ProviderError,
    RateLimitError,
    ReplyLost,
    StoryboardError,
    TransientError,
)
from storyboard.hashing import file_sha256
from storyboard.media.frames import last_frame
from storyboard.plan.compiler import Plan
from storyboard.providers.base import HttpRequest, Need, Provider, Task
from storyboard.retry import Patience
from storyboard.run.clock import Clock
from storyboard.run.download import fetch
from storyboard.run.events import Event, Sending, Uploading
from storyboard.run.jobs import Job
from storyboard.secrets import Redactor
from storyboard.store.cache import Cache
from storyboard.store.layout import Layout
from storyboard.store.state import Intent, State


# results -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Skipped:
    """The render is stopping: nothing was sent."""

    jobs: list[Job]


@dataclass(frozen=True)
class Accepted:
    """The service took the request: every task id is in the journal."""

    jobs: list[Job]
    tasks: list[Task]
    missing: list[Job]  # the reply named no task for these: recorded uncertain


@dataclass(frozen=True)
class NotTaken:
    """The service provably did not take the request (or it was never sent): not charged."""

    jobs: list[Job]
    error: BaseException
    sent: bool  # False: it failed before a byte went out (an upload, a missing parent)


@dataclass(frozen=True)
class Lost:
    """The request went out and its answer was lost: recorded uncertain."""

    jobs: list[Job]
    reason: str


@dataclass(frozen=True)
class JournalFailed:
    """The intent could not be written: nothing was sent, and nothing more may be."""

    jobs: list[Job]
    error: BaseException


@dataclass(frozen=True)
class Unrecorded:
    """The service answered, and the answer could not be written: the ids are only here."""

    jobs: list[Job]
    tasks: list[Task]
    error: BaseException


@dataclass(frozen=True)
class Downloaded:
    job: Job
    clip: Path
    made: bool  # it became the shot's clip (an orphan's may not)


@dataclass(frozen=True)
class DownloadFailed:
    job: Job
    error: BaseException
    cancelled: bool = False


@dataclass(frozen=True)
class Crashed:
    """A worker broke down (a bug): its jobs end, and the render goes on."""

    jobs: list[Job]
    error: BaseException


SubmitResult = Skipped | Accepted | NotTaken | Lost | JournalFailed | Unrecorded
Result = SubmitResult | Downloaded | DownloadFailed | Crashed


class Workers:
    """What the threads of one render share: the provider, the journal, the cache."""

    def __init__(self, plan: Plan, state: State, cache: Cache, redactor: Redactor, clock: Clock) -> None:
        self.plan = plan
        self.clock = clock
        self.provider = plan.provider
        self.providers = {p.name: p for p in plan.reachable}  # by name: a film's several
        self.state = state
        self.cache = cache
        self.layout = Layout(plan.storyboard.state_dir)
        self.redactor = redactor
        self.stop = threading.Event()  # no new submissions (a fatal error, Ctrl-C)
        self.closed: set[str] = set()  # providers that refused a key or credits: none sent to them
        self.cancel = threading.Event()  # abandon downloads (Ctrl-C)
        self.by_shot: dict[str, Job] = {}  # set by the loop before any work starts
        self.emit: Callable[[Event], None] = lambda event: None  # set by the loop
        self._uploads: dict[str, threading.Lock] = {}
        self._uploads_mutex = threading.Lock()
        self._client: httpx.Client | None = None
        self._client_mutex = threading.Lock()

    # submit ------------------------------------------------------------------------------
    def submit(self, request: HttpRequest, jobs: list[Job]) -> SubmitResult:
        provider = _maker(jobs, self.providers, self.provider)  # a request goes to its shots' one provider
        if self.stop.is_set() or provider.name in self.closed:
            return Skipped(jobs)
        try:
            ready = self._fulfil(request, provider)
        except BaseException as e:  # an upload or a parent's frame failed: nothing was sent
            return NotTaken(jobs, e, sent=False)
        if self.stop.is_set() or provider.name in self.closed:
            return Skipped(jobs)
        intents = [Intent(j.fp, j.shot_id, provider.name, request.shots, self._extra(j)) for j in jobs]
        try:
            self.state.record_intent(intents)
        except BaseException as e:
            return JournalFailed(jobs, e)
        for job in jobs:
            self.emit(Sending(job.leader))
        try:
            ids = provider.submit(ready)
        except ReplyLost as e:
            return self._lost(jobs, self.redactor.redact(e.cause or e.reason))
        except ProviderError as e:  # the service answered no: it did not take the job
            if is_fatal(e) or asks_too_long(e):
                # at once: the next queued request to it must not go out (the others' may:
                # the loop passes the shots on where the storyboard lists another provider)
                self.closed.add(provider.name)
                if not self.plan.routed:
                    self.stop.set()
            with contextlib.suppress(BaseException):  # else the intent stays: uncertain next time, safe
                self.state.record_not_sent([j.fp for j in jobs], self._reason(e))
            return NotTaken(jobs, e, sent=True)
        except BaseException as e:  # not provably refused: it may have been taken
            return self._lost(jobs, f"the request failed after it was sent ({self._reason(e)})")
        now = self.clock.time()
        tasks: list[Task] = []
        missing: list[Job] = []
        for job in jobs:
            task_id = ids.get(job.shot_id)  # the provider knows the shot by its id
            if task_id:
                tasks.append(Task(job.shot_id, str(task_id), provider.name, job.fp, now, self._extra(job)))
            else:
                missing.append(job)
        try:
            self.state.record_submitted(tasks)
            if missing:
                why = f"{provider.name} accepted the request but gave no task id for this shot"
                self.state.record_uncertain([j.fp for j in missing], why)
        except BaseException as e:
            return Unrecorded(jobs, tasks, e)
        return Accepted(jobs, tasks, missing)

    def _lost(self, jobs: list[Job], cause: str) -> SubmitResult:
        with contextlib.suppress(
            BaseException
        ):  # else the intent on disk says `sending`: uncertain all the same
            self.state.record_uncertain([j.fp for j in jobs], cause)
        return Lost(jobs, cause)

    def _extra(self, job: Job) -> dict[str, Any]:
        assert job.sp is not None
        return dict(job.sp.maker.task_extra(job.sp.compiled))

    def _reason(self, exc: BaseException) -> str:
        if isinstance(exc, ProviderError):
            text = exc.reason
        elif isinstance(exc, StoryboardError):
            text = exc.message
        else:
            text = f"{type(exc).__name__}: {exc}"
        return self.redactor.redact(text)

    # the needs of a request --------------------------------------------------------------
    def _fulfil(self, request: HttpRequest, provider: Provider) -> HttpRequest:
        if not request.needs:
            return request
        values = {need.placeholder: self._need(need, request, provider) for need in request.needs}
        return replace(
            request,
            url=_substitute(request.url, values),
            body=_substitute(request.body, values),
            multipart=_substitute(request.multipart, values),
            needs=(),
        )

    def _need(self, need: Need, request: HttpRequest, provider: Provider) -> str:
        if need.kind == "upload":
            return self._upload(Path(need.source), request.shots[0], provider)
        if need.kind == "inline":  # the file's bytes inside the request: nothing to upload
            return base64.b64encode(Path(need.source).read_bytes()).decode("ascii")
        parent = self.by_shot.get(need.source)
        if parent is None:
            raise GenerationFailed(f"it needs shot {need.source!r}, which is not in the storyboard")
        if need.kind == "last_frame":
            return self._upload(self.last_frame(parent), request.shots[0], provider)
        if need.kind == "last_frame_file":
            return str(self.last_frame(parent))
        if need.kind == "last_frame_inline":
            return base64.b64encode(self.last_frame(parent).read_bytes()).decode("ascii")
        if need.kind == "task_id":
            rec = self.state.task(parent.fp)
            if rec is None or not rec.task_id:
                raise GenerationFailed(
                    f"it continues shot {parent.leader!r}, whose task id with "
                    f"{provider.name} is unknown: regenerate that shot with --force"
                )
            return rec.task_id
        raise GenerationFailed(f"unknown need {need.kind!r} in the request")

    def last_frame(self, parent: Job) -> Path:
        frame = self.layout.frame(parent.fp)
        if not frame.is_file():
            last_frame(self.cache.path(parent.fp), frame)
        return frame

    def _upload(self, path: Path, shot_id: str, provider: Provider) -> str:
        """Upload a local image once per provider and content: the URL is kept in state."""
        key = f"{provider.name}:{file_sha256(path)}"
        with self._uploads_mutex:
            lock = self._uploads.setdefault(key, threading.Lock())
        with lock:
            url = self.state.upload_url(key)
            if url:
                return url
            self.emit(Uploading(shot_id, path.name))
            url = provider.upload(path)
            self.state.record_upload(key, url)
            return url

    # download ----------------------------------------------------------------------------
    @property
    def client(self) -> httpx.Client:
        with self._client_mutex:
            if self._client is None:
                # no key on the client: fetch asks the provider what each request may carry
                self._client = httpx.Client(timeout=httpx.Timeout(60.0, connect=20.0), follow_redirects=False)
            return self._client

    def download(self, job: Job, url: str) -> Downloaded | DownloadFailed:
        tmp: Path | None = None
        maker = _maker([job], self.providers, self.provider)
        try:
            tmp = self.cache.temp(job.fp)
            fetch(
                url,
                tmp,
                expected_seconds=CLIP_SECONDS,
                client=self.client,
                stop=self.cancel,
                schemes=maker.clip_schemes,  # file:// only where the provider says so
                credentials=maker.download_credentials,
            )
            clip = self.cache.put(job.fp, tmp, verify=False)  # fetch verified it
            record = self.cache.record_of(job.fp, url)
            current = None if job.orphan else job.cut  # another take is kept beside, not made the shot's
            made = self.state.record_done(job.fp, record, clip, current=current)
            if job.task is not None:
                with contextlib.suppress(Exception):  # its own tidying: the clip is safe already
                    maker.fetched(job.task)
            return Downloaded(job, clip, made)
        except Cancelled as e:
            return DownloadFailed(job, e, cancelled=True)
        except BaseException as e:
            return DownloadFailed(job, e)
        finally:
            if tmp is not None:
                tmp.unlink(missing_ok=True)  # before answering: the loop may finish as soon as it hears

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _substitute(value: Any, values: dict[str, str]) -> Any:
    """`value` with every placeholder replaced, in every string however deep."""
    if isinstance(value, str):
        for placeholder, real in values.items():
            value = value.replace(placeholder, real)
        return value
    if isinstance(value, dict):
        return {_substitute(k, values): _substitute(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, values) for v in value]
    if isinstance(value, tuple):
        return tuple(_substitute(v, values) for v in value)
    return value


def _maker(jobs: list[Job], providers: dict[str, Provider], default: Provider) -> Provider:
    """The provider of these jobs' shots (an orphan's: the one its task names)."""
    for job in jobs:
        if job.sp is not None:
            return job.sp.maker
        if job.task is not None and job.task.provider in providers:
            return providers[job.task.provider]
    return default


def is_fatal(exc: BaseException) -> bool:
    """A refused key or too few credits: no request after this one can succeed."""
    return isinstance(exc, (AuthError, CreditsError))


def asks_too_long(exc: BaseException) -> bool:
    """Refused for now, and asked to call again later than a render waits (retry.Patience):
    every other request would be refused too."""
    refused = isinstance(exc, (RateLimitError, TransientError))
    return refused and Patience().too_long(getattr(exc, "retry_after", None))


def guarded(fn: Callable[..., Result], jobs: list[Job], *args: Any) -> Result:
    """Whatever a worker does, the loop hears of it: a bug in a thread is a failed job, never
    a render waiting for an answer that will not come."""
    try:
        return fn(*args)
    except BaseException as e:
        return Crashed(jobs, e)
