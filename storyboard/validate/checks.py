"""Every problem of a storyboard at once: the schema, then what a schema cannot say.

The checks beyond the schema look at whatever parts are well-formed enough (a shot whose
trim is not a list still has its id checked), so one run lists everything to fix. Files are
judged by their content, not their names: a .png that holds text is refused here, not by a
provider after credits are spent.

No moviepy, numpy or Pillow here: validation runs on every command and must stay quick.

One module over 400 lines, on purpose: the checker is one walk over the document whose checks
share what they have seen (files read once, names, each shot's length for its transitions);
split, they would pass that state around. Content sniffing lives in sniff.py.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import urlsplit

from storyboard.board import model
from storyboard.board.model import CLIP_SECONDS, MAX_SECONDS, MAX_SHOTS, Storyboard
from storyboard.errors import ConfigError, Problem, ValidationError, format_path
from storyboard.hints import did_you_mean
from storyboard.load import filekind
from storyboard.load.document import Document, PathKey, load
from storyboard.load.sniff import audio_kind, image_kind, what_it_is
from storyboard.media import fontfile
from storyboard.money import PRICE_FORMS, PRICE_MODELS, price_problems
from storyboard.prompts.templating import MAX_TEMPLATE_BYTES, check_all
from storyboard.providers import registry
from storyboard.resources import builtin_templates
from storyboard.validate import schema

MAX_IMAGE_BYTES = 50 * 1024 * 1024  # the providers' upload limit
MAX_AUDIO_BYTES = 256 * 1024 * 1024  # a film's music: three minutes of 96 kHz float WAV fit
# what each kind of file a storyboard names may weigh: validate refuses more, and so does diff
# before it writes a revision's copy
MAX_BYTES = {
    "image": MAX_IMAGE_BYTES,
    "audio": MAX_AUDIO_BYTES,
    "font": fontfile.MAX_FONT_BYTES,
    "template": MAX_TEMPLATE_BYTES,
}
MAX_REFERENCES = 3


@dataclass(frozen=True)
class Named:
    """A file a storyboard names: where (its path in the document), as written, and its kind."""

    path: PathKey
    ref: str
    kind: str  # a key of MAX_BYTES


def files_named(doc: Document) -> list[Named]:
    """Every file `doc` names (images, music, its font, its templates), whether or not it
    exists: what a copy of its folder needs, and nothing else."""
    checker = _Checker(doc)
    checker.run()
    return checker.named


def validate_document(doc: Document) -> list[Problem]:
    """Every problem in `doc` (schema first, then the rest), sorted by position."""
    return sort_problems(schema.check(doc) + _Checker(doc).run())


def load_storyboard(path: Path, text: str | None = None) -> Storyboard:
    """Read, validate and build a storyboard, its prompts and captions rendered once:
    ValidationError lists every problem of the file, the templates' among them. `text`:
    the file's text as an editor holds it, instead of what is on disk."""
    doc = load(Path(path), text)
    problems = validate_document(doc)
    if problems:
        partial = _sketch_of(doc, problems)
        more = _template_problems(partial, problems) if partial else []
        raise ValidationError(sort_problems(problems + more), partial)
    sb = model.from_document(doc)
    problems = check_all(sb)
    if problems:
        raise ValidationError(sort_problems(problems), model.Partial(sb, tuple(s.index for s in sb.shots)))
    return sb


# Where a problem leaves out a name the templates use, that name undefined is its echo, not news.
_CONTEXT = re.compile(r"^(?:(vars|characters|images)(?:\.([^.\[]+))?|(title)|(shots\[\d+\])\.id$)")
_ECHO = re.compile(r"is undefined|has no attribute")


def _echoes(problem: Problem, dropped: list[str]) -> bool:
    """Whether a template problem only repeats one of `dropped`: the name it left out (or,
    for a whole section or a shot's id, anything undefined in what used it)."""
    if not _ECHO.search(problem.message):
        return False
    for path in dropped:
        m = _CONTEXT.match(path)
        if m is None:
            continue
        section, name, title, shot = m.groups()
        if (section and name is None) or (shot and problem.path.startswith(f"{shot}.")):
            return True
        if (name and f"'{name}'" in problem.message) or (title and "'title'" in problem.message):
            return True
    return False


def _dropped(problems: list[Problem]) -> list[str]:
    # an image that is missing or not an image still names a text the templates may show
    return [p.path for p in problems if p.path and not p.path.startswith(("images.", "characters."))]


def _sketch_of(doc: Document, problems: list[Problem]) -> model.Partial | None:
    return model.sketch(doc, _dropped(problems))


def _template_problems(partial: model.Partial, problems: list[Problem]) -> list[Problem]:
    """The template problems of a file that has others, from a sketch of what is well-formed
    (see model.sketch): all the problems of a file in one pass."""
    dropped = _dropped(problems)
    out = [p for p in check_all(partial.storyboard, partial.shots) if not p.path.endswith("template")]
    return [p for p in out if not _echoes(p, dropped)]


def too_big(kind: str, size: int) -> str:
    """The problem of a file of `kind` that weighs `size` bytes, over MAX_BYTES[kind]."""
    if kind == "image":
        return f"the image is {size / 2**20:.0f} MB; the providers take at most 50 MB: export it smaller"
    if kind == "template":
        return "a template is text of a few lines; this file is over 1 MB"
    if kind == "audio":
        limit = MAX_AUDIO_BYTES // 2**20
        return f"the music is {size / 2**20:.0f} MB; at most {limit} MB: export it as MP3 or M4A"
    return fontfile.too_big(size)


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """In the file's order, each once."""
    unique: dict[tuple[str, str, int, int], Problem] = {}
    for p in problems:
        line, col = (p.location.line, p.location.column) if p.location else (0, 0)
        unique.setdefault((p.path, p.message, line, col), p)
    return sorted(
        unique.values(),
        key=lambda p: (p.location.line, p.location.column) if p.location else (0, 0),
    )


# the checks -----------------------------------------------------------------------------------
@dataclass
class _ShotInfo:
    index: int
    length: float = CLIP_SECONDS
    transition: str = "cut"
    duration: float = 0.0
    duration_path: PathKey = ()


@dataclass
class _Checker:
    doc: Document
    problems: list[Problem] = field(default_factory=list)
    named: list[Named] = field(default_factory=list)  # every file reference met, in order
    _files: dict[tuple[Path, str], str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.root = self.doc.path.resolve().parent
        data = self.doc.data if isinstance(self.doc.data, dict) else {}
        self.data: dict[str, Any] = data
        self.images: dict[str, Any] = _dict(data.get("images"))
        self.characters: dict[str, Any] = _dict(data.get("characters"))
        self.templates = builtin_templates()

    def add(self, path: PathKey, message: str, *, key: bool = False, hint: str | None = None) -> None:
        self.problems.append(self.doc.problem(path, message, key=key, hint=hint))

    def run(self) -> list[Problem]:
        if not self.data:
            return self.problems
        for name in self.images:
            if name in self.characters:
                self.add(
                    ("images", name),
                    f"{name!r} names both an image and a character: rename one of them",
                    key=True,
                )
            self.image(("images", name), self.images[name], names=False)
        for name, character in self.characters.items():
            pics = _dict(character).get("images")
            if isinstance(pics, list):
                for i, pic in enumerate(pics):
                    self.image(("characters", name, "images", i), pic, names=False)
        if isinstance(self.data.get("template"), str):
            self.template(("template",), self.data["template"])
        self.provider()
        self.music()
        self.caption_font()
        self.output()
        shots = self.data.get("shots")
        if isinstance(shots, list):
            self.shots(shots)
        return self.problems

    # images ---------------------------------------------------------------------------------
    def image(self, path: PathKey, value: Any, *, names: bool) -> int:
        """Check one image (or name); return how many images it stands for."""
        if isinstance(value, dict):
            if isinstance(value.get("file"), str) and value["file"]:
                self.file((*path, "file"), value["file"], "image")
            return 1
        if not isinstance(value, str) or not value:
            return 1  # the schema has said what is wrong
        if "://" in value or value.startswith("http:"):
            if value.startswith("https://"):
                if any(c.isspace() for c in value):
                    self.add(path, "a URL cannot hold spaces: write them as %20")
            elif value.startswith("http://"):
                self.add(
                    path,
                    "the providers fetch images over https only: use an https:// URL",
                    hint="or put the image in the storyboard's folder and give its path",
                )
            else:
                self.add(path, f"{_short(value)!r}: only https:// URLs or relative paths work here")
            return 1
        if names and not model.looks_like_path(value):
            if value in self.images:
                return 1
            if value in self.characters:
                pics = _dict(self.characters[value]).get("images")
                return len(pics) if isinstance(pics, list) else 0
            known = [*self.images, *self.characters]
            where = f"known names: {', '.join(known)}" if known else "this storyboard names none"
            self.add(
                path,
                f"no image or character is named {_short(value)!r} ({where}): name one from "
                "`images:` or `characters:`, or give a path such as images/dawn.png",
                hint=did_you_mean(value, known),
            )
            return 1
        self.file(path, value, "image")
        return 1

    def file(self, path: PathKey, ref: str, what: str) -> Path | None:
        """Check that `ref` is a file inside the storyboard's folder holding `what`."""
        self.named.append(Named(path, ref, what))
        if _control(ref):
            self.add(path, f"{_short(ref)!r}: a path cannot hold control characters")
            return None
        if "\\" in ref:
            self.add(path, f"write paths with /, not \\: {ref.replace(chr(92), '/')!r}")
            return None
        if (
            PurePosixPath(ref).is_absolute()
            or PureWindowsPath(ref).is_absolute()
            or (PureWindowsPath(ref).drive)
        ):
            self.add(
                path,
                f"{_short(ref)!r} is an absolute path: give the path relative to the storyboard "
                "and keep the file in its folder, so the folder renders anywhere",
            )
            return None
        resolved = model.resolve_inside(self.root, ref)
        if resolved is None:
            lexical = Path(os.path.normpath(self.root / ref))
            if lexical.is_relative_to(self.root):
                why = "it is a link to a file outside the storyboard's folder"
            else:
                why = "it lies outside the storyboard's folder"
            self.add(
                path,
                f"{_short(ref)!r}: {why}; copy the file into the folder and give its "
                "relative path (a storyboard reads only files beside it)",
            )
            return None
        key = (resolved, what)
        if key not in self._files:
            self._files[key] = self._file_problem(resolved, what)
        problem = self._files[key]
        if problem is not None:
            hint = None
            if problem.startswith("no such file"):
                hint = self._near_miss(resolved)
            self.add(path, f"{_short(ref)!r}: {problem}", hint=hint)
            return None
        return resolved

    def _file_problem(self, resolved: Path, what: str) -> str | None:
        try:
            if not resolved.exists():
                return "no such file (paths are relative to the storyboard's folder)"
            special = filekind.not_a_file(resolved)
            if special:
                return special
            size = resolved.stat().st_size
            with resolved.open("rb") as f:
                head = f.read(16)
        except OSError as e:
            return f"cannot read the file ({e.strerror or e})"
        if size > MAX_BYTES[what]:
            return too_big(what, size)
        if what == "image":
            if image_kind(head) is None:
                return f"not a JPEG, PNG or WebP image ({what_it_is(head)}): export it as PNG or JPEG"
        elif what == "audio":
            if audio_kind(head) is None:
                return f"not an MP3, WAV, M4A, OGG or FLAC sound file ({what_it_is(head)}): export it as MP3"
        elif what == "font":
            if head[:4] not in fontfile.MAGIC:
                return f"not a TrueType or OpenType font ({what_it_is(head)}): give a .ttf, .otf or .ttc file"
            broken = fontfile.problem(resolved)  # its tables against its size, before any reader
            if broken is not None:
                return f"{broken}: export the font again, or give another .ttf, .otf or .ttc file"
        return None

    def _near_miss(self, resolved: Path) -> str | None:
        folder = resolved.parent
        try:
            if not folder.is_dir():
                return None
            names = [p.name for p in folder.iterdir()][:500]
        except OSError:
            return None
        hint = did_you_mean(resolved.name, names)
        if hint and folder != self.root:
            rel = folder.relative_to(self.root).as_posix()
            hint = hint.replace("'", f"'{rel}/", 1)
        return hint

    # templates, music, output ---------------------------------------------------------------
    def template(self, path: PathKey, value: str) -> None:
        if value in self.templates:
            return
        if "/" in value or "\\" in value or value.endswith(".j2"):
            if not value.endswith(".j2"):
                self.add(path, f"{_short(value)!r}: a template file must end with .j2")
                return
            self.file(path, value, "template")
            return
        self.add(
            path,
            f"there is no built-in template {_short(value)!r}: use one of "
            f"{', '.join(self.templates)}, or a path to a .j2 file beside the storyboard",
            hint=did_you_mean(value, self.templates),
        )

    def provider(self) -> None:
        """`provider:` names an installed provider; `providers:` holds options they declare
        (the registry and each provider judge: plugins are checked like the built-ins)."""
        written = self.data.get("provider")
        if isinstance(written, str) and written:
            if written != model.AUTO:
                self.provider_name(("provider",), written)
        elif isinstance(written, list):
            seen: set[str] = set()
            for i, name in enumerate(written):
                if not isinstance(name, str) or not name:
                    continue  # the schema says so
                if name in seen:
                    self.add(("provider", i), f"{name!r} is listed twice", hint=f"remove the second {name}")
                elif name == model.AUTO:
                    self.add(("provider", i), "`auto` stands alone, not in a list", hint="provider: auto")
                else:
                    self.provider_name(("provider", i), name)
                seen.add(name)
        shots = self.data.get("shots")
        for i, shot in enumerate(shots if isinstance(shots, list) else []):
            own = _dict(shot).get("provider")
            if isinstance(own, str) and own and own != model.AUTO:
                self.provider_name(("shots", i, "provider"), own)
        for key, raw in _dict(self.data.get("providers")).items():
            if isinstance(raw, dict) and model.PRICE_KEY in raw:  # the storyboard's, not an option
                raw = {k: v for k, v in raw.items() if k != model.PRICE_KEY}
                self.price(str(key), self.data["providers"][key][model.PRICE_KEY])
            for p in registry.option_problems(str(key), raw):
                self.add(("providers", key, *p.path), p.message, key=p.key, hint=p.hint)

    def provider_name(self, path: PathKey, name: str) -> None:
        """One name of `provider:` (or a shot's own): an installed provider that loads."""
        problem = registry.name_problem(name)
        if problem is not None:
            self.add(path, problem[0], hint=problem[1])
            return
        try:  # a plugin that cannot be used is this file's problem too, said with the others
            registry.get(name)
        except ConfigError as e:
            self.add(path, e.message, hint=e.hint)

    def price(self, provider: str, raw: Any) -> None:
        """`providers: {NAME: {price: ...}}`: a price the provider's documents may not give."""
        if raw is None or isinstance(raw, bool) or not isinstance(raw, (int, float, str, dict)):
            return  # the schema says what a price is
        for below, message in price_problems(raw):
            unknown_model = bool(below) and below[0] not in PRICE_MODELS
            self.add(
                ("providers", provider, model.PRICE_KEY, *below),
                message,
                key=unknown_model,
                hint=PRICE_FORMS,
            )

    def music(self) -> None:
        music = self.data.get("music")
        if isinstance(music, dict) and isinstance(music.get("file"), str) and music["file"]:
            self.file(("music", "file"), music["file"], "audio")

    def caption_font(self) -> None:
        captions = self.data.get("captions")
        if isinstance(captions, dict) and isinstance(captions.get("font"), str) and captions["font"]:
            self.file(("captions", "font"), captions["font"], "font")

    def output(self) -> None:
        # What the tool writes beside the storyboard stays inside its folder, links or not:
        # its state folder and its default output are checked like an `output:` given.
        written = [".storyboard"] + ([] if "output" in self.data else [f"renders/{self.doc.path.stem}.mp4"])
        for rel in written:
            if model.resolve_inside(self.root, rel) is None:
                self.add(
                    (),
                    f"{rel} leads outside the storyboard's folder (a symbolic link?), and the tool "
                    "writes there: remove the link, or give `output:` inside the folder",
                )
        out = self.data.get("output")
        if not isinstance(out, str) or not out:
            return
        if _control(out):
            self.add(("output",), f"{_short(out)!r}: a path cannot hold control characters")
            return
        if PurePosixPath(out).is_absolute() or PureWindowsPath(out).is_absolute() or "\\" in out:
            self.add(
                ("output",),
                f"{_short(out)!r}: give the output as a relative path with /, e.g. "
                "renders/film.mp4 (it is written inside the storyboard's folder)",
            )
        elif model.resolve_inside(self.root, out) is None:
            self.add(
                ("output",),
                f"{_short(out)!r} lies outside the storyboard's folder: write the film "
                "inside it, e.g. renders/film.mp4",
            )
        elif filekind.kind(self.root / out):
            self.add(
                ("output",),
                f"{_short(out)!r} is {filekind.kind(self.root / out)}: name a file, e.g. renders/film.mp4",
            )

    # shots ----------------------------------------------------------------------------------
    def shots(self, shots: list[Any]) -> None:
        first_index: dict[str, int] = {}
        infos: list[_ShotInfo] = []
        for i, shot in enumerate(shots):
            info = _ShotInfo(i)
            infos.append(info)
            if not isinstance(shot, dict):
                continue
            self.shot(i, shot, first_index, info)
            shot_id = shot.get("id")
            if isinstance(shot_id, str):
                if shot_id in first_index:
                    j = first_index[shot_id]
                    line = self.doc.location(("shots", j, "id")).line
                    self.add(
                        ("shots", i, "id"),
                        f"the id {shot_id!r} is already used by shots[{j}] (line {line}): "
                        "give every shot its own id",
                    )
                else:
                    first_index[shot_id] = i
        self.transitions(infos)
        self.ending(shots, infos)
        if len(shots) <= MAX_SHOTS:
            total = sum(s.length for s in infos) - sum(
                s.duration for s in infos[1:] if s.transition == "crossfade"
            )
            if total > MAX_SECONDS + 1e-9:
                self.add(
                    ("shots",),
                    f"the film lasts {total:g} s; at most {MAX_SECONDS:g} s are allowed: "
                    "trim shots or remove some",
                    key=True,
                )

    def shot(self, i: int, s: dict[str, Any], earlier: dict[str, int], info: _ShotInfo) -> None:
        base: PathKey = ("shots", i)
        frames = s.get("frames") if isinstance(s.get("frames"), dict) else None
        references = s.get("references") if isinstance(s.get("references"), list) else None
        continues = s.get("continues") if isinstance(s.get("continues"), str) else None

        if frames is not None:
            for end in ("first", "last"):
                if end in frames:
                    self.frame((*base, "frames", end), frames[end])
        if references is not None:
            self.references((*base, "references"), references)
        if continues is not None:
            self.continues(i, continues, earlier)
            if frames is not None and "first" in frames:
                self.add(
                    (*base, "frames", "first"),
                    f"this shot continues {continues!r}, whose last frame is its first: "
                    "remove frames.first (or remove continues)",
                    key=True,
                )
            if "references" in s:
                self.add(
                    (*base, "references"),
                    "a shot that continues another starts from its last frame and cannot also "
                    "use references: remove references (or continues)",
                    key=True,
                )
        if frames is not None and "first" not in frames and continues is None and frames:
            self.add(
                (*base, "frames"),
                "frames need a `first` image (the clip's first frame), unless the shot "
                "`continues` an earlier one: add first: <image>",
                key=True,
            )
        if "frames" in s and "references" in s and continues is None:
            self.add(
                (*base, "references"),
                "a shot is generated from frames or from references, not both: remove one",
                key=True,
            )
        self.kind(base, s)
        self.trim(base, s.get("trim"), info)
        self.transition(base, s.get("transition"), info)
        if isinstance(s.get("template"), str):
            self.template((*base, "template"), s["template"])
        takes, select = s.get("takes", 1), s.get("select", 1)
        if isinstance(takes, int) and isinstance(select, int) and select > takes:
            self.add(
                (*base, "select"),
                f"select: {select} picks a take this shot does not have (takes: {takes})",
                hint=f"set takes: {select}, or select a take from 1 to {takes}",
            )

    def frame(self, path: PathKey, value: Any) -> None:
        if isinstance(value, str) and value in self.characters and value not in self.images:
            pics = _dict(self.characters[value]).get("images")
            n = len(pics) if isinstance(pics, list) else 0
            if n != 1:
                self.add(
                    path,
                    f"a frame is one image, but character {value!r} has {n}: name one image "
                    f"(e.g. the path of one of its images) instead",
                )
            return
        self.image(path, value, names=True)

    def references(self, path: PathKey, refs: list[Any]) -> None:
        total = 0
        for j, ref in enumerate(refs):
            n = self.image((*path, j), ref, names=True)
            if n == 0:
                self.add(
                    (*path, j),
                    f"character {ref!r} has no images, so it adds nothing to the references: "
                    "give it `images:` or remove it here",
                )
            total += n
        if total > MAX_REFERENCES and len(refs) <= MAX_REFERENCES:
            self.add(
                path,
                f"these references stand for {total} images (a character counts as all its "
                f"images); at most {MAX_REFERENCES} are allowed: remove some",
                key=True,
            )

    def continues(self, i: int, target: str, earlier: dict[str, int]) -> None:
        path: PathKey = ("shots", i, "continues")
        if target in earlier:
            return
        shots = self.data.get("shots") or []
        own = shots[i].get("id") if isinstance(shots[i], dict) else None
        if target == own:
            self.add(path, "a shot cannot continue itself: name an earlier shot's id")
            return
        later = [j for j, s in enumerate(shots) if j > i and isinstance(s, dict) and s.get("id") == target]
        if later:
            self.add(
                path,
                f"{target!r} is a later shot (shots[{later[0]}]): a shot can continue only "
                "one that comes before it; move it or name an earlier shot",
            )
            return
        names = list(earlier)
        self.add(
            path,
            f"no earlier shot has the id {_short(target)!r}"
            + (f" (earlier shots: {', '.join(names)})" if names else " (this is the first shot)"),
            hint=did_you_mean(target, names),
        )

    def kind(self, base: PathKey, s: dict[str, Any]) -> None:
        said = s.get("type")
        if said not in ("text", "frames", "reference"):
            return
        has_frames = "frames" in s or "continues" in s
        has_refs = "references" in s
        if said == "text" and (has_frames or has_refs):
            given = "references" if has_refs else "frames" if "frames" in s else "continues"
            self.add(
                (*base, "type"),
                f"type is text but the shot gives {given}: remove them, or set type to "
                f"{'reference' if has_refs else 'frames'} (or leave type out)",
            )
        elif said == "frames" and not has_frames:
            self.add(
                (*base, "type"),
                "type is frames but the shot gives no frames: add frames: {first: <image>} "
                "or continues: <earlier shot id>, or leave type out",
            )
        elif said == "reference" and not has_refs:
            self.add(
                (*base, "type"),
                "type is reference but the shot gives no references: add references: "
                "[<image or character>], or leave type out",
            )

    def trim(self, base: PathKey, trim: Any, info: _ShotInfo) -> None:
        if not (isinstance(trim, list) and len(trim) == 2 and all(_number(t) for t in trim)):
            return
        start, end = float(trim[0]), float(trim[1])
        if start >= end:
            self.add(
                (*base, "trim"),
                f"the trim keeps nothing: start {trim[0]:g} s is not before end {trim[1]:g} s; "
                "write [start, end] with start < end, e.g. [0.5, 7.5]",
            )
            return
        if start >= 0 and end <= CLIP_SECONDS:
            info.length = end - start

    def transition(self, base: PathKey, raw: Any, info: _ShotInfo) -> None:
        path: PathKey = (*base, "transition")
        if isinstance(raw, str) and raw in ("cut", "crossfade", "fade"):
            info.transition = raw
        elif isinstance(raw, dict) and raw.get("type") in ("cut", "crossfade", "fade"):
            info.transition = raw["type"]
            if "duration" in raw:
                path = (*path, "duration")
                if raw["type"] == "cut":
                    self.add(
                        path,
                        "a cut takes no time, so it has no duration: remove duration or use "
                        "crossfade or fade",
                        key=True,
                    )
                    return
                if not _number(raw["duration"]) or raw["duration"] <= 0:
                    info.transition = "cut"  # the schema has reported it
                    return
                info.duration = float(raw["duration"])
        else:
            return
        if info.transition != "cut" and "duration" not in (raw if isinstance(raw, dict) else {}):
            info.duration = model.DEFAULT_TRANSITION_SECONDS
        info.duration_path = path

    def transitions(self, infos: list[_ShotInfo]) -> None:
        for k, info in enumerate(infos):
            if info.transition == "cut":
                continue
            if k == 0 and info.transition == "crossfade":
                self.add(
                    info.duration_path,
                    "the first shot has nothing to crossfade from: use fade (in from black) or cut",
                )
                continue
            joined = [infos[k - 1], info] if k > 0 else [info]
            short = [s for s in joined if info.duration >= s.length - 1e-9]
            if short:
                s = short[0]
                self.add(
                    info.duration_path,
                    f"a {info.duration:g} s {info.transition} must be shorter than the shots "
                    f"it joins, and shots[{s.index}] lasts {s.length:g} s: shorten the "
                    "transition or keep more of the shot",
                )
                continue
            if k == 0:
                continue
            prev = infos[k - 1]
            used = _share(prev) + _share(info)
            if used > prev.length + 1e-9:
                self.add(
                    info.duration_path,
                    f"shots[{k - 1}] lasts {prev.length:g} s, but the transitions into and out "
                    f"of it take {used:g} s: shorten one of them",
                )

    def ending(self, shots: list[Any], infos: list[_ShotInfo]) -> None:
        """`ending: {type: fade, duration: d}`: the fade lies within the last shot, after
        whatever transition brings it in (the film's editors show it as that shot's dissolve
        to black), and so within the film."""
        raw = self.data.get("ending")
        if isinstance(raw, str):
            raw = {"type": raw}
        if not isinstance(raw, dict) or raw.get("type") not in model.ENDINGS:
            return  # none, or the schema has said what is wrong
        if "duration" in raw and raw["type"] == "cut":
            self.add(
                ("ending", "duration"),
                "a cut takes no time, so it has no duration: remove duration, or end with type: fade",
                key=True,
            )
            return
        d = raw.get("duration", model.DEFAULT_ENDING_SECONDS)
        if raw["type"] != "fade" or not _number(d) or d <= 0 or not infos:
            return  # a cut; or the schema has reported the duration
        path: PathKey = ("ending", "duration") if "duration" in raw else ("ending",)
        film = sum(s.length for s in infos) - sum(
            s.duration for s in infos[1:] if s.transition == "crossfade"
        )
        last = infos[-1]
        shown = last.length - _share(last)
        if d >= film - 1e-9:
            self.add(
                path,
                f"a {d:g} s fade is as long as the film or longer (it lasts {film:g} s): shorten the fade",
            )
            return
        if d >= shown - 1e-9:
            shot = shots[last.index] if isinstance(shots[last.index], dict) else {}
            name = f" ({shot['id']!r})" if isinstance(shot.get("id"), str) else ""
            after = {"crossfade": " after its crossfade", "fade": " after its fade in"}.get(
                last.transition, ""
            )
            self.add(
                path,
                f"the film's {d:g} s fade to black must be shorter than its last shot as it is on "
                f"screen: shots[{last.index}]{name} shows {shown:g} s{after}; shorten the fade or "
                "keep more of the shot",
            )


def _share(info: _ShotInfo) -> float:
    """Seconds of a shot taken by a transition: a crossfade overlaps fully, a fade by half."""
    if info.transition == "crossfade":
        return info.duration
    if info.transition == "fade":
        return info.duration / 2
    return 0.0


def _control(text: str) -> bool:
    """NUL and other control characters: no file has them, and the OS refuses NUL outright."""
    return any(ord(c) < 0x20 or ord(c) == 0x7F for c in text)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# placeholders -------------------------------------------------------------------------------
PLACEHOLDER_DOMAINS = ("example.com", "example.org", "example.net")  # RFC 2606: never real


def placeholder_urls(sb: Storyboard, sends_url: Callable[[model.Asset], bool] | None = None) -> list[Problem]:
    """Image URLs on the domains reserved for examples (as `storyboard init` writes them):
    fine for a plan, but a hosted render would pay for shots made from images that do not
    exist. One located problem per image, for the render to refuse before asking. With
    `sends_url` (the provider's), only the links it would send: a provider that takes the
    file's bytes is never sent the link beside it."""
    seen: set[str] = set()
    out: list[Problem] = []
    for shot in sb.shots:
        for asset in shot.images:
            if sends_url is not None and not sends_url(asset):
                continue
            host = (urlsplit(asset.url).hostname or "") if asset.url else ""
            reserved = any(host == d or host.endswith("." + d) for d in PLACEHOLDER_DOMAINS)
            if asset.label in seen or not reserved:
                continue
            seen.add(asset.label)
            path = model.parse_path(asset.label)
            if sb.doc is not None and (*path, "url") in sb.doc.value_marks:
                path = (*path, "url")
            out.append(
                Problem(
                    f"{asset.url} is a placeholder ({host} is reserved for examples): a hosted "
                    "service would be sent an image that does not exist",
                    format_path(path),
                    sb.location(path),
                    "put the image online and write its public address here, or render with "
                    "the preview provider",
                )
            )
    return out
