"""`preview`: the offline animatic, rendered on this machine with no key and no network.

It is the default provider: every storyboard can be timed and stitched before any credit is
spent. It accepts every shot; an image that exists only as a URL shows as a labelled
placeholder (nothing is fetched). Pillow and ffmpeg are used at render time only: the
renderer is imported inside `render`, so `storyboard plan` stays light.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from storyboard.errors import Problem
from storyboard.providers.base import CompiledShot, Cost, HttpRequest, Need, Provider
from storyboard.spec.model import CLIP_SECONDS, Asset

FPS = 24


def _roles(shot: CompiledShot) -> list[tuple[str, Asset]]:
    s = shot.shot
    if s.kind == "reference":
        return [("reference", a) for a in s.references]
    return [(role, a) for role, a in (("first", s.first), ("last", s.last)) if a is not None]


def _label(asset: Asset) -> str:
    """What a placeholder panel says about an image it cannot show."""
    return f"{asset.label}: {asset.url or asset.ref}"


class PreviewProvider(Provider):
    name = "preview"
    default_base_url = "local:"
    needs_key = False  # and reads no variable: `env` is left empty
    local = True

    # plan time ---------------------------------------------------------------------------------
    def check(self, shot: CompiledShot) -> list[Problem]:
        return []  # a URL-only image becomes a placeholder panel, never an error

    def shot_body(self, shot: CompiledShot) -> tuple[dict[str, Any], tuple[Need, ...]]:
        from storyboard.providers.preview.animatic import RENDERER, preview_scale, scaled_size

        s = shot.shot
        scale = preview_scale()
        images = []
        for role, a in _roles(shot):
            entry: dict[str, Any] = {"role": role, "ref": a.ref}
            if a.path is None:
                entry["placeholder"] = _label(a)  # offline: shown as a labelled panel
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
            "continues": s.continues,
            "images": images,
        }
        return body, ()

    def cost(self, shot: CompiledShot) -> Cost:
        return Cost(0, 0.0)

    def requests(self, shots: list[CompiledShot]) -> list[HttpRequest]:
        """What render will do, in the shape of the hosted providers' plans: nothing is sent."""
        out = []
        for s in shots:
            body, needs = self.shot_body(s)
            out.append(HttpRequest("LOCAL", f"local:preview/{s.id}", (s.id,), body, needs=needs))
        return out

    # render time -------------------------------------------------------------------------------
    def render(self, shot: CompiledShot, dest: Path, first_frame: Path | None = None) -> None:
        """Draw the shot's animatic clip at `dest`; `first_frame` (the previous clip's last
        frame, for a `continues` shot) replaces the shot's own first frame."""
        from storyboard.providers.preview.animatic import render_preview

        s = shot.shot
        labels: list[str] = []

        def source(asset: Asset | None) -> Path | str | None:
            if asset is None:
                return None
            labels.append(_label(asset))
            return asset.path if asset.path is not None else (asset.url or asset.ref)

        first: Path | str | None = None
        last: Path | str | None = None
        references: list[Path | str | None] = []
        if s.kind == "reference":
            references = [source(a) for a in s.references]
        else:
            if first_frame is not None:
                first = Path(first_frame)
                labels.append(f"last frame of {s.continues}")
            elif s.continues:
                # the executor gives the frame; without it, say where it would come from
                first = f"continues {s.continues}"
                labels.append(f"the last frame of shot {s.continues!r}")
            else:
                first = source(s.first)
            last = source(s.last)
        render_preview(
            Path(dest),
            shot_id=s.id if shot.take == 1 else f"{s.id} · take {shot.take}",
            prompt=shot.prompt,
            kind=s.kind,
            first=first,
            last=last,
            references=references,
            size=s.settings.size,
            fps=FPS,
            seconds=CLIP_SECONDS,
            audio=s.settings.audio,
            seed=s.index + 7 * (shot.take - 1),  # another take: other colours and chord
            labels=labels,
        )
