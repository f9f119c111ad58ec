"""`preview`: the offline animatic, rendered on this machine with no key and no network.

It is the default provider: every storyboard can be timed and stitched before any credit is
spent. It accepts every shot; an image that exists only as a URL shows as a labelled
placeholder (nothing is fetched). Pillow and ffmpeg are used at render time only: the
renderer is imported inside the render thread, so `storyboard plan` stays light.

It is a provider like the hosted ones, a small service on this machine: `submit` writes the
request into its work folder (`workdir`, in the storyboard's state) and queues the drawing
on its own two threads (the clips are CPU-bound), answering at once with a task id; `poll`
says pending, running, done (a file:// link to the clip, which the executor copies into the
cache and verifies) or failed. A render that died while drawing leaves the request in the
folder: the next render polls the task, and the drawing starts again from it.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storyboard.board.model import CLIP_SECONDS, Asset, Shot
from storyboard.errors import Problem, ProviderError, StoryboardError, TaskNotFound
from storyboard.providers.base import (
    CompiledShot,
    Cost,
    HttpRequest,
    Need,
    NeedKind,
    Provider,
    Task,
    TaskState,
    TaskStatus,
)

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

FPS = 24
WORKERS = 2  # drawing is CPU-bound: two at once on a small machine
KEEP_SECONDS = 7 * 24 * 3600.0  # work nobody asked about for a week is cleared


def _roles(shot: CompiledShot) -> list[tuple[str, Asset]]:
    s = shot.shot
    if s.kind == "reference":
        return [("reference", a) for a in s.references]
    return [(role, a) for role, a in (("first", s.first), ("last", s.last)) if a is not None]


def _label(asset: Asset) -> str:
    """What a placeholder panel says about an image it cannot show."""
    return f"{asset.label}: {asset.url or asset.ref}"


def _frame_placeholder(parent: str) -> str:
    return f"<last-frame:{parent}>"


def _readable(asset: Asset) -> Path | None:
    return asset.path if asset.path is not None and asset.path.is_file() else None


class PreviewProvider(Provider):
    name = "preview"
    default_base_url = "local:"
    needs_key = False  # and reads no variable: `env` is left empty
    free = True
    clip_schemes = ("file",)  # its clips are files on this machine
    burns_captions = True  # an animatic always shows its captions
    poll_interval = 0.5  # a clip takes a second or two
    task_id_pattern = r"preview-[0-9a-f]{16}"  # as submit issues them
    task_id_words = "preview- and 16 digits 0-9 a-f"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pool: ThreadPoolExecutor | None = None
        self._work: dict[str, Future[None]] = {}  # this process's drawings, by task id
        self._mutex = threading.Lock()
        self._swept = False  # the work folder is made and cleared of old work once

    # plan time ---------------------------------------------------------------------------------
    def check(self, shot: CompiledShot) -> list[Problem]:
        return []  # a URL-only image becomes a placeholder panel, never an error

    def sends_seed(self, shot: Shot) -> bool:
        return True  # it picks the card's colours and chord, as a service's seed picks its clip

    def shot_body(self, shot: CompiledShot) -> tuple[dict[str, Any], tuple[Need, ...]]:
        # lazy: start-up (hashlib, and the animatic's module: --help lists this provider)
        from storyboard.hashing import file_sha256
        from storyboard.providers.preview.animatic import RENDERER, preview_scale, scaled_size

        s = shot.shot
        scale = preview_scale()
        images = []
        for role, a in _roles(shot):
            entry: dict[str, Any] = {"role": role, "ref": a.ref}
            path = _readable(a)
            if path is None:
                entry["placeholder"] = _label(a)  # offline: shown as a labelled panel
            else:
                entry["sha256"] = file_sha256(path)  # the renderer reads the bytes themselves
            images.append(entry)
        body = {
            "renderer": RENDERER,
            "id": s.id,
            "prompt": shot.prompt,
            "kind": s.kind,
            "size": list(scaled_size(s.settings.size, scale)),
            "scale": scale,
            "fps": FPS,
            "seconds": CLIP_SECONDS,
            "audio": s.settings.audio,
            "index": s.index,  # picks the card colours and the chord
            "take": shot.take,
            "continues": s.continues,
            "images": images,
        }
        if s.settings.seed is not None:  # picks the colours and chord instead (another take: another)
            body["seed"] = s.settings.seed
        needs: tuple[Need, ...] = ()
        if s.continues and s.kind != "reference":  # it starts from the last frame of that clip
            needs = (Need(NeedKind.LAST_FRAME_FILE, s.continues, _frame_placeholder(s.continues)),)
        return body, needs

    def cost(self, shot: CompiledShot) -> Cost:
        return Cost(0, 0.0)

    def requests(self, shots: list[CompiledShot]) -> list[HttpRequest]:
        """What render asks of the renderer, in the shape of the hosted providers' plans: the
        body, and the local files it reads (`multipart`), the continued frame a placeholder."""
        out = []
        for s in shots:
            body, needs = self.shot_body(s)
            files = {f"image.{i}": str(p) for i, a in enumerate(_assets(s)) if (p := _readable(a))}
            for need in needs:  # the continued frame: the executor fills in its path
                files["first_frame"] = need.placeholder
            out.append(
                HttpRequest("LOCAL", f"local:preview/{s.id}", (s.id,), body, files or None, needs=needs)
            )
        return out

    # render time -------------------------------------------------------------------------------
    def submit(self, request: HttpRequest) -> dict[str, str]:
        """Keep the request in the work folder and queue its drawing: the task id at once."""
        folder = self._folder()
        task_id = f"preview-{uuid.uuid4().hex[:16]}"
        job = {"shots": list(request.shots), "body": request.body, "files": request.multipart or {}}
        _write_json(folder / f"{task_id}.json", job)
        self._start(task_id, job)
        return {request.shots[0]: task_id}

    def poll(self, tasks: list[Task]) -> dict[str, TaskStatus]:
        folder = self._folder()
        out: dict[str, TaskStatus] = {}
        unknown: list[str] = []
        for task in tasks:
            tid = task.task_id
            clip = folder / f"{tid}.mp4"
            with self._mutex:
                work = self._work.get(tid)
            if work is not None and not work.done():
                out[tid] = TaskStatus(TaskState.RUNNING if work.running() else TaskState.PENDING)
            elif work is not None and work.exception() is not None:
                with self._mutex:
                    self._work.pop(tid, None)  # asked again, it is drawn again
                out[tid] = TaskStatus(TaskState.FAILED, reason=_words(work.exception()))
            elif clip.is_file():
                out[tid] = TaskStatus(TaskState.DONE, url=clip.as_uri(), progress=100.0)
            elif self.task_id_problem(tid) is not None:
                unknown.append(tid)
            else:
                out[tid] = self._again(folder, tid)
        if unknown:
            raise TaskNotFound(
                f"no such task (preview task ids are {self.task_id_words})",
                task_ids=tuple(unknown),
                found=out,
                provider=self.name,
            )
        return out

    def _again(self, folder: Path, task_id: str) -> TaskStatus:
        """A task of an earlier render that stopped while drawing it: drawn again from the
        request it left, or failed (and so made anew) when that is gone too."""
        try:
            job = json.loads((folder / f"{task_id}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return TaskStatus(TaskState.FAILED, reason=f"its request is no longer in {folder}")
        self._start(task_id, job)
        return TaskStatus(TaskState.PENDING)

    def fetched(self, task: Task) -> None:
        folder = self.workdir
        if folder is None:
            return
        with self._mutex:
            self._work.pop(task.task_id, None)
        for suffix in (".mp4", ".json"):
            (folder / f"{task.task_id}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        with self._mutex:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)  # a drawing under way ends on its own

    # the work ---------------------------------------------------------------------------------
    def _folder(self) -> Path:
        if self.workdir is None:
            raise ProviderError("it has no work folder (the render gives it one)", provider=self.name)
        if not self._swept:
            self.workdir.mkdir(parents=True, exist_ok=True)
            _sweep(self.workdir)
            self._swept = True
        return self.workdir

    def _start(self, task_id: str, job: dict[str, Any]) -> None:
        folder = self._folder()
        with self._mutex:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor  # lazy: start-up (render only)

                self._pool = ThreadPoolExecutor(WORKERS, "preview")
            self._work[task_id] = self._pool.submit(_draw, job, folder / f"{task_id}.mp4")


def _assets(shot: CompiledShot) -> list[Asset]:
    return [a for _, a in _roles(shot)]


def _draw(job: dict[str, Any], dest: Path) -> None:
    """Draw one request's clip at `dest` (whole or not at all)."""
    from storyboard.providers.preview.animatic import render_preview  # lazy: start-up

    body: dict[str, Any] = job["body"]
    files: dict[str, str] = job.get("files") or {}
    take = int(body.get("take", 1))
    images: list[dict[str, Any]] = body["images"]

    def source(i: int) -> Path | str:
        entry = images[i]
        path = files.get(f"image.{i}")
        if path is None:
            return str(entry.get("placeholder") or entry["ref"])
        return _present(Path(path), f"image {entry['ref']!r}")

    labels: list[str] = []  # in the order the animatic reads them: first, last / references
    first: Path | str | None = None
    last: Path | str | None = None
    references: list[Path | str | None] = []
    frame = files.get("first_frame")
    for i, entry in enumerate(images):
        if entry["role"] == "first" and frame is not None:
            continue  # a continued shot starts from the last frame of the clip before
        labels.append(str(entry.get("placeholder") or entry["ref"]))
        if entry["role"] == "reference":
            references.append(source(i))
        elif entry["role"] == "first":
            first = source(i)
        else:
            last = source(i)
    if frame is not None:
        first = _present(Path(frame), f"the last frame of shot {body['continues']!r}")
        labels.insert(0, f"last frame of {body['continues']}")
    shot_id = str(body["id"])
    seed = body.get("seed")
    title = shot_id if take == 1 else f"{shot_id} · take {take}"
    render_preview(
        dest,
        shot_id=title if seed is None else f"{title} · seed {seed}",
        prompt=str(body["prompt"]),
        kind=str(body["kind"]),
        first=first,
        last=last,
        references=references,
        size=(int(body["size"][0]), int(body["size"][1])),
        scale=1.0,  # the size is scaled already, as the plan showed
        fps=float(body["fps"]),
        seconds=float(body["seconds"]),
        audio=bool(body["audio"]),
        seed=int(seed) if seed is not None else int(body["index"]),
        labels=labels,
    )


def _present(path: Path, what: str) -> Path:
    if not path.is_file():  # moved or deleted since it was sent: never a silent placeholder
        raise ProviderError(f"{what} is no longer at {path}", provider="preview")
    return path


def _words(exc: BaseException | None) -> str:
    if isinstance(exc, ProviderError):
        return exc.reason
    if isinstance(exc, StoryboardError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Whole or not at all: a crash leaves the old file or none, never half of one."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.part")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _sweep(folder: Path) -> None:
    """Clear work nobody has asked about for a week (a render that never came back)."""
    cutoff = time.time() - KEEP_SECONDS
    for entry in folder.iterdir():
        try:
            if entry.is_file() and entry.stat().st_mtime < cutoff:
                entry.unlink()
        except OSError:
            continue
