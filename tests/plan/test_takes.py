"""Takes: `takes: N` generates N variations of a shot, each its own fingerprint; `select: K`
picks the one the cut uses, so choosing another take re-cuts without paying."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard import pipeline
from storyboard.cli import cli
from storyboard.media.ffmpeg import probe
from tests.clips import make_clip
from tests.run.boards import write_board
from tests.servers import start_server

SHOTS = [
    {"id": "harbour", "prompt": "the harbour at dawn", "takes": 3},
    {"id": "gulls", "prompt": "gulls over the pier"},
]


def plan_of(board: Path, provider: str, takes: int = 1) -> pipeline.Plan:
    return pipeline.make_plan(pipeline.load(board), provider, takes=takes)


def test_each_take_is_its_own_fingerprint_and_the_first_keeps_the_shots(tmp_path: Path) -> None:
    plain = write_board(tmp_path / "plain", "kie", [{"id": "harbour", "prompt": "the harbour at dawn"}])
    board = write_board(tmp_path / "takes", "kie", SHOTS, settings={"seed": 42424})
    p = plan_of(board, "kie")
    takes = [sp for sp in p.entries if sp.id == "harbour"]
    assert [sp.key for sp in takes] == ["harbour", "harbour@2", "harbour@3"]
    assert len({sp.fingerprint for sp in p.entries}) == 4
    seeds = [sp.compiled.shot.settings.seed for sp in takes]
    assert seeds[0] == 42424 and len(set(seeds)) == 3 and all(10000 <= s <= 99999 for s in seeds)
    bodies = [p.provider.shot_body(sp.compiled)[0] for sp in takes]
    assert [b["seeds"] for b in bodies] == seeds  # kie takes a seed: each take asks for another
    # adding takes to a shot leaves its first take where it was: its clip is not paid again
    unseeded = write_board(tmp_path / "unseeded", "kie", [SHOTS[0]])
    before = plan_of(plain, "kie").shot("harbour").fingerprint
    assert plan_of(unseeded, "kie").shot("harbour").fingerprint == before


def test_a_provider_without_seeds_repeats_the_request_and_the_plan_says_so(tmp_path: Path) -> None:
    board = write_board(tmp_path / "film", "veo3o1", SHOTS)
    p = plan_of(board, "veo3o1")
    takes = [sp for sp in p.entries if sp.id == "harbour"]
    bodies = [p.provider.shot_body(sp.compiled)[0] for sp in takes]
    assert bodies[0] == bodies[1] == bodies[2]  # the same request...
    assert len({sp.fingerprint for sp in takes}) == 3  # ...three clips, kept apart
    shown = CliRunner().invoke(cli, ["plan", str(board), "-p", "veo3o1"])
    assert shown.exit_code == 0, shown.output
    assert "[take 1, the cut's]" in shown.stdout
    assert "harbour@2" in shown.stdout and "the same request again (no seed to vary)" in shown.stdout
    assert "Plan: 4 to generate" in shown.stdout


def test_plan_takes_prices_every_take(tmp_path: Path) -> None:
    board = write_board(tmp_path / "film", "aivideoapi", [SHOTS[1]])
    one = json.loads(CliRunner().invoke(cli, ["plan", str(board), "--json"]).stdout)
    three = json.loads(CliRunner().invoke(cli, ["plan", str(board), "--json", "--takes", "3"]).stdout)
    assert one["cost"]["credits"] == 40 and three["cost"]["credits"] == 120
    assert [s["id"] for s in three["shots"]] == ["gulls", "gulls@2", "gulls@3"]
    assert [s["selected"] for s in three["shots"]] == [True, False, False]
    assert len(three["requests"]) == 3 and three["requests"][1]["shots"] == ["gulls@2"]


def test_select_outside_the_takes_is_a_located_error(tmp_path: Path) -> None:
    board = write_board(tmp_path / "film", "preview", [{**SHOTS[0], "select": 4}])
    result = CliRunner().invoke(cli, ["validate", str(board)])
    assert result.exit_code == 2
    assert "select: 4 picks a take this shot does not have (takes: 3)" in result.stderr
    assert "board.yaml:" in result.stderr


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("takes")
    return {
        c: make_clip(folder / f"{c}.mp4", seconds=8.0, size=(64, 36), fps=10, color=c)
        for c in ("red", "blue")
    }


def test_choosing_another_take_recuts_without_paying(
    clips: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYBOARD_POLL_INTERVAL", "0.02")
    folder = tmp_path / "film"
    shots = [{"id": "harbour", "prompt": "the harbour at dawn", "takes": 2}, SHOTS[1]]
    board = write_board(folder, "kie", shots)
    text = board.read_text().replace("- id: harbour\n", "# the opening, in two takes\n- id: harbour\n")
    board.write_text(text)
    with start_server("kie", clip=clips["red"]) as srv:
        monkeypatch.setenv("KIE_API_KEY", srv.api_key)
        monkeypatch.setenv("KIE_BASE_URL", srv.base_url)
        second = plan_of(board, "kie").shot("harbour@2").compiled.shot.settings.seed
        srv.clip_for = lambda task_id: (
            clips["blue"] if srv.tasks[task_id].body.get("seeds") == second else clips["red"]
        )
        made = CliRunner().invoke(cli, ["render", str(board), "--yes", "-q"])
        assert made.exit_code == 0, made.output
        assert len(srv.accepted) == 3  # two takes of harbour, one of gulls
        film = folder / "renders" / "board.mp4"
        first_cut = film.read_bytes()

        chose = CliRunner().invoke(cli, ["select", str(board), "harbour", "2"])
        assert chose.exit_code == 0, chose.output
        assert "take 2 is made: nothing to pay" in chose.output
        edited = board.read_text()
        assert "# the opening, in two takes" in edited and "  select: 2\n" in edited
        assert pipeline.load(board).shots[0].select == 2
        status = json.loads(CliRunner().invoke(cli, ["status", str(board), "--json"]).stdout)
        assert [s["state"] for s in status["shots"]] == ["made", "made", "made"]
        recut = CliRunner().invoke(cli, ["stitch", str(board)])
        assert recut.exit_code == 0, recut.output
        assert len(srv.accepted) == 3  # nothing paid for the choice
        assert film.read_bytes() != first_cut and probe(film).duration > 15

        again = CliRunner().invoke(cli, ["select", str(board), "harbour", "1"])
        assert again.exit_code == 0 and "  select: 1\n" in board.read_text()
        before = board.read_bytes()
        same = CliRunner().invoke(cli, ["select", str(board), "harbour", "1"])  # the take it uses
        assert same.exit_code == 0 and "already uses take 1" in same.output and board.read_bytes() == before
        single = CliRunner().invoke(cli, ["select", str(board), "gulls", "1"])  # one take: nothing to pick
        assert single.exit_code == 0 and "select:" not in board.read_text().split("id: gulls")[1]
        nope = CliRunner().invoke(cli, ["select", str(board), "harbour", "3"])
        assert nope.exit_code == 2 and "has 2 takes: there is no take 3" in nope.output
        unknown = CliRunner().invoke(cli, ["select", str(board), "nope", "1"])
        assert unknown.exit_code == 2 and "no shot 'nope'" in unknown.output


def test_any_take_answers_to_its_number_and_preview_takes_differ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORYBOARD_PREVIEW_SCALE", "0.125")
    board = write_board(
        tmp_path / "film", "preview", [{"id": "a", "prompt": "a door", "takes": 2, "select": 2}]
    )
    p = plan_of(board, "preview")
    assert p.shot("a@2").key == "a" and p.shot("a@1").key == "a@1"  # the cut's take: by id or number
    made = CliRunner().invoke(cli, ["render", str(board), "-q"])
    assert made.exit_code == 0, made.output
    clips = {sp.take: p.storyboard.state_dir / "clips" / f"{sp.fingerprint}.mp4" for sp in p.entries}
    assert clips[1].read_bytes() != clips[2].read_bytes()  # an animatic's takes look different
    forced = CliRunner().invoke(cli, ["plan", str(board), "--force", "a@2"])
    assert forced.exit_code == 0 and "~ a " in forced.stdout
