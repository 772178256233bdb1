"""How GitHub calls are retried, and how GitHub's "slow down" reaches every process.

PyGithub's ``GithubRetry`` waits out a ``Retry-After`` in the one process that got
it; the other worker processes of that installation would keep writing into the
same limit. ``SharedBackoffRetry`` reports each such answer (``on_retry_after``) so
the write pacer (`bot.github.pacing`) can hold the installation's writes everywhere.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from github import GithubRetry

RETRY_AFTER_STATUSES = (403, 429)


class SharedBackoffRetry(GithubRetry):
    """``GithubRetry`` that also tells ``on_retry_after`` how long GitHub asked to wait."""

    def __init__(self, on_retry_after: Callable[[float], None] | None = None, **kwargs: Any):
        self.on_retry_after = on_retry_after
        super().__init__(**kwargs)

    def new(self, **kw: Any) -> SharedBackoffRetry:
        kw["on_retry_after"] = self.on_retry_after
        return super().new(**kw)

    def increment(self, method=None, url=None, response=None, error=None, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        if response is not None and self.on_retry_after is not None:
            seconds = retry_after_seconds(response.status, response.headers)
            if seconds is not None:
                with contextlib.suppress(Exception):  # never changes the call's outcome
                    self.on_retry_after(seconds)
        return super().increment(method, url, response, error, *args, **kwargs)


def retry_after_seconds(status: int | None, headers: Any) -> float | None:
    """How long a 403/429 asks to wait: ``Retry-After`` (seconds), or until
    ``X-RateLimit-Reset`` when the primary limit is spent; else None."""
    if status not in RETRY_AFTER_STATUSES or not headers:
        return None
    value = headers.get("Retry-After") or headers.get("retry-after")
    if value is not None and str(value).strip().isdigit():
        return float(str(value).strip())
    remaining = headers.get("X-RateLimit-Remaining") or headers.get("x-ratelimit-remaining")
    reset = headers.get("X-RateLimit-Reset") or headers.get("x-ratelimit-reset")
    if str(remaining).strip() == "0" and reset is not None and str(reset).strip().isdigit():
        return max(1.0, float(str(reset).strip()) - time.time() + 1)
    return None


def retry_policy(on_retry_after: Callable[[float], None] | None = None) -> SharedBackoffRetry:
    """5xx and timeouts: exponential backoff with jitter, bounded; rate limits: wait as told.

    PATCH is retried too (PyGithub leaves it out): every PATCH codex-guard sends sets
    fields to values, so sending it twice is harmless.
    """
    from bot.core.backoff import retry_base_seconds

    base = retry_base_seconds()  # RETRY_BASE_SECONDS, 2 s by default
    return SharedBackoffRetry(
        on_retry_after=on_retry_after,
        total=4,
        backoff_factor=base / 4,
        backoff_jitter=base / 8,
        max_rate_limit_wait=60,
        status_forcelist=[403, 429, *range(500, 600)],
        allowed_methods=GithubRetry.DEFAULT_ALLOWED_METHODS.union({"GET", "POST", "PATCH"}),
    )
