"""What the contact sheet says about each shot, read from the page itself: the prompt as
sent, type, provider, cost, task and state, its frames (embedded) and its clip (linked)."""

from __future__ import annotations

import base64
import html
import io
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml
from click.testing import CliRunner
from PIL import Image

from storyboard import pipeline
from storyboard.cli import cli
from tests.report.conftest import Sheet, copy_example, run


@pytest.fixture(autouse=True)
def _preview_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    """As the sheets were rendered: the preview's fingerprints depend on its scale."""
    monkeypatch.setenv("STORYBOARD_PREVIEW_SCALE", "0.125")


@dataclass
class Card:
    id: str
    number: int  # 1-based, as the page numbers shots
    fields: dict[str, str] = field(default_factory=dict)  # <dt> text: <dd> text
    stills: list[str] = field(default_factory=list)
    videos: list[str] = field(default_factory=list)
    posters: list[str | None] = field(default_factory=list)


class _Cards(HTMLParser):
    """Each <article class="shot">: its data-shot, its <dt>/<dd> texts, its stills and videos."""

    def __init__(self) -> None:
        super().__init__()
        self.cards: list[Card] = []
        self.film: str | None = None
        self._card: Card | None = None
        self._field: str | None = None
        self._text: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        alt = a.get("alt") or ""
        if tag == "article":
            self._card = Card(id=a.get("data-shot") or "", number=int((a.get("id") or "shot-0")[5:]))
            self.cards.append(self._card)
        elif tag == "video" and self._card is None:
            self.film = a.get("src")
        elif self._card is not None:
            if tag in ("dt", "dd"):
                self._in, self._text = tag, []
            elif tag == "img" and "take" in alt and alt.endswith("frame"):
                self._card.stills.append(a.get("src") or "")
            elif tag == "video":
                self._card.videos.append(a.get("src") or "")
                self._card.posters.append(a.get("poster"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "article":
            self._card = None
        elif tag in ("dt", "dd") and self._card is not None and self._in == tag:
            text = " ".join("".join(self._text).split())
            if tag == "dt":
                self._field = text
            elif self._field:
                self._card.fields[self._field] = text
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self._text.append(data)


def cards(page: Path) -> _Cards:
    p = _Cards()
    p.feed(page.read_text(encoding="utf-8"))
    return p


def _jpeg(uri: str) -> Image.Image:
    assert uri.startswith("data:image/jpeg;base64,")
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))


def test_each_shot_as_planned(lighthouse: Sheet) -> None:
    sb = pipeline.load(lighthouse.board)
    plan = pipeline.make_plan(sb)
    got = cards(lighthouse.page)
    assert [c.id for c in got.cards] == [s.id for s in plan.shots]
    for card, sp in zip(got.cards, plan.shots, strict=True):
        f = card.fields
        assert f["prompt"] == " ".join(sp.compiled.prompt.split())  # as sent, templates applied
        assert f["type"] == sp.compiled.shot.kind
        assert f["provider"] == "preview"
        assert f["cost"] == "free (preview costs nothing)"
        assert f["state"] == "made" and f["task"] == "none"  # the preview provider has no tasks
        assert f["clip"] == sp.fingerprint[:16]
    by_id = {c.id: c.fields for c in got.cards}
    assert by_id["storm-arrives"]["in the cut"] == "0.5–7.5 s, enters by crossfade 0.5 s"
    assert by_id["storm-arrives"]["caption"] == "Three days before the wreck"
    assert by_id["keeper-wakes"]["images"].count("reference:") == 3  # the keeper's two, the lamp
    assert "first frame: the last frame of storm-arrives" in by_id["the-wave"]["images"]


def test_stills_are_embedded_first_middle_last(lighthouse: Sheet) -> None:
    for card in cards(lighthouse.page).cards:
        assert len(card.stills) == 3, card.id
        pictures = [_jpeg(s) for s in card.stills]
        assert all(p.format == "JPEG" and 0 < p.width <= 480 for p in pictures)
        # three different moments of the clip (the preview's progress bar moves)
        assert len({p.tobytes() for p in pictures}) == 3, card.id
        assert card.posters == [card.stills[1]]  # the clip shows its middle frame before it plays


def test_videos_are_linked_relatively_and_exist(lighthouse: Sheet) -> None:
    sb = pipeline.load(lighthouse.board)
    plan = pipeline.make_plan(sb)
    got = cards(lighthouse.page)
    assert got.film == "lighthouse.mp4"  # beside the page
    for card, sp in zip(got.cards, plan.shots, strict=True):
        (src,) = card.videos
        assert not src.startswith(("/", "file:", "data:"))
        path = (lighthouse.page.parent / unquote(src)).resolve()
        assert path == (sb.state_dir / "clips" / f"{sp.fingerprint}.mp4").resolve()
    text = lighthouse.page.read_text()
    assert not re.search(r'(src|href|poster)="(https?:|//)', text)  # nothing from the network
    assert len(text) < 2_000_000


def test_the_command_says_what_it_wrote(lighthouse: Sheet) -> None:
    assert f"wrote {lighthouse.page} (5 shots, 5 with clips, the film)" in lighthouse.output
    assert lighthouse.page.stat().st_mode & 0o044  # readable by others, like any page


@pytest.mark.parametrize("provider", ["aivideoapi", "kie"])  # priced; no price in its documents
def test_another_provider_shows_its_prompts_and_prices(lighthouse: Sheet, provider: str) -> None:
    """-p: what that provider would be sent and what it costs; none of its clips are made."""
    own = lighthouse.page.read_bytes()
    out = run("report", str(lighthouse.board), "-p", provider)
    page_of = lighthouse.film.with_suffix(f".{provider}.report.html")  # beside the preview's own
    try:
        assert f"wrote {page_of} (5 shots, 0 with clips, no film yet" in out  # the preview's film is not its
        assert lighthouse.page.read_bytes() == own
        data = yaml.safe_load(run("plan", str(lighthouse.board), "-p", provider, "--json"))
        plan = pipeline.make_plan(pipeline.load(lighthouse.board), provider)
        got = cards(page_of)
        for card, shot, sp in zip(got.cards, data["shots"], plan.shots, strict=True):
            f = card.fields
            assert f["provider"] == provider and f["state"] == "new"
            assert f["prompt"] == " ".join(sp.compiled.prompt.split())
            c = shot["cost"]
            if c["credits"] is None:
                assert f["cost"] == (
                    "price unknown (the provider's documents give none, and no price is declared)"
                )
            else:
                assert f["cost"] == f"{c['credits']:g} credits" + (f" (${c['usd']:.2f})" if c["usd"] else "")
            assert card.videos == [] and card.stills == []
        total = data["cost"]
        page = page_of.read_text()
        if total["credits"] is None:
            assert "to render the rest: <b>unknown (5 shots unpriced" in page
        else:
            assert f"to render the rest: <b>{total['credits']:g} credits (${total['usd']:.2f})</b>" in page
        assert page.count("not made yet") == 5
    finally:
        page_of.unlink(missing_ok=True)


def test_a_changed_shot_shows_its_older_clip(tmp_path: Path) -> None:
    board = copy_example("three-shot", tmp_path)
    run("render", str(board), "-q")
    text = board.read_text()
    first = pipeline.load(board).shots[0]
    board.write_text(text.replace(first.prompt, first.prompt + " <script>alert(1)</script> & more", 1))
    out = run("report", str(board))
    assert "3 with clips" in out
    page = pipeline.load(board).output.with_suffix(".report.html")
    card = cards(page).cards[0]
    assert card.fields["state"] == "new: changed since its clip was made" and len(card.videos) == 1
    assert "an older clip: the shot changed since it was made" in page.read_text()
    assert "<script>alert(1)</script>" not in page.read_text()  # the user's text is escaped
    assert html.escape("<script>alert(1)</script> & more") in page.read_text()
    assert re.search(r'class="state state-regenerate"[^>]*>~ regenerate<', page.read_text())


def test_before_any_render(tmp_path: Path) -> None:
    board = copy_example("three-shot", tmp_path)
    out = run("report", str(board))
    assert "(3 shots, 0 with clips, no film yet (render cuts it))" in out
    page = pipeline.load(board).output.with_suffix(".report.html")
    text = page.read_text()
    assert "Not cut yet" in text and text.count("not made yet") == 4  # crowd: two takes
    assert cards(page).film is None


def test_a_file_that_is_not_a_contact_sheet_is_kept(tmp_path: Path) -> None:
    board = copy_example("three-shot", tmp_path)
    page = pipeline.load(board).output.with_suffix(".report.html")
    page.parent.mkdir(parents=True)
    page.write_text("<html>my notes</html>")
    r = CliRunner().invoke(cli, ["report", str(board)])
    assert r.exit_code == 2 and "is not a contact sheet: refusing to overwrite it" in r.output
    assert page.read_text() == "<html>my notes</html>"


def test_a_bad_storyboard_is_reported_with_its_location(tmp_path: Path) -> None:
    board = copy_example("three-shot", tmp_path)
    board.write_text(board.read_text().replace("storyboard: 1", "storyboard: 1\nbogus: true", 1))
    r = CliRunner().invoke(cli, ["report", str(board)])
    assert r.exit_code == 2 and f"{board.name}:" in r.output and "bogus" in r.output
    assert "Traceback" not in r.output


def test_takes_stand_side_by_side_and_the_cut_s_is_marked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYBOARD_PREVIEW_SCALE", "0.125")
    board = copy_example("three-shot", tmp_path)
    doc = yaml.safe_load(board.read_text())
    doc["shots"][1]["takes"] = 2
    doc["shots"][1]["select"] = 2
    board.write_text(yaml.safe_dump(doc, sort_keys=False))
    run("render", str(board), "-q")
    run("report", str(board))
    page = pipeline.load(board).output.with_suffix(".report.html")
    card = cards(page).cards[1]
    assert len(card.videos) == 2  # both takes, playable, side by side
    text = page.read_text()
    assert "takes-many" in text and text.count('class="take') >= 2


def test_another_provider_s_sheet_stands_beside_and_never_plays_the_preview_s_film(tmp_path: Path) -> None:
    board = copy_example("three-shot", tmp_path)
    run("render", str(board), "-q")
    own = pipeline.load(board).output.with_suffix(".report.html")
    run("report", str(board))
    before = own.read_bytes()
    out = run("report", str(board), "-p", "kie")
    page = pipeline.load(board).output.with_suffix(".kie.report.html")
    assert str(page) in out and own.read_bytes() == before  # the file's own sheet is kept
    text = page.read_text()
    assert cards(page).film is None  # the film there is the preview's: not kie's cut
    assert "The film there was cut from other clips" in text
    assert f"storyboard render {board} -p kie" in html.unescape(text)
    assert cards(own).film is not None  # and the preview's sheet does play it


def test_the_caption_font_is_embedded_cut_to_the_pages_text(vertical: Sheet) -> None:
    from fontTools.ttLib import TTFont

    page = vertical.page.read_text("utf-8")
    uri = re.search(r'src: url\(data:font/otf;base64,([A-Za-z0-9+/=]+)\) format\("opentype"\)', page)
    assert uri is not None
    data = base64.b64decode(uri[1])
    font = TTFont(io.BytesIO(data))
    drawn = {chr(c) for c in font.getBestCmap()}
    assert set("最后一班船") <= drawn  # what the page shows beyond ASCII
    assert not set("Lastboin") & drawn  # ASCII stays with the system's fonts
    own = (vertical.board.parent / "fonts/example-cjk.otf").stat().st_size
    assert len(data) < own  # cut down to the page's characters


def test_a_caption_no_font_can_draw_is_marked_as_validate_marks_it(tmp_path: Path) -> None:
    board = copy_example("vertical", tmp_path)
    text = board.read_text("utf-8").replace("Last boat in · 最后一班船", "最后一班船 \U000e0041\u0378")
    board.write_text(text, encoding="utf-8")
    warned = CliRunner().invoke(cli, ["validate", str(board)])
    said = re.search(r"no font here can draw (.+?) of this caption", warned.output)
    assert said is not None, warned.output
    run("report", str(board))
    page = pipeline.load(board).output.with_suffix(".report.html").read_text("utf-8")
    marked = re.search(r'<dd class="missing" title="([^"]*)">', page)
    assert marked is not None
    assert html.unescape(marked[1]) == f"no font here can draw {said[1]} of this caption"
