"""The values of the provider contract that the mechanics under `base` need too: how a key
travels with a request (Auth, key_for: http sends it, base declares it), and a shot ready for
a provider (CompiledShot: the capability rules read it). Nothing here imports the providers;
`base` hands these names on as part of the one declared interface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from storyboard.board.model import Asset, Shot


@dataclass(frozen=True)
class Auth:
    """How a service takes its key: a header (`header: scheme KEY`, or the key alone when
    `scheme` is ""), or a query parameter `query=KEY` when `query` is set."""

    header: str = "Authorization"
    scheme: str = "Bearer"
    query: str = ""

    def headers(self, key: str) -> dict[str, str]:
        if self.query or not key:
            return {}
        return {self.header: f"{self.scheme} {key}" if self.scheme else key}

    def params(self, key: str) -> dict[str, str]:
        return {self.query: key} if self.query and key else {}

    def describe(self) -> str:
        if self.query:
            return f"?{self.query}=KEY"
        return f"{self.header}: {self.scheme + ' ' if self.scheme else ''}KEY"


def origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of a URL, the port filled in; None when it is not http(s)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)


def key_for(auth: Auth, key: str | None, base_url: str, url: str) -> tuple[dict[str, str], dict[str, str]]:
    """(headers, query parameters) carrying `key` on a request to `url`: only when `url` is
    on `base_url`'s own origin (scheme, host and port); nothing for any other."""
    own = origin(base_url)
    if not key or own is None or origin(url) != own:
        return {}, {}
    return auth.headers(key), auth.params(key)


@dataclass(frozen=True)
class CompiledShot:
    """A shot ready for a provider: its prompt rendered, its images resolved."""

    shot: Shot
    prompt: str
    location: Any = None  # storyboard.errors.Location of the shot, for messages
    caption: str | None = None  # rendered like the prompt; shown over the shot, never sent
    take: int = 1  # which variation of the shot (`takes:`); a provider may vary its seed by it

    @property
    def id(self) -> str:
        return self.shot.id

    @property
    def images(self) -> tuple[Asset, ...]:
        return self.shot.images
