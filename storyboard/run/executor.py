"""Generate every shot of a plan, paying once per shot, losing nothing, finishing the film.

    take the lock -> journal: intents left by a dead render become uncertain
    -> decide (plan.decide: the same decision the plan showed and the user agreed to)
    -> for each job: cached / resume (poll its task) / uncertain / blocked: as decided;
       generate: once its parents are made, a worker journals the intent, sends, journals
       the task id (run.workers)
    -> poll what the services have (run.polling) -> download each finished clip, verified
    -> every shot ends with an outcome (run.events), the clips in the cache.

Every change of a job is a move of one table (run.jobs.TRANSITIONS: send, resume, taken,
resend, resubmit, fetch, refresh, drop), and each move that asks again is told (events.Retry,
with its Move). A job the service says failed is resubmitted `resubmits` times where the
provider refunds failed jobs (as `decide` says: `Decisions.refunded`; elsewhere the move has
no budget), else reported at once with the service's words; either way while the other shots
finish. One it has not taken for now (a
rate limit) is sent again within retry.Patience. A request whose answer is lost is uncertain
and never sent again on its own. A refused key, too few credits, a service asking to be
called again later than a render waits, or a journal that cannot be written stop new
submissions at once; what is in flight is waited for and recorded before the lock is
released, however the render ends (an error, Ctrl-C).

Signals are the CLI's: it turns SIGTERM into an interrupt (cli.app.Terminated), which runs
the same way out as Ctrl-C.

Over 400 lines on purpose: the loop and its answer to every result are kept together, so what
follows each result reads in one file; everything around them is a module of its own (jobs:
the table; workers: submit, upload, download; polling: the policy and the poller;
words: the messages; events: what is told and how each shot ended).

Threads: the caller's thread runs the loop, polls and changes jobs; standard-library pools
submit (with uploads) and download; each hands back a typed result through a queue. Every
provider goes this way, the offline preview too (its submit queues a drawing on this
machine). Nothing here prints: events go to a Reporter.
"""

from __future__ import annotations

import contextlib
import queue
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from storyboard.errors import (
    AuthError,
    BudgetError,
    ConfigError,
    GenerationFailed,
    JournalError,
    ProviderError,
    RateLimitError,
    RejectedError,
    StoryboardError,
    TransientError,
)
from storyboard.money import Amount
from storyboard.plan.compiler import Plan, totals
from storyboard.plan.decide import Action, Decisions, Why, decide
from storyboard.plan.decide import charges as charges_words
from storyboard.plan.earlier import adopt_earlier
from storyboard.retry import Patience
from storyboard.run import workers as w
from storyboard.run.clock import Clock
from storyboard.run.download import safe_url
from storyboard.run.events import (
    Downloading,
    Ended,
    Forced,
    GenerateResult,
    Interrupted,
    LockTakenOver,
    Orphan,
    PassedOn,
    Reporter,
    Resumed,
    Retry,
    ShotResult,
    Submitted,
    Teller,
)
from storyboard.run.jobs import NOT_TAKEN_RETRIES, Job, JobState, JobTable
from storyboard.run.polling import Poller, Polling
from storyboard.run.words import SAVED, Words, describe, duration
from storyboard.secrets import Redactor
from storyboard.store.cache import Cache
from storyboard.store.layout import Layout
from storyboard.store.lock import LockInfo, acquire
from storyboard.store.stand import Move, Stand
from storyboard.store.state import ClipRecord, State

SETTLED_REASON = (
    "a render stopped (killed, or its machine lost power) while this request was being sent, "
    "so the service may have taken (and charged for) it"
)


def generate(
    plan: Plan,
    *,
    force: Iterable[str] = (),
    concurrency: int = 4,
    poll_interval: float | None = None,
    resubmits: int = 1,
    reporter: Reporter | None = None,
    agreed: Decisions | None = None,
    clock: Clock | None = None,
    budget: Amount | None = None,
) -> GenerateResult:
    """Make every shot's clip as `decide` says (see the module docstring).

    `agreed`: the decisions the user was shown and agreed to pay for; if the state moved
    since (another render finished meanwhile), nothing is sent and ConfigError says so.
    `clock`: the system's unless a test gives its own (run.clock). `budget`: what a shot
    passed on to another provider (plan.route) must stay within."""
    polling = Polling.read(plan.provider, poll_interval)  # a bad variable fails before the lock
    sb = plan.storyboard
    tell = Teller(reporter, Redactor([p.api_key for p in plan.reachable]))

    def took_over(gone: LockInfo) -> None:
        tell(LockTakenOver("", gone.pid, f"took over the lock of pid {gone.pid}, which is gone"))

    layout = Layout(sb.state_dir)
    layout.check()  # a clip paid for must have somewhere to go
    for provider in plan.reachable:
        provider.workdir = layout.provider(provider.name)
    lock = acquire(sb.state_dir, "storyboard render", storyboard=sb.path, on_takeover=took_over)
    run: _Run | None = None
    try:
        state = State.of(sb, lock=lock)
        state.redactor = tell.redactor
        state.settle_intents(SETTLED_REASON)
        adopt_earlier(plan, state)
        decisions = decide(plan, state, Cache(sb.state_dir), force, deep=True)
        if agreed is not None and _spend(agreed) != _spend(decisions):
            raise ConfigError(
                "the state changed since the plan was shown (did another render finish?): nothing was sent",
                hint="run the command again to see the new plan",
            )
        run = _Run(plan, state, decisions, concurrency, polling, resubmits, tell, clock or Clock(), budget)
        try:
            return run.run()
        except KeyboardInterrupt:
            tell(Interrupted("", run.in_flight))
            raise
    finally:
        try:
            if run is not None:
                run.close()  # waits for submissions in flight: their task ids must be saved
        finally:
            lock.release()


def _maker(job: Job) -> str:
    return job.sp.maker.name if job.sp is not None else (job.task.provider if job.task else "")


def _spend(decisions: Decisions) -> list[tuple[str, str]]:
    return [(d.shot_id, d.fingerprint) for d in decisions.paid]


class _Run:
    def __init__(
        self,
        plan: Plan,
        state: State,
        decisions: Decisions,
        concurrency: int,
        polling: Polling,
        resubmits: int,
        tell: Teller,
        clock: Clock,
        budget: Amount | None = None,
    ) -> None:
        self.clock = clock
        self.plan = plan
        self.provider = plan.provider
        self.state = state
        self.decisions = decisions
        self.cache = Cache(plan.storyboard.state_dir)
        self.tell = tell
        self.redactor = tell.redactor
        self.polling = polling
        self.patience = Patience()
        self.started = clock.time()
        self.table = JobTable.from_decisions(decisions, max(0, resubmits) if decisions.refunded else 0)
        self.crew = w.Workers(plan, state, self.cache, self.redactor, clock)
        self.crew.by_shot = self.table.by_shot
        self.crew.emit = tell
        for provider in plan.reachable:
            if provider.http is not None:
                provider.http.cancel = self.crew.stop  # a stopping render sends no submission again
        self.results: queue.Queue[Future[w.Result]] = queue.Queue()
        self.in_flight = 0  # work handed to pools and not yet answered
        self.fatal: StoryboardError | None = None
        self.result = GenerateResult()
        self.budget = budget  # a shot passed on is priced again within it
        self.spend = {d.shot_id: d.shot for d in decisions.paid}  # what the render pays for, by shot
        self.refusals: dict[str, StoryboardError] = {}  # provider -> its refusal of a key or credits
        self.words = Words(plan, self.redactor)
        self.poller = Poller(
            self.provider, self.table, polling, self, self.words, tell, clock, plan.reachable
        )
        workers = max(1, concurrency)
        self.submitters = ThreadPoolExecutor(workers, "submit")
        self.downloaders = ThreadPoolExecutor(min(workers, 4), "download")

    # setup -------------------------------------------------------------------------------
    def start(self) -> None:
        self.cache.clean_temps()
        layout = Layout(self.plan.storyboard.state_dir)
        for shot_id in self.decisions.forced:  # their last frames come from clips about to be made
            layout.frame(self.plan.shot(shot_id).fingerprint).unlink(missing_ok=True)
        for job in self.table:
            assert job.sp is not None and job.decision is not None
            job.parents = self._parents(job)
            d = job.decision
            if d.why is Why.PARENT:
                for sid in job.shot_ids:
                    self.tell(Forced(sid, d.reason, d.parent))
            if d.action is Action.CACHED:
                self._cached(job)
            elif d.action is Action.RESUME:
                self._resume(job)
            elif d.action is Action.UNCERTAIN:
                self.end(job, Stand.UNCERTAIN, self.words.uncertain(job.leader, d.reason))
            elif d.action is Action.BLOCKED:
                self.end(job, Stand.BLOCKED, f"not sent: {d.reason}")
            elif d.action is Action.FAILED:
                self.end(job, Stand.FAILED, f"not sent: {d.reason}")
        # Tasks of earlier versions of shots, still running, as decided: paid for, so their
        # clips are saved if they finish while this render runs (a later edit back reuses them).
        for task in self.decisions.orphans:
            orphan = self.table.add_orphan(task)
            if orphan is not None:
                orphan.watch_from = orphan.last_contact = max(task.submitted_at, self.started)
                self.tell(Orphan(task.shot_id, task.task_id))
        if self.table.in_state(JobState.POLLING):
            self.poller.soon(at_once=True)  # resumed tasks may be done already

    def _parents(self, job: Job) -> list[str]:
        assert job.sp is not None
        parents = []
        if job.sp.compiled.shot.continues:
            parents.append(job.sp.compiled.shot.continues)
        try:
            _, needs = job.sp.maker.shot_body(job.sp.compiled)
        except StoryboardError:  # the request itself will report it
            needs = ()
        parents += [n.source for n in needs if n.kind in ("last_frame", "last_frame_file", "task_id")]
        return [p for p in dict.fromkeys(parents) if p in self.table.by_shot]

    def _cached(self, job: Job) -> None:
        clip = self.cache.path(job.fp)
        if job.decision is not None and job.decision.journal_behind:
            # killed between caching the clip and recording it: record it now
            self.state.record_done(job.fp, self.cache.record_of(job.fp, None), clip)
        self.mark_made(job)
        self.end(job, Stand.CACHED, clip=clip)

    def _resume(self, job: Job) -> None:
        d = job.decision
        assert d is not None
        known = self.state.clip(job.fp)
        if d.why is Why.REFETCH and known is not None and known.url:
            self.download(job, known.url)  # a damaged or missing clip: its link may still work
            return
        task = d.record.task if d.record else None
        if task is None:
            self.end(job, Stand.FAILED, self.words.damaged(job, "its link is not known"))
            return
        job.task = task
        job.move(Move.RESUME)
        job.watch_from = job.last_contact = max(task.submitted_at, self.started)
        for sid in job.shot_ids:
            self.tell(Resumed(sid, task.task_id, self.clock.time() - task.submitted_at))

    # the loop ----------------------------------------------------------------------------
    def run(self) -> GenerateResult:
        self.start()
        while True:
            self.launch()
            if self.in_flight == 0 and self.table.settled():
                break
            now = self.clock.monotonic()
            waits = [1.0]
            poll_in = self.poller.wait()
            if poll_in is not None:
                waits.append(poll_in)
            waits += [j.not_before - now for j in self.table.in_state(JobState.WAITING) if j.not_before > now]
            future = self.clock.wait(self.results, min(waits), busy=self.in_flight > 0)
            while future is not None:
                self.in_flight -= 1
                self.handle(future.result())
                try:
                    future = self.results.get_nowait()
                except queue.Empty:
                    future = None
            self.poller.poll_if_due()
        return self.finish()

    def _hand(
        self, pool: ThreadPoolExecutor, fn: Callable[..., w.Result], jobs: list[Job], *args: Any
    ) -> None:
        self.in_flight += 1
        future = pool.submit(w.guarded, fn, jobs, *args)
        future.add_done_callback(self.results.put)

    def finish(self) -> GenerateResult:
        for sp in self.plan.entries:
            job = self.table.by_shot[sp.key]
            outcome = job.outcome or Stand.FAILED
            clip = self.cache.path(job.fp) if outcome.has_clip else None
            task_id = job.task.task_id if job.task else None
            made_by = job.sp.maker.name if job.sp else sp.maker.name  # passed on: its new provider
            result = ShotResult(sp.key, outcome, job.reason, clip, task_id, made_by)
            (self.result.shots if sp.selected else self.result.takes)[sp.key] = result
        self.result.fatal = self.fatal
        return self.result

    def mark_made(self, job: Job, record: ClipRecord | None = None) -> None:
        """The job's clip is the shot's, for every shot whose cut uses it (not other takes)."""
        maker = job.sp.maker.name if job.sp else self.provider.name
        for key in job.shot_ids:
            sp = self.plan.shot(key)
            if sp.selected:
                self.state.record_made(sp.id, job.fp, maker, record)

    def end(self, job: Job, outcome: Stand, reason: str | None = None, clip: Path | None = None) -> None:
        reason = self.redactor.redact(reason) if reason else reason
        job.end(outcome, reason)
        if job.orphan:
            return
        for sid in job.shot_ids:
            self.tell(Ended(sid, outcome, reason, clip))

    def stop(self, error: StoryboardError) -> None:
        """No new submission from now on; `error` is what the render ends with."""
        if self.fatal is None:
            self.fatal = error
        self.crew.stop.set()

    # launching ---------------------------------------------------------------------------
    def launch(self) -> None:
        now = self.clock.monotonic()
        ready: list[Job] = []
        for job in self.table.in_state(JobState.WAITING):
            if self.crew.stop.is_set():
                why = self.words.reason(self.fatal) if self.fatal else "the render stopped"
                self.end(job, Stand.FAILED, f"not submitted: {why}")
                continue
            closed = _maker(job) in self.crew.closed
            if closed and _maker(job) not in self.refusals:
                continue  # its refusal is on its way to the loop
            if closed:  # its provider refused another shot's key or credits: nothing sent to it
                self.refused(job, self.refusals[_maker(job)])
                continue
            parents = [self.table.by_shot[p] for p in job.parents]
            broken = [p for p in parents if p.state is JobState.ENDED]
            if broken:
                names = ", ".join(repr(p.leader) for p in broken)
                self.end(job, Stand.BLOCKED, f"not sent: it needs shot {names}, which was not made")
                continue
            if all(p.state is JobState.DONE for p in parents) and job.not_before <= now:
                ready.append(job)
        if not ready:
            return
        for job in ready:
            job.move(Move.SEND)
            if job.first_sent is None:
                job.first_sent = now
        try:
            requests = self.plan.requests_of([j.sp for j in ready if j.sp is not None])
        except StoryboardError as e:
            for job in ready:
                self.end(job, Stand.FAILED, self.words.reason(e))
            return
        for req in requests:
            jobs = [self.table.by_shot[s] for s in req.names if s in self.table.by_shot]
            self._hand(self.submitters, self.crew.submit, jobs, req, jobs)

    def download(self, job: Job, url: str) -> None:
        job.move(Move.FETCH)
        job.url = url
        if not job.orphan:
            self.tell(Downloading(job.leader, safe_url(url)))
        self._hand(self.downloaders, self.crew.download, [job], job, url)

    # the loop's side of each result ------------------------------------------------------
    def handle(self, result: w.Result) -> None:
        if isinstance(result, w.Accepted):
            self.accepted(result)
        elif isinstance(result, w.Skipped):
            for job in result.jobs:
                job.move(Move.SKIPPED)  # launch() ends it with the reason
        elif isinstance(result, w.NotTaken):
            for job in result.jobs:
                self.not_taken(job, result.error)
        elif isinstance(result, w.Lost):
            for job in result.jobs:
                self.end(job, Stand.UNCERTAIN, self.words.uncertain(job.leader, result.reason, _maker(job)))
        elif isinstance(result, w.JournalFailed):
            self.stop(
                JournalError(f"the render state could not be written ({describe(result.error)}): stopped")
            )
            for job in result.jobs:
                self.end(job, Stand.FAILED, "not sent: the state could not be written, so nothing was sent")
        elif isinstance(result, w.Unrecorded):
            self.unrecorded(result)
        elif isinstance(result, w.Downloaded):
            self.downloaded(result)
        elif isinstance(result, w.DownloadFailed):
            self.download_failed(result)
        elif isinstance(result, w.Crashed):
            for job in result.jobs:
                if job.state is JobState.SENDING:  # it may have been sent
                    why = f"the submission broke down ({self.words.reason(result.error)})"
                    self.end(job, Stand.UNCERTAIN, self.words.uncertain(job.leader, why))
                else:
                    self.end(job, Stand.FAILED, f"internal error: {self.words.reason(result.error)}")

    def accepted(self, result: w.Accepted) -> None:
        by_fp = {t.fingerprint: t for t in result.tasks}
        for job in result.jobs:
            task = by_fp.get(job.fp)
            if task is None:
                continue
            job.task = task
            job.move(Move.TAKEN)
            job.watch_from = job.last_contact = task.submitted_at
            for sid in job.shot_ids:
                self.result.submitted.append(sid)
                self.tell(Submitted(sid, task.task_id))
        for job in result.missing:
            why = f"{_maker(job)} accepted the request but gave no task id for this shot"
            self.end(job, Stand.UNCERTAIN, self.words.uncertain(job.leader, why))
        self.poller.soon()

    def not_taken(self, job: Job, exc: BaseException) -> None:
        reason = self.words.reason(exc)
        if w.is_fatal(exc):
            assert isinstance(exc, StoryboardError)
            self.refusals.setdefault(_maker(job), exc)
            self.refused(job, exc)
        elif isinstance(exc, GenerationFailed) and job.can(Move.RESUBMIT) and not self.crew.stop.is_set():
            job.move(Move.RESUBMIT)  # refunded: as decided (Decisions.refunded)
            job.first_sent = None  # a new request: its own patience
            self.moved(job, Retry(job.leader, reason, Move.RESUBMIT))
        elif isinstance(exc, (RateLimitError, TransientError)):
            self.refused_for_now(job, exc)
        elif isinstance(exc, RejectedError):
            self.end(job, Stand.FAILED, f"rejected: {reason}")
        else:
            self.end(job, Stand.FAILED, f"not submitted: {reason}")

    def refused(self, job: Job, exc: StoryboardError) -> None:
        """Its provider refused the key or had too few credits, before taking anything: the
        shot is passed on where the storyboard lists another provider, else the render stops
        (a film on several providers: no more to that one; the others' shots go on)."""
        if self.pass_on(job, exc):
            return
        if not self.plan.routed:
            self.stop(exc)
        elif self.fatal is None:
            self.fatal = exc  # the render ends saying so, the other providers' shots made
        self.end(job, Stand.FAILED, f"not submitted: {self.words.reason(exc)}")

    def pass_on(self, job: Job, exc: BaseException) -> bool:
        """The one move of a film on several providers: a provider refused the shot before
        taking it (only refusals come here, never a lost answer), so the shot goes to the next
        listed provider that can make it (plan.route), as planned there, priced again within
        --budget. False where there is none (or a stop): the caller ends the job as before.
        """
        sp = job.sp
        if sp is None or self.crew.stop.is_set():
            return False
        rest = [t for t in sp.then if t.maker.name not in self.crew.closed]
        if not rest or rest[0].fingerprint in self.table.jobs:
            return False
        target, source = rest[0], sp.maker.name
        why = self.words.reason(exc)
        spend = {**self.spend, job.leader: target}
        if self.budget is not None:
            cost = totals(spend.values()).cost
            then = cost.of(self.budget.unit)
            if then is None or self.budget.exceeded_by(cost):
                at = Amount(then, self.budget.unit).text() if then is not None else "an unknown price"
                self.stop(
                    BudgetError(
                        f"{source} refused shot {job.leader!r} ({why}); at {target.maker.name} the render "
                        f"would cost {at}, over --budget {self.budget.text()}: stopped, nothing more sent",
                        hint="raise the budget, or render again once the provider takes it",
                    )
                )
                self.end(job, Stand.FAILED, f"not submitted: {why}; not passed on: over --budget")
                return True
        self.spend = spend
        del self.table.jobs[job.fp]
        job.fp, job.sp = target.fingerprint, replace(target, then=tuple(rest[1:]))
        self.table.jobs[job.fp] = job
        job.move(Move.PASS_ON)
        job.task, job.first_sent, job.not_before, job.resends_left = None, None, 0.0, NOT_TAKEN_RETRIES
        for sid in job.shot_ids:
            event = PassedOn(sid, source, target.maker.name, why)
            self.result.moved[sid] = event
            self.tell(event)
        return True

    def refused_for_now(self, job: Job, exc: ProviderError) -> None:
        """The service did not take it (a rate limit, its own 5xx; the client's own retries
        ran out): provably nothing was charged, so it is sent again later, each wait and all
        of them together bounded (retry.Patience). A host that cannot be reached at all (no
        status) is not waited for here: the render ends saying so. A service that asks to be
        called again later than a render waits gets no more requests from this render."""
        words = self.words.not_now(exc)
        if w.asks_too_long(exc) and self.pass_on(job, exc):
            return
        if w.asks_too_long(exc):
            # its own word that it takes nothing for longer than a render waits: the other
            # shots would only be refused too, so nothing more is sent (the CLI says it once)
            assert exc.retry_after is not None
            later = f"render again in {duration(exc.retry_after)} or later: the made shots are kept"
            stop = type(exc)(words, status=exc.status, retry_after=exc.retry_after, hint=later)
            self.stop(stop)
            self.end(job, Stand.FAILED, f"not submitted: {self.words.reason(self.fatal)}")
            return
        if self.crew.stop.is_set():
            why = self.words.reason(self.fatal) if self.fatal else words
            self.end(job, Stand.FAILED, f"not submitted: {why}")
            return
        said_so = isinstance(exc, RateLimitError) or exc.status is not None
        now = self.clock.monotonic()
        spent = 0.0 if job.first_sent is None else now - job.first_sent
        backoff = self.polling.after_failure(job.not_taken + 1)
        wait = self.patience.wait(spent, exc.retry_after, backoff)
        if said_so and wait is not None and job.can(Move.RESEND):
            job.move(Move.RESEND)
            job.not_before = now + wait
            self.moved(
                job, Retry(job.leader, f"{words}; sending again in {duration(wait)}", Move.RESEND, wait)
            )
            return
        if self.pass_on(job, exc):  # unavailable, nothing taken: the next listed provider
            return
        if said_so:
            words += f"; left unsent {duration(spent)} after it was first sent"
        self.end(job, Stand.FAILED, f"not submitted: {words}")

    def unrecorded(self, result: w.Unrecorded) -> None:
        """The service took these and their task ids could not be saved: stop paying, and
        hand every id to the user (the CLI prints each with its `adopt` command)."""
        self.stop(JournalError(f"the render state could not be written ({describe(result.error)}): stopped"))
        by_fp = {t.fingerprint: t for t in result.tasks}
        for job in result.jobs:
            task = by_fp.get(job.fp)
            if task is None:
                self.end(
                    job, Stand.UNCERTAIN, self.words.uncertain(job.leader, "its answer could not be saved")
                )
                continue
            job.task = task
            self.result.submitted.extend(job.shot_ids)
            for sid in job.shot_ids:
                self.result.unrecorded[sid] = task.task_id
            self.end(
                job,
                Stand.UNRECORDED,
                f"{_maker(job)} took it as task {task.task_id}, which could not be saved",
            )

    def downloaded(self, result: w.Downloaded) -> None:
        job = result.job
        if job.orphan:
            job.end(Stand.MADE)
            return
        self.mark_made(job)  # the leader was recorded with the download; the shots sharing it now
        self.end(job, Stand.MADE, clip=result.clip)

    def download_failed(self, result: w.DownloadFailed) -> None:
        job = result.job
        if result.cancelled:
            job.move(Move.DROP)
            return
        reason = self.words.reason(result.error)
        if job.orphan:
            job.end(Stand.FAILED, reason)
        elif job.task is not None and job.can(Move.REFRESH):
            job.move(Move.REFRESH)  # the next poll brings a fresh link
            self.poller.soon(at_once=True)
            self.moved(job, Retry(job.leader, f"download failed: {reason}", Move.REFRESH))
        elif job.task is not None:
            self.end(
                job,
                Stand.STALLED,
                f"download failed: {reason} (the clip is paid for and its task saved: render again "
                "to fetch it, at no new charge)",
            )
        else:
            self.end(job, Stand.FAILED, self.words.damaged(job, reason))

    # what the poller hears (polling.Outcomes) -------------------------------------------
    def finished(self, job: Job, url: str) -> None:
        self.download(job, url)

    def failed(self, job: Job, reason: str) -> None:
        self.generation_failed(job, reason)

    def stalled(self, job: Job, reason: str) -> None:
        if job.task is not None and not job.orphan:
            with contextlib.suppress(Exception):  # a note for plan and status: the task id is saved already
                self.state.record_stalled(job.fp, reason.removesuffix(f"; {SAVED}"))
                self.state.record_move(job.fp, Move.STALL, reason.removesuffix(f"; {SAVED}"))
        self.end(job, Stand.STALLED, reason)

    def moved(self, job: Job, *told: Retry) -> None:
        """A move that asks again, told and noted in the journal for status (a note: its
        request's own records are what money rests on, so a note that cannot be written is
        not a reason to stop)."""
        for event in told:
            self.tell(event)
        if not job.orphan and told:
            with contextlib.suppress(Exception):
                self.state.record_move(job.fp, told[0].move, self.redactor.redact(told[0].reason))

    def key_refused(self, error: AuthError) -> None:
        self.stop(error)

    def generation_failed(self, job: Job, reason: str) -> None:
        reason = self.redactor.redact(reason)
        self.state.record_failed(job.fp, reason)
        if job.orphan:
            job.end(Stand.FAILED, reason)
        elif job.can(Move.RESUBMIT) and not self.crew.stop.is_set():  # refunded: free to send again
            job.move(Move.RESUBMIT)
            job.task = None
            job.first_sent = None  # a new request: its own patience
            self.moved(job, *(Retry(sid, reason, Move.RESUBMIT) for sid in job.shot_ids))
        elif (charges := charges_words(self.plan, job.sp.maker if job.sp else None)) is not None:
            self.end(
                job,
                Stand.FAILED,
                f"generation failed: {reason} ({charges} for failed jobs, so it was not sent again: "
                f"`--force {job.leader}` makes it again)",
            )
        else:
            self.end(job, Stand.FAILED, f"generation failed: {reason}")

    # stopping ----------------------------------------------------------------------------
    def close(self) -> None:
        """However the run ends: no new work, downloads abandoned (fetched again next time),
        and every submission in flight finished and recorded before this returns (the lock is
        released only then: a task id must never arrive with nobody allowed to save it)."""
        self.crew.stop.set()
        self.crew.cancel.set()
        self.downloaders.shutdown(wait=False, cancel_futures=True)
        interrupted: KeyboardInterrupt | None = None
        while True:
            try:
                self.submitters.shutdown(wait=True, cancel_futures=True)
                break
            except KeyboardInterrupt as e:  # a second Ctrl-C (or SIGTERM): still wait, the ids must be saved
                interrupted = e
        self.crew.close()
        with contextlib.suppress(Exception):
            self.provider.close()
        if interrupted is not None:
            raise interrupted  # as it came: Ctrl-C and SIGTERM end with their own codes
