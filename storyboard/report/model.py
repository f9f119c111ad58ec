"""What a contact sheet shows: plain frozen dataclasses, nothing read or rendered here.

A shot has takes. Today every shot has one (the clip the cut uses); when a shot is
generated several times, each variation is one more Take in `Shot.takes`, `selected`
marking the one the cut uses, and the page sets them side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from storyboard.money import Money, Totals
from storyboard.plan.decide import Action
from storyboard.report.webfont import WebFont
from storyboard.store.stand import Stand


@dataclass(frozen=True)
class Still:
    label: str  # "first", "middle", "last"
    seconds: float  # where in the clip
    data_uri: str  # the picture itself (JPEG), so the page needs no other file for it
    thumb: str | None = None  # a small copy, for the strip of every shot (the middle frame's)


@dataclass(frozen=True)
class Video:
    href: str  # relative to the page (see page.py: videos are linked, not embedded)
    seconds: float
    size: tuple[int, int]


@dataclass(frozen=True)
class Take:
    number: int  # 1-based
    fingerprint: str  # the cache key of its clip
    selected: bool  # the take the cut uses
    video: Video | None = None  # None: not made yet
    stills: tuple[Still, ...] = ()
    stale: bool = False  # an older clip: the shot has changed since it was made


@dataclass(frozen=True)
class Status:
    """Where a shot stands, in the plan's terms."""

    state: Stand  # as status says: made | new | submitted | failed | uncertain
    action: Action  # what a render would do: generate, regenerate, resume, cached, uncertain...
    symbol: str  # the plan's symbol for it: + ~ > = ? !
    task_id: str | None = None
    reason: str | None = None
    paid: bool = False  # a render here sends it and pays for it (plan.decide's word)


@dataclass(frozen=True)
class Image:
    """An image the shot is sent with (a first or last frame, a reference)."""

    role: str  # "first frame", "last frame", "reference", "continues"
    label: str  # where it came from: images.dawn, characters.keeper...
    data_uri: str | None = None  # a local file, shrunk
    url: str | None = None


@dataclass(frozen=True)
class Shot:
    index: int
    id: str
    kind: str  # text | frames | reference
    prompt: str  # as sent: rendered through its templates
    provider: str
    cost: Money
    free: bool  # a free provider (the preview): nothing to pay
    status: Status
    trim: tuple[float, float]
    transition: str  # "cut", "crossfade 0.5 s", "fade 1 s"
    caption: str | None = None
    caption_missing: str | None = None  # its characters no font here draws, as validate says them
    images: tuple[Image, ...] = ()
    takes: tuple[Take, ...] = field(default=())

    @property
    def selected(self) -> Take | None:
        return next((t for t in self.takes if t.selected), None)


@dataclass(frozen=True)
class Report:
    title: str
    storyboard: str  # its path, as given
    provider: str
    free: bool
    shots: tuple[Shot, ...]
    film: Video | None  # None: not cut yet (or `film_other` says why not shown)
    cost: Totals  # what rendering the missing shots would cost
    generated: str  # when the page was made, ISO 8601
    provider_option: bool = False  # the provider is not the storyboard's own (render needs -p)
    film_other: bool = False  # a film is there, cut from other clips (another provider's, an older edit)
    font: WebFont | None = None  # the storyboard's caption font, for the title and the captions
