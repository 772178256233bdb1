"""GitHub 5xx and timeouts are retried "with exponential backoff and jitter, a bounded
number of times" (issue 4; `bot/core/backoff.py`)."""

from __future__ import annotations

import pytest

from bot.core import backoff as backoff_mod

# -- exponential backoff with jitter ----------------------------------------------------------


def test_backoff_doubles_per_retry_with_jitter_and_a_cap(monkeypatch) -> None:
    monkeypatch.setenv("RETRY_BASE_SECONDS", "2")
    for retries in range(6):
        nominal = 2 * 2**retries
        waits = [backoff_mod.backoff(retries) for _ in range(200)]
        # Jitter in [0.5, 1] of the nominal wait: never more, never less than half.
        assert all(nominal * 0.5 <= w <= nominal for w in waits), (retries, min(waits), max(waits))
        # It really is jittered: 200 draws are not all the same value.
        assert len(set(waits)) > 1
    # Exponential: the smallest wait of retry n+1 is at least the largest nominal of retry n-1.
    assert min(backoff_mod.backoff(4) for _ in range(50)) >= 2 * 2**3 * 0.5
    # Bounded: the wait never exceeds the cap however many retries came before.
    assert all(backoff_mod.backoff(40) <= backoff_mod.MAX_WAIT_SECONDS for _ in range(50))
    assert max(backoff_mod.backoff(40) for _ in range(200)) > backoff_mod.MAX_WAIT_SECONDS / 2


@pytest.mark.parametrize(
    ("value", "expected"), [("0.01", 0.01), ("", 2.0), ("x", 2.0), ("-1", 2.0)]
)
def test_retry_base_seconds_setting(monkeypatch, value: str, expected: float) -> None:
    monkeypatch.setenv("RETRY_BASE_SECONDS", value)
    assert backoff_mod.retry_base_seconds() == expected
    assert expected * 0.5 <= backoff_mod.backoff(0) <= expected
