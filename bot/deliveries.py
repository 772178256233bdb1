"""Remembering deliveries, so a repeated `X-GitHub-Delivery` is not queued twice.

A delivery is recorded as seen only once its jobs are safely queued: GitHub's
redelivery of a delivery we refused carries the same GUID and must get through.
"""

from __future__ import annotations

import redis

SEEN_FOR_SECONDS = 24 * 3600
CLAIM_FOR_SECONDS = 60
_PREFIX = "codex-guard:delivery:"


class DeliveryLedger:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def claim(self, delivery_id: str) -> bool:
        """True if this delivery is new and now ours to queue."""
        return bool(
            self._redis.set(_PREFIX + delivery_id, "queuing", nx=True, ex=CLAIM_FOR_SECONDS)
        )

    def confirm(self, delivery_id: str) -> None:
        self._redis.set(_PREFIX + delivery_id, "queued", ex=SEEN_FOR_SECONDS)

    def release(self, delivery_id: str) -> None:
        """Forget a claim whose jobs could not be queued, so a redelivery is accepted."""
        try:
            self._redis.delete(_PREFIX + delivery_id)
        except redis.RedisError:
            # The claim expires by itself after CLAIM_FOR_SECONDS.
            pass
