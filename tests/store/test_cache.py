"""The clip cache: whole, verified clips under their fingerprint, put in place by a rename."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.errors import DownloadError
from storyboard.store.cache import Cache
from tests.clips import make_clip

FP = "0123456789abcdef" * 4


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clip") / "good.mp4", seconds=8.0, fps=10)


def test_put_verifies_then_renames_into_place(tmp_path: Path, good: Path) -> None:
    cache = Cache(tmp_path / ".storyboard")
    assert not cache.has(FP)
    tmp = cache.temp(FP)
    tmp.write_bytes(good.read_bytes())
    dest = cache.put(FP, tmp)
    assert dest == tmp_path / ".storyboard" / "clips" / f"{FP}.mp4" == cache.path(FP)
    assert cache.has(FP) and not tmp.exists()
    assert dest.read_bytes() == good.read_bytes()
    assert [p.name for p in cache.dir.iterdir()] == [f"{FP}.mp4"]


def test_a_broken_clip_never_enters_the_cache(tmp_path: Path, good: Path) -> None:
    cache = Cache(tmp_path / ".storyboard")
    tmp = cache.temp(FP)
    tmp.write_bytes(good.read_bytes()[:5000])
    with pytest.raises(DownloadError, match="cut short"):
        cache.put(FP, tmp)
    assert not cache.has(FP) and not cache.path(FP).exists()
    short = make_clip(tmp_path / "short.mp4", seconds=2.0, fps=10)
    with pytest.raises(DownloadError, match=r"expected about 8\.0 s"):
        cache.put(FP, short)
    assert not cache.has(FP)


def test_a_clip_from_another_folder_is_staged_beside_the_cache(tmp_path: Path, good: Path) -> None:
    cache = Cache(tmp_path / ".storyboard")
    elsewhere = tmp_path / "elsewhere.mp4"
    elsewhere.write_bytes(good.read_bytes())
    cache.put(FP, elsewhere)
    assert cache.has(FP) and not elsewhere.exists()


def test_a_fingerprint_is_never_a_path(tmp_path: Path) -> None:
    cache = Cache(tmp_path / ".storyboard")
    for bad in ("../../etc/passwd", "", "ABC", "x" * 64):
        with pytest.raises(ValueError):
            cache.path(bad)


def test_temps_left_by_a_killed_render_are_cleaned(tmp_path: Path, good: Path) -> None:
    cache = Cache(tmp_path / ".storyboard")
    leftover = cache.temp(FP)
    leftover.write_bytes(b"half a clip")
    kept = cache.temp(FP)
    kept.write_bytes(good.read_bytes())
    cache.put(FP, kept)
    cache.clean_temps()
    assert [p.name for p in cache.dir.iterdir()] == [f"{FP}.mp4"]
