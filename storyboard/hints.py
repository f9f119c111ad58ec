"""The hint that names the closest of the choices to a misspelt word: the loader (keys), the
validator (values, names) and the registry (a provider's name) all say it the same way."""

from __future__ import annotations

from collections.abc import Iterable


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice closest to `word` (or the same but for case), or None when nothing is close."""
    import difflib  # lazy: start-up (only for a misspelt name)

    names = list(choices)
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in names}
        if word.lower() in lowered:
            close = [lowered[word.lower()]]
    return close[0] if close else None


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A hint naming the closest choice, or None when nothing is close."""
    close = closest(word, choices)
    return f"did you mean {close!r}?" if close else None
