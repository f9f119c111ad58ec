"""The offline `preview` provider: an animatic rendered on this machine (no key, no network)."""

from storyboard.providers.preview.provider import PreviewProvider

__all__ = ["PreviewProvider"]
