"""What render has paid for, kept beside the storyboard in `.storyboard/state.json`: a journal.

    {"version": 3, "lineage": uuid, "serial": n,
     "tasks": {fingerprint: {shot_id, provider, status, task_id, intent_at, submitted_at,
                             attempts, extra, shots, reason?, done_at?, failed_at?,
                             uncertain_at?, adopted?, clip?,
                             moves?: [{move, at, reason}]}},   (the last MOVES_KEPT moves)
     "clips": {fingerprint: {size, sha256, url?, accepted_at}},   (what the cache accepted)
     "made": {storyboard: {shot_id: fingerprint}},           (the last clip made, any provider)
     "made_by": {storyboard: {provider: {shot_id: fingerprint}}},
     "uploads": {"provider:sha256": {url, uploaded_at}}}

Storyboards of one folder share its state: tasks, clips and uploads go by fingerprint (the
same request is the same clip, whoever asks), but which clip a shot uses is each storyboard's
own (its file name, `storyboard`), as two storyboards may each have a shot `a`. An older file's
records, written before they were kept apart, are taken by the first storyboard to load it.

A paid request is journalled like a database's write-ahead log: its intent (status
`sending`: shot, fingerprint, provider, time) is on disk before a byte is sent; the task id
replaces it (`submitted`) the moment the answer comes; `done` once its clip is downloaded,
verified and cached. A request the service provably did not take is `failed` with the reason
(nothing was charged). A request whose answer was lost is `uncertain`, and so is an intent
found after a crash: the service may have started (and charged for) it, so it is never sent
again on its own; the user adopts the task id from the service's dashboard or forces a new
submission. `failed` also records the service saying a job failed (refunded by every service).

Every write replaces the whole file atomically (store.atomic) and happens only while this
process holds the render lock; a write that fails raises, and the caller stops paying.
The file is checked field by field on load (state.schema.json), so a damaged or hand-edited
file is a located message, never a crash. API keys and request bodies are never stored.

Over 400 lines on purpose: one class, the journal, whose every write keeps the same rules
(the lock held, the whole file replaced, the intent first); split, each part would need them.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storyboard.atomic import write_atomic
from storyboard.errors import StateError
from storyboard.providers.base import Task
from storyboard.secrets import MARK as REDACTED
from storyboard.secrets import Redactor
from storyboard.store import statefile
from storyboard.store.layout import Layout
from storyboard.store.lock import Lock
from storyboard.store.stand import Move, Stand

if TYPE_CHECKING:
    from storyboard.board.model import Storyboard

__all__ = ["REDACTED", "ClipRecord", "Intent", "Stand", "State", "StateError", "TaskRecord"]


@dataclass(frozen=True)
class Intent:
    """A paid request about to go out, for one shot of it."""

    fingerprint: str
    shot_id: str
    provider: str
    shots: tuple[str, ...]  # every shot of the request (a provider may send several in one)
    extra: dict[str, Any] = field(default_factory=dict)


MOVES_KEPT = 8  # the journal notes a request's last moves (resend, resubmit, refresh, stall)


@dataclass(frozen=True)
class MoveNote:
    """A move a render made with this request, as status shows it."""

    move: Move
    at: float
    reason: str | None


@dataclass(frozen=True)
class TaskRecord:
    """One fingerprint's latest paid request, as the journal has it."""

    fingerprint: str
    shot_id: str
    provider: str
    status: Stand  # of store.stand.JOURNAL
    task_id: str | None
    at: float  # when it reached this status
    submitted_at: float | None
    reason: str | None
    attempts: int
    shots: tuple[str, ...]
    extra: dict[str, Any]
    adopted: bool
    moves: tuple[MoveNote, ...] = ()

    @property
    def task(self) -> Task | None:
        if self.task_id is None:
            return None
        return Task(
            self.shot_id,
            self.task_id,
            self.provider,
            self.fingerprint,
            self.submitted_at or self.at,
            dict(self.extra),
        )


@dataclass(frozen=True)
class ClipRecord:
    """What the cache accepted under a fingerprint: checked before the clip is used again."""

    size: int
    sha256: str
    url: str | None  # where it was downloaded from: fetched again (free) if the file is damaged


class State:
    def __init__(
        self,
        state_dir: Path,
        data: dict[str, Any],
        lock: Lock | None = None,
        *,
        storyboard: str | None = None,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.path = Layout(self.state_dir).state
        self.data = data
        self.lock = lock
        self.storyboard = storyboard  # whose shots `made` is about: its file name
        self.redactor = Redactor()  # set by the executor: the keys never written
        self._mutex = threading.RLock()  # executor threads record concurrently
        if storyboard is not None:
            self._take_earlier(storyboard)

    # reading -------------------------------------------------------------------------------
    @classmethod
    def load(cls, state_dir: Path, lock: Lock | None = None, *, storyboard: str | None = None) -> State:
        """The state in this state folder (empty if none yet), checked field by field
        (store.statefile); `storyboard`: the file name of the storyboard whose shots' clips
        are asked about (a folder may hold several). Pass the held lock to be allowed to write."""
        return cls(state_dir, statefile.read(Layout(Path(state_dir)).state), lock, storyboard=storyboard)

    @classmethod
    def of(cls, sb: Storyboard, lock: Lock | None = None) -> State:
        """The state of this storyboard (its folder's, its own shots' clips)."""
        return cls.load(sb.state_dir, lock, storyboard=sb.path.name)

    def _take_earlier(self, storyboard: str) -> None:
        """A file older than version 3 holds one storyboard's records, without saying whose: the
        first storyboard that loads it takes them (its own, if any, win). Saved with its next write."""
        for key in ("made", "made_by"):
            earlier = self.data[key].pop(statefile.EARLIER, None)
            if not earlier:
                continue
            own = self.data[key].setdefault(storyboard, {})
            for name, value in earlier.items():
                if isinstance(value, dict):  # made_by: {provider: {shot: fingerprint}}
                    own[name] = {**value, **own.get(name, {})}
                else:
                    own.setdefault(name, value)

    def _made(self) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
        """This storyboard's records: {shot: fingerprint}, {provider: {shot: fingerprint}}."""
        if self.storyboard is None:
            raise StateError("a shot's clip was asked of a state loaded for no storyboard (a bug of ours)")
        made = self.data["made"].get(self.storyboard, {})
        return made, self.data["made_by"].get(self.storyboard, {})

    def records(self) -> Iterator[TaskRecord]:
        for fp in list(self.data["tasks"]):
            rec = self.task(fp)
            if rec is not None:
                yield rec

    def task(self, fingerprint: str) -> TaskRecord | None:
        raw = self.data["tasks"].get(fingerprint)
        if raw is None:
            return None
        status = Stand.of_word(raw["status"])
        at = {
            Stand.SENDING: raw.get("intent_at"),
            Stand.SUBMITTED: raw.get("submitted_at"),
            Stand.MADE: raw.get("done_at"),
            Stand.FAILED: raw.get("failed_at"),
            Stand.UNCERTAIN: raw.get("uncertain_at"),
        }[status]
        return TaskRecord(
            fingerprint=fingerprint,
            shot_id=raw["shot_id"],
            provider=raw.get("provider", ""),
            status=status,
            task_id=raw.get("task_id"),
            at=float(at or raw.get("submitted_at") or raw.get("intent_at") or 0.0),
            submitted_at=raw.get("submitted_at"),
            reason=raw.get("reason"),
            attempts=int(raw.get("attempts", 0)),
            shots=tuple(raw.get("shots") or (raw["shot_id"],)),
            extra=dict(raw.get("extra") or {}),
            adopted=bool(raw.get("adopted", False)),
            moves=tuple(
                MoveNote(Move(m["move"]), float(m.get("at") or 0.0), m.get("reason"))
                for m in raw.get("moves") or ()
                if m.get("move") in _MOVE_WORDS
            ),
        )

    def pending(self, provider: str | None = None) -> list[Task]:
        """Tasks the service took whose clips are not downloaded yet (of `provider` only, if
        given): a render polls them instead of paying again."""
        out = []
        for rec in self.records():
            ours = provider is None or rec.provider == provider
            if rec.status is Stand.SUBMITTED and rec.task is not None and ours:
                out.append(rec.task)
        return out

    def last_made(self, shot_id: str, provider: str | None = None) -> str | None:
        """The fingerprint of the clip last made for the storyboard's shot (by `provider`, if
        given)."""
        made, made_by = self._made()
        if provider is None:
            return made.get(shot_id)
        return made_by.get(provider, {}).get(shot_id)

    @property
    def made(self) -> dict[str, str]:
        return dict(self._made()[0])

    def clip(self, fingerprint: str) -> ClipRecord | None:
        raw = self.data["clips"].get(fingerprint)
        if raw is None:
            return None
        return ClipRecord(int(raw["size"]), str(raw["sha256"]), raw.get("url"))

    def upload_url(self, key: str) -> str | None:
        rec = self.data["uploads"].get(key)
        return rec.get("url") if isinstance(rec, dict) else None

    # the journal: every paid request's intent, then its outcome ---------------------------
    def record_intent(self, intents: Iterable[Intent]) -> None:
        """Before a paid request is sent: its shots are `sending`. Raises when the write fails
        (then the request must not be sent)."""
        with self._mutex:
            now = time.time()
            for it in intents:
                old = self.data["tasks"].get(it.fingerprint) or {}
                self.data["tasks"][it.fingerprint] = {
                    "shot_id": it.shot_id,
                    "provider": it.provider,
                    "status": Stand.SENDING.word,
                    "task_id": None,
                    "intent_at": now,
                    "submitted_at": None,
                    "attempts": int(old.get("attempts", 0)) + 1,
                    "extra": dict(it.extra),
                    "shots": list(it.shots),
                    **({"moves": old["moves"]} if old.get("moves") else {}),  # a resend, a resubmit
                }
            self._save()

    def record_submitted(self, tasks: Iterable[Task], *, adopted: bool = False) -> None:
        """The service took these (one write for a whole request): their task ids replace the
        intents. Raises when the write fails: the caller must stop sending and tell the ids."""
        with self._mutex:
            for task in tasks:
                rec = self.data["tasks"].get(task.fingerprint)
                if rec is None or adopted:
                    old = rec or {}
                    rec = {
                        "shot_id": task.shot_id,
                        "provider": task.provider,
                        "intent_at": old.get("intent_at"),
                        "attempts": int(old.get("attempts", 0)) + (0 if adopted and old else 1),
                        "shots": old.get("shots") or [task.shot_id],
                    }
                    self.data["tasks"][task.fingerprint] = rec
                rec.update(
                    status=Stand.SUBMITTED.word,
                    task_id=task.task_id,
                    submitted_at=task.submitted_at,
                    extra=dict(task.extra),
                )
                for stale in ("reason", "uncertain_at", "failed_at", "done_at", "clip"):
                    rec.pop(stale, None)
                if adopted:
                    rec["adopted"] = True
            self._save()

    def record_not_sent(self, fingerprints: Iterable[str], reason: str) -> None:
        """The service provably did not take the request: nothing was charged."""
        self._set(fingerprints, Stand.FAILED, reason, "failed_at")

    def record_uncertain(self, fingerprints: Iterable[str], reason: str) -> None:
        """The request went out and its answer was lost: never sent again on its own."""
        self._set(fingerprints, Stand.UNCERTAIN, reason, "uncertain_at")

    def record_stalled(self, fingerprint: str, reason: str) -> None:
        """A render left the task without its clip (no usable answer in time): it stays
        `submitted`, to be polled again, with why it was left, for plan and status to say."""
        with self._mutex:
            rec = self.data["tasks"].get(fingerprint)
            if rec is None or Stand.of_word(rec["status"]) is not Stand.SUBMITTED:
                return
            rec["reason"] = self.redactor.redact(reason)
            self._save()

    def record_move(self, fingerprint: str, move: Move, reason: str | None) -> None:
        """A note for status: a render moved this request on (sent it again, asked for a fresh
        link, left it stalled). Raises when the write fails (the caller decides)."""
        with self._mutex:
            rec = self.data["tasks"].get(fingerprint)
            if rec is None:
                return
            said = self.redactor.redact(reason) if reason else None
            note = {"move": move.value, "at": time.time(), "reason": said}
            rec["moves"] = [*(rec.get("moves") or []), note][-MOVES_KEPT:]
            self._save()

    def record_failed(self, fingerprint: str, reason: str) -> None:
        """The service said the job failed (refunded or not: the provider says): the task id is kept."""
        self._set([fingerprint], Stand.FAILED, reason, "failed_at")

    def settle_intents(self, reason: str) -> list[str]:
        """At the start of a render (under the lock): intents left `sending` by a render that
        died are uncertain from now on. Their fingerprints."""
        with self._mutex:
            left = [fp for fp, r in self.data["tasks"].items() if Stand.of_word(r["status"]) is Stand.SENDING]
            if left:
                self._set(left, Stand.UNCERTAIN, reason, "uncertain_at")
            return left

    def _set(self, fingerprints: Iterable[str], status: Stand, reason: str, stamp: str) -> None:
        with self._mutex:
            now = time.time()
            for fp in fingerprints:
                rec = self.data["tasks"][fp]
                rec["status"] = status.word
                rec["reason"] = self.redactor.redact(reason)
                rec[stamp] = now
            self._save()

    # clips ---------------------------------------------------------------------------------
    def record_done(
        self, fingerprint: str, clip: ClipRecord, path: Path, *, current: bool | None = True
    ) -> bool:
        """The task's clip is downloaded, verified and cached. `current`: True, it is the
        shot's clip now; None, only if the shot has no clip by this provider yet (the clip of
        an earlier version of a shot must not displace the current one), decided here, under
        the state's own lock; False, never (another take, kept beside). Whether it became the
        shot's clip."""
        with self._mutex:
            rec = self.data["tasks"][fingerprint]
            rec["status"] = Stand.MADE.word
            rec["done_at"] = time.time()
            rec.pop("reason", None)
            rec["clip"] = _relative(path, self.state_dir)
            self._put_clip(fingerprint, clip)
            provider = rec.get("provider")
            made = current is True or (current is None and self.last_made(rec["shot_id"], provider) is None)
            if made:
                self._set_made(rec["shot_id"], fingerprint, provider)
            self._save()
            return made

    def record_made(
        self, shot_id: str, fingerprint: str, provider: str | None = None, clip: ClipRecord | None = None
    ) -> None:
        """The shot's clip is the cached one with this fingerprint (rendered locally, or
        found in the cache), made by `provider`."""
        with self._mutex:
            known = self.last_made(shot_id) == fingerprint and (
                provider is None or self.last_made(shot_id, provider) == fingerprint
            )
            if known and (clip is None or self.clip(fingerprint) == clip):
                return
            if clip is not None:
                self._put_clip(fingerprint, clip)
            self._set_made(shot_id, fingerprint, provider)
            self._save()

    def record_clip(self, fingerprint: str, clip: ClipRecord) -> None:
        with self._mutex:
            self._put_clip(fingerprint, clip)
            self._save()

    def _put_clip(self, fingerprint: str, clip: ClipRecord) -> None:
        entry: dict[str, Any] = {"size": clip.size, "sha256": clip.sha256, "accepted_at": time.time()}
        if clip.url:
            entry["url"] = clip.url
        self.data["clips"][fingerprint] = entry

    def _set_made(self, shot_id: str, fingerprint: str, provider: str | None) -> None:
        self._made()  # raises for a state loaded for no storyboard: never another's records
        name = str(self.storyboard)
        self.data["made"].setdefault(name, {})[shot_id] = fingerprint
        if provider:
            self.data["made_by"].setdefault(name, {}).setdefault(provider, {})[shot_id] = fingerprint

    def rekey(self, moves: dict[str, str]) -> None:
        """Records kept under an earlier fingerprint of a request now go by its fingerprint of
        today ({old: new}; plan.earlier): its task, its clip, and this storyboard's shots made
        with it. One write; a new fingerprint that has records of its own is left as it is."""
        with self._mutex:
            tasks, clips = self.data["tasks"], self.data["clips"]
            made, made_by = self._made()
            for old, new in moves.items():
                if new in tasks or new in clips:
                    continue
                if old in tasks:
                    rec = tasks[new] = tasks.pop(old)
                    if isinstance(rec.get("clip"), str):
                        rec["clip"] = rec["clip"].replace(old, new)
                if old in clips:
                    clips[new] = clips.pop(old)
                for shots in (made, *made_by.values()):
                    for shot_id, fp in shots.items():
                        if fp == old:
                            shots[shot_id] = new
            self._save()

    def record_upload(self, key: str, url: str) -> None:
        with self._mutex:
            self.data["uploads"][key] = {"url": url, "uploaded_at": time.time()}
            self._save()

    def _save(self) -> None:
        if self.lock is None or not self.lock.held:
            raise StateError("state is written only while holding the render lock")
        if not self.data.get("lineage"):
            self.data["lineage"] = str(uuid.uuid4())
        self.data["serial"] = int(self.data.get("serial", 0)) + 1
        # string by string, so a mark never cuts into the file's own JSON escapes
        text = json.dumps(self.redactor.redact_tree(self.data), indent=1, sort_keys=True)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, text + "\n")


def _relative(path: Path, base: Path) -> str:
    try:
        return str(Path(path).relative_to(base))
    except ValueError:
        return str(path)


_MOVE_WORDS = {m.value for m in Move}  # a word a later version wrote is skipped, not a crash
