"""`HostedProvider`: the base of every provider reached over HTTP with a key.

A hosted plugin declares its error table (`errors`: its codes -> `replies.Rule`) and says
where a reply carries its error (`read_error`); `error_of` then maps any reply the same way
for every provider, built-in or plugin. `read_error` is asked of non-2xx replies only: a 2xx
reply is the provider's own parser's to read (a finished task may carry an `error` field that
is the job's, not the request's), unless the service reports request errors inside 2xx
bodies too (`errors_on_success`, as kie and veo3o1 do). The `Http` client is made on first
use (a plan never opens a connection), with this provider's redactor, error mapping and
`auth`. `submit` always runs
as a submission and `poll` as a poll (see providers.http), whatever the plugin writes.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from storyboard.errors import ProviderError, Severity, TaskNotFound, UnsupportedError
from storyboard.providers.base import CompiledShot, Provider, Task, TaskStatus
from storyboard.providers.http import DEFAULT_TIMEOUT, Check, Http
from storyboard.providers.options import ProviderOptions
from storyboard.providers.replies import ErrorTable, Reply, ServiceError, Stage, error_for, status_error


class HostedProvider(Provider):
    errors: ClassVar[ErrorTable] = {}  # the service's error codes -> what they mean
    errors_on_success: ClassVar[bool] = False  # read_error reads 2xx replies too

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for hook, stage in (("submit", Stage.SUBMIT), ("poll", Stage.POLL)):
            method = cls.__dict__.get(hook)
            if method is not None and not getattr(method, "_staged", False):
                setattr(cls, hook, _staged(method, stage))

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        options: Mapping[str, Any] | ProviderOptions | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = 5,
        backoff: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(base_url, api_key, options=options)
        self._http_options: dict[str, Any] = {
            "timeout": timeout,
            "retries": retries,
            "backoff": backoff,
            "sleep": sleep,
        }
        self._http: Http | None = None

    @property
    def http(self) -> Http:
        if self._http is None:
            self._http = Http(
                self.base_url,
                self.api_key,
                provider=self.name,
                env=self.env,
                redactor=self.redactor,
                check=self.error_of,
                auth=self.auth,
                **self._http_options,
            )
        return self._http

    # errors ----------------------------------------------------------------------------------
    def read_error(self, reply: Reply, sent: Any = None) -> ServiceError | None:
        """The service's own error in this reply (its code, its words), or None when the reply
        says it succeeded or is not the service's (a proxy's page): then the HTTP status
        decides. `sent` is the JSON body that was sent, for errors that depend on it. Asked of
        non-2xx replies only, unless `errors_on_success`."""
        return None

    def error_of(self, reply: Reply, shot: str | None = None, sent: Any = None) -> ProviderError | None:
        """What a reply means: None when it succeeded, else the error, by this provider's table."""
        found = self.read_error(reply, sent) if self.errors_on_success or not reply.is_success else None
        ctx = self.http.context(shot)
        if found is None:
            return status_error(reply, ctx)
        return error_for(self.errors, found, reply, ctx)

    def checker(self, shot: str | None = None, sent: Any = None) -> Check:
        """`error_of` for one request's shots (and body), as `Http.request`'s `check`."""
        return functools.partial(self.error_of, shot=shot, sent=sent)

    # plan time helpers ----------------------------------------------------------------------
    def require(self, shot: CompiledShot) -> None:
        """Refuse to build a request for a shot this provider cannot make."""
        problems = [p for p in self.check(shot) if p.severity is Severity.ERROR]
        if problems:
            raise UnsupportedError(problems)

    # render time helpers ---------------------------------------------------------------------
    def poll_each(self, tasks: list[Task], one: Callable[[Task], TaskStatus]) -> dict[str, TaskStatus]:
        """Poll task by task (services with no batch status call). A task the service says it
        does not know does not hide the others: TaskNotFound names it and carries the rest."""
        found: dict[str, TaskStatus] = {}
        missing: list[Task] = []
        words: TaskNotFound | None = None
        reasons: dict[str, str] = {}  # each task's own words: one's 404 is not another's
        for task in tasks:
            try:
                found[task.task_id] = one(task)
            except TaskNotFound as e:
                missing.append(task)
                words = words or e
                reasons[task.task_id] = e.reason
        if words is None:
            return found
        raise TaskNotFound(
            words.reason,
            task_ids=tuple(t.task_id for t in missing),
            found=found,
            reasons=reasons,
            provider=self.name,
            shot=", ".join(t.shot_id for t in missing),
            status=words.status,
        )

    def close(self) -> None:
        if self._http is not None:
            self._http.close()


def _staged(method: Callable[..., Any], stage: Stage) -> Any:
    """`method` run with its requests marked as `stage` (see providers.http)."""

    @functools.wraps(method)
    def run(self: HostedProvider, *args: Any, **kwargs: Any) -> Any:
        with self.http.stage(stage):
            return method(self, *args, **kwargs)

    run._staged = True  # type: ignore[attr-defined]
    return run
