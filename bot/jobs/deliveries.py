"""Remembering deliveries, so a repeated `X-GitHub-Delivery` is not queued twice.

A delivery is recorded as seen only once its jobs are safely queued: GitHub's
redelivery of a delivery we refused carries the same GUID and must get through.
"""

from __future__ import annotations

import redis

# GitHub keeps (and lets an App redeliver) deliveries for 3 days; remember a bit longer,
# so the missed-delivery sweeper never asks again for one that was queued.
SEEN_FOR_SECONDS = 4 * 24 * 3600
CLAIM_FOR_SECONDS = 60
ASKED_FOR_SECONDS = 4 * 24 * 3600
KEY_PREFIX = "codex-guard:delivery:"
"""A delivery's ledger key is ``KEY_PREFIX + GUID`` (the receiver's delivery script sets it)."""
_ASKED = "codex-guard:redelivery-asked:"


class DeliveryLedger:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def claim(self, delivery_id: str) -> bool:
        """True if this delivery is new and now ours to queue."""
        return bool(
            self._redis.set(KEY_PREFIX + delivery_id, "queuing", nx=True, ex=CLAIM_FOR_SECONDS)
        )

    def confirm(self, delivery_id: str) -> None:
        self._redis.set(KEY_PREFIX + delivery_id, "queued", ex=SEEN_FOR_SECONDS)

    def queued(self, delivery_id: str) -> bool:
        """True once this delivery's jobs were queued (or are being queued right now)."""
        return bool(self._redis.exists(KEY_PREFIX + delivery_id))

    def may_ask_redelivery(
        self, delivery_id: str, max_asks: int = 3, cooldown: float = 3600
    ) -> bool:
        """True when the sweeper may ask GitHub to redeliver this GUID now (then remembered).

        At most ``max_asks`` asks per GUID, and none within ``cooldown`` seconds of the
        last (a redelivery that failed again is asked for once more after a while).
        """
        if not self._redis.set(
            _ASKED + delivery_id + ":recent", "1", nx=True, ex=max(1, int(cooldown))
        ):
            return False
        count = int(self._redis.incr(_ASKED + delivery_id))
        self._redis.expire(_ASKED + delivery_id, ASKED_FOR_SECONDS)
        return count <= max_asks

    def asked_redelivery(self, delivery_id: str) -> int:
        """How often the sweeper asked for this GUID."""
        value = self._redis.get(_ASKED + delivery_id)
        return int(value) if value else 0

    def forget_redelivery_ask(self, delivery_id: str) -> None:
        """The ask did not reach GitHub: let the next sweep try again."""
        try:
            self._redis.delete(_ASKED + delivery_id + ":recent")
            self._redis.decr(_ASKED + delivery_id)
        except redis.RedisError:
            pass
