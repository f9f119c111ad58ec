"""Generate every shot of a plan, paying once per shot, losing nothing, finishing the film.

    take the lock -> load state -> for each shot:
        cached (and not forced)            -> done
        a task in state for it             -> resume: poll it, never submit again
        otherwise                          -> fulfil needs, submit, save the task id at once
    poll every pending task together -> download each finished clip at once (verified) ->
    cache it -> record it.

A failed job is resubmitted `resubmits` times, then reported while the other shots finish.
A submission is never sent twice by our own retries once it may have been accepted: when its
answer is lost (see providers.http) the shot is recorded "uncertain" and is not submitted
again until the user, having checked the service's dashboard, forces it.
A refused key or too few credits stop new submissions; what is in flight is still polled,
downloaded and recorded, then the error is raised. However the render ends (an error, Ctrl-C),
submissions in flight are waited for and recorded before the lock is released; the next
render resumes. A task still running after STORYBOARD_TASK_TIMEOUT is left for a later render.

Threads: the caller's thread runs the loop, polls and keeps the books; a bounded pool
submits (with uploads), another downloads, and a small one renders for local providers.
Workers report back through one queue. Nothing here prints: progress goes to a Reporter.
"""

from __future__ import annotations

import contextlib
import queue
import random
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import httpx

from storyboard import env
from storyboard.errors import (
    AuthError,
    ConfigError,
    CreditsError,
    GenerationFailed,
    ProviderError,
    RateLimitError,
    RejectedError,
    StoryboardError,
    TransientError,
)
from storyboard.hashing import file_sha256
from storyboard.plan.compiler import Plan, ShotPlan
from storyboard.providers.base import HttpRequest, Need, Task, TaskStatus
from storyboard.providers.http import ReplyLost
from storyboard.run.download import Cancelled, fetch, safe_url
from storyboard.spec.model import CLIP_SECONDS
from storyboard.store.cache import Cache
from storyboard.store.lock import LockInfo, acquire
from storyboard.store.state import REDACTED, State

MAX_POLL_FAILURES = 12  # consecutive failed polls (with growing waits) before giving up
DOWNLOAD_REFRESHES = 1  # a failed download asks the provider once more for a fresh link
REFUSALS = 3  # a task whose polls are refused this many times running is given up
RENDER_WORKERS = 2


# public values ---------------------------------------------------------------------------------
class Reporter(Protocol):
    def event(self, kind: str, shot_id: str, **info: Any) -> None:
        """kinds: cached, rendering (local), submitted, resumed, orphan (a task of an earlier
        version of the shot), uploading, progress (state, progress), downloading, done, retry
        (reason; resubmit=True for a failed job), failed (reason), uncertain (reason: the
        request went out and its answer was lost; also reported failed), forced (reason,
        parent: forced because it continues a forced shot), lock (reason, pid: a dead
        render's lock taken over; shot_id ""), interrupted (shot_id "")."""


@dataclass
class GenerateResult:
    clips: dict[str, Path] = field(default_factory=dict)  # every shot made or cached
    failed: dict[str, str] = field(default_factory=dict)  # shot -> reason
    submitted: list[str] = field(default_factory=list)  # each paid submission, by shot
    cached: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)


# generate --------------------------------------------------------------------------------------
def check_force(plan: Plan, force: Iterable[str]) -> set[str]:
    """The forced shot ids, or ConfigError when one names no shot of the storyboard."""
    forced = set(force)
    known = [s.id for s in plan.shots]
    unknown = sorted(forced - set(known))
    if unknown:
        raise ConfigError(
            f"--force names no shot of this storyboard: {', '.join(unknown)}",
            hint="shots: " + ", ".join(known),
        )
    return forced


def generate(
    plan: Plan,
    *,
    force: Iterable[str] = (),
    concurrency: int = 4,
    poll_interval: float | None = None,
    resubmits: int = 1,
    reporter: Reporter | None = None,
) -> GenerateResult:
    """Make every shot's clip (see the module docstring); the clips are in the cache.

    Forcing a shot also forces every shot that continues it, transitively (their first
    frame is its last one)."""
    forced = check_force(plan, force)
    timing = _Timing.read(plan, poll_interval)  # a bad variable fails before anything is locked
    sb = plan.storyboard

    def took_over(gone: LockInfo) -> None:
        why = f"took over the lock of pid {gone.pid}, which is gone"
        _tell(reporter, "lock", "", reason=why, pid=gone.pid)

    lock = acquire(sb.state_dir, "storyboard render", storyboard=sb.path, on_takeover=took_over)
    restore = _terminate_as_interrupt()
    run: _Run | None = None
    try:
        state = State.load(sb.state_dir, lock=lock)
        run = _Run(
            plan, state, _force_followers(plan, forced, reporter), concurrency, timing, resubmits, reporter
        )
        try:
            return run.run()
        except KeyboardInterrupt:
            run.emit("interrupted", "", waiting=run.in_flight)
            raise
    finally:
        try:
            if run is not None:
                run.close()  # waits for submissions in flight: their task ids must be saved
        finally:
            restore()
            lock.release()


def _tell(reporter: Reporter | None, kind: str, shot_id: str, **info: Any) -> None:
    if reporter is not None:
        with contextlib.suppress(Exception):  # a display glitch must not break the books
            reporter.event(kind, shot_id, **info)


def _force_followers(plan: Plan, forced: set[str], reporter: Reporter | None) -> set[str]:
    """The forced shots and every shot continuing one of them (its first frame changes)."""
    out = set(forced)
    for sp in plan.shots:  # a shot continues only an earlier one: one pass is transitive
        parent = sp.compiled.shot.continues
        if parent in out and sp.id not in out:
            out.add(sp.id)
            why = f"it continues shot {parent!r}, which is regenerated"
            _tell(reporter, "forced", sp.id, reason=why, parent=parent)
    return out


@dataclass(frozen=True)
class _Timing:
    poll_interval: float | None  # None: the provider's own pace
    task_timeout: float

    @classmethod
    def read(cls, plan: Plan, poll_interval: float | None) -> _Timing:
        env.retry_base()  # checked now: the providers read it once they send
        return cls(effective_poll_interval(plan.provider, poll_interval), env.task_timeout())


def effective_poll_interval(provider: Any, requested: float | None = None) -> float | None:
    """Seconds between polls: `requested`, else STORYBOARD_POLL_INTERVAL, else None (the
    provider's own pace); never below what a documented rate limit allows, except against
    a service on this machine (tests)."""
    interval = env.poll_interval() if requested is None else requested
    floor = float(getattr(provider, "min_poll_interval", 0.0) or 0.0)
    if interval is not None and floor and not env.is_loopback(str(provider.base_url)):
        interval = max(interval, floor)  # polling faster would be refused, and cost a request
    return interval


def _terminate_as_interrupt() -> Callable[[], None]:
    """SIGTERM (a shutdown, a `kill`) stops a render like Ctrl-C: state stays consistent and
    the lock is released. Only possible from the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        old = signal.signal(signal.SIGTERM, handler)
    except (ValueError, OSError):
        return lambda: None
    if old is None:  # installed outside Python: cannot be put back, so leave ours off
        return lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL)
    return lambda: signal.signal(signal.SIGTERM, old)


@dataclass(eq=False)
class _Job:
    """One fingerprint to make: shots with identical requests share one job (and one clip)."""

    fp: str
    shot_ids: list[str]
    sp: ShotPlan | None  # None for an orphan: a task of an earlier version of a shot
    status: str = "waiting"  # waiting | queued | submitted | downloading | done | failed
    task: Task | None = None
    parents: list[str] = field(default_factory=list)  # shot ids whose clips it needs
    forced: bool = False
    resubmits_left: int = 1
    refreshes_left: int = DOWNLOAD_REFRESHES
    refusals: int = 0  # polls of this task refused in a row
    not_before: float = 0.0
    watch_from: float = 0.0  # time.time() from which this render's task deadline runs
    reason: str | None = None
    last_progress: tuple[str, float | None] | None = None

    @property
    def leader(self) -> str:
        return self.shot_ids[0]

    @property
    def orphan(self) -> bool:
        return self.sp is None


class _Pool:
    """A few worker threads fed by a queue. Daemon pools do not hold up the exit (downloads:
    an abandoned one is fetched again next time); others are waited for (submissions, whose
    task ids must be recorded)."""

    def __init__(self, workers: int, name: str, daemon: bool) -> None:
        self._q: queue.Queue[tuple[Callable[..., None], tuple[Any, ...]] | None] = queue.Queue()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=daemon)
            for i in range(max(1, workers))
        ]
        self._started = False
        self._stopping = False

    def submit(self, fn: Callable[..., None], *args: Any) -> None:
        if not self._started:
            self._started = True
            for t in self._threads:
                t.start()
        self._q.put((fn, args))

    def _work(self) -> None:
        while True:
            item = self._q.get()
            if item is None:
                return
            fn, args = item
            fn(*args)

    def cancel_pending(self) -> None:
        with contextlib.suppress(queue.Empty):
            while True:
                self._q.get_nowait()

    def shutdown(self, wait: bool) -> None:
        """No more work; with `wait`, return once every worker has finished its item (a
        Ctrl-C meanwhile is held back and raised after: nothing a worker does is lost)."""
        if not self._started:
            return
        if not self._stopping:
            self._stopping = True
            self.cancel_pending()
            for _ in self._threads:
                self._q.put(None)
        if not wait:
            return
        interrupted = False
        for t in self._threads:
            while t.is_alive():
                try:
                    t.join()
                except KeyboardInterrupt:
                    interrupted = True
        if interrupted:
            raise KeyboardInterrupt


class _Run:
    def __init__(
        self,
        plan: Plan,
        state: State,
        forced: set[str],
        concurrency: int,
        timing: _Timing,
        resubmits: int,
        reporter: Reporter | None,
    ) -> None:
        self.plan = plan
        self.provider = plan.provider
        self.state = state
        self.cache = Cache(plan.storyboard.state_dir)
        self.reporter = reporter
        self.secret = self.provider.api_key or ""
        state.secrets = [self.secret] if self.secret else []
        self.forced = forced
        self.resubmits = max(0, resubmits)
        self.poll_interval = timing.poll_interval
        self.task_timeout = timing.task_timeout
        self.started = time.time()
        self.local = bool(getattr(self.provider, "local", False))
        self.results: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self.stop_submit = threading.Event()  # no new submissions (fatal error, Ctrl-C)
        self.cancel = threading.Event()  # abandon downloads (Ctrl-C)
        self.fatal: BaseException | None = None
        self.jobs: dict[str, _Job] = {}
        self.by_shot: dict[str, _Job] = {}
        self.in_flight = 0  # work items handed to pools and not yet answered
        self.next_poll: float | None = None
        self.poll_failures = 0
        self.result = GenerateResult()
        self._upload_locks: dict[str, threading.Lock] = {}
        self._upload_mutex = threading.Lock()
        workers = max(1, concurrency)
        self.submitters = _Pool(RENDER_WORKERS if self.local else workers, "submit", daemon=False)
        self.downloaders = _Pool(min(workers, 4), "download", daemon=True)
        self._client: httpx.Client | None = None
        http = None if self.local else getattr(self.provider, "http", None)
        if http is not None and hasattr(http, "cancel"):
            http.cancel = self.stop_submit  # a stopping render sends no submission again

    # helpers -----------------------------------------------------------------------------------
    def redact(self, text: str) -> str:
        if self.secret and len(self.secret) >= 4:
            text = text.replace(self.secret, REDACTED)
        return text

    def emit(self, kind: str, shot_id: str, **info: Any) -> None:
        clean = {k: self.redact(v) if isinstance(v, str) else v for k, v in info.items()}
        _tell(self.reporter, kind, shot_id, **clean)

    def reason_of(self, exc: BaseException) -> str:
        if isinstance(exc, ProviderError):
            text = exc.reason
        elif isinstance(exc, StoryboardError):
            text = exc.message
        else:
            text = f"{type(exc).__name__}: {exc}"
        return self.redact(text)

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            # Clip links are public: no Authorization header ever goes with a download.
            self._client = httpx.Client(
                timeout=httpx.Timeout(60.0, connect=20.0), follow_redirects=True, max_redirects=5
            )
        return self._client

    def interval(self) -> float:
        if self.poll_interval is not None:
            return self.poll_interval * random.uniform(1.0, 1.2)
        hi = float(getattr(self.provider, "poll_interval", 10.0) or 10.0)
        return random.uniform(hi / 2, hi)  # 5-10 s by default, jittered so runs do not align

    # setup -------------------------------------------------------------------------------------
    def start(self) -> None:
        self.cache.clean_temps()
        frames = self.plan.storyboard.state_dir / "frames"
        for shot_id in self.forced:  # their last frames come from the clips about to be made
            with contextlib.suppress(OSError):
                (frames / f"{self.plan.shot(shot_id).fingerprint}.png").unlink()
        for sp in self.plan.shots:
            job = self.jobs.get(sp.fingerprint)
            if job is None:
                job = _Job(sp.fingerprint, [sp.id], sp, resubmits_left=self.resubmits)
                self.jobs[sp.fingerprint] = job
            else:  # the same request twice: one clip serves both shots
                job.shot_ids.append(sp.id)
            job.forced = job.forced or sp.id in self.forced
            self.by_shot[sp.id] = job
        for job in list(self.jobs.values()):
            assert job.sp is not None
            job.parents = self._parents(job.sp)
            rec = self.state.task(job.fp)
            resumable = (
                not self.local
                and rec is not None
                and rec.get("provider") == self.provider.name
                and (
                    rec["status"] == "submitted"
                    or (rec["status"] == "done" and not self.cache.has(job.fp) and not job.forced)
                )
            )
            if self.cache.has(job.fp) and not job.forced:
                if rec is not None and rec["status"] == "submitted":
                    # killed between caching the clip and recording it: record it now
                    self.state.record_done(job.fp, self.cache.path(job.fp))
                self._made(job, event="cached")
                self.result.cached.extend(job.shot_ids)
            elif rec is not None and rec["status"] == "uncertain" and not job.forced:
                self.fail(job, str(rec.get("reason") or self.uncertain_reason(job.leader, "")))
            elif resumable:
                job.task = self.state.task_of(job.fp)
                job.status = "submitted"
                assert job.task is not None
                job.watch_from = max(job.task.submitted_at, self.started)
                for sid in job.shot_ids:
                    self.result.resumed.append(sid)
                    self.emit(
                        "resumed",
                        sid,
                        task_id=job.task.task_id,
                        age_seconds=time.time() - job.task.submitted_at,
                    )
        if not self.local:
            # Tasks of earlier versions of shots, still running: paid for, so their clips are
            # saved if they finish while this render runs (a later edit back reuses them).
            for task in self.state.pending(self.provider.name):
                if task.fingerprint in self.jobs:
                    continue
                orphan = _Job(task.fingerprint, [task.shot_id], None, status="submitted", task=task)
                orphan.watch_from = max(task.submitted_at, self.started)
                self.jobs[task.fingerprint] = orphan
                self.emit("orphan", task.shot_id, task_id=task.task_id)
        if any(j.status == "submitted" for j in self.jobs.values()):
            self.next_poll = time.monotonic()  # resumed tasks may be done already

    def _parents(self, sp: ShotPlan) -> list[str]:
        parents = []
        if sp.compiled.shot.continues:
            parents.append(sp.compiled.shot.continues)
        if not self.local:
            try:
                _, needs = self.provider.shot_body(sp.compiled)
            except Exception:  # the request itself will report it
                needs = ()
            for need in needs:
                if need.kind in ("last_frame", "task_id") and need.source not in parents:
                    parents.append(need.source)
        return [p for p in parents if p in self.by_shot]

    # the loop ----------------------------------------------------------------------------------
    def run(self) -> GenerateResult:
        self.start()
        while True:
            self.launch()
            if self.settled():
                break
            now = time.monotonic()
            waits = [1.0]
            if self.next_poll is not None and self.pollable():
                waits.append(self.next_poll - now)
            waits += [
                j.not_before - now for j in self.jobs.values() if j.status == "waiting" and j.not_before > now
            ]
            timeout = max(0.0, min(waits))
            try:
                msg = self.results.get(timeout=timeout)
            except queue.Empty:
                msg = None
            while msg is not None:
                self.in_flight -= 1
                self.handle(msg)
                try:
                    msg = self.results.get_nowait()
                except queue.Empty:
                    msg = None
            if self.pollable() and self.next_poll is not None and time.monotonic() >= self.next_poll:
                self.poll()
        return self.finish()

    def pollable(self) -> bool:
        return any(j.status == "submitted" for j in self.jobs.values())

    def settled(self) -> bool:
        if self.in_flight:
            return False
        return all(j.status in ("done", "failed") for j in self.jobs.values() if not j.orphan)

    def finish(self) -> GenerateResult:
        for sp in self.plan.shots:
            job = self.by_shot[sp.id]
            if job.status == "done":
                self.result.clips[sp.id] = self.cache.path(job.fp)
            else:
                self.result.failed[sp.id] = job.reason or "not generated"
        if self.fatal is not None:
            _redact_exception(self.fatal, self.redact)
            self.fatal.result = self.result  # type: ignore[attr-defined]
            raise self.fatal
        return self.result

    def fail(self, job: _Job, reason: str) -> None:
        job.status = "failed"
        job.reason = self.redact(reason)
        if job.orphan:
            return
        for sid in job.shot_ids:
            self.emit("failed", sid, reason=job.reason)

    def _made(self, job: _Job, event: str) -> None:
        job.status = "done"
        for sid in job.shot_ids:
            if job.orphan:
                continue
            self.state.record_made(sid, job.fp, self.provider.name)
            self.emit(event, sid, clip=str(self.cache.path(job.fp)))

    # launching ---------------------------------------------------------------------------------
    def launch(self) -> None:
        now = time.monotonic()
        ready: list[_Job] = []
        for job in self.jobs.values():
            if job.status != "waiting":
                continue
            if self.stop_submit.is_set():
                why = self.reason_of(self.fatal) if self.fatal else "stopped"
                self.fail(job, f"not submitted: {why}")
                continue
            parents = [self.by_shot[p] for p in job.parents]
            broken = [p for p in parents if p.status == "failed"]
            if broken:
                names = ", ".join(p.leader for p in broken)
                self.fail(job, f"it needs shot {names}, which was not generated")
                continue
            if all(p.status == "done" for p in parents) and job.not_before <= now:
                ready.append(job)
        if not ready:
            return
        for job in ready:
            job.status = "queued"
        if self.local:
            for job in ready:
                self.in_flight += 1
                self.submitters.submit(self._render, job)
            return
        try:
            requests = self.plan.requests([j.leader for j in ready])
        except StoryboardError as e:
            for job in ready:
                self.fail(job, self.reason_of(e))
            return
        for req in requests:
            jobs = [self.by_shot[s] for s in req.shots if s in self.by_shot]
            self.in_flight += 1
            self.submitters.submit(self._submit, req, jobs)

    # workers: submit ---------------------------------------------------------------------------
    def _submit(self, req: HttpRequest, jobs: list[_Job]) -> None:
        """Worker: fulfil the request's needs, send it, record the task ids (or, when the
        answer was lost, that the shots are uncertain) before anything else, then tell the
        loop."""
        if self.stop_submit.is_set():
            self.results.put(("skipped", jobs))
            return
        try:
            ready = self._fulfil(req)
            if self.stop_submit.is_set():
                self.results.put(("skipped", jobs))
                return
            ids = self.provider.submit(ready)
        except ReplyLost as e:
            try:
                reasons = self._record_uncertain(req, jobs, e.cause)
            except BaseException as err:  # the disk is full or gone: stop paying
                self.results.put(("unrecorded", jobs, [], err))
                return
            self.results.put(("uncertain", jobs, reasons))
            return
        except BaseException as e:  # every failure goes back to the loop
            if isinstance(e, (AuthError, CreditsError)):
                self.stop_submit.set()  # at once: the next queued request must not go out
            self.results.put(("submit_error", jobs, e))
            return
        now = time.time()
        tasks: list[Task] = []
        missing: list[_Job] = []
        for job in jobs:
            task_id = ids.get(job.leader)
            if not task_id:
                missing.append(job)
                continue
            assert job.sp is not None
            extra_of = getattr(self.provider, "task_extra", None)
            extra = extra_of(job.sp.compiled) if callable(extra_of) else {}
            tasks.append(Task(job.leader, str(task_id), self.provider.name, job.fp, now, extra))
        reasons: dict[str, str] = {}
        try:
            self.state.record_many_submitted(tasks)
            if missing:  # the others are paid for and recorded; these may be too
                why = f"{self.provider.name} accepted the request but gave no task id for this shot"
                reasons = self._record_uncertain(req, missing, why)
        except BaseException as e:  # the disk is full or gone: stop paying
            self.results.put(("unrecorded", jobs, tasks, e))
            return
        self.results.put(("submitted", jobs, tasks, reasons))

    def uncertain_reason(self, shot_id: str, cause: str) -> str:
        sb = self.plan.storyboard
        name = self.provider.name
        option = f" -p {name}" if name != sb.provider else ""
        cause = cause or "the connection dropped after the request was sent"
        return (
            f"{cause}, so {name} may have started (and charged for) this shot; check its "
            f"dashboard, then run `storyboard render {sb.path}{option} --force {shot_id}` "
            "to submit it again"
        )

    def _record_uncertain(self, req: HttpRequest, jobs: list[_Job], cause: str) -> dict[str, str]:
        """Worker: these shots of the request may have been accepted: record them uncertain,
        never to be submitted again unless forced. Their reasons, by fingerprint."""
        reasons = {job.fp: self.redact(self.uncertain_reason(job.leader, cause)) for job in jobs}
        self.state.record_uncertain(
            {job.leader: job.fp for job in jobs},
            self.provider.name,
            {job.leader: reasons[job.fp] for job in jobs},
            req.shots,
        )
        return reasons

    def _fulfil(self, req: HttpRequest) -> HttpRequest:
        if not req.needs:
            return req
        values: dict[str, str] = {}
        for need in req.needs:
            values[need.placeholder] = self._need(need, req)
        return replace(
            req,
            url=_substitute(req.url, values),
            body=_substitute(req.body, values),
            multipart=_substitute(req.multipart, values),
            needs=(),
        )

    def _need(self, need: Need, req: HttpRequest) -> str:
        if need.kind == "upload":
            return self._upload(Path(need.source), req.shots[0])
        parent = self.by_shot.get(need.source)
        if parent is None:
            raise GenerationFailed(f"it needs shot {need.source!r}, which is not in the storyboard")
        if need.kind == "last_frame":
            from storyboard.media.frames import last_frame

            frame = self.plan.storyboard.state_dir / "frames" / f"{parent.fp}.png"
            if not frame.is_file():
                last_frame(self.cache.path(parent.fp), frame)
            return self._upload(frame, req.shots[0])
        if need.kind == "task_id":
            rec = self.state.task(parent.fp)
            if not rec or not rec.get("task_id"):
                raise GenerationFailed(
                    f"it continues shot {parent.leader!r}, whose task id with "
                    f"{self.provider.name} is unknown: regenerate that shot with --force"
                )
            return str(rec["task_id"])
        raise GenerationFailed(f"unknown need {need.kind!r} in the request")

    def _upload(self, path: Path, shot_id: str) -> str:
        """Upload a local image once per provider and content: the URL is kept in state."""
        digest = file_sha256(path)
        key = f"{self.provider.name}:{digest}"
        with self._upload_mutex:
            lock = self._upload_locks.setdefault(key, threading.Lock())
        with lock:
            url = self.state.upload_url(key)
            if url:
                return url
            self.emit("uploading", shot_id, file=path.name)
            url = self.provider.upload(path)
            self.state.record_upload(key, url)
            return url

    # workers: render (local providers) ---------------------------------------------------------
    def _render(self, job: _Job) -> None:
        if self.stop_submit.is_set():
            self.results.put(("skipped", [job]))
            return
        tmp = self.cache.temp(job.fp)
        answer: tuple[Any, ...]
        try:
            assert job.sp is not None
            first: Path | None = None
            parent_id = job.sp.compiled.shot.continues
            if parent_id and parent_id in self.by_shot:
                from storyboard.media.frames import last_frame

                parent = self.by_shot[parent_id]
                first = self.plan.storyboard.state_dir / "frames" / f"{parent.fp}.png"
                if not first.is_file():
                    last_frame(self.cache.path(parent.fp), first)
            for sid in job.shot_ids:
                self.emit("rendering", sid)
            self.provider.render(job.sp.compiled, tmp, first)
            self.cache.put(job.fp, tmp, verify=True, expected_seconds=CLIP_SECONDS)
            answer = ("rendered", job)
        except BaseException as e:
            answer = ("render_error", job, e)
        with contextlib.suppress(OSError):
            tmp.unlink()
        self.results.put(answer)

    # workers: download -------------------------------------------------------------------------
    def _download(self, job: _Job, url: str) -> None:
        tmp = self.cache.temp(job.fp)
        answer: tuple[Any, ...]
        try:
            fetch(url, tmp, expected_seconds=CLIP_SECONDS, client=self.client, stop=self.cancel)
            clip = self.cache.put(job.fp, tmp, verify=False)  # fetch verified it
            made = not job.orphan or self.state.last_made(job.leader, self.provider.name) is None
            self.state.record_done(job.fp, clip, made=made)
            answer = ("downloaded", job)
        except Cancelled:
            answer = ("cancelled", job)
        except BaseException as e:
            answer = ("download_error", job, e)
        with contextlib.suppress(OSError):
            tmp.unlink()  # before answering: the loop may finish as soon as it hears
        self.results.put(answer)

    # the loop's side of each answer -----------------------------------------------------------
    def handle(self, msg: tuple[Any, ...]) -> None:
        kind = msg[0]
        if kind == "submitted":
            _, jobs, tasks, uncertain = msg
            by_fp = {t.fingerprint: t for t in tasks}
            for job in jobs:
                task = by_fp.get(job.fp)
                if task is None:
                    continue
                job.task = task
                job.status = "submitted"
                job.watch_from = task.submitted_at
                for sid in job.shot_ids:
                    self.result.submitted.append(sid)
                    self.emit("submitted", sid, task_id=task.task_id)
            for job in jobs:
                if job.fp in uncertain:
                    self.mark_uncertain(job, uncertain[job.fp])
            soon = time.monotonic() + self.interval()
            if self.next_poll is None or self.next_poll > soon:
                self.next_poll = soon
        elif kind == "uncertain":
            _, jobs, reasons = msg
            for job in jobs:
                self.mark_uncertain(job, reasons[job.fp])
        elif kind == "unrecorded":
            _, jobs, tasks, exc = msg
            self.fatal = self.fatal or exc
            self.stop_submit.set()
            by_fp = {t.fingerprint: t for t in tasks}
            for job in jobs:  # keep going with them in memory: this run can still fetch them
                if job.fp in by_fp:
                    job.task = by_fp[job.fp]
                    job.status = "submitted"
                    job.watch_from = job.task.submitted_at
                    self.result.submitted.extend(job.shot_ids)
                else:
                    self.fail(job, "no task id")
            if self.next_poll is None:
                self.next_poll = time.monotonic() + self.interval()
        elif kind == "submit_error":
            _, jobs, exc = msg
            if isinstance(exc, KeyboardInterrupt):
                raise exc
            for job in jobs:
                self.submit_failed(job, exc)
        elif kind == "skipped":
            for job in msg[1]:
                job.status = "waiting"  # launch() fails it with the reason
        elif kind == "rendered":
            self._made(msg[1], event="done")
        elif kind == "render_error":
            _, job, exc = msg
            if isinstance(exc, KeyboardInterrupt):
                raise exc
            self.fail(job, f"preview failed: {self.reason_of(exc)}")
        elif kind == "downloaded":
            job = msg[1]
            job.status = "done"
            for sid in job.shot_ids:
                if not job.orphan:
                    if sid != job.leader:
                        self.state.record_made(sid, job.fp, self.provider.name)
                    self.emit("done", sid, clip=str(self.cache.path(job.fp)))
        elif kind == "download_error":
            _, job, exc = msg
            reason = self.reason_of(exc)
            if job.refreshes_left > 0:
                job.refreshes_left -= 1
                job.status = "submitted"  # the next poll brings a fresh link
                self.emit("retry", job.leader, reason=f"download failed: {reason}")
            else:
                self.fail(
                    job,
                    f"download failed: {reason} (the clip is paid for: render again to fetch it, "
                    "at no new charge)",
                )
        elif kind == "cancelled":
            pass

    def mark_uncertain(self, job: _Job, reason: str) -> None:
        for sid in job.shot_ids:
            self.emit("uncertain", sid, reason=reason)
        self.fail(job, reason)

    def submit_failed(self, job: _Job, exc: BaseException) -> None:
        reason = self.reason_of(exc)
        if isinstance(exc, (AuthError, CreditsError)):
            if self.fatal is None:
                self.fatal = exc
            self.stop_submit.set()
            self.fail(job, f"not submitted: {reason}")
        elif isinstance(exc, (RateLimitError, TransientError)):
            # the provider's client already retried what was safe to retry
            self.fail(job, f"not submitted: {reason} (nothing was charged: render again later)")
        elif isinstance(exc, GenerationFailed) and job.resubmits_left > 0:
            job.resubmits_left -= 1
            job.status = "waiting"
            self.emit("retry", job.leader, reason=reason, resubmit=True)
        elif isinstance(exc, RejectedError):
            self.fail(job, f"rejected: {reason}")
        else:
            self.fail(job, reason)

    # polling -----------------------------------------------------------------------------------
    def poll(self) -> None:
        pending = [j for j in self.jobs.values() if j.status == "submitted" and j.task is not None]
        if not pending:
            return
        try:
            statuses = self.provider.poll([j.task for j in pending if j.task is not None])
        except AuthError as e:
            self.auth_lost(pending, e)
            return
        except ProviderError as e:
            if not e.retryable:
                # One task the service will not answer for must not stall the others:
                # ask about each alone.
                self.poll_each(pending)
                return
            self.poll_failed(pending, e)
            return
        except (httpx.HTTPError, OSError, ValueError) as e:
            self.poll_failed(pending, e)
            return
        self.poll_failures = 0
        for job in pending:
            assert job.task is not None
            status = statuses.get(job.task.task_id)
            if status is not None:
                self.on_status(job, status)
        self.expire(pending)
        self.next_poll = time.monotonic() + self.interval()

    def expire(self, pending: list[_Job]) -> None:
        """Tasks still running after the deadline are left to a later render: they stay saved
        as submitted (paid for, not failed), so the next render resumes them."""
        now = time.time()
        for job in pending:
            if job.status != "submitted" or job.task is None:
                continue
            if now - (job.watch_from or job.task.submitted_at) < self.task_timeout:
                continue
            age = _duration(now - job.task.submitted_at)
            self.fail(
                job,
                f"still running at {self.provider.name} after {age}: render again later to "
                "collect it (it stays saved)",
            )

    def auth_lost(self, pending: list[_Job], e: AuthError) -> None:
        """Cannot see the tasks: they stay saved for the next render; stop here."""
        self.fatal = self.fatal or e
        self.stop_submit.set()
        for job in pending:
            self.fail(job, f"could not check on it: {self.reason_of(e)}")

    def poll_failed(self, pending: list[_Job], e: BaseException) -> None:
        """The service could not be asked: wait longer each time, give up after a while (the
        tasks stay saved for the next render)."""
        self.poll_failures += 1
        reason = self.reason_of(e)
        if self.poll_failures >= MAX_POLL_FAILURES:
            for job in pending:
                self.fail(
                    job,
                    f"lost contact with {self.provider.name} ({reason}); the task is saved: "
                    "render again to resume it at no new charge",
                )
            return
        wait = min(60.0, self.interval() * 2**self.poll_failures)
        self.next_poll = time.monotonic() + wait
        self.emit("retry", pending[0].leader, reason=f"checking progress failed: {reason}", wait=wait)

    def poll_each(self, pending: list[_Job]) -> None:
        """Poll task by task. A task refused REFUSALS times running (unknown to the service,
        a reply that makes no sense) is given up: it is recorded failed, so the next render
        submits the shot anew; this one does not pay for it again."""
        for job in pending:
            assert job.task is not None
            try:
                statuses = self.provider.poll([job.task])
            except AuthError as e:
                self.auth_lost([j for j in pending if j.status == "submitted"], e)
                return
            except ProviderError as e:
                if e.retryable:
                    continue
                job.refusals += 1
                if job.refusals >= REFUSALS:
                    reason = self.reason_of(e)
                    self.state.record_failed(job.fp, f"the service would not report on it: {reason}")
                    self.fail(
                        job,
                        f"{self.provider.name} would not report on task {job.task.task_id} "
                        f"({reason}); render again to submit the shot anew",
                    )
                continue
            except (httpx.HTTPError, OSError, ValueError):
                continue
            job.refusals = 0
            status = statuses.get(job.task.task_id)
            if status is not None:
                self.on_status(job, status)
        self.expire(pending)
        self.next_poll = time.monotonic() + self.interval()

    def on_status(self, job: _Job, status: TaskStatus) -> None:
        if status.state == "done":
            if not status.url:
                self.generation_failed(job, "the service reported it done without a clip link")
                return
            job.status = "downloading"
            if not job.orphan:
                self.emit("downloading", job.leader, url=safe_url(status.url))
            self.in_flight += 1
            self.downloaders.submit(self._download, job, status.url)
        elif status.state == "failed":
            self.generation_failed(job, status.reason or "the service gave no reason")
        else:
            seen = (status.state, status.progress)
            if seen != job.last_progress and not job.orphan:
                job.last_progress = seen
                for sid in job.shot_ids:
                    self.emit("progress", sid, state=status.state, progress=status.progress)

    def generation_failed(self, job: _Job, reason: str) -> None:
        reason = self.redact(reason)
        self.state.record_failed(job.fp, reason)  # refunded by the services: resubmitting is free
        if job.orphan:
            job.status = "failed"
            return
        if job.resubmits_left > 0 and not self.stop_submit.is_set():
            job.resubmits_left -= 1
            job.status = "waiting"
            job.task = None
            for sid in job.shot_ids:
                self.emit("retry", sid, reason=reason, resubmit=True)
        else:
            self.fail(job, f"generation failed: {reason}")

    # stopping ----------------------------------------------------------------------------------
    def close(self) -> None:
        """However the run ends: no new work, downloads abandoned (fetched again next time),
        and every submission in flight finished and recorded before this returns (the lock is
        released only then: a task id must never arrive with nobody allowed to save it)."""
        self.stop_submit.set()
        self.cancel.set()
        self.downloaders.shutdown(wait=False)
        try:
            self.submitters.shutdown(wait=True)
        finally:
            if self._client is not None:
                self._client.close()
            with contextlib.suppress(Exception):
                self.provider.close()


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


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


def _redact_exception(exc: BaseException, redact: Callable[[str], str]) -> None:
    exc.args = tuple(redact(a) if isinstance(a, str) else a for a in exc.args)
    for attr in ("message", "reason", "hint"):
        value = getattr(exc, attr, None)
        if isinstance(value, str):
            setattr(exc, attr, redact(value))
