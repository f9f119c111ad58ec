"""The rules a provider's capabilities impose on a shot: one engine for every provider.

Each provider declares what it can do as a `Capabilities` value in its own module (its
`capabilities` class attribute); `issues` is the one place those are compared with what a
shot asks, in our names (each plugin maps them to its service's words):

    aspect_ratios, resolutions, models   what may be asked for; `no_field`: settings the
                                         service has no field for (only our default works)
    seed                                 takes a seed; if not, a seed is ignored with a warning
    types                                text | frames | reference
    frame_images, reference_images       images a frames shot (1: the first frame only) and
                                         a reference shot may carry (0: no reference shots)
    local_images                         takes an upload, so a local file can be sent
    inline_images, url_images            how else images travel: a local file's bytes inside
                                         the request (inline), a public link (url); a provider
                                         with url_images=False is sent no link, ever
    continues                            "last_frame" (first frame = the parent's last) |
                                         "extend" (the service extends its own clip) | None
    reference_models/_aspects            reference shots only with these
    resolution_aspects                   (resolution, aspects it is made at)
    single_shot_resolutions              only in a request that carries one shot
    extend_seed                          the extension request carries a seed
    upload_formats, upload_max_bytes     what an upload (or an inline image) takes
    by_model                             (model, Capabilities) where one model can do less:
                                         its shots are judged by those, named as that model's

Settings a service has no field for accept only our default, never silently dropped; the one
exception is the seed: one storyboard must plan on every provider that can make its shots,
so a seed a provider cannot take is a warning (the clip will not be reproducible).
"Providers that can" is found by asking the same rules of every installed provider (fit).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from storyboard.board.model import Asset, Shot

IMAGE_FORMATS = (".jpg", ".jpeg", ".png", ".webp")
FORMAT_NAMES = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WebP"}


@dataclass(frozen=True)
class Capabilities:
    """What a provider can do; the defaults are the least: 16:9 720p text-only shots."""

    aspect_ratios: tuple[str, ...] = ("16:9",)
    resolutions: tuple[str, ...] = ("720p",)
    models: tuple[str, ...] = ("fast",)
    seed: bool = False
    types: tuple[str, ...] = ("text",)  # text | frames | reference
    frame_images: int = 0  # images a frames shot may carry: 1 = the first frame only
    reference_images: int = 0  # 0: no reference shots
    local_images: bool = False  # takes an upload, so a local file can be sent
    continues: str | None = None  # "last_frame" (first frame = parent's last) | "extend" | None
    no_field: tuple[str, ...] = ()  # settings the service has no field for
    reference_models: tuple[str, ...] | None = None  # reference shots only with these
    reference_aspects: tuple[str, ...] | None = None
    resolution_aspects: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (res, aspects allowed)
    single_shot_resolutions: tuple[str, ...] = ()  # only in a request of one shot
    extend_seed: bool = False  # the extension request carries a seed
    upload_formats: tuple[str, ...] = IMAGE_FORMATS
    upload_max_bytes: int = 50 * 1024 * 1024
    inline_images: bool = False  # a local file's bytes go inside the request
    url_images: bool = True  # takes a public link to an image
    by_model: tuple[tuple[str, Capabilities], ...] = ()  # what a model can do, where it is less

    def for_model(self, model: str) -> Capabilities:
        """What shots of `model` may ask for: its own capabilities if it has any, else these."""
        return next((c for m, c in self.by_model if m == model), self)

    def limited(self, **less: Any) -> Capabilities:
        """These capabilities with some fields narrowed (a model's own, for `by_model`)."""
        return replace(self, by_model=(), **less)

    @property
    def takes_files(self) -> bool:
        """A local file can reach the service (uploaded, or inline)."""
        return self.local_images or self.inline_images

    def sends_url(self, asset: Asset) -> bool:
        """The asset goes to the service as its link (not as a file's bytes or an upload)."""
        if not self.url_images or asset.url is None:
            return False
        return not (self.inline_images and asset.path is not None)


@dataclass(frozen=True)
class Issue:
    """One thing a provider cannot do for a shot. `key` groups the same ask across providers:
    aspect_ratio | resolution | model | seed | type | images | last_frame | continues |
    local_image | url_image. A `warning` does not stop the plan."""

    key: str
    path: str  # below the shot: "resolution", "frames.last", "references[1]"
    reason: str
    hint: str | None = None
    warning: bool = False


def words(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(values)


def _or(values: list[str]) -> str:
    return values[0] if len(values) < 2 else f"{', '.join(values[:-1])} or {values[-1]}"


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


def file_hint(asset: Asset, slot: str, shot: Shot) -> str:
    """How to give a linked image a file in the storyboard's folder, where it was defined."""
    label = asset.label
    if label.startswith("images."):
        name = label.split(".", 1)[1]
        return f"save the image in the storyboard's folder: images: {{{name}: {{file: images/{name}.png}}}}"
    return f"save the image in the storyboard's folder and name it: shots[{shot.index}].{slot}: FILE"


KIND_WORDS = {"text": "text-only shots", "frames": "shots from frames", "reference": "reference shots"}


def issues(name: str, c: Capabilities, shot: Shot) -> list[Issue]:
    """Everything provider `name`, able to do `c`, cannot do for `shot`, field by field."""
    s = shot.settings
    out: list[Issue] = []
    keys: set[str] = set()
    own = c.for_model(s.model)
    if own is not c:  # this model does less than the provider's others: say which
        name, c = f"{name}'s {s.model} model", own

    def add(issue: Issue) -> None:
        if issue.key not in keys:  # one problem per ask: the general rule before combinations
            keys.add(issue.key)
            out.append(issue)

    if s.aspect_ratio not in c.aspect_ratios:
        add(
            Issue(
                "aspect_ratio",
                "aspect_ratio",
                f"{name} has no aspect ratio {s.aspect_ratio!r} ({words(c.aspect_ratios)} only)",
                f"set aspect_ratio: {c.aspect_ratios[0]}",
            )
        )
    if s.resolution not in c.resolutions:
        if "resolution" in c.no_field:
            reason = f"{name} has no resolution setting: it makes {words(c.resolutions)} only"
        else:
            reason = f"{name} makes no {s.resolution} clips ({words(c.resolutions)} only)"
        add(Issue("resolution", "resolution", reason, f"set resolution: {c.resolutions[-1]}"))
    for res, aspects in c.resolution_aspects:
        if s.resolution == res and s.aspect_ratio not in aspects:
            add(
                Issue(
                    "resolution",
                    "resolution",
                    f"{name} makes {res} only at aspect ratio {words(aspects)}, "
                    f"and this shot is {s.aspect_ratio}",
                    f"set aspect_ratio: {aspects[0]}, or resolution: 720p",
                )
            )
    if s.model not in c.models:
        if "model" in c.no_field:
            reason = f"{name} has no model setting: only the default {c.models[0]!r}"
        else:
            reason = f"{name} has no model {s.model!r} ({words(c.models)} only)"
        add(Issue("model", "model", reason, f"set model: {c.models[0]}"))
    if s.seed is not None:
        if not c.seed:
            add(
                Issue(
                    "seed",
                    "seed",
                    f"seed ignored: {name} takes no seed; the clip will not be reproducible",
                    "remove seed to silence this",
                    warning=True,
                )
            )
        elif shot.continues and c.continues == "extend" and not c.extend_seed:
            add(
                Issue(
                    "seed",
                    "seed",
                    f"seed ignored: {name} continues a shot by extending its clip, and the extension "
                    "takes no seed; the clip will not be reproducible",
                    "remove seed from this shot to silence this",
                    warning=True,
                )
            )

    if shot.kind == "reference":
        n = len(shot.references)
        if c.reference_images == 0:
            add(
                Issue(
                    "type",
                    "references",
                    f"{name} takes no reference images (one image only, as the first frame)"
                    if c.frame_images
                    else f"{name} takes no reference images",
                    "use frames: {first: ...} instead" if c.frame_images else None,
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
                    f"{name} makes reference shots only with model {words(c.reference_models)}",
                    f"set model: {c.reference_models[0]}",
                )
            )
        if c.reference_aspects is not None and s.aspect_ratio not in c.reference_aspects:
            add(
                Issue(
                    "aspect_ratio",
                    "aspect_ratio",
                    f"{name} makes reference shots only at aspect ratio {words(c.reference_aspects)}",
                    f"set aspect_ratio: {c.reference_aspects[0]}",
                )
            )
    if shot.kind not in c.types and shot.kind != "reference" and not shot.continues:
        add(
            Issue(
                "type",
                "frames" if shot.kind == "frames" else "prompt",
                f"{name} makes no {KIND_WORDS.get(shot.kind, shot.kind)} "
                f"(only {words([KIND_WORDS.get(t, t) for t in c.types])})",
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
        if not c.url_images and asset.path is None:
            add(
                Issue(
                    "url_image",
                    slot,
                    f"image {asset.ref!r} ({asset.label}) is only a link, and {name} takes an "
                    "image as the bytes of a file (it fetches no links)",
                    file_hint(asset, slot, shot),
                )
            )
            continue
        if not asset.is_local:
            continue
        if not c.takes_files:
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
        if path.suffix.lower() not in c.upload_formats:
            formats = _or(
                list(dict.fromkeys(FORMAT_NAMES.get(f, f.lstrip(".").upper()) for f in c.upload_formats))
            )
            add(
                Issue(
                    "local_image",
                    slot,
                    f"image {asset.ref!r} cannot be sent to {name}: {formats} only",
                    "convert it to .png or .jpg",
                )
            )
        elif _size(path) > c.upload_max_bytes:
            add(
                Issue(
                    "local_image",
                    slot,
                    f"image {asset.ref!r} is {_size(path) / 2**20:.0f} MB; {name} takes at most "
                    f"{c.upload_max_bytes / 2**20:.0f} MB",
                    "make it smaller",
                )
            )
    return out


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # a missing file is reported by validation, not here
