"""What render has paid for, kept beside the storyboard in `.storyboard/state.json`.

    {"version": 1, "lineage": uuid, "serial": n,
     "tasks": {fingerprint: {shot_id, provider, task_id, submitted_at, status, reason?,
                             attempts, extra, done_at?, clip?, shots?, uncertain_at?}},
     "made": {shot_id: fingerprint},                      (the last clip made, any provider)
     "made_by": {provider: {shot_id: fingerprint}},
     "uploads": {"provider:sha256": {url, uploaded_at}}}

A task's status is submitted, done, failed, or uncertain: the request went out and its
answer was lost, so the service may have started (and charged for) it; such a shot is not
submitted again unless forced (its task_id is null; `shots` names the request's shots).

A task id is written the moment a submission is accepted, before anything else can fail, so
a render that dies is resumed by polling instead of paying again. Every write replaces the
whole file atomically (temp file, fsync, rename, fsync of the folder) and happens only while
this process holds the render lock. API keys and request bodies are never stored.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from storyboard.errors import InputError, StateError
from storyboard.providers.base import Task
from storyboard.secrets import MARK as REDACTED
from storyboard.store.atomic import write_atomic
from storyboard.store.layout import Layout
from storyboard.store.lock import Lock

__all__ = ["REDACTED", "State", "StateError"]

VERSION = 1


class State:
    def __init__(self, state_dir: Path, data: dict[str, Any], lock: Lock | None = None) -> None:
        self.state_dir = Path(state_dir)
        self.path = Layout(self.state_dir).state
        self.data = data
        self.lock = lock
        self.secrets: list[str] = []  # strings never written (API keys), replaced if met
        self._mutex = threading.RLock()  # executor threads record concurrently

    # reading -------------------------------------------------------------------------------
    @classmethod
    def load(cls, state_dir: Path, lock: Lock | None = None) -> State:
        """The state of the storyboard whose state folder this is (empty if none yet).
        Pass the held lock to be allowed to write."""
        path = Layout(Path(state_dir)).state
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(state_dir, _empty(), lock)
        except (OSError, UnicodeDecodeError) as e:
            raise _corrupt(path, str(e)) from None
        try:
            data = json.loads(text)
        except ValueError as e:
            raise _corrupt(path, f"not valid JSON ({e})") from None
        if not isinstance(data, dict) or not isinstance(data.get("version"), int):
            raise _corrupt(path, "it is not a storyboard state file")
        if data["version"] > VERSION:
            raise InputError(
                f"{path} was written by a newer storyboard (state version {data['version']})",
                hint="upgrade storyboard to render this storyboard",
            )
        fresh = "made_by" not in data
        for key in ("tasks", "made", "made_by", "uploads"):
            data.setdefault(key, {})
            if not isinstance(data[key], dict):
                raise _corrupt(path, f"its {key!r} is not a mapping")
        for fp, rec in data["tasks"].items():
            if not isinstance(rec, dict) or not {"shot_id", "task_id", "status"} <= rec.keys():
                raise _corrupt(path, f"task {fp[:12]} is incomplete")
        if fresh:  # written before clips were kept by provider: each task names its own
            for shot_id, fp in data["made"].items():
                provider = data["tasks"].get(fp, {}).get("provider")
                if provider:
                    data["made_by"].setdefault(provider, {})[shot_id] = fp
        return cls(state_dir, data, lock)

    @property
    def tasks(self) -> dict[str, dict[str, Any]]:
        return self.data["tasks"]

    @property
    def made(self) -> dict[str, str]:
        return self.data["made"]

    def task(self, fingerprint: str) -> dict[str, Any] | None:
        return self.tasks.get(fingerprint)

    def pending(self, provider: str | None = None) -> list[Task]:
        """Tasks submitted and not yet downloaded (those of `provider` only, if given)."""
        out = []
        for fp, rec in self.tasks.items():
            if rec["status"] != "submitted" or (provider and rec.get("provider") != provider):
                continue
            out.append(_task(fp, rec))
        return out

    def task_of(self, fingerprint: str) -> Task | None:
        rec = self.task(fingerprint)
        return _task(fingerprint, rec) if rec else None

    def last_made(self, shot_id: str, provider: str | None = None) -> str | None:
        """The fingerprint of the clip last made for the shot (by `provider`, if given)."""
        if provider is None:
            return self.made.get(shot_id)
        return self.data["made_by"].get(provider, {}).get(shot_id)

    def upload_url(self, key: str) -> str | None:
        rec = self.data["uploads"].get(key)
        return rec.get("url") if isinstance(rec, dict) else None

    # writing -------------------------------------------------------------------------------
    def record_many_submitted(self, tasks: Iterable[Task]) -> None:
        """Save accepted submissions at once, in one write (a batch is one request): their
        task ids must be on disk before anything else can go wrong."""
        with self._mutex:
            for task in tasks:
                old = self.tasks.get(task.fingerprint)
                self.tasks[task.fingerprint] = {
                    "shot_id": task.shot_id,
                    "provider": task.provider,
                    "task_id": task.task_id,
                    "submitted_at": task.submitted_at,
                    "status": "submitted",
                    "attempts": (old or {}).get("attempts", 0) + 1,
                    "extra": dict(task.extra),
                }
            self._save()

    def record_uncertain(
        self, shots: dict[str, str], provider: str, reasons: dict[str, str], request: Iterable[str]
    ) -> None:
        """Shots ({shot id: fingerprint}) of a request (its shot ids) that went out without a
        readable answer: the service may have started and charged for them. `reasons` by shot
        id. Nothing of the request itself (body, key) is kept."""
        with self._mutex:
            now = time.time()
            for shot_id, fp in shots.items():
                old = self.tasks.get(fp) or {}
                self.tasks[fp] = {
                    "shot_id": shot_id,
                    "provider": provider,
                    "task_id": None,
                    "submitted_at": now,
                    "uncertain_at": now,
                    "status": "uncertain",
                    "reason": reasons[shot_id],
                    "shots": list(request),
                    "attempts": old.get("attempts", 0) + 1,
                    "extra": {},
                }
            self._save()

    def record_done(self, fingerprint: str, clip: Path, *, made: bool = True) -> None:
        """The clip is downloaded, verified and cached: the shot is made (`made=False` for
        the clip of an earlier version of a shot, which must not displace the current one)."""
        with self._mutex:
            rec = self.tasks[fingerprint]
            rec["status"] = "done"
            rec["done_at"] = time.time()
            rec.pop("reason", None)
            rec["clip"] = _relative(clip, self.state_dir)
            if made:
                self._set_made(rec["shot_id"], fingerprint, rec.get("provider"))
            self._save()

    def record_failed(self, fingerprint: str, reason: str) -> None:
        with self._mutex:
            rec = self.tasks[fingerprint]
            rec["status"] = "failed"
            rec["reason"] = reason
            rec["failed_at"] = time.time()
            self._save()

    def record_made(self, shot_id: str, fingerprint: str, provider: str | None = None) -> None:
        """The shot's clip is the cached one with this fingerprint (rendered locally, or
        found in the cache), made by `provider`."""
        with self._mutex:
            known = self.made.get(shot_id) == fingerprint
            if known and (provider is None or self.last_made(shot_id, provider) == fingerprint):
                return
            self._set_made(shot_id, fingerprint, provider)
            self._save()

    def _set_made(self, shot_id: str, fingerprint: str, provider: str | None) -> None:
        self.made[shot_id] = fingerprint
        if provider:
            self.data["made_by"].setdefault(provider, {})[shot_id] = fingerprint

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
        text = json.dumps(self.data, indent=1, sort_keys=True)
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, REDACTED)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, text + "\n")


def _empty() -> dict[str, Any]:
    return {
        "version": VERSION,
        "lineage": "",
        "serial": 0,
        "tasks": {},
        "made": {},
        "made_by": {},
        "uploads": {},
    }


def _task(fp: str, rec: dict[str, Any]) -> Task:
    return Task(
        shot_id=rec["shot_id"],
        task_id=rec["task_id"],
        provider=rec.get("provider", ""),
        fingerprint=fp,
        submitted_at=float(rec.get("submitted_at") or 0.0),
        extra=dict(rec.get("extra") or {}),
    )


def _relative(path: Path, base: Path) -> str:
    try:
        return str(Path(path).relative_to(base))
    except ValueError:
        return str(path)


def _corrupt(path: Path, why: str) -> InputError:
    return InputError(
        f"{path} is damaged: {why}",
        hint=(
            "it records the tasks already paid for. Restore it from a backup if you have one; "
            f"otherwise move it aside (mv {path} {path}.bad) and render again: clips already "
            "in .storyboard/clips are reused, but shots in flight will be submitted (and paid) "
            "again"
        ),
    )
