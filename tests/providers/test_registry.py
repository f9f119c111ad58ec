"""The registry: every provider is an entry point (the built-ins too), a wrong name or a broken
plugin is a located or a plain message (never a traceback), and nothing outside providers/
names a provider."""

from __future__ import annotations

import importlib.metadata
import inspect
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import storyboard
from storyboard import providers
from storyboard.errors import ConfigError, Problem, ValidationError
from storyboard.providers import registry
from storyboard.providers.base import Provider
from storyboard.providers.hosted import HostedProvider
from storyboard.spec.checks import load_storyboard

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
        "local",
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
        "render",
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
    hosted = {n for n in providers.names() if not providers.get(n).local}
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path.is_relative_to(PACKAGE / "providers"):
            continue
        text = path.read_text("utf-8").lower()
        found += [f"{path.relative_to(PACKAGE)}: {n}" for n in sorted(hosted) if n in text]
    assert found == []


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


# broken plugins: reported by name, with what to do --------------------------------------------
@pytest.fixture
def site(tmp_path: Path) -> Iterator[Path]:
    """A folder on sys.path where a test installs fake distributions."""
    sys.path.insert(0, str(tmp_path))
    registry.entries.cache_clear()
    registry._load.cache_clear()
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("fakeplug")]:
            del sys.modules[name]
        registry.entries.cache_clear()
        registry._load.cache_clear()


def _install(site: Path, dist: str, entries: dict[str, str], code: str = "") -> None:
    info = site / f"{dist}-1.0.dist-info"
    info.mkdir()
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
        },
        GOOD,
    )
    _install(site, "fakeplug_twin", {"good": "fakeplug:Good"})
    assert {"good", "misnamed", "nopoll", "notone", "gone"} <= set(providers.names())
    cases = {
        "misnamed": "its `name` is 'other', registered as 'misnamed'",
        "nopoll": "a hosted provider must implement poll()",
        "notone": "is not a Provider subclass",
        "gone": "could not be loaded: ModuleNotFoundError",
        "good": "registered by more than one package: fakeplug (fakeplug:Good), fakeplug-twin",
    }
    for name, words in cases.items():
        with pytest.raises(ConfigError) as info:
            providers.get(name)
        assert words in info.value.message, (name, info.value.message)
    # "who can" asks every provider that loads, and skips the broken ones
    assert {c.name for c in providers.classes()} >= BUILT_IN


def test_a_plugin_found_before_the_built_ins_does_not_hide_them(site: Path) -> None:
    _install(site, "fakeplug", {"good": "fakeplug:Good"}, GOOD)
    assert providers.get("good").__name__ == "Good"
    assert set(providers.names()) >= BUILT_IN
