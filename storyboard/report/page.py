"""The contact sheet as one HTML page (Jinja2, autoescaped: prompts are the user's text).

Self-contained for everything but the videos: stills and input images are embedded (data:
URIs), styles are inline, nothing is fetched from anywhere. The film and the clips are
linked relatively (the film beside the page, the clips in `.storyboard/clips/`) instead of
embedded: a 21-shot film's clips and cut are a few hundred megabytes, which as base64 inside
one HTML file (a third larger again) a browser must load whole before showing anything and
cannot seek in; linked, each video streams and seeks, and the page stays a few megabytes.
The storyboard's folder moves as a whole with its page working.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from storyboard.errors import InputError
from storyboard.report.model import Report, Shot

GENERATOR = '<meta name="generator" content="storyboard report">'


def check_page(path: Path) -> Path:
    """The page's path, refused if it would replace anything but an older contact sheet."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"the contact sheet {path} would replace a folder")
    if path.is_file():
        head = path.read_bytes()[:2048].decode("utf-8", errors="replace")
        if head.strip() and GENERATOR not in head:
            raise InputError(
                f"{path} exists and is not a contact sheet: refusing to overwrite it",
                hint="move that file, or give the film another name with -o",
            )
    return path


def _money(shot: Shot) -> str:
    if shot.free:
        return f"free ({shot.provider} costs nothing)"
    if not shot.cost.known:
        return "price unknown (the provider's documents give none, and no price is declared)"
    return shot.cost.text()


def _total(report: Report) -> str:
    if report.free:
        return "nothing"
    return report.cost.text(report.provider)


def render_page(report: Report) -> str:
    from jinja2 import Environment, StrictUndefined  # lazy: start-up

    env = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["money"] = _money
    template = env.from_string(
        resources.files("storyboard.report").joinpath("page.html.j2").read_text("utf-8")
    )
    made = sum(1 for s in report.shots if s.selected is not None and s.selected.video is not None)
    return template.render(r=report, made=made, total=_total(report))
