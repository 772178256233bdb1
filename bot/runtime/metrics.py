"""Prometheus metrics shared by every process through Redis.

gunicorn workers and Celery workers are separate processes, often on separate
hosts, so prometheus-client's in-process registry would show one process's
share per scrape. Counters and histogram buckets live in Redis hashes instead
(one pipelined round trip per record) and a custom `Collector` reads them back
on ``GET /metrics``.

Recording is best-effort: a recording function never raises, and after a Redis
failure a process stops trying for a few seconds, so a Redis outage does not
add a connect timeout to every webhook answer.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import re
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import redis

from bot.core.names import QUEUE

log = logging.getLogger("codex_guard.metrics")

PREFIX = "codex-guard:metrics:"
_PRIORITY_SEP = "\x06\x16"
_PRIORITY_STEPS = (0, 3, 6, 9)

DELIVERY_OUTCOMES = frozenset({"queued", "duplicate", "ignored", "rejected", "unavailable"})
EVALUATION_BUCKETS: tuple[float, ...] = (0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300)
RATE_LIMIT_STALE_SECONDS = 6 * 3600
"""Installations not heard from for this long drop out of the rate-limit gauge."""
PAUSE_AFTER_FAILURE_SECONDS = 10.0

KNOWN_EVENTS = frozenset(
    {
        "check_run",
        "check_suite",
        "github_app_authorization",
        "installation",
        "installation_repositories",
        "installation_target",
        "issue_comment",
        "issues",
        "merge_group",
        "meta",
        "ping",
        "pull_request",
        "pull_request_review",
        "pull_request_review_comment",
        "push",
        "repository",
        "status",
        "workflow_run",
    }
)
"""Event label values kept as-is. A rejected delivery's event header is unverified
input, so anything else is counted as ``other`` to bound label cardinality."""

_LABEL_RE = re.compile(r"^[a-z0-9_.-]{1,40}$")
_TEMPLATE_RE = re.compile(r"^/[A-Za-z0-9_{}/.-]{0,200}$")
_SHA_RE = re.compile(r"^[0-9a-f]{40}$")
_NUMBER_RE = re.compile(r"^\d+$")

_KEY_DELIVERIES = PREFIX + "deliveries"
_KEY_EVALUATIONS = PREFIX + "evaluations"
_KEY_PRACTICES = PREFIX + "practices"
_KEY_LATENCY = PREFIX + "evaluation_seconds"
_KEY_API = PREFIX + "api_calls"
_KEY_RATE = PREFIX + "rate_limit_remaining"


# ---------------------------------------------------------------- best-effort writes

_pause_lock = threading.Lock()
_paused_until: weakref.WeakKeyDictionary[redis.Redis, float] = weakref.WeakKeyDictionary()


def _write(client: redis.Redis, fill: Callable[[Any], None]) -> bool:
    """Run ``fill(pipeline)`` in one round trip; False (never an exception) on failure."""
    key = client
    now = time.monotonic()
    with _pause_lock:
        try:
            if _paused_until.get(key, 0.0) > now:
                return False
        except TypeError:  # a client that cannot be weakly referenced is never paused
            key = None
    try:
        pipe = client.pipeline(transaction=False)
        fill(pipe)
        pipe.execute()
    except Exception as exc:  # metrics must never break the path they observe
        if key is not None:
            with _pause_lock:
                _paused_until[key] = now + PAUSE_AFTER_FAILURE_SECONDS
        log.warning("metrics not recorded: %s", type(exc).__name__)
        return False
    if key is not None:
        with _pause_lock:
            _paused_until.pop(key, None)
    return True


def _label(value: object, default: str = "other") -> str:
    text = str(value).strip().lower()
    return text if _LABEL_RE.match(text) else default


def _field(*labels: str) -> str:
    return json.dumps(list(labels), separators=(",", ":"))


def _labels(field: bytes | str) -> list[str] | None:
    try:
        value = json.loads(field)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


# ---------------------------------------------------------------- recording


DELIVERIES_KEY = _KEY_DELIVERIES
"""The hash ``record_delivery`` counts in (the receiver's delivery script counts there too)."""


def delivery_field(event: str, outcome: str) -> str:
    """The ``DELIVERIES_KEY`` field for one (event, outcome), with labels bounded."""
    event_label = event if event in KNOWN_EVENTS else "other"
    outcome_label = outcome if outcome in DELIVERY_OUTCOMES else "other"
    return _field(event_label, outcome_label)


def record_delivery(client: redis.Redis, event: str, outcome: str) -> None:
    """Count one webhook delivery by event and what the receiver did with it."""
    field = delivery_field(event, outcome)
    _write(client, lambda p: p.hincrby(_KEY_DELIVERIES, field, 1))


def _bucket_index(seconds: float) -> int:
    for i, bound in enumerate(EVALUATION_BUCKETS):
        if seconds <= bound:
            return i
    return len(EVALUATION_BUCKETS)


def record_evaluation(
    client: redis.Redis, conclusion: str, outcomes: Mapping[str, str], seconds: float
) -> None:
    """Count one evaluation, each practice's outcome, and its latency, in one round trip."""
    if not isinstance(seconds, int | float) or math.isnan(seconds) or seconds < 0:
        seconds = 0.0
    conclusion_label = _label(conclusion)
    practice_fields = [
        _field(_label(practice), _label(outcome)) for practice, outcome in outcomes.items()
    ]
    index = _bucket_index(float(seconds))

    def fill(pipe: Any) -> None:
        pipe.hincrby(_KEY_EVALUATIONS, _field(conclusion_label), 1)
        for field in practice_fields:
            pipe.hincrby(_KEY_PRACTICES, field, 1)
        pipe.hincrby(_KEY_LATENCY, f"b{index}", 1)
        pipe.hincrby(_KEY_LATENCY, "count", 1)
        pipe.hincrbyfloat(_KEY_LATENCY, "sum", float(seconds))

    _write(client, fill)


def api_template(path: str) -> str:
    """A request path reduced to a low-cardinality template for the ``endpoint`` label.

    ``/repos/o/r/pulls/12/files`` becomes ``/repos/{owner}/{repo}/pulls/{n}/files``;
    absolute URLs and an Enterprise ``/api/v3`` prefix are accepted.
    """
    raw = urlsplit(path).path if "://" in path else path.split("?", 1)[0]
    if raw.startswith("/api/v3/"):
        raw = raw[len("/api/v3") :]
    parts = [p for p in raw.split("/") if p]
    out: list[str] = []
    i = 0
    while i < len(parts):
        part = parts[i]
        if i == 0 and part == "repos" and len(parts) >= 3:
            out += ["repos", "{owner}", "{repo}"]
            i = 3
            continue
        previous = out[-1] if out else ""
        if previous in ("contents", "branches"):
            # A file path or a branch name may hold slashes: the rest is one value.
            out.append("{path}" if previous == "contents" else "{branch}")
            break
        if previous in ("orgs", "users", "collaborators", "memberships", "labels"):
            out.append("{name}")
        elif previous == "app-manifests":
            out.append("{code}")
        elif previous == "teams" and "orgs" in out:
            out.append("{team}")
        elif _SHA_RE.match(part) or previous in (
            "commits",
            "trees",
            "blobs",
            "statuses",
            "compare",
        ):
            out.append("{ref}")
        elif _NUMBER_RE.match(part):
            out.append("{n}")
        else:
            out.append(part if _LABEL_RE.match(part.lower()) else "{x}")
        i += 1
    return "/" + "/".join(out)


def record_api_call(client: redis.Redis, endpoint_template: str, status: int) -> None:
    """Count one GitHub API call by endpoint template and HTTP status."""
    template = endpoint_template if _TEMPLATE_RE.match(endpoint_template or "") else "other"
    status_label = str(status) if isinstance(status, int) and 0 <= status < 1000 else "other"
    _write(client, lambda p: p.hincrby(_KEY_API, _field(template, status_label), 1))


def record_rate_limit(client: redis.Redis, installation_id: int | str, remaining: int) -> None:
    """Remember the rate-limit budget an installation has left (a gauge, last write wins)."""
    installation = str(installation_id)
    if not installation.isdigit() or not isinstance(remaining, int):
        return
    value = f"{remaining} {time.time():.0f}"
    _write(client, lambda p: p.hset(_KEY_RATE, installation, value))


def observe_github(
    requester: Any, client: redis.Redis, installation_id: int | str | None = None
) -> Any:
    """Count every request a PyGithub ``Requester`` makes, and its rate-limit headers.

    Wraps the instance's ``requestJson``, the one call every JSON request goes
    through, so each call is counted once with its final status (after
    PyGithub's own retries). Returns the requester for chaining.
    """
    original = requester.requestJson

    def request_json(verb: str, url: str, *args: Any, **kwargs: Any) -> Any:
        status: int | None = None
        headers: Mapping[str, Any] = {}
        try:
            result = original(verb, url, *args, **kwargs)
            status, headers = result[0], result[1] or {}
            return result
        finally:
            _record_call(client, url, status, headers, installation_id)

    requester.requestJson = request_json
    return requester


def _record_call(
    client: redis.Redis,
    url: str,
    status: int | None,
    headers: Mapping[str, Any],
    installation_id: int | str | None,
) -> None:
    try:
        template = api_template(url)
        status_label = str(status) if isinstance(status, int) else "error"
        remaining = next(
            (v for k, v in headers.items() if str(k).lower() == "x-ratelimit-remaining"), None
        )
    except Exception:  # never let bookkeeping break the API call
        return

    def fill(pipe: Any) -> None:
        pipe.hincrby(_KEY_API, _field(template, status_label), 1)
        if installation_id is not None and remaining is not None and str(remaining).isdigit():
            pipe.hset(_KEY_RATE, str(installation_id), f"{int(remaining)} {time.time():.0f}")

    _write(client, fill)


# ---------------------------------------------------------------- the queue


def queue_keys(queue: str = QUEUE) -> list[str]:
    """The Redis lists kombu uses for a queue: the plain name plus one per priority step."""
    return [queue] + [f"{queue}{_PRIORITY_SEP}{step}" for step in _PRIORITY_STEPS if step]


def enqueued_at(raw: bytes | str) -> float | None:
    """The ``queued_at`` epoch seconds a receiver stamped on a kombu/Celery message.

    Looks in the message headers first, then in the task kwargs (Celery protocol 2:
    the body decodes to ``[args, kwargs, embed]``).
    """
    try:
        message = json.loads(raw)
        stamp = (message.get("headers") or {}).get("queued_at")
        if stamp is None:
            body: Any = message.get("body")
            if (message.get("properties") or {}).get("body_encoding") == "base64":
                body = base64.b64decode(body)
            decoded = json.loads(body) if isinstance(body, bytes | str) else body
            if isinstance(decoded, list) and len(decoded) >= 2 and isinstance(decoded[1], dict):
                stamp = decoded[1].get("queued_at")
        return float(stamp) if stamp is not None else None
    except (ValueError, TypeError, AttributeError):
        return None


def queue_state(client: redis.Redis, queue: str = QUEUE) -> tuple[int, float | None]:
    """(jobs waiting, seconds the oldest has waited or None); raises RedisError.

    kombu LPUSHes and BRPOPs, so the oldest waiting message is at index -1.
    Jobs a worker has taken (unacknowledged) are not waiting and not counted.
    """
    keys = queue_keys(queue)
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.llen(key)
        pipe.lindex(key, -1)
    replies = pipe.execute()
    depth = 0
    oldest: float | None = None
    for length, tail in zip(replies[0::2], replies[1::2], strict=True):
        depth += int(length or 0)
        stamp = enqueued_at(tail) if tail else None
        if stamp is not None and (oldest is None or stamp < oldest):
            oldest = stamp
    age = max(0.0, time.time() - oldest) if oldest is not None else None
    return depth, age
