"""Where a shot stands: one vocabulary for the journal, the decision, a render's outcome, status
and the contact sheet. Compared as members (`is`), never by their words; the words are what
JSON and the state file carry, and they do not change.

    the journal (a paid request)    SENDING -> SUBMITTED -> MADE | FAILED | UNCERTAIN
    where a shot stands (status)    NEW, SUBMITTED, MADE, FAILED, UNCERTAIN
    how a render left it (outcome)  MADE (in this render), CACHED (before it), FAILED,
                                    UNCERTAIN, STALLED, BLOCKED, UNRECORDED

Kept apart on purpose, as other axes: what a service says of its task (providers.base
TaskState: its own words mapped by each plugin; its "done" promises a link, not a clip
verified here), what a render does about a shot and why (plan.decide Action, Why), how far a
render has carried a job in memory (run.jobs JobState: waiting for its parents, downloading)
and what the bytes of a cached file are (store.cache Integrity). How a render moved a job on
(Move: resend, resubmit, refresh...) is here too: the journal notes those moves, status shows them.
"""

from __future__ import annotations

from enum import Enum


class Stand(str, Enum):
    NEW = "new"  # never sent
    SENDING = "sending"  # the journal: its intent is on disk, no answer yet
    SUBMITTED = "submitted"  # the service took it: its task is polled
    MADE = "made"  # its clip is made, verified and cached (in the state file: "done")
    CACHED = "cached"  # a render's outcome: made before this render
    FAILED = "failed"  # the service failed or refused it, or it was not sent
    UNCERTAIN = "uncertain"  # sent, the answer lost: the service may have it (adopt or force)
    STALLED = "stalled"  # a render's outcome: paid and still out there; render again later
    BLOCKED = "blocked"  # a render's outcome: it needs a shot that was not made
    UNRECORDED = "unrecorded"  # a render's outcome: taken, its task id could not be saved

    @property
    def has_clip(self) -> bool:
        return self in (Stand.MADE, Stand.CACHED)

    @property
    def word(self) -> str:
        """As the state file's journal writes it (older files read the same)."""
        return _ON_DISK.get(self, self.value)

    @classmethod
    def of_word(cls, word: str) -> Stand:
        """A journal status as the state file has it."""
        return _FROM_DISK.get(word) or cls(word)


class Move(str, Enum):
    """A move of the executor's table (run.jobs.TRANSITIONS): how a job goes on. Those that ask
    again (resend, resubmit, refresh) and a stall are noted in the journal for status."""

    SEND = "send"  # handed to be sent: its intent is journaled, then the paid request goes out
    RESUME = "resume"  # paid already (as decided): its task is polled
    TAKEN = "taken"  # the service took it: its task id is saved, it is polled
    SKIPPED = "skipped"  # not sent after all (the render stops): it ends with the reason
    RESEND = "resend"  # not taken for now (a rate limit, an outage): nothing charged, sent later
    RESUBMIT = "resubmit"  # its job failed where the service refunds that: submitted again
    FETCH = "fetch"  # its clip is downloaded (a finished task's link, or a link known already)
    REFRESH = "refresh"  # a download failed: the next poll brings a fresh link
    DROP = "drop"  # a download abandoned as the render stops: fetched again next time, free
    PASS_ON = "pass_on"  # its provider refused it before taking it: the next listed provider
    STALL = "stall"  # it ends stalled (run.jobs.Job.end): paid, polled again by the next render


JOURNAL = (Stand.SENDING, Stand.SUBMITTED, Stand.MADE, Stand.FAILED, Stand.UNCERTAIN)
_ON_DISK = {Stand.MADE: "done"}  # the file's word since version 1: kept, so no file changes
_FROM_DISK = {v: k for k, v in _ON_DISK.items()}
