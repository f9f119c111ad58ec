"""storyboard.retry: the one backoff (full jitter, Retry-After honoured, capped) and the one
polling pace (jittered, never under a documented rate limit)."""

from __future__ import annotations

import pytest

from storyboard.retry import MAX_DELAY, Backoff, Pace


def test_backoff_is_full_jitter_under_a_doubling_ceiling() -> None:
    b = Backoff(base=0.5, cap=4.0)
    for attempt, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (10, 4.0)]:
        waits = [b.delay(attempt) for _ in range(200)]
        assert all(0 <= w <= ceiling for w in waits)
        assert max(waits) > ceiling / 2  # spread over the whole range, not a fixed step


def test_a_retry_after_wins_and_is_capped() -> None:
    b = Backoff(base=1.0, cap=30.0)
    assert b.delay(5, retry_after=7.0) == 7.0
    assert b.delay(0, retry_after=3600.0) == 30.0
    assert b.delay(0, retry_after=-1.0) == 0.0


def test_backoff_reads_the_environment_once_made(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOARD_RETRY_BASE", "0.25")
    assert Backoff.from_env() == Backoff(0.25, MAX_DELAY)
    assert Backoff.from_env(2.0, 9.0) == Backoff(2.0, 9.0)


def test_it_is_a_tenacity_wait_strategy() -> None:
    import tenacity

    from storyboard.errors import RateLimitError

    calls: list[float] = []
    attempts = iter([RateLimitError("slow", retry_after=2.5), RateLimitError("slow"), None])

    def flaky() -> str:
        error = next(attempts)
        if error is not None:
            raise error
        return "ok"

    retrying = tenacity.Retrying(
        wait=Backoff(base=0.01), sleep=calls.append, stop=tenacity.stop_after_attempt(3)
    )
    assert retrying(flaky) == "ok"
    assert calls[0] == 2.5 and 0 <= calls[1] <= 0.02


def test_the_pace_jitters_and_keeps_to_the_floor() -> None:
    own = Pace(every=10.0)
    assert all(5.0 <= own.wait() <= 10.0 for _ in range(200))
    asked = Pace(every=10.0, requested=2.0)
    assert all(2.0 <= asked.wait() <= 2.4 for _ in range(200))
    limited = Pace(every=92.0, floor=46.0, requested=5.0)  # a rate limit beats the user's wish
    assert all(w >= 46.0 for w in (limited.wait() for _ in range(50)))
    assert all(46.0 <= limited.after_failures(n) <= 92.0 for n in range(20) for _ in range(5))


def test_failed_polls_wait_longer_but_not_for_ever() -> None:
    p = Pace(every=10.0)
    waits = [max(p.after_failures(n) for _ in range(50)) for n in range(8)]
    assert waits[0] <= 10.0 and waits[2] > 10.0 and all(w <= MAX_DELAY for w in waits)
