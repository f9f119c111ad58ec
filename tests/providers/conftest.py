"""Shared pieces for the provider tests: shots built from model dataclasses, the request
schemas in tests/provider_schemas, a grid of settings, and loopback servers (tests/servers)."""

from __future__ import annotations

import base64
import itertools
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import jsonschema
import pytest

from storyboard.board.model import Asset, Settings, Shot
from storyboard.providers.base import CompiledShot, HttpRequest, Need, Task
from tests.clips import make_clip, make_image

SCHEMAS = Path(__file__).resolve().parent.parent / "provider_schemas"
KEY = "sk-test-SECRET-0123456789abcdef"  # every server in these tests takes this key

ASPECTS = ("16:9", "9:16", "auto")
RESOLUTIONS = ("720p", "1080p", "4k")
MODELS = ("fast", "quality", "lite")
SEEDS = (None, 12345)
SHAPES = ("text", "first", "first_last", "ref1", "ref3", "continues")


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOARD_RETRY_BASE", "0.01")


def url_asset(name: str) -> Asset:
    return Asset(
        ref=f"https://img.example.com/{name}.png",
        label=f"images.{name}",
        url=f"https://img.example.com/{name}.png",
    )


def local_asset(path: Path, label: str | None = None) -> Asset:
    return Asset(ref=path.name, label=label or f"images.{path.stem}", path=path)


def compiled(
    shot_id: str = "s1",
    prompt: str = "a lighthouse at dawn",
    *,
    index: int = 0,
    first: Asset | None = None,
    last: Asset | None = None,
    references: tuple[Asset, ...] = (),
    continues: str | None = None,
    kind: str | None = None,
    location: Any = None,
    **settings: Any,
) -> CompiledShot:
    if kind is None:
        kind = "reference" if references else "frames" if (first or last or continues) else "text"
    shot = Shot(
        index=index,
        id=shot_id,
        prompt=prompt,
        kind=kind,
        settings=Settings(**settings),
        first=first,
        last=last,
        references=references,
        continues=continues,
    )
    return CompiledShot(shot=shot, prompt=prompt, location=location)


def shaped(shape: str, **settings: Any) -> CompiledShot:
    """One shot of each kind the format allows (all images given as URLs)."""
    if shape == "text":
        return compiled(**settings)
    if shape == "first":
        return compiled(first=url_asset("a"), **settings)
    if shape == "first_last":
        return compiled(first=url_asset("a"), last=url_asset("b"), **settings)
    if shape == "ref1":
        return compiled(references=(url_asset("a"),), **settings)
    if shape == "ref3":
        return compiled(references=tuple(url_asset(n) for n in "abc"), **settings)
    if shape == "continues":
        return compiled("s2", index=1, continues="s1", **settings)
    raise ValueError(shape)


def grid() -> Iterator[tuple[str, dict[str, Any]]]:
    for shape, aspect, res, model, seed in itertools.product(SHAPES, ASPECTS, RESOLUTIONS, MODELS, SEEDS):
        yield shape, {"aspect_ratio": aspect, "resolution": res, "model": model, "seed": seed}


def schema_errors(name: str, body: Any) -> list[str]:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text("utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]


# a 1x1 PNG: what stands for a parent clip's last frame sent inline (its bytes, not a link)
PNG_1x1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def fill(body: Any, needs: tuple[Need, ...], values: dict[str, str] | None = None) -> Any:
    """The body with each placeholder replaced as the executor would."""
    values = values or {}
    text = json.dumps(body)
    for need in needs:
        value = values.get(need.placeholder) or (
            "task-0123"
            if need.kind == "task_id"
            else base64.b64encode(Path(need.source).read_bytes()).decode()
            if need.kind == "inline"
            else base64.b64encode(PNG_1x1).decode()
            if need.kind == "last_frame_inline"
            else "https://uploads.example.com/x.png"
        )
        text = text.replace(json.dumps(need.placeholder)[1:-1], value)
    return json.loads(text)


def task(shot_id: str, task_id: str, provider: str, **extra: Any) -> Task:
    return Task(shot_id, task_id, provider, "fp", time.time(), dict(extra))


class Sleeps:
    """A `sleep` that records instead of waiting: retries stay fast and observable."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", seconds=1.0)


@pytest.fixture
def png(tmp_path: Path) -> Path:
    return make_image(tmp_path / "still.png")


def wait_done(provider: Any, tasks: list[Task], timeout: float = 60.0) -> dict[str, Any]:
    """Poll until every task is done or failed."""
    deadline = time.monotonic() + timeout
    while True:
        statuses = provider.poll(tasks)
        if all(s.state in ("done", "failed") for s in statuses.values()):
            return statuses
        if time.monotonic() > deadline:
            raise AssertionError(f"tasks not finished: {statuses}")
        time.sleep(0.02)


@pytest.fixture
def server(clip: Path) -> Iterator[Any]:
    """A factory for loopback servers, all closed at the end of the test."""
    from tests.servers import start_server

    started: list[Any] = []

    def start(name: str, **kwargs: Any) -> Any:
        kwargs.setdefault("api_key", KEY)
        kwargs.setdefault("job_seconds", 0.0)
        srv = start_server(name, clip=clip, **kwargs)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.close()
        assert not srv.errors, srv.errors


def assert_not_sent_again(srv: Any, p: Any, submit: Any, sleeps: Any, path: str) -> None:
    """A submission whose answer never came back may have been taken (and charged): it is
    reported as lost, after one POST and no waiting, never sent a second time."""
    from storyboard.providers.http import ReplyLost

    with pytest.raises(ReplyLost):
        submit()
    assert len([r for r in srv.requests if r.path == path]) == 1 and sleeps.calls == []


def assert_grid(
    p: Any,
    doc_allows: Callable[[str, dict[str, Any]], bool],
    schema: str | Callable[[str], str],
    *,
    absent: tuple[str, ...] = (),
    whole_request: bool = False,
) -> int:
    """Run every shot of `grid()` through `p.check`: its errors must agree with the provider's
    document (`doc_allows`), and a seed it has no field for is a warning; a refused shot has
    no body, an allowed one's body (placeholders filled, or with `whole_request` the one
    request made for it alone, which needs nothing) validates against `schema` (a name, or
    one per shape) and carries none of the `absent` keys. Returns how many shots were
    allowed."""
    from storyboard.errors import Severity, UnsupportedError

    n_ok = 0
    for shape, settings in grid():
        shot = shaped(shape, **settings)
        found = p.check(shot)
        problems = [x for x in found if x.severity is Severity.ERROR]
        assert (not problems) == doc_allows(shape, settings), (shape, settings, problems)
        # a seed the service has no field for is ignored, with a warning (never an error)
        ignored = settings["seed"] is not None and not p.capabilities.seed
        warned = [x.path.rsplit(".", 1)[-1] for x in found if x.severity is Severity.WARNING]
        assert warned == (["seed"] if ignored else []), (shape, settings, found)
        if problems:
            with pytest.raises(UnsupportedError):
                p.shot_body(shot)
            continue
        n_ok += 1
        if whole_request:
            (req,) = p.requests([shot])
            assert req.needs == ()
            body = filled = req.body
        else:
            body, needs = p.shot_body(shot)
            filled = fill(body, needs)
        name = schema if isinstance(schema, str) else schema(shape)
        assert schema_errors(name, filled) == []
        for key in absent:
            assert key not in body, (shape, settings, key)
    return n_ok


P = TypeVar("P")


def client_for(cls: Callable[..., P], **defaults: Any) -> Callable[..., P]:
    """`client(srv, sleeps=None, key=KEY, **kw)`: a `cls` talking to loopback server `srv`,
    sleeping into `sleeps` (a fresh `Sleeps` if none)."""

    def client(srv: Any, sleeps: Sleeps | None = None, key: str = KEY, **kw: Any) -> P:
        return cls(base_url=srv.base_url, api_key=key, sleep=sleeps or Sleeps(), **{**defaults, **kw})

    return client


def request_for(p: Any, shot: CompiledShot, values: dict[str, str] | None = None) -> HttpRequest:
    """The one request `p` makes for `shot`, its placeholders filled as the executor would."""
    (r,) = p.requests([shot])
    return HttpRequest(r.method, r.url, r.shots, fill(r.body, r.needs, values))


def assert_fault_retried(
    srv: Any,
    p: Any,
    sleeps: Sleeps,
    kind: str,
    on: str,
    *,
    retry_after: int,
    lost: tuple[str, ...],
    path: str,
) -> None:
    """Two `kind` faults on `on` (submit or poll) are retried, waiting what a 429 asks; a
    submission whose fault is one of `lost` (the service may have taken it) is not sent again."""
    srv.fault(kind, on=on, times=2, retry_after=retry_after)
    if on == "submit" and kind in lost:
        assert_not_sent_again(srv, p, lambda: p.submit(request_for(p, compiled())), sleeps, path)
        return
    ids = p.submit(request_for(p, compiled()))
    (st,) = wait_done(p, [task("s1", ids["s1"], srv.name)]).values()
    assert st.state == "done" and len(srv.accepted) == 1
    assert len(sleeps.calls) == 2
    if kind == "429":
        assert sleeps.calls == [float(retry_after)] * 2


def assert_no_key(exc: BaseException) -> None:
    """`KEY` appears nowhere in what the error says (message, repr, hint, arguments)."""
    for text in (str(exc), repr(exc), getattr(exc, "hint", None) or "", *map(str, exc.args)):
        assert KEY not in text


def key_refused(submit: Callable[[], Any], variable: str) -> BaseException:
    """`submit()` fails for its key with an AuthError that names the environment `variable`
    to set and does not give the key away; the error, for the checks of the caller."""
    from storyboard.errors import AuthError

    with pytest.raises(AuthError) as info:
        submit()
    assert f"set {variable}" in str(info.value)
    assert_no_key(info.value)
    return info.value
