"""The render's environment variables: one reader, a clear error for a bad value."""

from __future__ import annotations

import pytest

from storyboard import env
from storyboard.errors import ConfigError


def test_defaults_when_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (env.POLL_INTERVAL, env.RETRY_BASE, env.TASK_TIMEOUT):
        monkeypatch.delenv(name, raising=False)
    assert env.poll_interval() is None
    assert env.retry_base() == 1.0
    assert env.task_timeout() == 1800.0
    monkeypatch.setenv(env.TASK_TIMEOUT, "  ")
    assert env.task_timeout() == 1800.0  # blank is unset


def test_values_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(env.POLL_INTERVAL, "0.05")
    monkeypatch.setenv(env.RETRY_BASE, "2")
    monkeypatch.setenv(env.TASK_TIMEOUT, "90.5")
    assert (env.poll_interval(), env.retry_base(), env.task_timeout()) == (0.05, 2.0, 90.5)


@pytest.mark.parametrize("name", [env.POLL_INTERVAL, env.RETRY_BASE, env.TASK_TIMEOUT])
@pytest.mark.parametrize("value", ["soon", "0", "-3", "nan", "inf"])
def test_a_bad_value_names_the_variable_and_what_it_takes(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        env.seconds(name)
    assert info.value.message == f"{name}={value!r} is not a number of seconds greater than 0"
    assert info.value.hint is not None and name in info.value.hint


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8080", True),
        ("http://localhost", True),
        ("http://[::1]:9", True),
        ("https://nanophoto.ai", False),
        ("http://10.0.0.1", False),
        ("not a url", False),
    ],
)
def test_is_loopback(url: str, local: bool) -> None:
    assert env.is_loopback(url) is local
