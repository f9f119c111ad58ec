"""The offline animatic: one clip per shot, shaped like the hosted providers' clips.

Stills are drawn with Pillow (a prompt card, the first and last frames, the references side by
side); ffmpeg then adds the motion (a sub-pixel `perspective` zoom), the dissolve (`xfade`), a
corner label, a thin progress bar and a soft chord, and encodes H.264 + AAC in one pass. On
2 idle cores a 720p clip takes about 1 s (a card) to 2 s (a zoom and a dissolve); Pillow
alone needs over 4 s just to draw the 192 zoomed frames, and zoompan, though faster, snaps
its window to whole pixels, so slow push-ins wobble.

Pillow is imported inside functions only, so importing this module stays light.

Over 400 lines on purpose: the stills and the ffmpeg graph that moves them are one look,
tuned together (sizes, margins, when overlays leave); split, each half would hard-code the
other's numbers.
"""

from __future__ import annotations

import colorsys
import functools
import math
import os
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storyboard.errors import ConfigError, StitchError

# Drawing's own imports (ffmpeg, fonts, fractions) wait for a drawing: plan and validate read
# only the scale and the renderer's version from here.
if TYPE_CHECKING:
    from fractions import Fraction

    from PIL import Image as PILImage

    from storyboard.media.fonts import TextFont

SCALE_ENV = "STORYBOARD_PREVIEW_SCALE"
RENDERER = "preview/4"  # bump when the look changes, so cached previews are redrawn
SAMPLE_RATE = 48000
MIN_SIDE = 16
MAX_CARD_CHARS = 3000

# The look, as fractions of the clip: the first frame pushes in by FIRST_ZOOM over the clip;
# the last frame dissolves in from DISSOLVE_START for DISSOLVE_LENGTH and holds still.
FIRST_ZOOM = 0.08
REFERENCE_ZOOM = 0.04
DISSOLVE_START = 0.4
DISSOLVE_LENGTH = 0.4
# The label and the progress bar leave for the last frames so the last frame stays clean.
OVERLAY_CLEAR_SECONDS = 0.125

Source = Path | str | None  # a local image (Path); a str (a URL, a note) shows a placeholder


# ---- size ---------------------------------------------------------------------------------
def preview_scale(environ: dict[str, str] | None = None) -> float:
    """STORYBOARD_PREVIEW_SCALE as a float in (0, 1]; 1.0 when unset."""
    env = os.environ if environ is None else environ
    raw = env.get(SCALE_ENV, "").strip()
    if not raw:
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (0 < value <= 1):
        raise ConfigError(
            f"{SCALE_ENV}={raw!r} is not a scale between 0 and 1",
            hint=f"e.g. {SCALE_ENV}=0.25 renders previews at a quarter size; unset it for full size",
        )
    return value


def scaled_size(size: tuple[int, int], scale: float) -> tuple[int, int]:
    """`size` times `scale`, each side even (H.264 yuv420p needs it) and at least 16."""
    w, h = size
    return (
        max(MIN_SIDE, 2 * round(w * scale / 2)),
        max(MIN_SIDE, 2 * round(h * scale / 2)),
    )


# ---- drawing ------------------------------------------------------------------------------
@functools.lru_cache(maxsize=512)
def _font(size: int, text: str = "") -> TextFont:
    """A font that draws `text` (Chinese, Japanese, accented Latin...): the installed fonts
    fontconfig prefers for its script, else Pillow's embedded one (no system font is needed on
    a fresh machine). What no font has is left out, never drawn as a box (media.fonts)."""
    from storyboard.media.fonts import choose_font  # lazy: start-up (drawing only)

    return choose_font(text).load(max(6, size))


def _text(draw: Any, xy: tuple[float, float], text: str, font: TextFont, fill: Any) -> None:
    font.draw(draw, xy, text, fill=fill)


def _palette(seed: int) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """A dark background and a light accent, different for neighbouring shots."""
    hue = (seed * 0.381966) % 1.0  # golden-angle steps keep neighbours apart

    def rgb(h: float, lightness: float, sat: float) -> tuple[int, int, int]:
        r, g, b = colorsys.hls_to_rgb(h, lightness, sat)
        return (round(r * 255), round(g * 255), round(b * 255))

    return rgb(hue, 0.16, 0.45), rgb(hue, 0.78, 0.75)


def _wrap(text: str, font: Any, width: float) -> list[str]:
    """Greedy word wrap to `width` pixels; words longer than a line are split."""
    known: dict[str, float] = {}

    def length(word: str) -> float:  # measuring is the slow part: once per word
        if word not in known:
            known[word] = font.getlength(word)
        return known[word]

    space = length(" ")
    lines: list[str] = []
    blank = False
    for para in text.splitlines():
        words = para.split()
        if not words:
            if lines and not blank:  # keep one blank line between paragraphs
                lines.append("")
                blank = True
            continue
        blank = False
        cur: list[str] = []
        cur_w = 0.0
        for word in words:
            while length(word) > width and len(word) > 1:
                lo, hi = 1, len(word) - 1  # the longest prefix that fits, by bisection
                while lo < hi:
                    mid = (lo + hi + 1) // 2
                    if font.getlength(word[:mid]) <= width:
                        lo = mid
                    else:
                        hi = mid - 1
                if cur:
                    lines.append(" ".join(cur))
                    cur, cur_w = [], 0.0
                lines.append(word[:lo])
                word = word[lo:]
            w = length(word)
            if cur and cur_w + space + w > width:
                lines.append(" ".join(cur))
                cur, cur_w = [], 0.0
            cur_w += (space if cur else 0.0) + w
            cur.append(word)
        if cur:
            lines.append(" ".join(cur))
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _fit_text(text: str, width: float, height: float, size: int, min_size: int) -> tuple[Any, list[str], int]:
    """The largest font (from `size` down) whose wrapped text fits; else truncate with '…'."""
    text = text[:MAX_CARD_CHARS]  # more never fits a frame; keeps wrapping cheap
    lines = _wrap(text, _font(size, text), width)
    need = len(lines) * size * 1.3
    if need > height:  # text area grows with the square of the size: jump near the answer
        size = max(min_size, min(size, int(size * math.sqrt(height / need) * 1.05)))
    while True:
        font = _font(size, text)
        step = round(size * 1.3)
        lines = _wrap(text, font, width)
        if len(lines) * step <= height or size <= min_size:
            break
        size = max(min_size, int(size * 0.92))
    fit = max(1, int(height // step))
    if len(lines) > fit:
        lines = lines[:fit]
        last = lines[-1].rstrip()
        while last and font.getlength(last + " …") > width:
            last = last[:-1].rstrip()
        lines[-1] = f"{last} …" if last else "…"
    return font, lines, step


def _gradient(w: int, h: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Any:
    from PIL import Image  # lazy: start-up

    mask = Image.linear_gradient("L").resize((w, h))
    return Image.composite(Image.new("RGB", (w, h), bottom), Image.new("RGB", (w, h), top), mask)


def _card(w: int, h: int, shot_id: str, kind: str, prompt: str, seed: int) -> Any:
    """The prompt card of a text shot: the id large, the rendered prompt wrapped below it."""
    from PIL import ImageDraw  # lazy: start-up

    bg, accent = _palette(seed)
    darker = tuple(max(0, c - 22) for c in bg)
    img = _gradient(w, h, bg, darker)  # type: ignore[arg-type]
    draw = ImageDraw.Draw(img)
    margin = round(min(w, h) * 0.08)
    top = margin + round(h * 0.06)  # clear of the corner label
    title = _font(round(min(w, h) * 0.075), shot_id)
    _text(draw, (margin, top), shot_id, title, accent)
    top += round(min(w, h) * 0.075 * 1.25)
    kind_text = _KIND_TEXT.get(kind, kind)
    _text(draw, (margin, top), kind_text, _font(round(min(w, h) * 0.035), kind_text), (170, 170, 180))
    top += round(min(w, h) * 0.035 * 1.6)
    rule = max(1, round(h * 0.004))
    draw.rectangle((margin, top, w - margin, top + rule - 1), fill=accent)
    top += rule + round(h * 0.035)
    body_h = h - top - margin
    font, lines, step = _fit_text(
        prompt.strip() or "(empty prompt)",
        w - 2 * margin,
        body_h,
        round(min(w, h) * 0.05),
        max(6, round(min(w, h) * 0.022)),
    )
    for i, line in enumerate(lines):
        _text(draw, (margin, top + i * step), line, font, (238, 238, 242))
    return img


_KIND_TEXT = {
    "text": "text to video",
    "frames": "first and last frame",
    "reference": "reference images",
}


def _placeholder(w: int, h: int, label: str, note: str) -> Any:
    """A panel standing for an image the offline renderer cannot show (a URL, a missing still)."""
    from PIL import Image, ImageDraw  # lazy: start-up

    img = Image.new("RGB", (w, h), (46, 46, 54))
    draw = ImageDraw.Draw(img)
    line = max(1, round(min(w, h) * 0.006))
    draw.line((0, 0, w, h), fill=(70, 70, 80), width=line)
    draw.line((0, h, w, 0), fill=(70, 70, 80), width=line)
    draw.rectangle((0, 0, w - 1, h - 1), outline=(120, 120, 135), width=line)
    margin = round(min(w, h) * 0.1)
    text = f"{note}\n\n{label}" if label else note
    font, lines, step = _fit_text(
        text, w - 2 * margin, h - 2 * margin, round(min(w, h) * 0.06), round(min(w, h) * 0.03)
    )
    y = (h - len(lines) * step) // 2
    for i, text_line in enumerate(lines):
        x = (w - font.getlength(text_line)) / 2
        _text(draw, (x, y + i * step), text_line, font, (225, 225, 235))
    return img


def _open(src: Source, shot_id: str) -> Any | None:
    """The image at `src` as RGB, or None when there is no local file to read."""
    from PIL import Image, ImageOps, UnidentifiedImageError  # lazy: start-up

    if not isinstance(src, Path) or not src.is_file():
        return None  # a str is a URL or a note, never read: the renderer is offline
    path = src
    try:
        with Image.open(path) as im:
            im.draft("RGB", (4096, 4096))  # JPEG: decode at reduced size when huge
            im = ImageOps.exif_transpose(im)
            if im.mode in ("RGBA", "LA", "P", "PA"):
                im = im.convert("RGBA")
                flat = Image.new("RGB", im.size, (0, 0, 0))
                flat.paste(im, mask=im.getchannel("A"))
                return flat
            return im.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise StitchError(
            f"preview of shot {shot_id!r}: cannot read image {path.name}: {e}",
            hint="save it again as PNG or JPEG",
        ) from e


def _fit(img: Any, w: int, h: int) -> Any:
    """`img` resized to fit inside w x h, aspect kept."""
    from PIL import Image  # lazy: start-up

    s = min(w / img.width, h / img.height)
    size = (max(1, round(img.width * s)), max(1, round(img.height * s)))
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _framed(img: Any, w: int, h: int) -> Any:
    """A full-frame still: the image fitted, over a blurred, darkened cover of itself."""
    from PIL import Image, ImageEnhance, ImageFilter, ImageOps  # lazy: start-up

    if abs(img.width / img.height - w / h) < 0.01:
        return img.resize((w, h), Image.Resampling.LANCZOS, reducing_gap=3.0)
    small = ImageOps.fit(img, (max(1, w // 8), max(1, h // 8)), Image.Resampling.BILINEAR)
    small = small.filter(ImageFilter.GaussianBlur(max(1, min(w, h) // 160)))
    back = ImageEnhance.Brightness(small.resize((w, h), Image.Resampling.BILINEAR)).enhance(0.45)
    fg = _fit(img, w, h)
    back.paste(fg, ((w - fg.width) // 2, (h - fg.height) // 2))
    return back


def _still(src: Source, label: str, note: str, w: int, h: int, shot_id: str) -> Any:
    img = _open(src, shot_id)
    if img is None:
        return _placeholder(w, h, label or (str(src) if src else ""), note)
    return _framed(img, w, h)


def _side_by_side(sources: Sequence[Source], labels: Sequence[str], w: int, h: int, shot_id: str) -> Any:
    """The reference images in equal panels, each fitted (not stretched), on a dark ground."""
    from PIL import Image  # lazy: start-up

    img = Image.new("RGB", (w, h), (22, 22, 26))
    n = max(1, len(sources))
    gap = max(1, round(w * 0.015))
    panel_w = (w - gap * (n + 1)) // n
    panel_h = h - 2 * gap
    for i, src in enumerate(sources):
        x = gap + i * (panel_w + gap)
        pic = _open(src, shot_id)
        if pic is None:
            label = labels[i] if i < len(labels) else str(src or "")
            ph = _placeholder(panel_w, round(panel_h * 0.7), label, "reference not available offline")
            img.paste(ph, (x, (h - ph.height) // 2))
            continue
        fg = _fit(pic, panel_w, panel_h)
        img.paste(fg, (x + (panel_w - fg.width) // 2, (h - fg.height) // 2))
    return img


def _label(shot_id: str, kind: str, w: int, h: int, prompt: str | None = None) -> Any:
    """The corner tag: shot id and kind, white on a translucent dark box; with `prompt`, the
    box grows into a band that shows the prompt too (up to three lines, then "…"), so a
    frames or reference shot tells its story over its stills, and an edited prompt shows."""
    from PIL import Image, ImageDraw  # lazy: start-up

    text = f"{shot_id} · {kind}"
    font = _font(max(8, round(h * 0.026)), text)
    pad = max(2, round(h * 0.01))
    ascent, descent = font.getmetrics()
    label_w, label_h = round(font.getlength(text)), ascent + descent
    lines: list[str] = []
    body: Any = None
    step = 0
    if prompt is not None and prompt.strip():
        size = max(6, round(h * 0.03))
        room = w - 2 * max(2, round(h * 0.025)) - 2 * pad  # the band stays inside the margins
        body, lines, step = _fit_text(
            prompt.strip(), room, 3 * round(size * 1.3), size, max(6, round(size * 0.75))
        )
    gap = pad if lines else 0
    box_w = max([label_w, *(round(body.getlength(line)) for line in lines)]) + 2 * pad
    box_h = label_h + gap + len(lines) * step + 2 * pad
    img = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((0, 0, box_w - 1, box_h - 1), radius=pad, fill=(0, 0, 0, 150))
    _text(draw, (pad, pad), text, font, (255, 255, 255, 235))
    for i, line in enumerate(lines):
        _text(draw, (pad, pad + label_h + gap + i * step), line, body, (238, 238, 242, 235))
    return img


def _is_card(kind: str, first: Source, last: Source, references: Sequence[Source]) -> bool:
    """A text shot is drawn as a card that shows its prompt in full; the others are stills."""
    if kind == "reference" or (references and kind != "frames"):
        return False
    return not (kind == "frames" or first is not None or last is not None)


# ---- motion and sound ---------------------------------------------------------------------
def _zoom(z: str) -> str:
    """A centred zoom by the factor `z` (an expression of the frame count `in`), sub-pixel
    smooth: `perspective` samples the source window, where zoompan snaps it to whole pixels."""
    a = f"(1-1/({z}))/2"
    corners = {
        "x0": f"W*{a}", "y0": f"H*{a}",
        "x1": f"W*(1-{a})", "y1": f"H*{a}",
        "x2": f"W*{a}", "y2": f"H*(1-{a})",
        "x3": f"W*(1-{a})", "y3": f"H*(1-{a})",
    }  # fmt: skip
    return "perspective=" + ":".join(f"{k}='{v}'" for k, v in corners.items()) + ":eval=frame"


def _chord(seed: int) -> tuple[float, float, float]:
    """A soft triad whose root walks by fifths with the shot index (220-415 Hz)."""
    step = (seed * 7) % 12
    root = 220.0 * 2 ** (step / 12)
    third = 5 / 4 if seed % 2 == 0 else 6 / 5
    return (root, root * third, root * 1.5)


def _audio_graph(audio: bool, seconds: float, seed: int) -> str:
    if not audio:  # keep a silent track: every preview clip has the same streams
        return f"aevalsrc='0|0':s={SAMPLE_RATE}:d={seconds:.6f}"
    f1, f2, f3 = _chord(seed)

    def voice(detune: float) -> str:
        tones = "+".join(f"sin(2*PI*{f + detune:.4f}*t)" for f in (f1, f2, f3))
        return f"0.045*(0.8+0.2*sin(2*PI*0.25*t))*({tones})"

    fade = min(0.05, seconds / 4)
    return (
        f"aevalsrc='{voice(0.0)}|{voice(0.7)}':s={SAMPLE_RATE}:d={seconds:.6f},"
        f"afade=t=in:d={fade},afade=t=out:st={seconds - fade:.6f}:d={fade}"
    )


# ---- the clip -----------------------------------------------------------------------------
def render_preview(
    out: Path,
    *,
    shot_id: str,
    prompt: str,
    kind: str,
    first: Source,
    last: Source,
    references: Sequence[Source],
    size: tuple[int, int],
    scale: float | None = None,
    fps: float = 24,
    seconds: float = 8.0,
    audio: bool = True,
    seed: int = 0,
    labels: Sequence[str] = (),
) -> Path:
    """Render the animatic clip of one shot to `out` (MP4: H.264 yuv420p + AAC 48 kHz stereo).

    frames: `first` pushes in slowly and dissolves into `last` (or just pushes in); reference:
    the `references` side by side with a gentle push-in; text: a card with `shot_id` and the
    rendered `prompt`; frames and reference shots show their prompt in the band of the corner
    label, over the stills (gone for the last frames, which stay the image's own). A source
    that is a str (an https URL) or a missing file shows as a
    placeholder panel captioned with its entry in `labels` (in order: first, last / references).
    `size` is the provider's frame size; `scale` (else STORYBOARD_PREVIEW_SCALE) shrinks it. `seed` (the
    shot index) picks the card colours and the chord. The file appears complete or not at all.
    """
    # lazy: start-up (drawing only: plan and validate import this module for its scale)
    from fractions import Fraction

    from storyboard.media.ffmpeg import run  # lazy: start-up (as Fraction)

    out = Path(out)
    w, h = scaled_size(size, preview_scale() if scale is None else scale)
    rate = Fraction(fps).limit_denominator(1001)
    if rate <= 0 or seconds <= 0:
        raise StitchError(f"preview of shot {shot_id!r}: fps and seconds must be positive")
    frames = max(1, round(seconds * rate))
    seconds = float(frames / rate)
    what = f"preview of shot {shot_id!r}"
    labels = list(labels)

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:12]}.part")
    with tempfile.TemporaryDirectory(prefix="storyboard-preview-") as work:
        d = Path(work)
        stills = _stills(d, shot_id, prompt, kind, first, last, references, labels, w, h, seed)
        on_card = _is_card(kind, first, last, references)  # the card has the prompt already
        _label(shot_id, kind, w, h, None if on_card else prompt).save(d / "label.png", compress_level=1)
        args, graph = _graph(stills, d / "label.png", w, h, rate, frames, audio, seed)
        args = ["-y", *args, "-filter_complex", ";".join(graph), "-map", "[v]", "-map", "[a]"]
        args += [
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
            "-g", str(max(1, round(2 * rate))), "-r", str(rate), "-frames:v", str(frames),
            "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
            "-c:a", "aac", "-b:a", "128k", "-ar", str(SAMPLE_RATE), "-ac", "2",
            "-t", f"{seconds:.6f}", "-map_metadata", "-1", "-fflags", "+bitexact",
            "-movflags", "+faststart", "-f", "mp4", str(tmp),
        ]  # fmt: skip
        try:
            run(args, what=what, timeout=max(120.0, seconds * 30))
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
    return out


def _stills(
    d: Path,
    shot_id: str,
    prompt: str,
    kind: str,
    first: Source,
    last: Source,
    references: Sequence[Source],
    labels: list[str],
    w: int,
    h: int,
    seed: int,
) -> list[tuple[Path, str]]:
    """The stills the clip is made of, saved as PNG, each with its motion: push | gentle |
    still."""

    def save(img: PILImage.Image, name: str) -> Path:
        path = d / f"{name}.png"
        img.save(path, compress_level=1)  # fast to write; ffmpeg reads it once
        return path

    if kind == "reference" or (references and kind != "frames"):
        img = _side_by_side(list(references), labels, w, h, shot_id)
        return [(save(img, "refs"), "gentle")]
    if kind == "frames" or first is not None or last is not None:
        n_first = 1 if first is not None else 0
        first_label = labels[0] if labels and first is not None else ""
        last_label = labels[n_first] if last is not None and len(labels) > n_first else ""
        out = [
            (
                save(
                    _still(first, first_label, "first frame not available offline", w, h, shot_id),
                    "first",
                ),
                "push",
            )
        ]
        if last is not None:
            still = _still(last, last_label, "last frame not available offline", w, h, shot_id)
            out.append((save(still, "last"), "still"))
        return out
    return [(save(_card(w, h, shot_id, kind, prompt, seed), "card"), "still")]


def _graph(
    stills: list[tuple[Path, str]],
    label: Path,
    w: int,
    h: int,
    rate: Fraction,
    frames: int,
    audio: bool,
    seed: int,
) -> tuple[list[str], list[str]]:
    """ffmpeg inputs and filter chains: every still looped in memory (decoded once), moved,
    dissolved, labelled, with a progress bar and the sound."""
    seconds = frames / rate
    tb = f"{rate.denominator}/{rate.numerator}"
    args: list[str] = []
    graph: list[str] = []
    for path, _ in stills:  # the frame rate is declared so that xfade sees equal rates
        args += ["-framerate", str(rate), "-i", str(path)]
    args += ["-i", str(label)]

    def looped(i: int, n: int) -> str:
        # convert once (BT.709, as HD video is tagged), then repeat the one frame n times
        return (
            f"[{i}]scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,"
            f"loop=loop={n - 1}:size=1,settb={tb},setpts=N"
        )

    def zoomed(i: int, n: int, zoom: float) -> str:
        # The zoom (the costly filter) runs at half the frame rate; `framerate` blends each
        # pair into the frame between them. A slow push-in moves a fraction of a pixel a
        # frame, so the blend is as good as drawing it, at half the cost.
        half = n // 2 + 2
        z = f"1+{zoom}*2*in/{max(1, frames - 1)}"
        return (
            f"[{i}]scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,"
            f"loop=loop={half - 1}:size=1,settb={2 * rate.denominator}/{rate.numerator},"
            f"setpts=N,{_zoom(z)},framerate=fps={rate}:interp_start=0:interp_end=255:scene=100,"
            f"settb={tb},setpts=N,trim=end_frame={n}"
        )

    motion = stills[0][1]
    if len(stills) == 2:
        start = max(1, round(frames * DISSOLVE_START))
        length = max(1, min(frames - start - 1, round(frames * DISSOLVE_LENGTH)))
        n_a, n_b = start + length, frames - start
        # only the first still moves: the zoom is the costly filter, and the last frame must
        # end on the image's exact pixels (a `continues` shot starts from them)
        graph.append(f"{zoomed(0, n_a, FIRST_ZOOM)}[va]")
        graph.append(f"{looped(1, n_b)}[vb]")
        graph.append(
            f"[va][vb]xfade=transition=fade:duration={float(length / rate):.6f}"
            f":offset={float(start / rate):.6f}[v0]"
        )
    elif motion == "still":
        graph.append(f"{looped(0, frames)}[v0]")
    else:
        zoom = FIRST_ZOOM if motion == "push" else REFERENCE_ZOOM
        graph.append(f"{zoomed(0, frames, zoom)}[v0]")

    # overlays leave before the end so the last frame (a `continues` shot's first) is clean
    clear = float(max(0, seconds - OVERLAY_CLEAR_SECONDS)) if seconds > 1 else float(seconds)
    margin = max(2, round(h * 0.025))
    bar = max(2, round(h / 180))
    n_label = len(stills)
    graph.append(f"[v0][{n_label}]overlay=x={margin}:y={margin}:enable='lt(t,{clear:.6f})'[v1]")
    graph.append(f"color=c=white@0.55:s={w}x{bar}:r={rate},format=yuva420p[bar]")
    graph.append(
        f"[v1][bar]overlay=x='-w+w*(n+1)/{frames}':y={h - bar}:eval=frame:shortest=1"
        # square pixels said outright, as cameras and services do: the stitcher's re-encoded
        # joins (which set SAR 1:1) then share these clips' SPS and can copy the rest
        f":enable='lt(t,{clear:.6f})',trim=end_frame={frames},setsar=1[v]"
    )
    graph.append(f"{_audio_graph(audio, float(seconds), seed)}[a]")
    return args, graph
