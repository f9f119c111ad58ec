"""The loopback services, for the MCP render tests."""

from tests.servers.fixtures import provider_clip, provider_server  # noqa: F401
