"""What each hosted provider can do, read from its document, and what a shot asks beyond it.

In our names (the plugins map them to each service's words):

    provider    aspect          resolution       model              seed types     images   local continues
    veo3o1      16:9 9:16 auto  720p (no field)  fast (no field)    no   text frm  first    yes   last frame
    nanophoto   16:9 9:16       720p 1080p* 4k*  fast (no field)    no   text frm ref 1-2/1-3  no    no
    aivideoapi  16:9 9:16 auto  720p 1080p 4k    fast quality lite  yes  text frm ref 1-2/1-3  no    extend
    kie         16:9 9:16 auto  720p 1080p**     fast quality       yes  text frm ref 1-2/1-3  no    extend

    images: frames (first, last) / references; "last frame": the parent's last frame, uploaded
    *  nanophoto: 1080p and 4k only in a request with one shot (it sends every shot in one)
    ** kie: 1080p only at 16:9; no 4k
    reference shots: aivideoapi only with model fast and 16:9 or 9:16; kie only fast and 16:9
    extend (continues) takes a prompt (and kie a seed) only: no last frame

"auto" aspect ratio is the services' own "Auto"/"auto". Settings a service has no field for
accept only our default, never silently dropped: a seed on a service without seeds is an
error. `issues` is the one place these rules live; "providers that can" is found by asking
the same rules of every other provider.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storyboard.errors import Problem
from storyboard.providers.base import CompiledShot
from storyboard.spec.model import Asset, Shot

REAL_PROVIDERS = ("veo3o1", "nanophoto", "aivideoapi", "kie")
UPLOAD_FORMATS = (".jpg", ".jpeg", ".png", ".webp")  # veo3o1: JPEG/PNG/WebP
UPLOAD_MAX_BYTES = 50 * 1024 * 1024  # veo3o1: at most 50 MB


@dataclass(frozen=True)
class Capabilities:
    name: str
    aspect_ratios: tuple[str, ...]
    resolutions: tuple[str, ...]
    models: tuple[str, ...]
    seed: bool
    types: tuple[str, ...]  # text | frames | reference
    frame_images: int  # images a frames shot may carry: 1 = the first frame only
    reference_images: int  # 0: no reference shots
    local_images: bool  # takes an upload, so a local file can be sent
    continues: str | None  # "last_frame" (first frame = parent's last) | "extend" | None
    no_field: tuple[str, ...] = ()  # settings the service has no field for
    reference_models: tuple[str, ...] | None = None  # reference shots only with these
    reference_aspects: tuple[str, ...] | None = None
    resolution_aspects: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (res, aspects allowed)
    single_shot_resolutions: tuple[str, ...] = ()  # only in a request of one shot
    extend_seed: bool = False  # the extension request carries a seed


TABLE: dict[str, Capabilities] = {
    "veo3o1": Capabilities(
        name="veo3o1",
        aspect_ratios=("16:9", "9:16", "auto"),
        resolutions=("720p",),
        models=("fast",),
        seed=False,
        types=("text", "frames"),
        frame_images=1,
        reference_images=0,
        local_images=True,
        continues="last_frame",
        no_field=("resolution", "model", "seed"),
    ),
    "nanophoto": Capabilities(
        name="nanophoto",
        aspect_ratios=("16:9", "9:16"),
        resolutions=("720p", "1080p", "4k"),
        models=("fast",),
        seed=False,
        types=("text", "frames", "reference"),
        frame_images=2,
        reference_images=3,
        local_images=False,
        continues=None,
        no_field=("model", "seed"),
        single_shot_resolutions=("1080p", "4k"),
    ),
    "aivideoapi": Capabilities(
        name="aivideoapi",
        aspect_ratios=("16:9", "9:16", "auto"),
        resolutions=("720p", "1080p", "4k"),
        models=("fast", "quality", "lite"),
        seed=True,
        types=("text", "frames", "reference"),
        frame_images=2,
        reference_images=3,
        local_images=False,
        continues="extend",
        reference_models=("fast",),
        reference_aspects=("16:9", "9:16"),
        extend_seed=True,  # the input object (seeds among its fields) serves both models
    ),
    "kie": Capabilities(
        name="kie",
        aspect_ratios=("16:9", "9:16", "auto"),
        resolutions=("720p", "1080p"),
        models=("fast", "quality"),
        seed=True,
        types=("text", "frames", "reference"),
        frame_images=2,
        reference_images=3,
        local_images=False,
        continues="extend",
        reference_models=("fast",),
        reference_aspects=("16:9",),
        resolution_aspects=(("1080p", ("16:9",)),),
        extend_seed=True,  # POST /api/v1/veo/extend {taskId, prompt, seeds?}
    ),
}


@dataclass(frozen=True)
class Issue:
    """One thing a provider cannot do for a shot. `key` groups the same ask across providers."""

    key: (
        str  # aspect_ratio | resolution | model | seed | type | images | last_frame | continues | local_image
    )
    path: str  # below the shot: "resolution", "frames.last", "references[1]"
    reason: str
    hint: str | None = None


def _words(values: tuple[str, ...]) -> str:
    return ", ".join(values)


def image_slots(shot: Shot) -> list[tuple[str, Asset]]:
    """Each image the shot sends, with the field it was given in."""
    out: list[tuple[str, Asset]] = []
    if shot.kind == "reference":
        out += [(f"references[{i}]", a) for i, a in enumerate(shot.references)]
    else:
        if shot.first is not None:
            out.append(("frames.first", shot.first))
        if shot.last is not None:
            out.append(("frames.last", shot.last))
    return out


def url_hint(asset: Asset, slot: str, shot: Shot) -> str:
    """How to give a local image a URL too, written where the image was defined."""
    ref = asset.ref or "FILE"
    label = asset.label
    if label.startswith("images."):
        name = label.split(".", 1)[1]
        return f"give it a public URL as well: images: {{{name}: {{file: {ref}, url: https://...}}}}"
    if label.startswith("characters."):
        name = label.split(".")[1]
        return (
            "give it a public URL as well: "
            f"characters: {{{name}: {{images: [{{file: {ref}, url: https://...}}]}}}}"
        )
    return f"give it a public URL as well: shots[{shot.index}].{slot}: {{file: {ref}, url: https://...}}"


def issues(name: str, shot: Shot) -> list[Issue]:
    """Everything provider `name` cannot do for `shot`, field by field."""
    c = TABLE[name]
    s = shot.settings
    out: list[Issue] = []
    keys: set[str] = set()

    def add(issue: Issue) -> None:
        if issue.key not in keys:  # one problem per ask: the general rule before combinations
            keys.add(issue.key)
            out.append(issue)

    if s.aspect_ratio not in c.aspect_ratios:
        add(
            Issue(
                "aspect_ratio",
                "aspect_ratio",
                f"{name} has no aspect ratio {s.aspect_ratio!r} ({_words(c.aspect_ratios)} only)",
                f"set aspect_ratio: {c.aspect_ratios[0]}",
            )
        )
    if s.resolution not in c.resolutions:
        if "resolution" in c.no_field:
            reason = f"{name} has no resolution setting: it makes {_words(c.resolutions)} only"
        else:
            reason = f"{name} makes no {s.resolution} clips ({_words(c.resolutions)} only)"
        add(Issue("resolution", "resolution", reason, f"set resolution: {c.resolutions[-1]}"))
    for res, aspects in c.resolution_aspects:
        if s.resolution == res and s.aspect_ratio not in aspects:
            add(
                Issue(
                    "resolution",
                    "resolution",
                    f"{name} makes {res} only at aspect ratio {_words(aspects)}, "
                    f"and this shot is {s.aspect_ratio}",
                    f"set aspect_ratio: {aspects[0]}, or resolution: 720p",
                )
            )
    if s.model not in c.models:
        if "model" in c.no_field:
            reason = f"{name} has no model setting: only the default 'fast'"
        else:
            reason = f"{name} has no model {s.model!r} ({_words(c.models)} only)"
        add(Issue("model", "model", reason, "set model: fast"))
    if s.seed is not None:
        if not c.seed:
            add(
                Issue(
                    "seed",
                    "seed",
                    f"{name} takes no seed, and dropping it would give a different clip",
                    "remove seed (from the shot and from settings)",
                )
            )
        elif shot.continues and c.continues == "extend" and not c.extend_seed:
            add(
                Issue(
                    "seed",
                    "seed",
                    f"{name} continues a shot by extending its clip, and the extension takes no seed",
                    "remove seed from this shot",
                )
            )

    if shot.kind == "reference":
        n = len(shot.references)
        if c.reference_images == 0:
            add(
                Issue(
                    "type",
                    "references",
                    f"{name} takes no reference images (one image only, as the first frame)",
                    "use frames: {first: ...} instead",
                )
            )
        elif n > c.reference_images:
            add(
                Issue(
                    "images",
                    "references",
                    f"{name} takes at most {c.reference_images} reference images, this shot has {n}",
                    f"keep {c.reference_images} references",
                )
            )
        if c.reference_models is not None and s.model not in c.reference_models:
            add(
                Issue(
                    "model",
                    "model",
                    f"{name} makes reference shots only with model {_words(c.reference_models)}",
                    f"set model: {c.reference_models[0]}",
                )
            )
        if c.reference_aspects is not None and s.aspect_ratio not in c.reference_aspects:
            add(
                Issue(
                    "aspect_ratio",
                    "aspect_ratio",
                    f"{name} makes reference shots only at aspect ratio {_words(c.reference_aspects)}",
                    f"set aspect_ratio: {c.reference_aspects[0]}",
                )
            )

    if shot.continues:
        if c.continues is None:
            add(
                Issue(
                    "continues",
                    "continues",
                    f"{name} cannot continue a shot (it takes no uploads and has no extension)",
                    "give the shot frames: {first: ...} instead, or use another provider",
                )
            )
        elif shot.last is not None and c.continues == "extend":
            add(
                Issue(
                    "last_frame",
                    "frames.last",
                    f"{name} continues a shot by extending its clip, which takes no last frame",
                    "remove frames.last, or drop continues and give frames.first",
                )
            )
    if shot.last is not None and c.frame_images < 2:
        add(
            Issue(
                "last_frame",
                "frames.last",
                f"{name} takes one image only (the first frame), so no last frame",
                "remove frames.last",
            )
        )

    for slot, asset in image_slots(shot):
        if not asset.is_local:
            continue
        if not c.local_images:
            add(
                Issue(
                    "local_image",
                    slot,
                    f"image {asset.ref!r} ({asset.label}) is a local file, and {name} takes only "
                    "public URLs (it has no upload)",
                    url_hint(asset, slot, shot),
                )
            )
            continue
        path = asset.path
        if path is None:
            continue
        if path.suffix.lower() not in UPLOAD_FORMATS:
            add(
                Issue(
                    "local_image",
                    slot,
                    f"image {asset.ref!r} cannot be uploaded to {name}: JPEG, PNG or WebP only",
                    "convert it to .png or .jpg",
                )
            )
        elif _size(path) > UPLOAD_MAX_BYTES:
            add(
                Issue(
                    "local_image",
                    slot,
                    f"image {asset.ref!r} is {_size(path) / 2**20:.0f} MB; {name} takes at most 50 MB",
                    "make it smaller",
                )
            )
    return out


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # a missing file is reported by validation, not here


# a provider that cannot make the shot's kind at all is no answer to any of its other issues
STRUCTURAL = frozenset({"type", "continues", "last_frame"})


def who_can(key: str, shot: Shot, besides: str = "") -> list[str]:
    """The providers (other than `besides`) with no issue of this kind for the shot, and
    able to make a shot of its kind (frames, references, continuing)."""
    return [
        p
        for p in REAL_PROVIDERS
        if p != besides and not any(i.key == key or i.key in STRUCTURAL for i in issues(p, shot))
    ]


def _message(shot: Shot, reason: str, can: list[str]) -> str:
    who = f"providers that can: {_words(tuple(can))}" if can else "no provider can"
    return f"shot {shot.id!r}: {reason}; {who}"


def problems(name: str, compiled: CompiledShot) -> list[Problem]:
    """`issues` as Problems: where, which field, why, who can, how to fix."""
    shot = compiled.shot
    return [
        Problem(
            _message(shot, i.reason, who_can(i.key, shot, besides=name)),
            path=f"shots[{shot.index}].{i.path}",
            location=compiled.location,
            hint=i.hint,
        )
        for i in issues(name, shot)
    ]


def batch_problems(name: str, shots: list[CompiledShot]) -> list[Problem]:
    """Rules about the shots of one request together (nanophoto sends them all at once)."""
    c = TABLE[name]
    if len(shots) < 2 or not c.single_shot_resolutions:
        return []
    out = []
    for compiled in shots:
        shot = compiled.shot
        res = shot.settings.resolution
        if res not in c.single_shot_resolutions:
            continue
        reason = (
            f"{name} makes {res} clips only in a request with a single shot, and it sends all "
            f"{len(shots)} shots of this storyboard in one request"
        )
        out.append(
            Problem(
                _message(shot, reason, who_can("resolution", shot, besides=name)),
                path=f"shots[{shot.index}].resolution",
                location=compiled.location,
                hint="set resolution: 720p for every shot, or use another provider",
            )
        )
    return out
