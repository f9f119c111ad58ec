"""The lighthouse example (every field: fades, crossfades, trims, a muted shot, captions,
ducked music) rendered once with the offline preview provider, its timeline written in
each format by the commands users run."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard import pipeline
from storyboard.cli import cli
from storyboard.media.packets import inspect_file
from storyboard.stitch.spec import CutSpec
from storyboard.stitch.timeline import Timeline, layout
from tests.examples import once, shared_root

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Rendered:
    board: Path
    film: Path
    spec: CutSpec
    timeline: Timeline  # the stitcher's layout of the cut, from the clips' real lengths
    timelines: dict[str, Path]  # by extension
    outputs: dict[str, str]  # what each command printed


def stitcher_layout(board: Path) -> tuple[CutSpec, Timeline]:
    """The cut's layout as the stitcher makes it: its spec, the clips' packet-measured
    picture lengths, stitch.timeline.layout."""
    sb = pipeline.load(board)
    plan = pipeline.make_plan(sb)
    made = pipeline.clips_made(plan)
    assert not made.stale and not made.missing
    spec = pipeline.cut_spec(plan, made.clips, sb.output)
    lengths = []
    for c in spec.clips:
        track = inspect_file(c.path).video
        assert track is not None
        lengths.append(track.length)
    return spec, layout(spec, lengths)


@pytest.fixture(scope="session")
def lighthouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rendered]:
    """Made once a run, shared by the xdist workers (tests/examples.py `once`): read only."""

    def make(into: Path) -> dict[str, str]:
        folder = into / "lighthouse"
        shutil.copytree(
            ROOT / "examples/lighthouse", folder, ignore=shutil.ignore_patterns(".storyboard", "renders")
        )
        board = folder / "lighthouse.yaml"
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("STORYBOARD_PREVIEW_SCALE", "0.125")  # tiny clips, the same timing
            runner = CliRunner()
            out = {"board": str(board)}
            # render writes one after its cut; stitch re-cuts and writes the others
            r = runner.invoke(cli, ["render", str(board), "--timeline", str(_cut(folder, ".otio"))])
            assert r.exit_code == 0, r.output
            out[".otio"] = r.output
            for ext in (".edl", ".xml"):
                r = runner.invoke(cli, ["stitch", str(board), "--timeline", str(_cut(folder, ext))])
                assert r.exit_code == 0, r.output
                out[ext] = r.output
        return out

    made = once(shared_root(tmp_path_factory), "export-lighthouse", make)
    board = Path(made.pop("board"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STORYBOARD_PREVIEW_SCALE", "0.125")
        spec, timeline = stitcher_layout(board)
    paths = {ext: _cut(board.parent, ext) for ext in (".otio", ".edl", ".xml")}
    yield Rendered(board, pipeline.load(board).output, spec, timeline, paths, made)


def _cut(folder: Path, ext: str) -> Path:
    return folder / "editor" / f"cut{ext}"
