"""Reads the Redis-backed counters back as Prometheus metrics.

A custom `Collector` over the hashes `bot.runtime.metrics` writes, so every web
process answers ``GET /metrics`` with the whole fleet's figures, not its own share.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator, Mapping

import redis
from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from bot.core.names import QUEUE
from bot.runtime.metrics import (
    _KEY_API,
    _KEY_DELIVERIES,
    _KEY_EVALUATIONS,
    _KEY_LATENCY,
    _KEY_PRACTICES,
    _KEY_RATE,
    EVALUATION_BUCKETS,
    RATE_LIMIT_STALE_SECONDS,
    _labels,
    queue_state,
)

log = logging.getLogger("codex_guard.metrics")


class RedisCollector(Collector):
    """Reads the shared counters from Redis at scrape time."""

    def __init__(self, client: redis.Redis, queue: str = QUEUE) -> None:
        self.client = client
        self.queue = queue

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "codex_guard_metrics_redis_up",
            "1 when the metrics store (Redis) answered this scrape, 0 when it did not.",
        )
        try:
            pipe = self.client.pipeline(transaction=False)
            for key in (
                _KEY_DELIVERIES,
                _KEY_EVALUATIONS,
                _KEY_PRACTICES,
                _KEY_LATENCY,
                _KEY_API,
                _KEY_RATE,
            ):
                pipe.hgetall(key)
            deliveries, evaluations, practices, latency, api, rate = pipe.execute()
            depth, age = queue_state(self.client, self.queue)
        except redis.RedisError as exc:
            log.warning("metrics scrape could not read redis: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield _counter(
            "codex_guard_deliveries",
            "Webhook deliveries by event and what the receiver did with them.",
            ["event", "outcome"],
            deliveries,
        )
        yield _counter(
            "codex_guard_evaluations",
            "Pull request evaluations by conclusion.",
            ["conclusion"],
            evaluations,
        )
        yield _counter(
            "codex_guard_practice_outcomes",
            "Practice results by practice and outcome (one per practice per evaluation).",
            ["practice", "outcome"],
            practices,
        )
        yield _histogram(latency)
        yield _counter(
            "codex_guard_github_api_calls",
            "GitHub API calls by endpoint template and HTTP status.",
            ["endpoint", "status"],
            api,
        )
        yield _rate_limit(rate)
        depth_metric = GaugeMetricFamily(
            "codex_guard_queue_depth", "Jobs waiting in the Celery queue (not yet taken)."
        )
        depth_metric.add_metric([], depth)
        yield depth_metric
        age_metric = GaugeMetricFamily(
            "codex_guard_queue_oldest_age_seconds",
            "How long the oldest waiting job has waited; 0 when none is waiting.",
        )
        age_metric.add_metric([], round(age, 3) if age is not None else 0.0)
        yield age_metric


def _counter(
    name: str, documentation: str, labels: list[str], data: Mapping[bytes, bytes]
) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=labels)
    for field, value in sorted(data.items()):
        values = _labels(field)
        if values is not None and len(values) == len(labels):
            family.add_metric(values, float(value))
    return family


def _histogram(data: Mapping[bytes, bytes]) -> HistogramMetricFamily:
    counts = {k.decode(): v for k, v in data.items()}
    buckets: list[tuple[str, float]] = []
    running = 0.0
    for i, bound in enumerate((*EVALUATION_BUCKETS, math.inf)):
        running += float(counts.get(f"b{i}", 0))
        buckets.append((floatToGoString(bound), running))
    family = HistogramMetricFamily(
        "codex_guard_evaluation_duration_seconds",
        "Time from a job starting to its check run being written.",
    )
    family.add_metric([], buckets, sum_value=float(counts.get("sum", 0.0)))
    return family


def _rate_limit(data: Mapping[bytes, bytes]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "codex_guard_rate_limit_remaining",
        "GitHub API requests an installation has left in the current rate-limit window.",
        labels=["installation"],
    )
    now = time.time()
    for field, value in sorted(data.items()):
        try:
            remaining, at = value.decode().split()
            if now - float(at) > RATE_LIMIT_STALE_SECONDS:
                continue
            family.add_metric([field.decode()], float(remaining))
        except (ValueError, UnicodeDecodeError):
            continue
    return family


def registry_for(client: redis.Redis, queue: str = QUEUE) -> CollectorRegistry:
    """A registry holding only the Redis-backed collector (no per-process metrics)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RedisCollector(client, queue))
    return registry
