"""The storyboard as frozen dataclasses, built from a document that has passed validation.

`from_document` assumes `storyboard.validate.checks` found no problems: it resolves names, applies
defaults and per-shot overrides, and never reports errors of its own.

Over 400 lines on purpose: the model's types and the one function that builds them from a
document (with the sketch of a broken file, built the same way) read the same field names;
apart, each change to a field would be made in two places.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from storyboard.errors import Location
from storyboard.money import Price, parse_price

if TYPE_CHECKING:  # the model is read where no YAML is (--help lists the providers, built on it)
    from storyboard.load.document import Document, PathKey

CLIP_SECONDS = 8.0  # every provider generates 8 s shots
MAX_SHOTS = 21
MAX_SECONDS = CLIP_SECONDS * MAX_SHOTS
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")
DEFAULT_TRANSITION_SECONDS = 0.5
DEFAULT_ENDING_SECONDS = 1.0  # `ending: fade`: the whole fade to black is seen
ENDINGS = ("cut", "fade")


@dataclass(frozen=True)
class Settings:
    aspect_ratio: str = "16:9"  # 16:9 | 9:16 | auto
    resolution: str = "720p"  # 720p | 1080p | 4k
    model: str = "fast"  # fast | quality | lite
    seed: int | None = None
    audio: bool = True

    @property
    def size(self) -> tuple[int, int]:
        """The frame size the providers deliver for these settings (auto counts as 16:9)."""
        long, short = {"720p": (1280, 720), "1080p": (1920, 1080), "4k": (3840, 2160)}[self.resolution]
        return (short, long) if self.aspect_ratio == "9:16" else (long, short)


SETTING_NAMES = ("aspect_ratio", "resolution", "model", "seed", "audio")


@dataclass(frozen=True)
class Asset:
    """An image (or sound) the storyboard names: an https URL, or a file inside its folder."""

    ref: str  # as written in the file
    label: str  # where it came from, for messages: "images.dawn", "characters.keeper"
    url: str | None = None  # an http(s) URL the providers can fetch
    path: Path | None = None  # a local file, absolute, already checked to lie inside the folder

    @property
    def is_local(self) -> bool:
        """Only a local file: providers that take URLs alone cannot be sent it."""
        return self.url is None


@dataclass(frozen=True)
class Character:
    name: str
    description: str
    images: tuple[Asset, ...] = ()


@dataclass(frozen=True)
class Transition:
    type: str = "cut"  # cut | crossfade | fade
    duration: float = 0.0


@dataclass(frozen=True)
class Shot:
    index: int
    id: str
    prompt: str  # the raw Jinja template text
    kind: str  # text | frames | reference
    settings: Settings
    first: Asset | None = None
    last: Asset | None = None
    references: tuple[Asset, ...] = ()
    continues: str | None = None
    trim: tuple[float, float] = (0.0, CLIP_SECONDS)
    transition: Transition = field(default_factory=Transition)
    caption: str | None = None
    template: str | None = None  # overrides the storyboard's template
    takes: int = 1  # variations generated (each its own fingerprint)
    select: int = 1  # the take the cut uses (1-based)
    provider: str | None = None  # its own provider, over the storyboard's list (`-p` wins)

    @property
    def length(self) -> float:
        return self.trim[1] - self.trim[0]

    @property
    def images(self) -> tuple[Asset, ...]:
        """The images sent with the shot, in the order providers expect them."""
        if self.kind == "reference":
            return self.references
        return tuple(a for a in (self.first, self.last) if a is not None)


@dataclass(frozen=True)
class Music:
    file: Path
    volume: float = 0.5
    duck: bool = False
    fade_out: float = 2.0
    loop: bool = True
    start: float = 0.0


@dataclass(frozen=True)
class Captions:
    burn: bool = False
    position: str = "bottom"  # bottom | top
    size: float = 0.05  # text height as a fraction of the frame height
    font: Path | None = None  # the user's font file, tried first


@dataclass(eq=False)
class Renders:
    """What a storyboard's templates made, each once however many passes ask for it, and the
    one budget of work and time they all render within (prompts.templating keeps both)."""

    made: dict[tuple[int, str], Any] = field(default_factory=dict)  # (shot index, what) -> result
    budget: Any = None  # a prompts.bounds.FileBudget, made at the first rendering


@dataclass(frozen=True)
class Storyboard:
    path: Path  # the storyboard file, absolute
    root: Path  # its folder: every file it names lies inside
    title: str
    provider: str  # the first name of `provider:` (AUTO for `auto`): what -p is compared with
    settings: Settings
    template: str
    vars: dict[str, Any]
    characters: dict[str, Character]
    images: dict[str, Asset]
    shots: tuple[Shot, ...]
    output: Path
    music: Music | None = None
    captions: Captions = field(default_factory=Captions)
    # `ending:`: how the film ends, a cut or a fade of picture and sound over its last seconds
    ending: Transition = field(default_factory=Transition)
    # `providers:` as written, by provider name: each provider parses its own options
    provider_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    # `providers: {name: {price: ...}}`: the price the user declares, by provider name
    prices: dict[str, Price] = field(default_factory=dict)
    # `provider:` as written: one name, an ordered list of preference, or (AUTO,)
    providers: tuple[str, ...] = ()
    doc: Document | None = field(default=None, compare=False, repr=False)
    renders: Renders = field(default_factory=Renders, init=False, compare=False, repr=False)

    def location(self, path: tuple[str | int, ...], *, key: bool = False) -> Location | None:
        """Where a part of the storyboard stands in its file, for messages."""
        return self.doc.location(path, key=key) if self.doc else None

    def shot(self, shot_id: str) -> Shot:
        for s in self.shots:
            if s.id == shot_id:
                return s
        raise KeyError(shot_id)

    @property
    def state_dir(self) -> Path:
        """Where render keeps its state, cache and lock: beside the storyboard."""
        return self.root / ".storyboard"

    @property
    def length(self) -> float:
        """The final cut's length: trimmed shots less the transition overlaps."""
        total = sum(s.length for s in self.shots)
        return total - sum(s.transition.duration for s in self.shots[1:] if s.transition.type == "crossfade")


def is_url(ref: str) -> bool:
    return ref.startswith(("https://", "http://"))


def looks_like_path(ref: str) -> bool:
    """A reference with a slash or an image extension is a file, otherwise a name."""
    return "/" in ref or "\\" in ref or ref.lower().endswith(IMAGE_EXTENSIONS)


def resolve_inside(root: Path, ref: str) -> Path | None:
    """The absolute path of `ref` if it lies inside `root` (symlinks followed), else None."""
    if PurePosixPath(ref).is_absolute() or Path(ref).is_absolute() or "\\" in ref:
        return None
    candidate = (root / ref).resolve()
    try:
        candidate.relative_to(root.resolve())
    except ValueError:
        return None
    return candidate


def _asset(root: Path, ref: str | dict[str, str], label: str) -> Asset:
    """A string is a path or an https URL; {file, url} gives both (the file for preview and
    uploads, the URL for providers that take only URLs)."""
    if isinstance(ref, dict):
        file, url = ref.get("file"), ref.get("url")
        return Asset(
            ref=file or url or "",
            label=label,
            url=url,
            path=resolve_inside(root, file) if file else None,
        )
    if is_url(ref):
        return Asset(ref=ref, label=label, url=ref)
    return Asset(ref=ref, label=label, path=resolve_inside(root, ref))


def _transition(raw: Any) -> Transition:
    if raw is None:
        return Transition()
    if isinstance(raw, str):
        raw = {"type": raw}
    kind = raw.get("type", "cut")
    default = 0.0 if kind == "cut" else DEFAULT_TRANSITION_SECONDS
    return Transition(kind, float(raw.get("duration", default)) if kind != "cut" else 0.0)


def _ending(raw: Any) -> Transition:
    if raw is None:
        return Transition()
    if isinstance(raw, str):
        raw = {"type": raw}
    if raw.get("type", "cut") != "fade":
        return Transition()
    return Transition("fade", float(raw.get("duration", DEFAULT_ENDING_SECONDS)))


def _captions(root: Path, raw: dict[str, Any]) -> Captions:
    font = raw.get("font")
    fields = {k: v for k, v in raw.items() if k != "font"}
    return Captions(**fields, font=(resolve_inside(root, font) or root / font) if font else None)


def from_document(doc: Document) -> Storyboard:
    data: dict[str, Any] = doc.data
    path = doc.path.resolve()
    root = path.parent
    base = Settings(**{k: v for k, v in (data.get("settings") or {}).items() if k in SETTING_NAMES})
    images = {name: _asset(root, ref, f"images.{name}") for name, ref in (data.get("images") or {}).items()}
    characters = {
        name: Character(
            name,
            c.get("description", ""),
            tuple(
                _asset(root, r, f"characters.{name}.images[{i}]") for i, r in enumerate(c.get("images") or [])
            ),
        )
        for name, c in (data.get("characters") or {}).items()
    }

    def refs(ref: Any, label: str) -> tuple[Asset, ...]:
        if isinstance(ref, str) and ref in characters:
            return characters[ref].images
        if isinstance(ref, str) and ref in images:
            return (images[ref],)
        return (_asset(root, ref, label),)

    shots = []
    for i, s in enumerate(data["shots"]):
        settings = replace(base, **{k: s[k] for k in SETTING_NAMES if k in s})
        frames = s.get("frames") or {}
        first = refs(frames["first"], f"shots[{i}].frames.first")[0] if "first" in frames else None
        last = refs(frames["last"], f"shots[{i}].frames.last")[0] if "last" in frames else None
        references: tuple[Asset, ...] = ()
        for j, r in enumerate(s.get("references") or []):
            references += refs(r, f"shots[{i}].references[{j}]")
        kind = s.get("type") or (
            "reference" if references else "frames" if (first or last or s.get("continues")) else "text"
        )
        trim = tuple(float(t) for t in s["trim"]) if "trim" in s else (0.0, CLIP_SECONDS)
        shots.append(
            Shot(
                index=i,
                id=str(s["id"]),
                prompt=s["prompt"],
                kind=kind,
                settings=settings,
                first=first,
                last=last,
                references=references,
                continues=s.get("continues"),
                trim=(trim[0], trim[1]),
                transition=_transition(s.get("transition")),
                caption=s.get("caption"),
                template=s.get("template"),
                takes=int(s.get("takes", 1)),
                select=int(s.get("select", 1)),
                provider=s.get("provider"),
            )
        )
    music = None
    if data.get("music"):
        m = data["music"]
        music = Music(
            file=resolve_inside(root, m["file"]) or root / m["file"],
            **{k: m[k] for k in ("volume", "duck", "fade_out", "loop", "start") if k in m},
        )
    output = data.get("output") or f"renders/{path.stem}.mp4"
    written = data.get("provider", "preview")
    listed = tuple(str(n) for n in written) if isinstance(written, list) else (str(written),)
    return Storyboard(
        path=path,
        root=root,
        title=data.get("title") or path.stem,
        provider=listed[0],
        providers=listed,
        settings=base,
        template=data.get("template", "plain"),
        vars=dict(data.get("vars") or {}),
        characters=characters,
        images=images,
        shots=tuple(shots),
        output=root / output,
        music=music,
        captions=_captions(root, data.get("captions") or {}),
        ending=_ending(data.get("ending")),
        provider_options={
            str(k): {o: x for o, x in (v or {}).items() if o != PRICE_KEY}
            for k, v in (data.get("providers") or {}).items()
        },
        prices=_prices(doc),
        doc=doc,
    )


AUTO = "auto"  # `provider: auto`: the cheapest installed provider with a key that can make a shot
PRICE_KEY = "price"  # in `providers: {name: {...}}`: the storyboard's own, not a provider option


def _prices(doc: Document) -> dict[str, Price]:
    out = {}
    for name, options in (doc.data.get("providers") or {}).items():
        if isinstance(options, dict) and PRICE_KEY in options:
            key = ("providers", name, PRICE_KEY)

            def locate(model: str | None, key: PathKey = key) -> Location | None:
                at = key if model is None else (*key, model)
                return doc.location(at, key=True) if at in doc.key_marks else None

            out[str(name)] = parse_price(options[PRICE_KEY], f"providers.{name}.{PRICE_KEY}", locate)
    return out


def parse_path(text: str) -> PathKey:
    """ "shots[2].trim" -> ("shots", 2, "trim"): the inverse of errors.format_path."""
    return tuple(int(i) if i else k for i, k in re.findall(r"\[(\d+)\]|([^.\[\]]+)", text))


@dataclass(frozen=True)
class Partial:
    """What `sketch` could build of a file with problems: the model, and the indices of the
    shots whose own id and prompt survived (the others are stand-ins)."""

    storyboard: Storyboard
    shots: tuple[int, ...]


def sketch(doc: Document, broken: list[str]) -> Partial | None:
    """A best-effort model of a document that has problems, so that its templates can be
    checked in the same pass: each part at a path in `broken` (the schema's problems) is left
    out and its default stands in. Returns the model and the indices of the shots whose own
    prompt survived, or None when too little is well-formed."""
    if not isinstance(doc.data, dict) or not isinstance(doc.data.get("shots"), list):
        return None
    paths = [path for path in map(parse_path, broken) if path]
    # Leave out as little as will build: the broken part alone, then the whole section or
    # shot field it lies in (a music file that is missing leaves a music without its file).
    for depth in (None, 2, 1):
        found = _sketch(doc, paths, depth)
        if found is not None:
            return found
    return None


def _sketch(doc: Document, paths: list[PathKey], depth: int | None) -> Partial | None:
    data = copy.deepcopy(doc.data)
    shots: list[Any] = data["shots"]
    stubbed: set[int] = set()
    for path in paths:
        in_shot = path[0] == "shots" and len(path) >= 2 and isinstance(path[1], int)
        if in_shot and (len(path) == 2 or path[2] in ("prompt", "id")):
            stubbed.add(int(path[1]))
            continue
        if depth is not None:  # within a shot, its field (shots, i, field); elsewhere its section
            path = path[: depth + 1] if in_shot else path[:1]
        _drop(data, path)
    for i, s in enumerate(shots):
        if (
            not isinstance(s, dict)
            or not isinstance(s.get("prompt"), str)
            or not isinstance(s.get("id"), str)
        ):
            stubbed.add(i)
        if i in stubbed:
            shots[i] = {"id": f"shots[{i}]", "prompt": ""}
    from storyboard.load.document import Document  # lazy: start-up (yaml, for a broken file)

    try:
        sb = from_document(Document(doc.path, doc.text, data, doc.value_marks, doc.key_marks))
    except Exception:  # a shape no schema problem named: check no templates rather than guess
        return None
    return Partial(sb, tuple(i for i in range(len(shots)) if i not in stubbed))


def _drop(data: Any, path: PathKey) -> None:
    """Remove the part at `path` (within a list other than `shots`, the whole list)."""
    node = data
    for k, part in enumerate(path[:-1]):
        nxt = node[part] if isinstance(node, dict) and part in node else None
        if isinstance(node, list) and isinstance(part, int) and part < len(node):
            nxt = node[part]
        if isinstance(path[k + 1], int) and not (k == 0 and part == "shots") and isinstance(node, dict):
            node.pop(part, None)  # an item of a list: the list goes
            return
        if nxt is None:
            return
        node = nxt
    last = path[-1]
    if isinstance(node, dict):
        node.pop(last, None)
