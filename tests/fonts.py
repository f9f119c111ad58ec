"""The fonts a test may draw with: the CJK font the project ships (examples/vertical/fonts, a
subset of Noto Sans CJK SC), installed for the test alone, so no test needs a system font.

`shipped_fonts` makes the project's font the only one fontconfig knows (FONTCONFIG_FILE, read
afresh by every `fc-match`, in this process and in its children) and puts it in ~/.fonts (HOME
points at a temporary folder) for the scan used where fontconfig is missing. The caches of
what was found are cleared before and after, so no other test sees it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_CJK = ROOT / "examples" / "vertical" / "fonts" / "example-cjk.otf"
SHIPPED_NAME = "Storyboard Example CJK"
# Han characters the shipped subset has (it keeps only those of the example's captions).
CJK_TEXT = "最后一班船"

_CONF = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig><dir>{fonts}</dir><cachedir>{cache}</cachedir></fontconfig>
"""


def _clear_caches() -> None:
    from storyboard.media import fonts
    from storyboard.providers.preview import animatic

    fonts.system_faces.cache_clear()
    animatic._font.cache_clear()


@pytest.fixture
def shipped_fonts(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """The installed fonts are the project's CJK font alone; yields its installed path."""
    root = tmp_path_factory.mktemp("fonts")
    folder = root / "home" / ".fonts"
    folder.mkdir(parents=True)
    installed = Path(shutil.copy(SHIPPED_CJK, folder / SHIPPED_CJK.name))
    conf = root / "fonts.conf"
    conf.write_text(_CONF.format(fonts=folder, cache=root / "cache"), encoding="utf-8")
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    monkeypatch.setenv("HOME", str(root / "home"))
    _clear_caches()
    yield installed
    monkeypatch.undo()
    _clear_caches()


def latin_only(folder: Path) -> Path:
    """The shipped font cut down to ASCII (its .notdef box kept): a real font without Han."""
    from fontTools import subset

    out = folder / "latin-only.otf"
    options = subset.Options()
    options.notdef_outline = True
    options.name_IDs = ["*"]
    font = subset.load_font(str(SHIPPED_CJK), options)
    sub = subset.Subsetter(options)
    sub.populate(unicodes=range(0x20, 0x7F))
    sub.subset(font)
    subset.save_font(font, str(out), options)
    return out
