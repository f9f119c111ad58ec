"""Make the examples' and the `storyboard init` scaffold's stills and music.

The files are committed; this script documents how they were made and remakes them:
    /work/venv/bin/python examples/make_media.py
Pillow draws the stills; the melody is computed here and encoded to MP3 with the ffmpeg
that imageio-ffmpeg ships.
"""

from __future__ import annotations

import math
import struct
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
W, H = 320, 180


def sky_and_sea(
    top: tuple[int, int, int], bottom: tuple[int, int, int], sea: tuple[int, int, int]
) -> Image.Image:
    img = Image.new("RGB", (W, H))
    d = ImageDraw.Draw(img)
    horizon = int(H * 0.62)
    for y in range(horizon):
        t = y / horizon
        d.line([(0, y), (W, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    d.rectangle([0, horizon, W, H], fill=sea)
    for y in range(horizon + 6, H, 9):  # wave crests
        for x in range((y * 7) % 23, W, 23):
            d.arc([x, y, x + 14, y + 6], 200, 340, fill=(220, 235, 245), width=1)
    return img


def lighthouse(d: ImageDraw.ImageDraw, x: int, base: int, *, lit: bool) -> None:
    d.polygon(
        [(x - 40, base + 20), (x - 25, base - 4), (x + 30, base - 2), (x + 45, base + 20)], fill=(70, 60, 55)
    )
    top = base - 92
    d.polygon([(x - 12, base), (x - 8, top), (x + 8, top), (x + 12, base)], fill=(245, 245, 240))
    for k in range(3):  # red bands
        y0 = base - 18 - k * 28
        d.polygon([(x - 11, y0), (x - 10, y0 - 12), (x + 10, y0 - 12), (x + 11, y0)], fill=(200, 30, 35))
    d.rectangle([x - 10, top - 14, x + 10, top], fill=(255, 230, 120) if lit else (90, 90, 100))
    d.polygon([(x - 13, top - 14), (x, top - 26), (x + 13, top - 14)], fill=(40, 40, 45))
    if lit:
        d.polygon([(x + 10, top - 10), (W, top - 40), (W, top + 14)], fill=(255, 240, 170))


def keeper(img: Image.Image, *, side: bool) -> None:
    d = ImageDraw.Draw(img)
    cx, cy = W // 2, 70
    d.ellipse([cx - 48, cy + 30, cx + 48, H + 60], fill=(240, 200, 30))  # yellow raincoat
    d.line([(cx, cy + 40), (cx, H)], fill=(190, 150, 20), width=2)
    face = [cx - 28, cy - 32, cx + 28, cy + 30]
    if side:
        d.ellipse([cx - 24, cy - 32, cx + 28, cy + 30], fill=(235, 190, 160))
        d.polygon([(cx + 26, cy - 2), (cx + 36, cy + 6), (cx + 26, cy + 8)], fill=(225, 170, 140))  # nose
        d.ellipse([cx + 10, cy - 8, cx + 16, cy - 2], fill=(40, 40, 60))
        d.pieslice([cx - 10, cy - 4, cx + 34, cy + 52], 0, 180, fill=(250, 250, 250))  # beard
        d.chord([cx - 30, cy - 48, cx + 30, cy - 6], 180, 360, fill=(240, 200, 30))  # sou'wester
    else:
        d.ellipse(face, fill=(235, 190, 160))
        for ex in (cx - 12, cx + 12):
            d.ellipse([ex - 4, cy - 8, ex + 4, cy], fill=(40, 40, 60))
        d.pieslice([cx - 30, cy - 10, cx + 30, cy + 56], 0, 180, fill=(250, 250, 250))
        d.chord([cx - 40, cy - 50, cx + 40, cy - 4], 180, 360, fill=(240, 200, 30))


def dawn() -> Image.Image:
    img = sky_and_sea((250, 170, 90), (255, 225, 160), (40, 90, 140))
    d = ImageDraw.Draw(img)
    d.ellipse([40, 80, 80, 120], fill=(255, 245, 200))
    lighthouse(d, 230, 128, lit=False)
    return img


def storm() -> Image.Image:
    img = sky_and_sea((40, 45, 55), (90, 95, 110), (30, 45, 60))
    d = ImageDraw.Draw(img)
    for x in range(-60, W, 12):  # rain
        d.line([(x, 0), (x + 40, H)], fill=(120, 125, 140), width=1)
    lighthouse(d, 230, 128, lit=True)
    return img


def night() -> Image.Image:
    img = sky_and_sea((10, 15, 40), (30, 40, 80), (10, 25, 45))
    d = ImageDraw.Draw(img)
    for i in range(30):
        x, y = (i * 97) % W, (i * 53) % 90
        d.point([(x, y), (x + 1, y)], fill=(255, 255, 230))
    lighthouse(d, 230, 128, lit=True)
    return img


def lamp() -> Image.Image:
    img = Image.new("RGB", (W, H), (60, 50, 45))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 140, W, H], fill=(110, 80, 50))  # table
    d.rectangle([145, 125, 175, 140], fill=(150, 110, 40))
    d.ellipse([135, 60, 185, 128], outline=(200, 180, 120), width=3, fill=(255, 210, 110))
    d.rectangle([150, 50, 170, 62], fill=(40, 40, 40))
    return img


def portrait(side: bool) -> Image.Image:
    img = Image.new("RGB", (W, H), (150, 175, 195))
    keeper(img, side=side)
    return img


def sunrise() -> Image.Image:
    img = sky_and_sea((120, 160, 230), (255, 200, 150), (30, 110, 150))
    ImageDraw.Draw(img).ellipse([140, 90, 180, 130], fill=(255, 220, 90))
    return img


def harbour() -> Image.Image:
    img = sky_and_sea((160, 200, 240), (250, 230, 200), (40, 100, 140))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 125, 120, 140], fill=(150, 140, 130))  # the quay
    for x, colour in ((150, (200, 60, 50)), (215, (40, 120, 60)), (270, (230, 180, 40))):
        d.polygon([(x, 128), (x + 40, 128), (x + 32, 140), (x + 6, 140)], fill=colour)  # hulls
        d.line([(x + 20, 128), (x + 20, 96)], fill=(60, 50, 40), width=2)  # masts
    return img


def melody(path: Path, notes: list[int], beat: float = 0.4) -> None:
    """A little tune (MIDI note numbers, 0 = rest) with soft attack and decay, as MP3."""
    rate = 22050
    frames = bytearray()
    for n in notes:
        count = int(rate * beat)
        freq = 440.0 * 2 ** ((n - 69) / 12) if n else 0.0
        for i in range(count):
            t = i / rate
            env = min(1.0, t / 0.02) * math.exp(-3 * t)
            v = 0.3 * env * (math.sin(2 * math.pi * freq * t) + 0.3 * math.sin(4 * math.pi * freq * t))
            frames += struct.pack("<h", int(v * 32767 / 1.3)) if n else b"\x00\x00"
    import imageio_ffmpeg

    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "melody.wav"
        with wave.open(str(wav), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(bytes(frames))
        ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
        subprocess.run(
            [
                ffmpeg,
                "-y",
                "-loglevel",
                "error",
                "-i",
                str(wav),
                "-c:a",
                "libmp3lame",
                "-b:a",
                "48k",
                str(path),
            ],
            check=True,
        )


def save(img: Image.Image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = {".jpg": "JPEG", ".png": "PNG", ".webp": "WEBP"}[path.suffix]
    options = {"quality": 80} if kind in ("JPEG", "WEBP") else {"optimize": True}
    img.save(path, kind, **options)


def main() -> int:
    lh = HERE / "lighthouse"
    save(dawn(), lh / "images" / "dawn.jpg")
    save(storm(), lh / "images" / "storm.webp")
    save(night(), lh / "images" / "night.png")
    save(lamp(), lh / "images" / "lamp.jpg")
    save(portrait(False), lh / "images" / "keeper-front.png")
    save(portrait(True), lh / "images" / "keeper-side.webp")
    # a slow sea shanty in D minor: two phrases, 6.4 s
    melody(lh / "audio" / "theme.mp3", [62, 65, 69, 67, 65, 64, 62, 0, 57, 60, 62, 64, 65, 64, 62, 0])
    save(harbour(), HERE / "long-21" / "images" / "harbour.jpg")
    save(portrait(True), HERE / "long-21" / "images" / "fisherman.png")
    init = REPO / "storyboard" / "init"
    save(sunrise(), init / "images" / "sunrise.png")
    save(portrait(False), init / "images" / "hero.png")
    melody(init / "audio" / "theme.mp3", [60, 64, 67, 72, 67, 64, 60, 0, 62, 65, 69, 65], beat=0.35)
    return 0


if __name__ == "__main__":
    sys.exit(main())
