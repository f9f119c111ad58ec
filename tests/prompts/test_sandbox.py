"""Templates bounded in memory and time: the red team's attacks, each refused with its reason;
ordinary templates unharmed; and generated templates that `validate` always ends on quickly,
in little memory, with exit 0 or 2 (measured by the kernel, in a child with a ceiling)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.prompts.bounded import render_each, run

BIG = "'x'*20000"
WORK = "the template does more than 50,000 operations"
# template -> a fragment of the one problem it must give ("" for: renders fine)
ATTACKS: dict[str, str] = {
    "{{ 'x'|center(1000000000) }}": "center would make about 1000000000 characters",
    "{% set a=9**64 %}{% set a=a**64 %}{% set a=a**64 %}{% set a=a**64 %}{% set a=a**64 %}{{ a }}": (
        "is too large a number"
    ),
    "{% set a=9**64 %}" + "{% set a=a*a %}" * 10 + "{{ a }}": "a product too large a number",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}": "it calls itself without end",
    "{{ 'abc'|truncate(-1) }}": "truncate's length must be at least 3",
    "{{ 9000|wordwrap(1) }}": "the wordwrap filter needs text, not int",
    "{{ 'abc'|wordwrap(0) }}": "wordwrap's width must be at least 1",
    f"{{{{ ({BIG})|replace('', 'y'*20000) }}}}": "replace would make about 400040000 characters",
    f"{{{{ ({BIG}).replace('', 'y'*20000) }}}}": "replace() would make",
    f"{{{{ [[[{BIG}]*20000]|join]|join }}}}": "a `*` makes a value larger than",
    "{{ range(10000)|map('string')|join('x'*20000) }}": "join would make about",
    "{{ '%1000000000s'|format('x') }}": "this %-formatting would make",
    "{{ '%1000000000s' % 'x' }}": "this %-formatting would make",
    "{{ '%*s' % (1000000000, 'x') }}": "this %-formatting would make",
    "{{ '{:>1000000000}'.format('x') }}": "this format would make",
    "{{ '{0:{1}}'.format('x', 1000000000) }}": "this format would make",
    "{{ 'x'.center(1000000000) }}": "center() would make",
    "{{ 'x'.zfill(1000000000) }}": "zfill() would make",
    "{{ ('\\t'*20000).expandtabs(100000) }}": "expandtabs() would make",
    f"{{% set a = {BIG} %}}" + "{% set a=a~a %}" * 6 + "{{ a|length }}": "this `~` would make",
    "{{ ('x\\n'*10000)|indent('y'*20000) }}": "indent would make",
    "{{ [[1]*40000, [2]*40000]|sum(start=[3]*40000) }}": "sum would make",
    "{{ [1]|batch(1000000000, 'x')|list }}": "batch's filling would make",
    "{{ [1]|slice(1000000000)|list }}": "slice would make",
    "{% set ns = namespace(a=[]) %}{% for i in range(100) %}{% set ns.a = [ns.a] %}{% endfor %}"
    "{{ ns.a|tojson }}": "nested more than 32 levels deep",
    "{{ {'a': 1}|tojson(1000000000) }}": "an indent of 1000000000 is too wide",
    f"{{% for a in {BIG} %}}{{% for b in {BIG} %}}{{% endfor %}}{{% endfor %}}": "loops run past 10000 items",
    "{% set x %}{% for i in range(10000) %}{{ 'x'*20000 }}{% endfor %}{% endset %}{{ x|length }}": (
        "the template writes more than 200000 characters"
    ),
    "{% macro m() %}{% for i in range(10000) %}{{ 'y'*20000 }}{% endfor %}{% endmacro %}{{ m()|length }}": (
        "the template writes more than 200000 characters"
    ),
    # 2**40 calls: the count of work stops it, long before the clock's backstop
    "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(40) }}": (
        "the template does more than 50,000 operations"
    ),
    "{{ ('&'*20000)|forceescape|forceescape|forceescape|forceescape|forceescape|forceescape }}": (
        "the forceescape filter makes a value larger than"
    ),
    "{{ ('a.com '*5000)|urlize(target='x'*20000) }}": "urlize would make",
    f"{{{{ ''.join([{BIG}]*20000) }}}}": "a `*` makes a value larger than",
    f"{{{{ ({BIG}).translate({{120: 'y'*20000}}) }}}}": "translate() would make",
    "{{ 10**5000 }}": "10 ** 5000 is too large a number",
    "{{ range(100000000) }}": "a range of 100000000 items; at most 10000",
    "{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}": "the template is more than 1,000 tokens long",
    "{{ " + "(" * 300 + "1" + ")" * 300 + " }}": "the template nests more than 30 levels deep",
    # Jinja compiles a chain of operators in time ~ its length squared: refused before compiling
    "{{ " + "+".join(["1"] * 400) + " }}": "the template nests more than 30 levels deep",
    # work no single value shows: arguments passed, texts scanned, copies, comparisons, sorts
    "{% for i in range(9999) %}{{ loop.cycle(*range(9999)) }}{% endfor %}": WORK,
    f"{{% set s = {BIG} %}}{{% for i in range(9999) %}}{{{{ s.count('y') }}}}{{% endfor %}}": WORK,
    f"{{% set s = {BIG} %}}{{% for i in range(9999) %}}{{{{ s[::-1]|length }}}}{{% endfor %}}": WORK,
    f"{{% set s = {BIG} %}}{{% for i in range(9999) %}}{{{{ 'y' in s }}}}{{% endfor %}}": WORK,
    "{% set s = [1]*9999 %}{% for i in range(9999) %}{{ s == s }}{% endfor %}": WORK,
    "{% set s = range(9999)|list %}{% for i in range(9999) %}{{ s|sort|length }}{% endfor %}": WORK,
    "{% include 'other.j2' %}": "a prompt cannot include, import or extend other templates",
    "{{ 1 / 0 }}": "ZeroDivisionError: division by zero",
    "{{ 'x' * 10000000 }}": "a repetition would make about 10000000 characters",
}

ORDINARY: dict[str, str] = {  # template -> what it renders to, bounds notwithstanding
    "{{ 'Dawn'|center(12) }}|": "    Dawn    |",
    "{{ 'a b c d e'|wordwrap(3) }}": "a b\nc d\ne",
    "{{ 'waves'|replace('a', 'aa') }}": "waaves",
    "{{ ['sea', 'sky']|join(' and ') }}": "sea and sky",
    "{{ '%05.1f'|format(3.14159) }} {{ '%s-%s' % ('a', 'b') }}": "003.1 a-b",
    "{{ '{:>6}|{:.2f}'.format('ab', 2.5) }}": "    ab|2.50",
    "{{ 2 ** 10 }} {{ 'ab' * 3 }} {{ 'a' ~ 'b' }}": "1024 ababab ab",
    "{% for i in range(3) %}{{ i }}{% endfor %}": "012",
    "{{ ('line\\nline')|indent(2) }}": "line\n  line",
    "{{ [1, 2, 3]|sum }} {{ [[1], [2]]|sum(start=[]) }}": "6 [1, 2]",
    "{{ 'hello wide world'|truncate(9, leeway=0) }}": "hello...",
    "{{ 'x'.center(5, '-') }} {{ 'a,b'.replace(',', ' & ') }} {{ '-'.join(['a', 'b']) }}": "--x-- a & b a-b",
    "{% macro m(n) %}{% if n %}{{ n }}{{ m(n - 1) }}{% endif %}{% endmacro %}{{ m(3) }}": "321",
    "{{ [1, 2, 3, 4]|batch(2)|list }} {{ [1, 2, 3]|slice(2)|list }}": "[[1, 2], [3, 4]] [[1, 2], [3]]",
    "{{ {'a': [1, 2]}|tojson }}": '{"a": [1, 2]}',
    # string methods inside a loop or a block: Jinja passes its loop variables along the call
    "{% for w in ['a red door'] %}{{ w.replace('red', 'blue') }} {{ w.center(12, '.') }}{% endfor %}": (
        "a blue door .a red door."
    ),
    "{% for w in ['ab'] %}{{ w.ljust(4, '-') }}{{ w.zfill(3) }}{{ ', '.join([w, w]) }}{% endfor %}": (
        "ab--0abab, ab"
    ),
}


def test_every_attack_is_refused_with_its_reason(tmp_path: Path) -> None:
    got = render_each(list(ATTACKS), tmp_path)
    for (template, fragment), problems in zip(ATTACKS.items(), got, strict=True):
        assert len(problems) == 1 and fragment in problems[0], (template[:80], problems)
        assert problems[0].startswith("the prompt cannot be rendered: ")


def test_ordinary_templates_render_as_in_jinjas_own_sandbox(tmp_path: Path) -> None:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from storyboard.board import model
    from storyboard.load import document
    from storyboard.prompts.bounds import FileBudget
    from storyboard.prompts.templating import _render, context

    plain = ImmutableSandboxedEnvironment()
    for template, want in ORDINARY.items():
        path = tmp_path / "t.yaml"
        path.write_text("storyboard: 1\nshots:\n  - id: a\n    prompt: " + json.dumps(template) + "\n")
        sb = model.from_document(document.load(path))
        got = _render(FileBudget(), template, "t", context(sb, sb.shots[0]))
        assert got == want == plain.from_string(template).render(), template


def test_validate_of_an_attack_is_a_located_error_with_exit_2(tmp_path: Path) -> None:
    board = tmp_path / "board.yaml"
    board.write_text(
        "storyboard: 1\nshots:\n  - id: a\n    prompt: \"{{ 'x'|center(1000000000) }}\"\n"
        "  - id: b\n    prompt: x\n    caption: '{{ 9000|wordwrap(1) }}'\n"
    )
    result = run(["-m", "storyboard", "validate", str(board)])
    assert result.code == 2, result.stderr
    assert f"{board}:4:13: error: shots[0].prompt: the prompt cannot be rendered" in result.stderr
    assert f"{board}:7:14: error: shots[1].caption: the caption cannot be rendered" in result.stderr
    assert "internal error" not in result.stderr and result.peak_mb < 300


# generated templates --------------------------------------------------------------------
NUMBERS = st.sampled_from(["0", "1", "-1", "3", "64", "9**64", "20000", "100000", "1000000000", "10**12"])
TEXTS = st.sampled_from(["'x'", "'ab c'", "'\\t'", "''", "'x'*20000", "'{:>9}'", "'%9s'", "place"])
VALUES = st.one_of(
    NUMBERS,
    TEXTS,
    st.sampled_from(["[1, 2]", "range(10000)", "[[1]*20000]*20", "{'a': 'b'}", "ns.a"]),
)
FILTERS = st.sampled_from(
    ["center({n})", "indent({n})", "wordwrap({n})", "replace('', {t})", "replace('x', {t})", "join({t})",
     "format({t})", "truncate({n})", "batch({n}, 'x')", "slice({n})", "sum(start=[])", "tojson({n})",
     "urlize(target={t})", "string", "list", "forceescape", "map('string')", "pprint", "int", "length",
     "first", "sort", "unique", "striptags", "title"]
)  # fmt: skip
METHODS = st.sampled_from(
    ["center({n})", "ljust({n})", "zfill({n})", "expandtabs({n})", "replace('', {t})", "join({v})",
     "format({v})", "format_map({{'a': {v}}})", "translate({{120: {t}}})", "split()", "upper()"]
)  # fmt: skip
OPERATORS = st.sampled_from(["*", "**", "~", "%", "+", "//"])


@st.composite
def expressions(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.sampled_from(["value", "filter", "method", "binop"] if depth < 3 else ["value"]))
    if kind == "value":
        return draw(VALUES)
    inner = draw(expressions(depth + 1))
    args = {"n": draw(NUMBERS), "t": draw(TEXTS), "v": draw(VALUES)}
    if kind == "filter":
        return f"({inner})|" + draw(FILTERS).format(**args)
    if kind == "method":
        return f"({inner})." + draw(METHODS).format(**args)
    return f"({inner}) {draw(OPERATORS)} ({draw(expressions(depth + 1))})"


@st.composite
def templates(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        expr = draw(expressions())
        shape = draw(
            st.sampled_from(
                ["{{{{ {e} }}}}", "{{% set ns.a = {e} %}}{{{{ ns.a }}}}",
                 "{{% for i in {e} %}}{{% for j in {e} %}}{{{{ i ~ j }}}}{{% endfor %}}{{% endfor %}}",
                 "{{% macro m(n) %}}{{{{ {e} }}}}{{{{ m(n) }}}}{{% endmacro %}}{{{{ m(1) }}}}",
                 "{{% set x %}}{{% for i in range(10000) %}}{{{{ {e} }}}}{{% endfor %}}{{% endset %}}"
                 "{{{{ x }}}}"]
            )
        )  # fmt: skip
        parts.append(shape.format(e=expr))
    return "{% set ns = namespace(a=1) %}" + "".join(parts)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(templates(), min_size=1, max_size=3))
def test_validate_ends_quickly_in_little_memory_on_any_template(tmp_path: Path, prompts: list[str]) -> None:
    board = tmp_path / "board.yaml"
    shots = "".join(
        f"  - id: s{i}\n    prompt: {json.dumps(p)}\n    caption: {json.dumps(p)}\n"
        for i, p in enumerate(prompts)
    )
    board.write_text("storyboard: 1\nvars: {place: a beach}\nshots:\n" + shots)
    result = run(["-m", "storyboard", "validate", str(board)])
    assert result.code in (0, 2), result.stderr[-2000:]
    assert "internal error" not in result.stderr
    # bounds, not speed: the kernel's account of the child's CPU time and peak memory
    assert result.cpu_seconds < 5, (result.cpu_seconds, prompts)
    assert result.peak_mb < 300, (result.peak_mb, prompts)
