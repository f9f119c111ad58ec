"""Provider settings come from the environment or a .env file; keys are required only to spend."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storyboard.errors import ConfigError
from storyboard.providers import config


def test_dotenv_parsing(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "# keys\nexport KIE_API_KEY='kie-secret'\nKIE_BASE_URL=http://127.0.0.1:9 # local\n\nJUNK\n"
    )
    assert config.read_dotenv(tmp_path / ".env") == {
        "KIE_API_KEY": "kie-secret",
        "KIE_BASE_URL": "http://127.0.0.1:9",
    }
    # Windows line ends are line ends; a \r or U+2028 inside a line is the value's (said, if
    # it is a key: config.header_problem), never a line end that cuts a key short
    (tmp_path / ".env").write_bytes("A=1\r\nB='2'\r\nC=3\r4\u20285\n".encode())
    assert config.read_dotenv(tmp_path / ".env") == {"A": "1", "B": "2", "C": "3\r4\u20285"}


def test_a_key_that_cannot_go_in_a_header_is_named_never_shown() -> None:
    assert config.header_problem("sk-Ab0~ !x") is None  # printable ASCII, spaces too, go in a header
    assert config.header_problem("sk-\nAb") == "its character 4 of 6 is a line break"
    assert config.header_problem("sk\u200bAb") == (
        "its character 3 of 5 is an invisible zero width space (U+200B)"
    )
    assert config.header_problem("sk\x01") == "its character 3 of 3 is a control character (U+0001)"
    assert (
        config.header_problem("skÅb")
        == "its character 3 of 4 is outside ASCII (not shown: it is part of the key)"
    )


def test_environment_wins_over_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("KIE_API_KEY=from-file\nKIE_BASE_URL=https://file.example\n")
    assert config.settings("KIE", tmp_path, {"KIE_API_KEY": "from-env"}) == (None, "from-env")
    assert config.settings("KIE", tmp_path, {}) == ("https://file.example", "from-file")


def test_missing_key_names_the_variable_only_when_needed(tmp_path: Path) -> None:
    provider = config.make_provider("preview", tmp_path, need_key=True, environ={})
    assert provider.name == "preview"
    with pytest.raises(ConfigError, match="set KIE_API_KEY"):
        config.make_provider("kie", tmp_path, need_key=True, environ={})
    assert config.make_provider("kie", tmp_path, environ={}).api_key is None


def test_unknown_provider_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown provider 'kei'") as e:
        config.make_provider("kei", tmp_path, environ={})
    assert "kie" in (e.value.hint or "")


def test_dotenv_base_url_cannot_redirect_a_key_from_the_environment(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("KIE_BASE_URL=https://attacker.example\n")
    assert config.settings("KIE", tmp_path, {"KIE_API_KEY": "mine"}) == (None, "mine")
    # with its own key, the folder's .env may choose its own server
    (tmp_path / ".env").write_text("KIE_BASE_URL=https://proxy.example\nKIE_API_KEY=theirs\n")
    assert config.settings("KIE", tmp_path, {}) == ("https://proxy.example", "theirs")


# a name that merely starts with 127. is not this machine (one loopback rule: env.is_loopback)
@pytest.mark.parametrize(
    "url", ["http://api.kie.ai", "ftp://x", "api.kie.ai", "http://10.0.0.1:8080", "http://127.0.0.1.nip.io"]
)
def test_keys_travel_only_over_https_or_to_loopback(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="KIE_BASE_URL"):
        config.settings("KIE", tmp_path, {"KIE_BASE_URL": url})
    for ok in ("http://127.0.0.1:8080", "http://127.3.2.1", "http://localhost:9", "http://[::1]:8"):
        assert config.settings("KIE", tmp_path, {"KIE_BASE_URL": ok})[0] == ok


def test_empty_provider_name_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="empty"):
        config.make_provider("", tmp_path, environ={})


@pytest.mark.parametrize("kind", ["fifo", "zero", "outside", "huge"])
def test_a_dotenv_that_is_not_a_small_file_of_the_folder_is_refused(tmp_path: Path, kind: str) -> None:
    """A shared folder can carry any of these (git keeps symlinks): never a hang, a 2 GB read
    or a key file read from elsewhere."""
    dotenv = tmp_path / "film" / ".env"
    dotenv.parent.mkdir()
    if kind == "fifo":
        os.mkfifo(dotenv)
    elif kind == "zero":
        dotenv.symlink_to("/dev/zero")
    elif kind == "outside":
        (tmp_path / "keys").write_text("KIE_API_KEY=someone-else\n")
        dotenv.symlink_to(tmp_path / "keys")
    else:
        dotenv.write_text("# padding\n" * 10000)
    with pytest.raises(ConfigError) as e:
        config.read_dotenv(dotenv)
    assert str(dotenv) in e.value.message


def test_a_virtualenv_called_dotenv_is_not_a_key_file(tmp_path: Path) -> None:
    (tmp_path / ".env" / "bin").mkdir(parents=True)
    assert config.read_dotenv(tmp_path / ".env") == {}


def test_a_bad_key_is_named_by_the_variable_that_holds_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:  # gemini reads GOOGLE_API_KEY too, as Google's SDK does
        config.make_provider("gemini", tmp_path, need_key=True, environ={"GOOGLE_API_KEY": "AIza\u200bSy"})
    assert err.value.message.startswith("GOOGLE_API_KEY (from the environment) cannot be sent in an HTTP")
    assert "AIza" not in err.value.message and "Sy" not in err.value.message
    (tmp_path / ".env").write_text("KIE_API_KEY=kie\u2028key\n")
    with pytest.raises(ConfigError, match=r"KIE_API_KEY \(from .*\.env\) .* invisible line separator"):
        config.make_provider("kie", tmp_path, need_key=True, environ={})
