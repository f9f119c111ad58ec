"""Provider settings from the environment, or a .env file beside the storyboard.

`<NAME>_API_KEY` and `<NAME>_BASE_URL`, NAME being each provider's own `env` (its module
says which). The environment wins over .env. Keys are handed to the provider and never shown
anywhere.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from storyboard import env, providers
from storyboard.errors import ConfigError
from storyboard.load import filekind
from storyboard.providers.base import Provider

MAX_DOTENV_BYTES = 64 * 1024


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; `export ` prefixes, quotes and # comments allowed."""
    out: dict[str, str] = {}
    if not path.exists() and not path.is_symlink():
        return out
    # the folder may come from someone else's repository (git keeps symlinks): only a small
    # regular file inside it is read, never a FIFO that blocks, a device, or a link out
    what = filekind.kind(path) if path.exists() else "a broken link"
    if what == "a folder":  # a virtualenv is often called .env: it holds no keys of ours
        return out
    if what is not None:
        raise ConfigError(f"{path} is {what}, not a file of KEY=VALUE lines", hint=f"remove {path}")
    if path.is_symlink() and not path.resolve().is_relative_to(path.parent.resolve()):
        raise ConfigError(f"{path} links outside its folder: keys are read from a file in the folder itself")
    if path.stat().st_size > MAX_DOTENV_BYTES:
        raise ConfigError(f"{path} is over {MAX_DOTENV_BYTES // 1024} KB: a .env holds a few KEY=VALUE lines")
    try:
        with path.open(encoding="utf-8", newline="") as f:  # lines end at \n only: a stray \r
            text = f.read()  # (or U+2028) inside a key must not cut it short
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read {path}: {e}") from None
    for raw in text.split("\n"):
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        out[key.strip()] = value
    return out


def settings(
    env_name: str, root: Path, environ: Mapping[str, str] | None = None, aliases: tuple[str, ...] = ()
) -> tuple[str | None, str | None]:
    """(base_url, api_key) for a provider, from the environment or root/.env. The key is
    NAME_API_KEY, else the first of `aliases` set (GOOGLE_API_KEY, as Google's SDK reads it).

    A base URL from .env is used only with a key from that same .env: a storyboard folder
    someone shared must not be able to send the key in your environment to its own server.
    """
    environ = os.environ if environ is None else environ
    dotenv = read_dotenv(root / ".env")

    def clean(value: str | None) -> str | None:
        return (value.strip() or None) if value else None

    def key_in(source: Mapping[str, str]) -> str | None:
        names = (f"{env_name}_API_KEY", *aliases)
        return next((v for v in (clean(source.get(n)) for n in names) if v), None)

    env_key, file_key = key_in(environ), key_in(dotenv)
    base_url = clean(environ.get(f"{env_name}_BASE_URL"))
    if base_url is None and env_key is None:
        base_url = clean(dotenv.get(f"{env_name}_BASE_URL"))
    if base_url is not None:
        check_base_url(f"{env_name}_BASE_URL", base_url)
    return base_url, env_key or file_key


def check_base_url(var: str, url: str) -> None:
    """Keys travel only over https, or over plain http to this machine (a gateway or proxy
    here), which never crosses a network: a user's safety rule, not an allowance for tests."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if parts is not None and parts.scheme == "https" and host:
        return
    if parts is not None and parts.scheme == "http" and env.is_loopback(url):
        return
    raise ConfigError(
        f"{var}={url!r} is not an https URL: the API key would travel in clear text",
        hint="use https://..., or http:// only for 127.0.0.1 / localhost",
    )


def make_provider(
    name: str,
    root: Path,
    *,
    need_key: bool = False,
    environ: Mapping[str, str] | None = None,
    options: Mapping[str, Any] | None = None,
) -> Provider:
    """An instance of the named provider, configured (`options`: the storyboard's
    `providers: {name: {...}}`); with need_key, a missing key is an error."""
    if not name:
        raise ConfigError("the provider name is empty", hint="choose one of: " + ", ".join(providers.names()))
    cls = providers.get(name)
    base_url, api_key = settings(cls.env, root, environ, cls.key_aliases) if cls.env else (None, None)
    provider = cls(base_url=base_url, api_key=api_key, options=options)
    if need_key:
        require_key(provider, root, environ)
    return provider


def require_key(provider: Provider, root: Path, environ: Mapping[str, str] | None = None) -> None:
    """ConfigError saying where to put the key, when the provider needs one and has none, or
    has one that cannot be sent (checked before anything is journaled: a key httpx refuses to
    put in a header would leave every shot uncertain, though nothing went out)."""
    if not provider.needs_key:
        return
    var = f"{provider.env}_API_KEY"
    if not provider.api_key:
        also = "".join(f" (or {name})" for name in provider.key_aliases)
        raise ConfigError(
            f"{provider.name} needs an API key: set {var}{also} in the environment or in {root / '.env'}",
            hint="`storyboard plan` works without a key; the offline `preview` provider needs none",
        )
    wrong = header_problem(provider.api_key)
    if wrong is not None:
        environ = os.environ if environ is None else environ
        dotenv = read_dotenv(root / ".env")
        where, var = next(
            (
                (place, name)
                for place, source in (("the environment", environ), (root / ".env", dotenv))
                for name in (var, *provider.key_aliases)
                if (source.get(name) or "").strip() == provider.api_key
            ),
            ("the environment", var),
        )
        raise ConfigError(
            f"{var} (from {where}) cannot be sent in an HTTP header: {wrong}",
            hint="copy the key again from the provider's dashboard, as one line of visible characters",
        )


def header_problem(key: str) -> str | None:
    """What in a key cannot go in an HTTP header, in words that do not show the key (an
    invisible or control character is named; a visible one is not), or None."""
    for i, ch in enumerate(key, start=1):
        if " " <= ch <= "~":  # printable ASCII: what a header value holds
            continue
        import unicodedata  # only for a key that is wrong

        code = f"U+{ord(ch):04X}"
        named = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab"}.get(ch)
        if named is None and unicodedata.category(ch) == "Cc":
            named = f"a control character ({code})"
        elif named is None and unicodedata.category(ch) in ("Cf", "Zs", "Zl", "Zp"):
            named = f"an invisible {unicodedata.name(ch, 'character').lower()} ({code})"
        named = named or "outside ASCII (not shown: it is part of the key)"
        return f"its character {i} of {len(key)} is {named}"
    return None
