"""Bounds per file, not per prompt: all the templates of a storyboard share one budget of work
and one of time, across every pass that renders them (validate, plan, render).

The tests count work and drive the clock; none of them times anything. The figures the
bounds keep on a real machine are in docs/benchmarks.md (bench/bounds_bench.py).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storyboard import pipeline
from storyboard.board import model
from storyboard.errors import ValidationError
from storyboard.load import document
from storyboard.prompts.bounds import MAX_FILE_WORK, MAX_TOKENS, MAX_VALUE, MAX_WORK, TOKEN_OPS, FileBudget
from storyboard.prompts.templating import budget, check_all, render_caption, render_prompt
from storyboard.validate.checks import load_storyboard
from tests.prompts.bounded import run

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# prompts that would each run for seconds (or for ever) unbounded
BOMBS = [
    "{% for i in range(9999) %}{{ loop.cycle(*range(9999)) }}{% endfor %}",
    "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(40) }}",
    "{% set s = 'x'*99999 %}{% for i in range(9999) %}{{ s.count('y') }}{% endfor %}",
    "{% set s = range(9999)|list %}{% for i in range(9999) %}{{ s|sort|length }}{% endfor %}",
    "{% for a in range(9999) %}{{ " + "+".join(["1"] * 25) + " }}{% endfor %}",
    "{{ " + "+".join(["1"] * 20000) + " }}",
]
# within a prompt's own bound, and heavy: 21 of them are more than a file's
HEAVY = [
    "{% for i in range(9999) %}{{ loop.cycle(1, 2) }}{% endfor %}",
    "{% for i in range(3) %}{{ i }}{% endfor %}" * 62,  # compiling a long template is work too
]
ORDINARY = [
    "a quay at dusk",
    "{{ place }} at dawn, shot {{ shot.number }} of {{ shots|length }}",
    "{{ 'x'|upper }}",
]


def frozen() -> float:
    """A clock that never moves: whatever stops a template is the count of its work."""
    return 0.0


def storyboard(
    tmp_path: Path, prompts: list[str], captions: list[str | None] | None = None
) -> model.Storyboard:
    captions = captions or [None] * len(prompts)
    shots = "".join(
        f"  - id: s{i}\n    prompt: {json.dumps(p)}\n" + (f"    caption: {json.dumps(c)}\n" if c else "")
        for i, (p, c) in enumerate(zip(prompts, captions, strict=True))
    )
    path = tmp_path / "board.yaml"
    path.write_text(f"storyboard: 1\nprovider: preview\nvars: {{place: a beach}}\nshots:\n{shots}")
    sb = model.from_document(document.load(path))
    sb.renders.budget = FileBudget(clock=frozen)
    return sb


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(0, len(BOMBS + HEAVY + ORDINARY) - 1), min_size=21, max_size=21))
def test_the_templates_of_a_file_share_one_budget_of_work(tmp_path: Path, picks: list[int]) -> None:
    """21 prompts, any mix of bombs and ordinary ones, the clock frozen: the work stops within
    the file's budget (one charge past it at most), every bomb is named (its own problem, or
    the one for the templates the budget did not reach), and no ordinary prompt is blamed."""
    prompts = [(BOMBS + HEAVY + ORDINARY)[k] for k in picks]  # drawn by index: the bombs are long
    sb = storyboard(tmp_path, prompts)
    problems = check_all(sb)
    used = budget(sb).used
    # one charge may pass the line: a sort of a whole value, or compiling the longest template
    assert used <= MAX_FILE_WORK + max(MAX_VALUE, MAX_TOKENS * TOKEN_OPS)
    by_shot = {int(p.path.split("[")[1].split("]")[0]): p for p in problems}
    assert len(by_shot) == len(problems)  # each shot named once at most
    unreached = [i for i, p in by_shot.items() if "was not rendered" in p.message]
    first_unreached = unreached[0] if unreached else len(prompts)
    assert len(unreached) <= 1
    together = "the templates of this file together do more than"
    crossed = [i for i, p in by_shot.items() if together in p.message]
    assert len(crossed) <= 1  # the one that crossed the file's line; the rest were not reached
    for i, prompt in enumerate(prompts):
        if i > first_unreached:
            assert i not in by_shot  # the one problem at the first unreached says it for all
        elif prompt in BOMBS and i < first_unreached:
            assert i in by_shot, (i, prompt[:60])
            assert "the prompt cannot be rendered: the template" in by_shot[i].message
            assert by_shot[i].hint
        elif i < first_unreached:  # heavy or ordinary: blamed only for crossing the file's line
            assert i not in by_shot or i in crossed, (i, by_shot[i].message)
        if i in by_shot:  # located at the shot's own prompt
            assert by_shot[i].location == sb.location(("shots", i, "prompt"))
    if unreached:
        more = sum(1 for _ in prompts[first_unreached + 1 :])
        assert f"(nor the {more} prompts and captions after it)" in by_shot[first_unreached].message
        assert f"more than {MAX_FILE_WORK:,} operations" in by_shot[first_unreached].message
    # the passes after the first render nothing again: the same problems, for no work
    assert check_all(sb) == problems
    assert budget(sb).used == used


def test_21_bombs_cost_one_files_budget_not_21(tmp_path: Path) -> None:
    sb = storyboard(tmp_path, [BOMBS[0]] * 21)
    problems = check_all(sb)
    assert budget(sb).used <= MAX_FILE_WORK + MAX_VALUE
    # each of the first is its own runaway; the file's budget runs out within a few of them
    own = [p for p in problems if f"the template does more than {MAX_WORK:,} operations" in p.message]
    assert [p.path for p in own] == [f"shots[{i}].prompt" for i in range(len(own))]
    assert 1 <= len(own) <= MAX_FILE_WORK // MAX_WORK
    last = problems[-1]
    assert last.message.startswith("the prompt was not rendered (nor the ")
    assert last.hint == "fix the templates named above (a loop or filter doing too much), then validate again"


def test_the_clock_is_a_backstop_across_the_whole_file(tmp_path: Path) -> None:
    """A clock that moves 0.5 s a reading: the file's 2 s run out within the first prompt
    (time spent rendering counts, across prompts), and the rest are one problem."""
    ticks = itertools.count()
    sb = storyboard(tmp_path, ["{% for i in range(5000) %}{% endfor %}x"] * 3, ["{{ place }}"] * 3)
    sb.renders.budget = FileBudget(clock=lambda: next(ticks) * 0.5)
    problems = check_all(sb)
    assert [p.path for p in problems] == ["shots[0].prompt", "shots[0].caption"]
    assert "the templates of this file together take more than 2 s of work to render" in problems[0].message
    unreached = "the caption was not rendered (nor the 4 prompts and captions after it)"
    assert problems[1].message.startswith(unreached)
    assert "they took more than 2 s of work to render together" in problems[1].message


def test_only_time_spent_rendering_counts(tmp_path: Path) -> None:
    """Hours between passes (a render's generation) take nothing from the file's seconds."""
    now = [0.0]
    sb = storyboard(tmp_path, ["a", "b"])
    sb.renders.budget = FileBudget(clock=lambda: now[0])
    render_prompt(sb, sb.shots[0])
    now[0] += 3600.0
    assert render_prompt(sb, sb.shots[1]) == "b"
    assert budget(sb).seconds == 2.0


def test_validate_plan_and_render_go_through_one_rendering(tmp_path: Path) -> None:
    sb = storyboard(tmp_path, ORDINARY * 7, ["{{ place }}"] * 21)
    assert check_all(sb) == []
    used = budget(sb).used
    pipeline.make_plan(sb)
    pipeline.make_plan(sb, "kie")
    assert render_caption(sb, sb.shots[3]) == "a beach"
    assert budget(sb).used == used


def test_a_file_with_problems_spends_its_budget_once_too(tmp_path: Path) -> None:
    """A file refused by its schema is sketched, its templates checked, and its provider's
    problems asked: the bombs in it are rendered in one of those passes, not in each."""
    path = tmp_path / "board.yaml"
    shots = "".join(f"  - id: s{i}\n    prompt: {json.dumps(BOMBS[0])}\n" for i in range(21))
    path.write_text(f"storyboard: 1\nprovider: preview\ntitle: [not text]\nshots:\n{shots}")
    with pytest.raises(ValidationError) as err:
        pipeline.load(path)
    assert err.value.partial is not None
    sb = err.value.partial.storyboard
    paths = [p.path for p in err.value.problems]
    assert paths[0] == "title" and len(paths) == len(set(paths))
    used = budget(sb).used
    assert used <= MAX_FILE_WORK + MAX_VALUE
    with pytest.raises(ValidationError):
        pipeline.make_plan(sb)
    assert budget(sb).used == used


def test_the_examples_use_little_of_their_budget() -> None:
    for path in sorted(EXAMPLES.glob("*/*.yaml")):
        sb = load_storyboard(path)
        assert 0 < budget(sb).used < MAX_FILE_WORK // 10, (path, budget(sb).used)


def test_validate_of_21_bombs_is_a_located_error_with_exit_2(tmp_path: Path) -> None:
    board = tmp_path / "board.yaml"
    shots = "".join(f"  - id: s{i}\n    prompt: '{BOMBS[0]}'\n" for i in range(21))
    board.write_text(f"storyboard: 1\nprovider: preview\nshots:\n{shots}")
    result = run(["-m", "storyboard", "validate", str(board)])
    assert result.code == 2, result.stderr[-2000:]
    assert (
        f"{board}:5:13: error: shots[0].prompt: the prompt cannot be rendered: the template does more "
        f"than {MAX_WORK:,} operations" in result.stderr
    )
    assert "a prompt is a paragraph: loop over fewer items" in result.stderr
    assert "was not rendered (nor the " in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_of_20000_duplicate_keys_is_a_located_error_with_exit_2(tmp_path: Path) -> None:
    board = tmp_path / "board.yaml"
    keys = "".join(f"  k: {i}\n" for i in range(20_000))
    board.write_text(f"storyboard: 1\nvars:\n{keys}shots:\n  - id: a\n    prompt: x\n")
    result = run(["-m", "storyboard", "validate", str(board)])
    assert result.code == 2, result.stderr[-2000:]
    assert f"{board}:4:3: error: vars.k: duplicate key 'k' (first given on line 3)" in result.stderr
    assert f"{board}:20002:3: error: vars.k: duplicate key 'k'" in result.stderr
    assert result.stderr.rstrip().endswith(f"{board}: 19999 problems")
