"""The registry: every provider is an entry point (the built-ins too), a wrong name or a broken
plugin is a located or a plain message (never a traceback), and nothing outside providers/
names a provider."""

from __future__ import annotations

import configparser
import importlib.metadata
import inspect
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import storyboard
from storyboard import providers
from storyboard.errors import ConfigError, Problem, ValidationError
from storyboard.providers import registry
from storyboard.providers.base import Provider
from storyboard.providers.hosted import HostedProvider
from storyboard.validate.checks import load_storyboard

PACKAGE = Path(storyboard.__file__).resolve().parent
BUILT_IN = {"preview", "veo3o1", "nanophoto", "aivideoapi", "kie"}


def test_the_scan_finds_what_importlib_metadata_finds() -> None:
    expected = {ep.name: ep.value for ep in importlib.metadata.entry_points(group=registry.GROUP)}
    found = {name: regs[0].target for name, regs in registry.entries().items()}
    assert found == expected
    assert set(found) >= BUILT_IN  # the built-ins come from storyboard's own pyproject
    assert registry.entries()["kie"][0].dist == "storyboard"
    assert providers.names() == sorted(found)


def test_every_installed_provider_keeps_the_contract() -> None:
    for name in providers.names():
        cls = providers.get(name)
        assert registry.contract_problems(cls, name) == [], name
        assert cls.name == name and issubclass(cls, Provider)


def test_the_contract_is_declared_on_the_base_class() -> None:
    """Every hook the tool asks of a provider has a default on Provider (or HostedProvider):
    nothing is read with getattr from a class that may not have it."""
    for hook in (
        "name",
        "env",
        "default_base_url",
        "needs_key",
        "free",
        "clip_schemes",
        "burns_captions",
        "workdir",
        "capabilities",
        "Options",
        "submit_path",
        "poll_interval",
        "min_poll_interval",
        "check",
        "check_batch",
        "shot_body",
        "requests",
        "submit_url",
        "cost",
        "task_extra",
        "upload_url",
        "upload",
        "submit",
        "poll",
        "fetched",
        "pace",
        "http",
        "close",
    ):
        assert hook in vars(Provider) or hook in Provider.__annotations__, hook
    assert {"errors", "read_error", "error_of", "poll_each"} <= set(vars(HostedProvider))
    assert inspect.isabstract(Provider) and Provider.__abstractmethods__ == {"shot_body"}
    getattrs = [
        f"{p.relative_to(PACKAGE)}"
        for p in PACKAGE.rglob("*.py")
        if "getattr(" in p.read_text("utf-8")
        and "provider" in p.read_text("utf-8").split("getattr(", 1)[1][:40]
    ]
    assert getattrs == []


def test_nothing_outside_providers_names_a_provider() -> None:
    hosted = {n for n in providers.names() if not providers.get(n).free}
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path.is_relative_to(PACKAGE / "providers"):
            continue
        text = path.read_text("utf-8").lower()
        found += [f"{path.relative_to(PACKAGE)}: {n}" for n in sorted(hosted) if n in text]
    assert found == []


def test_nothing_outside_providers_asks_whether_a_provider_is_local_or_a_test() -> None:
    """The preview goes the providers' way: no module outside providers/ reads a `local`
    attribute (what a provider differs in, it declares: free, clip_schemes, burns_captions),
    and only the key's http rule asks whether a URL is this machine's (never "is it a test")."""
    import ast

    local: list[str] = []
    loopback: list[str] = []
    for path in PACKAGE.rglob("*.py"):
        rel = str(path.relative_to(PACKAGE))
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            name = (
                node.attr
                if isinstance(node, ast.Attribute)
                else node.id
                if isinstance(node, ast.Name)
                else ""
            )
            if name == "local" and not rel.startswith("providers/"):
                local.append(f"{rel}:{node.lineno}")
            if name == "is_loopback":
                loopback.append(rel)
    assert local == []
    assert sorted(set(loopback)) == ["env.py", "providers/config.py"]  # its definition, its one use


def test_an_unknown_name_lists_the_installed_providers() -> None:
    with pytest.raises(ConfigError) as info:
        providers.get("kei")
    assert "unknown provider 'kei'" in info.value.message
    assert all(n in info.value.message for n in providers.names())
    assert info.value.hint == "did you mean 'kie'?"
    with pytest.raises(ConfigError) as far:
        providers.get("zzzz")
    assert (far.value.hint or "").startswith("choose one of: ")


def _board(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "board.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _problems(path: Path) -> list[Problem]:
    with pytest.raises(ValidationError) as info:
        load_storyboard(path)
    return info.value.problems


def test_a_storyboard_naming_no_installed_provider_gets_a_located_error(tmp_path: Path) -> None:
    board = _board(tmp_path, "storyboard: 1\nprovider: kei\nshots:\n  - id: a\n    prompt: x\n")
    (problem,) = _problems(board)
    assert (problem.path, problem.location.line, problem.location.column) == ("provider", 2, 11)  # type: ignore[union-attr]
    assert problem.message.startswith("unknown provider 'kei': the installed providers are ")
    assert problem.hint == "did you mean 'kie'?"
    assert "board.yaml:2:11: error: provider: unknown provider 'kei'" in problem.format()


def test_provider_options_are_typed_and_located(tmp_path: Path) -> None:
    board = _board(
        tmp_path,
        "storyboard: 1\nproviders:\n  nanophoto: {bacth: 3}\n  kei: {}\n  veo3o1: {batch: 2}\n"
        "shots:\n  - id: a\n    prompt: x\n",
    )
    got = {(p.path, p.location.line, p.location.column): p for p in _problems(board)}  # type: ignore[union-attr]
    bacth = got[("providers.nanophoto.bacth", 3, 15)]
    assert (
        "there is no option 'bacth' (options: batch)" in bacth.message
        and bacth.hint == "did you mean 'batch'?"
    )
    kei = got[("providers.kei", 4, 3)]
    assert kei.message.startswith("unknown provider 'kei'") and kei.hint == "did you mean 'kie'?"
    veo = got[("providers.veo3o1.batch", 5, 12)]
    assert "there is no option 'batch' (options: none)" in veo.message
    assert len(got) == 3
    for value, words in (
        ("0", "below the least allowed, 1"),
        ("22", "above the most allowed, 21"),
        ("'3'", "expected a whole number, not the text '3'"),
        ("true", "expected a whole number"),
    ):
        board.write_text(
            f"storyboard: 1\nproviders:\n  nanophoto: {{batch: {value}}}\nshots:\n  - id: a\n    prompt: x\n"
        )
        (p,) = _problems(board)
        assert p.path == "providers.nanophoto.batch" and words in p.message, (value, p.message)
        assert "shots a request" in (p.hint or "")
    board.write_text(
        "storyboard: 1\nproviders:\n  nanophoto: {batch: 21}\nshots:\n  - id: a\n    prompt: x\n"
    )
    assert load_storyboard(board).provider_options == {"nanophoto": {"batch": 21}}


# broken plugins: reported by name, with what to do; the rest goes on ------------------------
@pytest.fixture
def site(tmp_path: Path) -> Iterator[Path]:
    """A folder on sys.path where a test installs distributions, found as any installed one
    (importlib.metadata finds a *.dist-info in any sys.path folder, and so does the scan)."""
    folder = tmp_path / "site"
    folder.mkdir()
    sys.path.insert(0, str(folder))
    registry.reset()
    try:
        yield folder
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m.startswith("fakeplug")]:
            del sys.modules[name]
        registry.reset()


def _install(site: Path, dist: str, entries: dict[str, str], code: str = "") -> None:
    info = site / f"{dist}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n", encoding="utf-8")
    lines = "".join(f"{k} = {v}\n" for k, v in entries.items())
    (info / "entry_points.txt").write_text(f"[storyboard.providers]\n{lines}", encoding="utf-8")
    if code:
        (site / f"{dist}.py").write_text(code, encoding="utf-8")


GOOD = """
from storyboard.providers.hosted import HostedProvider
class Good(HostedProvider):
    name = "good"
    env = "GOOD"
    def shot_body(self, shot):
        return {}, ()
    def submit(self, request):
        return {}
    def poll(self, tasks):
        return {}
class Misnamed(Good):
    name = "other"
class NoPoll(HostedProvider):
    name = "nopoll"
    env = "NOPOLL"
    def shot_body(self, shot):
        return {}, ()
    def submit(self, request):
        return {}
class NotOne:
    pass
class OddCapabilities(Good):
    name = "oddcaps"
    capabilities = {"aspect_ratios": ["16:9"]}
"""


def test_broken_plugins_are_named_not_raised(site: Path) -> None:
    _install(
        site,
        "fakeplug",
        {
            "good": "fakeplug:Good",
            "misnamed": "fakeplug:Misnamed",
            "nopoll": "fakeplug:NoPoll",
            "notone": "fakeplug:NotOne",
            "gone": "fakeplug_missing:Thing",
            "oddcaps": "fakeplug:OddCapabilities",
        },
        GOOD,
    )
    assert {"good", "misnamed", "nopoll", "notone", "gone", "oddcaps"} <= set(providers.names())
    cases = {
        "misnamed": "its `name` is 'other', registered as 'misnamed'",
        "nopoll": "a provider must implement poll()",
        "notone": "is not a Provider subclass",
        "gone": "could not be loaded: ModuleNotFoundError",
        "oddcaps": "its `capabilities` is not a Capabilities",
    }
    for name, words in cases.items():
        with pytest.raises(ConfigError) as info:
            providers.get(name)
        assert words in info.value.message, (name, info.value.message)
        assert "from the fakeplug package" in info.value.message
    # "who can" asks every provider that loads, and leaves the broken ones out, each said once
    assert {c.name for c in providers.classes()} == set(providers.names()) - set(cases)
    said = [w.message for w in registry.warnings()]
    assert len(said) == len(cases) and all(w.endswith("; it is left out") for w in said)
    for name, words in cases.items():
        assert sum(f"provider plugin {name!r}" in w and words in w for w in said) == 1, name


def test_a_plugin_found_before_the_built_ins_does_not_hide_them(site: Path) -> None:
    _install(site, "fakeplug", {"good": "fakeplug:Good"}, GOOD)
    assert providers.get("good").__name__ == "Good"
    assert set(providers.names()) >= BUILT_IN


# Each way a plugin's own code can break, in a module of its own: at import (an exit, an
# error), at class attribute access, in a capability check (an exit again).
BROKEN = {
    "exits": "raise SystemExit(0)\n",
    "raises": "raise ValueError('half installed')\n",
    "attribute": """
from storyboard.providers.hosted import HostedProvider
class Exploding:
    def __get__(self, obj, owner):
        raise RuntimeError("no capabilities today")
class P(HostedProvider):
    name = "fakeplug_attribute"
    env = "ATTRIBUTE"
    capabilities = Exploding()
    def shot_body(self, shot):
        return {}, ()
    def submit(self, request):
        return {}
    def poll(self, tasks):
        return {}
""",
    "check": """
from storyboard.providers.capabilities import Capabilities
from storyboard.providers.hosted import HostedProvider
class Exits(tuple):
    def __contains__(self, item):
        raise SystemExit(0)
class P(HostedProvider):
    name = "fakeplug_check"
    env = "CHECK"
    capabilities = Capabilities(aspect_ratios=Exits(("16:9",)))
    def shot_body(self, shot):
        return {}, ()
    def submit(self, request):
        return {}
    def poll(self, tasks):
        return {}
""",
}
WORDS = {
    "exits": "could not be loaded: SystemExit: 0",
    "raises": "could not be loaded: ValueError: half installed",
    "attribute": "is broken: reading its `capabilities` raised RuntimeError: no capabilities today",
    "check": "failed checking what it can do for a shot: SystemExit: 0",
}

# veo3o1 makes the fast model only, so each `model: quality` asks every provider who can
BAD_VEO3O1 = """storyboard: 1
provider: veo3o1
shots:
  - id: a
    prompt: a tower at dusk
    model: quality
  - id: b
    prompt: a harbour at dawn
    model: quality
    duration: 99
"""
CAN_QUALITY = "providers that can: aivideoapi, gemini, kie"  # the quality model: every built-in that has it
BAD_PROBLEMS = {"shots[0].model": (6, 5), "shots[1].model": (9, 5), "shots[1].duration": (10, 5)}


def _broken(site: Path, kind: str) -> str:
    """Install the broken plugin of this kind; its provider name (= module; the package's
    name is the same, normalised as pip shows it: fakeplug-exits)."""
    name = f"fakeplug_{kind}"
    target = f"{name}:P" if kind in ("attribute", "check") else f"{name}:Anything"
    _install(site, name, {name: target}, BROKEN[kind])
    return name


def _dist(name: str) -> str:
    return name.replace("_", "-")


def _board(tmp_path: Path, text: str, name: str = "board.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _warnings(stderr: str, name: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith("warning: ") and repr(name) in ln]


def _run(*args: str) -> Any:
    from click.testing import CliRunner

    from storyboard.cli import cli

    return CliRunner().invoke(cli, list(args))


def test_a_plugin_that_exits_at_import_leaves_validate_its_exit_code(site: Path, tmp_path: Path) -> None:
    """The process exit is the point: a real `storyboard validate`, the plugin installed."""
    name = _broken(site, "exits")
    board = _board(tmp_path, BAD_VEO3O1)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
    proc = subprocess.run(
        [sys.executable, "-m", "storyboard", "validate", str(board)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    for path, (line, column) in BAD_PROBLEMS.items():
        assert f"board.yaml:{line}:{column}: error: {path}: " in proc.stderr, path
    assert CAN_QUALITY in proc.stderr
    assert "board.yaml: 3 problems" in proc.stderr
    (warning,) = _warnings(proc.stderr, name)
    assert WORDS["exits"] in warning and f"from the {_dist(name)} package" in warning
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_a_broken_plugin_is_one_warning_and_the_rest_works(site: Path, tmp_path: Path, kind: str) -> None:
    name = _broken(site, kind)
    board = _board(tmp_path, BAD_VEO3O1)

    def said_once(stderr: str) -> None:
        (warning,) = _warnings(stderr, name)  # once, though every bad shot asks who can
        assert warning.startswith(f"warning: provider plugin {name!r} ({name}:"), warning
        assert WORDS[kind] in warning and f"from the {_dist(name)} package" in warning
        assert warning.endswith(f"it is left out (reinstall or fix the {_dist(name)} package)"), warning
        registry.reset()  # the next command is another process

    text = _run("validate", str(board))
    assert text.exit_code == 2, text.output
    assert all(f": error: {path}: " in text.stderr for path in BAD_PROBLEMS)
    assert CAN_QUALITY in text.stderr
    said_once(text.stderr)

    as_json = _run("validate", str(board), "--json")
    assert as_json.exit_code == 2
    data = json.loads(as_json.stdout)
    assert data["ok"] is False and data["files"][0]["problems"] == 3
    assert {(e["path"], e["line"], e["column"]) for e in data["errors"]} == {
        (p, line, col) for p, (line, col) in BAD_PROBLEMS.items()
    }
    said_once(as_json.stderr)

    for command in ("plan", "render"):
        result = _run(command, str(board))
        assert result.exit_code == 2, (command, result.output)
        assert "3 problems" in result.stderr and "shots[1].duration" in result.stderr
        said_once(result.stderr)
    assert not (tmp_path / ".storyboard").exists()  # the render stopped before anything


def test_a_broken_plugin_is_an_error_where_it_is_the_provider(site: Path, tmp_path: Path) -> None:
    name = _broken(site, "raises")
    board = _board(tmp_path, BAD_VEO3O1.replace("provider: veo3o1", f"provider: {name}"))
    result = _run("plan", str(board))
    assert result.exit_code == 2
    assert (
        f"board.yaml:2:11: error: provider: provider plugin {name!r} ({name}:Anything, from the "
        f"{_dist(name)} package) could not be loaded: ValueError: half installed" in result.stderr
    )
    assert "shots[1].duration: unknown key" in result.stderr and "\n2 problems" in result.stderr
    assert _warnings(result.stderr, name) == []  # an error here, not also a warning
    # a plugin's code that calls exit while it is the provider: a bug, never a silent 0
    _install(
        site,
        "fakeplug_quitter",
        {"fakeplug_quitter": "fakeplug_quitter:Good"},
        GOOD.replace('name = "good"', 'name = "fakeplug_quitter"').replace(
            "return {}, ()", "raise SystemExit(0)", 1
        ),
    )
    registry.reset()
    quits = _run("plan", str(_board(tmp_path, "storyboard: 1\nshots:\n  - {id: a, prompt: x}\n", "q.yaml")))
    assert quits.exit_code == 0  # the preview: the plugin is not asked
    quits = _run("plan", str(tmp_path / "q.yaml"), "-p", "fakeplug_quitter")
    assert quits.exit_code == 1, quits.output  # never a silent 0: its failure, named
    assert "provider plugin 'fakeplug_quitter'" in quits.stderr
    assert "failed in its shot_body() for shot 'a'" in quits.stderr and "SystemExit: 0" in quits.stderr
    # a file refused already is still refused with its problems, the plugin's exit aside
    bad = _run("validate", str(_board(tmp_path, BAD_VEO3O1, "v.yaml")), "-p", "fakeplug_quitter")
    assert bad.exit_code == 2 and "shots[1].duration: unknown key" in bad.stderr


def test_options_for_a_broken_plugin_do_not_stop_another_provider(site: Path, tmp_path: Path) -> None:
    name = _broken(site, "raises")
    options = f"providers:\n  {name}: {{grain: 2}}\n"
    board = _board(tmp_path, KIE_BOARD.replace("shots:\n", options + "shots:\n"))
    result = _run("validate", str(board))
    assert result.exit_code == 0, result.output
    (warning,) = _warnings(result.stderr, name)
    assert WORDS["raises"] in warning


IMPOSTOR = """
from storyboard.providers.kie import KieProvider
class Kie(KieProvider):
    default_base_url = "https://impostor.example"
"""

KIE_BOARD = "storyboard: 1\nprovider: kie\nshots:\n  - {id: a, prompt: a red door in the rain}\n"


def test_a_second_package_registering_kie_does_not_displace_the_built_in(site: Path, tmp_path: Path) -> None:
    _install(site, "fakeplug_kie", {"kie": "fakeplug_kie:Kie"}, IMPOSTOR)
    assert [e.dist for e in registry.entries()["kie"]] == ["fakeplug-kie", "storyboard"]  # found first
    board = _board(tmp_path, KIE_BOARD)
    result = _run("plan", str(board), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["provider"] == "kie" and data["base_url"] == "https://api.kie.ai"
    assert [r["url"] for r in data["requests"]] == ["https://api.kie.ai/api/v1/veo/generate"]
    (warning,) = _warnings(result.stderr, "kie")
    assert "the package fakeplug-kie (fakeplug_kie:Kie) also registers a provider named 'kie'" in warning
    assert "the built-in kie is used" in warning
    assert "fakeplug_kie" not in sys.modules  # never imported
    from storyboard.providers.kie import KieProvider

    assert providers.get("kie") is KieProvider


def test_two_packages_registering_one_name_is_a_warning_naming_both(site: Path) -> None:
    _install(site, "fakeplug", {"good": "fakeplug:Good"}, GOOD)
    _install(site, "fakeplug_twin", {"good": "fakeplug:Good"})
    assert providers.get("good").__name__ == "Good"
    (warning,) = registry.warnings()
    assert warning.message == (
        "provider 'good' is registered by more than one package: fakeplug (fakeplug:Good), "
        "fakeplug-twin (fakeplug:Good); the one from fakeplug is used (the first on sys.path)"
    )
    assert warning.hint == "uninstall one of them"
    providers.get("good")
    assert len(registry.warnings()) == 1  # said once


LAZY = GOOD.replace('name = "good"', 'name = "fakeplug_lazy"')


def test_plugins_load_only_when_named_or_listed(site: Path, tmp_path: Path) -> None:
    _install(site, "fakeplug_lazy", {"fakeplug_lazy": "fakeplug_lazy:Good"}, LAZY)
    _broken(site, "exits")
    result = _run("validate", str(_board(tmp_path, KIE_BOARD)))
    assert result.exit_code == 0 and result.stderr == ""
    assert not [m for m in sys.modules if m.startswith("fakeplug")]  # neither was imported
    # a message that names the providers that can asks each of them
    result = _run("validate", str(_board(tmp_path, BAD_VEO3O1)))
    assert result.exit_code == 2 and "fakeplug_lazy" in sys.modules


BUGGY = """
from storyboard.providers.hosted import HostedProvider
class P(HostedProvider):
    name = "fakeplug_buggy"
    env = "BUGGY"
    needs_key = False
    def shot_body(self, shot):
        return {"frames": shot.shot.settings.__dict__["no such setting"]}, ()
    def submit(self, request):
        return {}
    def poll(self, tasks):
        return {}
"""


@pytest.mark.parametrize(
    ("kind", "failed"),
    [
        (
            "buggy",
            "failed in its shot_body() for shot 'a' while the plan was made: KeyError: 'no such setting'",
        ),
        ("check", "failed in its check() for shot 'a' while the plan was made: SystemExit: 0"),
    ],
)
def test_a_plugin_that_raises_at_plan_time_is_named_with_what_failed(
    site: Path, tmp_path: Path, kind: str, failed: str
) -> None:
    """The provider in use raises while the plan is made (building a shot's request, checking
    a shot): one error naming the plugin, its package, the hook and the shot, exit 1, no
    traceback, nothing written. For the rest it is a warning: another provider's plan works."""
    if kind == "buggy":
        name = "fakeplug_buggy"
        _install(site, name, {name: f"{name}:P"}, BUGGY)
    else:
        name = _broken(site, kind)
    board = _board(tmp_path, f"storyboard: 1\nprovider: {name}\nshots:\n  - {{id: a, prompt: a tower}}\n")
    said = f"provider plugin {name!r} ({name}:P, from the {_dist(name)} package) {failed}"
    hint = f"reinstall or fix the {_dist(name)} package, or choose another provider with -p"
    for args in (("plan", str(board)), ("plan", str(board), "--json"), ("render", str(board), "--yes")):
        result = _run(*args)
        assert result.exit_code == 1, (args, result.output)
        if "--json" in args:
            (error,) = json.loads(result.stdout)["errors"]
            assert error["message"] == said and error["hint"] == hint, error
        else:
            assert f"error: {said}\n  hint: {hint}" in result.stderr
        assert "Traceback" not in result.output and "internal error" not in result.output
        registry.reset()
    assert not (tmp_path / ".storyboard").exists()
    other = _run("plan", str(_board(tmp_path, BAD_VEO3O1.replace("duration: 99\n", ""), "other.yaml")))
    assert other.exit_code == 2 and CAN_QUALITY in other.stderr  # who can: asked of every provider
    if kind == "check":  # asked what it can do, it fails: left out, said once
        (warning,) = _warnings(other.stderr, name)
        assert WORDS[kind] in warning


# the entry points' file, read without configparser: as configparser reads it --------------------
def configparser_reads(text: str, group: str) -> list[tuple[str, str]] | None:
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep names' case
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    return [(k.strip(), v.strip()) for k, v in parser.items(group)] if parser.has_section(group) else None


@pytest.mark.parametrize(
    "text",
    [
        "[storyboard.providers]\nmine = mypkg.mod:Mine\nOther=pkg:Other\n",
        "[console_scripts]\nsb = x:y\n\n[storyboard.providers]\n# a comment\n; another\na = m:A\n",
        "[storyboard.providers]\na = m:A\n  continued\n\n      more\nb = m:B\n",
        "[storyboard.providers]\na = m:A\nA = m:Upper\n",  # names keep their case
        "[storyboard.providers]\na = m:A\na = m:Again\n",  # a name twice: refused
        "[storyboard.providers]\na = m:A\n[storyboard.providers]\nb = m:B\n",  # a section twice
        "a = m:A\n[storyboard.providers]\nb = m:B\n",  # outside any section
        "[storyboard.providers]\nno delimiter here\n",
        "[storyboard.providers]\n = m:A\n",  # no name
        "[storyboard.providers]\na: m:A\n",  # `:` is no delimiter here
        "[storyboard.providers] trailing\na = m:A = B\n",
        "[DEFAULT]\nd = m:D\n[storyboard.providers]\na = m:A\n",
        "[ storyboard.providers ]\na = m:A\n",  # another section's name
        "[console_scripts]\nsb = x:y\n",
        "",
    ],
)
def test_the_entry_points_group_is_read_as_configparser_reads_it(text: str) -> None:
    assert registry._group(text, "storyboard.providers") == configparser_reads(text, "storyboard.providers")
