"""The one small interface every provider implements, and the values that cross it.

A provider is a plugin: one module in this package (or an entry point in the
`storyboard.providers` group) holding a `Provider` subclass. It answers two kinds of
questions:

- at plan time, with no network: can you do these shots (`check`), what exactly would you
  send (`shot_body`, `requests`), and what will it cost (`cost`);
- at render time: `upload` a local image, `submit` a request, `poll` tasks; clips are
  fetched by the executor's verified download.

Requests may hold placeholders that only exist at render time (an uploaded image's URL, the
last frame of a shot this one continues, a parent task id). Each is a `Need`; the executor
fulfils the needs, substitutes the placeholder strings, then submits.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar

from storyboard.errors import Problem
from storyboard.spec.model import Asset, Shot


@dataclass(frozen=True)
class CompiledShot:
    """A shot ready for a provider: its prompt rendered, its images resolved."""

    shot: Shot
    prompt: str
    location: Any = None  # storyboard.errors.Location of the shot, for messages
    caption: str | None = None  # rendered like the prompt; shown over the shot, never sent

    @property
    def id(self) -> str:
        return self.shot.id

    @property
    def images(self) -> tuple[Asset, ...]:
        return self.shot.images


@dataclass(frozen=True)
class Need:
    """Something a request needs before it can be sent; `placeholder` stands for it in the body.

    kind "upload": `source` is a local file to upload (the placeholder becomes its URL);
    kind "last_frame": `source` is a shot id whose clip's last frame is extracted and uploaded;
    kind "task_id": `source` is a shot id whose provider task id fills the placeholder.
    """

    kind: str
    source: str
    placeholder: str


@dataclass(frozen=True)
class HttpRequest:
    """Exactly what will be sent: `storyboard plan --json` prints these."""

    method: str
    url: str
    shots: tuple[str, ...]
    body: dict[str, Any] | None = None
    multipart: dict[str, str] | None = None  # field -> local file path (uploads)
    needs: tuple[Need, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "url": self.url, "shots": list(self.shots)}
        if self.body is not None:
            out["body"] = self.body
        if self.multipart is not None:
            out["multipart"] = self.multipart
        if self.needs:
            out["needs"] = [n.__dict__ for n in self.needs]
        return out


@dataclass(frozen=True)
class Cost:
    credits: float | None  # None: the documents give no price
    usd: float | None = None


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
    DONE = "done"  # the clip is ready at `url`
    FAILED = "failed"  # the service says the job failed (`reason`); failed jobs are refunded


@dataclass(frozen=True)
class TaskStatus:
    state: TaskState
    url: str | None = None  # the clip, when done
    reason: str | None = None  # the provider's words, when failed
    progress: float | None = None  # 0-100 where the provider says


class Provider(ABC):
    name: ClassVar[str]
    env: ClassVar[str]  # NAME in NAME_API_KEY and NAME_BASE_URL
    default_base_url: ClassVar[str]
    needs_key: ClassVar[bool] = True
    can_upload: ClassVar[bool] = False  # local images can be sent (veo3o1)
    batch: ClassVar[bool] = False  # one request carries every shot (nanophoto)
    local: ClassVar[bool] = False  # renders on this machine (preview): `render`, no HTTP
    poll_interval: ClassVar[float] = 10.0  # seconds between polls the documents ask for
    min_poll_interval: ClassVar[float] = 0.0  # the shortest a documented rate limit allows

    def __init__(self, base_url: str | None = None, api_key: str | None = None) -> None:
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.api_key = api_key

    # plan time: no network -------------------------------------------------------------
    @abstractmethod
    def check(self, shot: CompiledShot) -> list[Problem]:
        """What this provider cannot do for the shot, each naming the field and who can."""

    @abstractmethod
    def shot_body(self, shot: CompiledShot) -> tuple[dict[str, Any], tuple[Need, ...]]:
        """The part of a request that is this shot's, and what it needs at render time."""

    @abstractmethod
    def cost(self, shot: CompiledShot) -> Cost:
        """What generating the shot costs, in the provider's credits and in USD if known."""

    def requests(self, shots: list[CompiledShot]) -> list[HttpRequest]:
        """The HTTP requests that generate these shots: one each unless `batch`."""
        out = []
        for s in shots:
            body, needs = self.shot_body(s)
            out.append(HttpRequest("POST", self.submit_url(s), (s.id,), body, needs=needs))
        return out

    def submit_url(self, shot: CompiledShot) -> str:
        raise NotImplementedError

    def upload_url(self) -> str | None:
        """Where `upload` sends a local image (plans list it); None: no uploads."""
        return None

    # render time ---------------------------------------------------------------------------
    def upload(self, path: Path) -> str:
        """Upload a local image; return the URL to put in requests."""
        raise NotImplementedError(f"{self.name} takes no uploads")

    @abstractmethod
    def submit(self, request: HttpRequest) -> dict[str, str]:
        """Send a generation request; return {shot id: task id}."""

    @abstractmethod
    def poll(self, tasks: list[Task]) -> dict[str, TaskStatus]:
        """The status of each task, by task id (batched where the service allows)."""

    def render(self, shot: CompiledShot, dest: Path, first_frame: Path | None = None) -> None:
        """Local providers only: make the shot's clip at `dest` (`first_frame` for continues)."""
        raise NotImplementedError(f"{self.name} is not a local provider")

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
