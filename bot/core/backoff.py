"""Retry timing shared by the worker's task retries and PyGithub's request retries.

`RETRY_BASE_SECONDS` (default 2) scales every backoff: a task retry waits
base * 2**n seconds (n = retries so far, at most 300 s) times a random factor
in [0.5, 1]; a single request retried by PyGithub waits base/4 * 2**n plus up
to base/8 of jitter. Tests set it small instead of sleeping.
"""

from __future__ import annotations

import os
import random

DEFAULT_BASE_SECONDS = 2.0
MAX_WAIT_SECONDS = 300.0


def retry_base_seconds() -> float:
    try:
        value = float(os.environ.get("RETRY_BASE_SECONDS", "") or DEFAULT_BASE_SECONDS)
    except ValueError:
        return DEFAULT_BASE_SECONDS
    return value if value >= 0 else DEFAULT_BASE_SECONDS


def backoff(retries: int) -> float:
    """Exponential backoff with jitter for the (retries+1)-th retry of a task."""
    wait = min(MAX_WAIT_SECONDS, retry_base_seconds() * (2**retries))
    return wait * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not crypto
