"""The contract every provider implements, declared in one place, and the values crossing it.

A provider is a plugin: a `Provider` subclass registered under a name in the
`storyboard.providers` entry-point group (the built-ins register there too, in storyboard's
own pyproject). Everything the tool asks of a provider is declared here, with its default; a
plugin sets the class attributes that differ and implements one method per stage:

    stage       hook                                   default
    who         name, env, default_base_url, needs_key   (name required; env "" reads no key)
                key_aliases                            (): only NAME_API_KEY holds the key
    key         auth (an `Auth`)                       `Authorization: Bearer KEY`
                credentials(url)                       the key for a URL of base_url's origin,
                                                       nothing for any other host
                fetches_own_clips                      False: clips are public links, fetched
                                                       without the key
    what        capabilities (providers.capabilities)  None: `check` allows every shot
                                                       (per model, and how images travel:
                                                       url, upload or inline bytes)
                sends_seed(shot)                       the capabilities' seed (a continued
                                                       shot's, where the extension takes one)
                Options (providers.options)            no options
    money       refunds_failures                       True: a failed job is refunded, so it
                                                       is sent again on its own; False (charged)
                                                       or None (unknown): it stays failed until
                                                       --force, which plan prices
                free                                   False: its clips are paid for
    plan        shot_body(shot) -> (body, needs)       REQUIRED
                check(shot), check_batch(shots)        the capability rules; no batch rules
                requests(shots), submit_url(shot)      one `submit_method` (POST) a shot to
                                                       base_url+submit_path
                cost(shot), price_source               price unknown (None)
                task_extra(shot)                       nothing extra
                upload_url()                           None: takes no uploads
    generate    submit(request) -> {shot: task id}     REQUIRED
                poll(tasks) -> {task id: TaskStatus}   REQUIRED
                task_id_pattern, task_id_words         up to 200 of A-Z a-z 0-9 . _ - : @ = +
                upload(path) -> URL                    refuses
                fetched(task)                          nothing (the clip is in the cache)
    clips       clip_schemes                           ("http", "https")
                burns_captions                         False: captions as the storyboard says
    pace        poll_interval, min_poll_interval, pace(requested)
    plumbing    http (None), redactor, workdir, close()

Every provider goes the same way: submit, a task id, polls, done with a link, a verified
download into the cache. A renderer on this machine (`preview`) is a provider like the
others: its submit queues the work and answers with a task id, its poll says when the clip
is done, and its link is a file:// URL (it declares `clip_schemes = ("file",)`).

The fingerprint of a shot covers everything that selects what is made: the method and the
URL path of its request (the model may be in the path), its body and `task_extra`; never the
host (a base URL may move) nor the key.

At plan time nothing touches the network. At render time, what each hook raises is part of
the contract (storyboard.errors):

- `submit`: ReplyLost when the request went out and its answer was lost (the shots are
  uncertain: never sent again on our own); AuthError or CreditsError (stop submitting);
  RateLimitError or TransientError once the client's own retries ran out (the service did not
  take it: safe to send later); RejectedError, GenerationFailed, ProviderError otherwise.
- `poll`: TaskNotFound (the service's documented "no such task", with `task_ids` and the
  statuses it gave for the others in `found`); AuthError; any other ProviderError means only
  that the status could not be read this time: it says nothing about the job.
- Clips are fetched by the executor's verified download (storyboard.run.download). A link is
  public unless the provider `fetches_own_clips`: then each request of the download, redirects
  included, carries `credentials(url)`, which is the key only on base_url's own origin; a
  redirect to any other host is followed without it. Only the link schemes the provider
  declares are fetched (`clip_schemes`: a file:// link from a hosted service is refused).
- What a task id looks like is `task_id_pattern` (`adopt` accepts what the service issued);
  an id is percent-encoded wherever it enters a URL (providers.http.segment, path_segments).

Requests may hold placeholders that only exist at render time (an uploaded image's URL, the
last frame of a shot this one continues, a parent task id). Each is a `Need`; the executor
fulfils the needs, substitutes the placeholder strings, then submits.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from storyboard import env
from storyboard.board.model import Asset, Shot
from storyboard.errors import Problem, ProviderError
from storyboard.money import Cost, PriceSource
from storyboard.providers import fit
from storyboard.providers.capabilities import Capabilities
from storyboard.providers.options import ProviderOptions
from storyboard.providers.values import Auth, CompiledShot, key_for, origin
from storyboard.secrets import Redactor

if TYPE_CHECKING:  # types only: http loads httpx, and retry's Pace is a render-time value
    from storyboard.providers.http import Http
    from storyboard.retry import Pace

# the values that cross the contract and live in providers.values, handed on from here: a
# plugin imports the whole interface from this one module
__all__ = ["Auth", "CompiledShot", "HttpRequest", "Need", "NeedKind", "Provider", "Task", "TaskState"]
__all__ += ["TaskStatus", "key_for", "origin", "task_id_problem"]


MAX_TASK_ID = 200
TASK_ID = r"(?!\.+$)[A-Za-z0-9._:@=+-]{1,200}"  # what a dashboard shows; never a path or a query
TASK_ID_WORDS = "up to 200 letters, digits and . _ - : @ = +"


def task_id_problem(task_id: str, pattern: str = TASK_ID, words: str = TASK_ID_WORDS) -> str | None:
    """Why `task_id` is not one a provider issues (None when it is). Whatever the pattern, an
    id with a control character or a space, or longer than 200 characters, is refused."""
    if not task_id or len(task_id) > MAX_TASK_ID:
        return f"task ids are 1 to {MAX_TASK_ID} characters"
    if any(c.isspace() or not c.isprintable() for c in task_id):
        return "a task id has no spaces or control characters"
    if re.fullmatch(pattern, task_id) is None:
        return f"task ids are {words}"
    return None


class NeedKind(str, Enum):
    UPLOAD = "upload"  # `source` is a local file to upload (the placeholder becomes its URL)
    LAST_FRAME = "last_frame"  # `source` is a shot id: its clip's last frame, uploaded
    TASK_ID = "task_id"  # `source` is a shot id whose provider task id fills the placeholder
    INLINE = "inline"  # `source` is a local file: its bytes, base64, fill the placeholder
    LAST_FRAME_FILE = "last_frame_file"  # `source` is a shot id: its clip's last frame, as a
    # local file path (for a provider on this machine, which reads it where it lies)
    LAST_FRAME_INLINE = "last_frame_inline"  # `source` is a shot id: its clip's last frame's
    # bytes (a PNG), base64, inside the request (a service that takes files' bytes, not links)


@dataclass(frozen=True)
class Need:
    """Something a request needs before it can be sent; `placeholder` stands for it in the body."""

    kind: NeedKind
    source: str
    placeholder: str


@dataclass(frozen=True)
class HttpRequest:
    """Exactly what will be sent: `storyboard plan --json` prints these."""

    method: str
    url: str
    shots: tuple[str, ...]
    body: dict[str, Any] | None = None
    multipart: dict[str, str] | None = None  # field -> local file path, sent with the request
    needs: tuple[Need, ...] = ()
    keys: tuple[str, ...] = ()  # our names for `shots` (a shot's other takes are `id@K`)

    @property
    def names(self) -> tuple[str, ...]:
        """Our name of each shot of the request: its key if set, else its id."""
        return self.keys or self.shots

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "url": self.url, "shots": list(self.names)}
        if self.body is not None:
            out["body"] = self.body
        if self.multipart is not None:
            out["multipart"] = self.multipart
        if self.needs:
            out["needs"] = [
                {"kind": n.kind.value, "source": n.source, "placeholder": n.placeholder} for n in self.needs
            ]
        return out


@dataclass
class Task:
    """A submitted generation, as saved in state before anything else can fail."""

    shot_id: str
    task_id: str
    provider: str
    fingerprint: str
    submitted_at: float
    extra: dict[str, Any] = field(default_factory=dict)


class TaskState(str, Enum):
    """Where a task stands, as the service says (each plugin maps its own words to these)."""

    PENDING = "pending"  # accepted, not started
    RUNNING = "running"  # being generated
    DONE = "done"  # the clip is ready at `url` (None: no usable link given; asked again, never failed)
    FAILED = "failed"  # the service says the job failed (`reason`); charged? `refunds_failures`


@dataclass(frozen=True)
class TaskStatus:
    state: TaskState
    url: str | None = None  # the clip, when done (providers.replies.link: an http(s) URL or None)
    reason: str | None = None  # the provider's words, when failed
    progress: float | None = None  # 0-100 where the provider says
    eta_seconds: float | None = None  # how long the service expects it still to take, if it says


class Provider(ABC):
    # who it is -------------------------------------------------------------------------------
    name: ClassVar[str]  # the name it is registered (and chosen) by
    env: ClassVar[str] = ""  # NAME in NAME_API_KEY and NAME_BASE_URL; "" reads neither
    default_base_url: ClassVar[str] = ""
    needs_key: ClassVar[bool] = True
    key_aliases: ClassVar[tuple[str, ...]] = ()  # other variables read for the key, in order
    # how the key travels ------------------------------------------------------------------
    auth: ClassVar[Auth] = Auth()  # Authorization: Bearer KEY
    fetches_own_clips: ClassVar[bool] = False  # clip links need the key (only to base_url's host)
    # money -----------------------------------------------------------------------------------
    refunds_failures: ClassVar[bool | None] = True  # a failed job: refunded | charged | unknown
    # free: making a clip costs nothing (the preview renders on this machine). Nothing asks
    # before such a render, no budget applies, no task of an older version is kept waiting
    # for, and a shot whose request may or may not have been taken is simply made again:
    # nothing can be paid twice.
    free: ClassVar[bool] = False
    # its clips ----------------------------------------------------------------------------
    clip_schemes: ClassVar[tuple[str, ...]] = ("http", "https")  # what its links may be
    burns_captions: ClassVar[bool] = False  # an animatic: the cut always draws the captions
    # tasks -----------------------------------------------------------------------------------
    task_id_pattern: ClassVar[str] = TASK_ID  # what the service issues (adopt checks it)
    task_id_words: ClassVar[str] = TASK_ID_WORDS
    # what it can do ---------------------------------------------------------------------------
    capabilities: ClassVar[Capabilities | None] = None  # None: every shot is allowed
    Options: ClassVar[type[ProviderOptions]] = ProviderOptions  # `providers: {name: {...}}`
    submit_path: ClassVar[str] = ""  # the generation endpoint, below the base URL
    # where `cost` prices come from: the document and the date its prices held (None: no price)
    price_source: ClassVar[PriceSource | None] = None
    submit_method: ClassVar[str] = "POST"
    # how often to ask about tasks -------------------------------------------------------------
    poll_interval: ClassVar[float] = 10.0  # a wait between polls is between half of it and all
    min_poll_interval: ClassVar[float] = 0.0  # never shorter (a documented rate limit); 0: none
    # where it may keep files between renders: the executor sets it to a folder of the
    # storyboard's state (`.storyboard/providers/<name>/`) before the first request
    workdir: Path | None = None

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        options: Mapping[str, Any] | ProviderOptions | None = None,
    ) -> None:
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.api_key = api_key
        self.options = self.Options.parse(options, self.name)
        # every text a service sends passes this before anything else sees it
        self.redactor = Redactor([api_key])

    def __repr__(self) -> str:  # never the key
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    @property
    def key_variable(self) -> str:
        return f"{self.env}_API_KEY" if self.env else ""

    def credentials(self, url: str) -> tuple[dict[str, str], dict[str, str]]:
        """(headers, query parameters) that carry the key on a request to `url`: the key
        goes to base_url's own origin (scheme, host and port) and nowhere else."""
        return key_for(self.auth, self.api_key, self.base_url, url)

    def download_credentials(self, url: str) -> tuple[dict[str, str], dict[str, str]]:
        """What a clip download sends to `url` (asked again at every redirect): nothing,
        unless the provider fetches its own clips, and then only on its own origin."""
        return self.credentials(url) if self.fetches_own_clips else ({}, {})

    def sends_url(self, asset: Asset) -> bool:
        """The image goes to the service as its link (a provider that takes files' bytes
        sends none): what the placeholder-link check looks at."""
        c = self.capabilities
        return asset.url is not None if c is None else c.sends_url(asset)

    def sends_seed(self, shot: Shot) -> bool:
        """The shot's request carries its seed: what varies its takes, and what the plan shows."""
        c = self.capabilities
        if c is None or not c.for_model(shot.settings.model).seed:
            return False
        return not shot.continues or c.extend_seed

    def task_id_problem(self, task_id: str) -> str | None:
        """Why `task_id` is not one this service issues, or None."""
        return task_id_problem(task_id, self.task_id_pattern, self.task_id_words)

    @property
    def http(self) -> Http | None:
        """The HTTP client (hosted providers), or None. The executor sets `http.cancel`."""
        return None

    # plan time: no network ----------------------------------------------------------------------
    def check(self, shot: CompiledShot) -> list[Problem]:
        """What this provider cannot do for the shot, each naming the field and who can
        (warnings, with Severity.WARNING, do not stop the plan)."""
        return fit.problems(self.name, self.capabilities, shot)

    def check_batch(self, shots: list[CompiledShot]) -> list[Problem]:
        """Rules about shots sent together; run once every shot passed `check`."""
        return []

    @abstractmethod
    def shot_body(self, shot: CompiledShot) -> tuple[dict[str, Any], tuple[Need, ...]]:
        """The part of a request that is this shot's, and what it needs at render time."""

    def submit_url(self, shot: CompiledShot) -> str:
        if not self.submit_path:
            raise NotImplementedError(f"{self.name} declares no submit_path and no submit_url")
        return f"{self.base_url}/{self.submit_path.lstrip('/')}"

    def requests(self, shots: list[CompiledShot]) -> list[HttpRequest]:
        """The HTTP requests that generate these shots: one each unless overridden."""
        out = []
        for s in shots:
            body, needs = self.shot_body(s)
            out.append(HttpRequest(self.submit_method, self.submit_url(s), (s.id,), body, needs=needs))
        return out

    def cost(self, shot: CompiledShot) -> Cost:
        """What generating the shot costs, by `price_source`: `Cost(credits, usd)`, a unit
        None where it is not known (a service that bills in dollars: `Cost(None, usd)`). A
        storyboard's `providers: {name: {price: ...}}` fills or overrides it in the plan."""
        return Cost(None, None)

    def task_extra(self, shot: CompiledShot) -> dict[str, Any]:
        """What `poll` needs to know about a shot beyond its task id (kept in Task.extra, and
        part of the fingerprint: it is what the service is told beside the body)."""
        return {}

    def upload_url(self) -> str | None:
        """Where `upload` sends a local image (plan --json lists these requests); None: no uploads."""
        return None

    # render time ---------------------------------------------------------------------------
    def upload(self, path: Path) -> str:
        """Upload a local image; return the URL to put in requests."""
        raise ProviderError("takes no uploads", provider=self.name)

    def submit(self, request: HttpRequest) -> dict[str, str]:
        """Send a generation request; return {shot id: task id}."""
        raise NotImplementedError(f"{self.name} does not implement submit")

    def poll(self, tasks: list[Task]) -> dict[str, TaskStatus]:
        """The status of each task, by task id (batched where the service allows)."""
        raise NotImplementedError(f"{self.name} does not implement poll")

    def fetched(self, task: Task) -> None:  # noqa: B027 - an optional hook
        """The task's clip is in the cache, verified: nothing more is asked about it (a
        renderer on this machine frees its files)."""

    def pace(self, requested: float | None = None) -> Pace:
        """How often to poll: `requested` (else STORYBOARD_POLL_INTERVAL), else this provider's
        own pace; never below `min_poll_interval`, unless STORYBOARD_POLL_FLOOR says otherwise
        (a service with a higher limit than documented, or a test's fake with none)."""
        from storyboard.retry import Pace  # render time only

        chosen = env.poll_interval() if requested is None else requested
        floor = env.poll_floor()
        floor = self.min_poll_interval if floor is None else floor
        return Pace(every=self.poll_interval, floor=floor, requested=chosen)

    def close(self) -> None:  # noqa: B027 - an optional hook
        """Release connections."""
