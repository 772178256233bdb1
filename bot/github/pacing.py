"""Write pacing shared by every worker process of one installation, kept in Redis.

GitHub's secondary limits count an installation's writes wherever they come from
(at most 80 content-creating requests a minute and 500 an hour), so a per-client
sleep is both too slow for one process and too weak for ten. Each limit is a
GCRA bucket per installation: any window of the limit's period holds at most the
limit, a short burst goes out at once, and a steady stream is spaced evenly. A
403 or 429 with ``Retry-After`` holds every process's writes for that long.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import redis

log = logging.getLogger("codex_guard.pacing")

_PREFIX = "codex-guard:pace:"
SLEEP_AT_MOST_SECONDS = 10.0
"""Longer waits end the job instead (``WritesDeferred``): a retry later holds no worker."""

# KEYS[1] the installation's bucket hash, KEYS[2] its hold-until key (ms since the epoch).
# ARGV[1] the longest wait to reserve for (ms), then (interval ms, burst) per bucket.
# Returns the wait in ms; negative when longer than ARGV[1] (then nothing is reserved).
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = 0
local hold = tonumber(redis.call('GET', KEYS[2]) or '0')
if hold > now then wait = hold - now end
local n = (#ARGV - 1) / 2
local tats = {}
for i = 1, n do
  local interval, burst = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('HGET', KEYS[1], tostring(i)) or '0')
  if tat < now then tat = now end
  local w = tat - (burst - 1) * interval - now
  if w > wait then wait = w end
  tats[i] = tat
end
if wait > tonumber(ARGV[1]) then return -wait end
local at, keep = now + wait, 1000
for i = 1, n do
  local interval, burst = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  local tat = tats[i]
  if tat < at then tat = at end
  tat = tat + interval
  redis.call('HSET', KEYS[1], tostring(i), tat)
  if tat - now + burst * interval > keep then keep = tat - now + burst * interval end
end
redis.call('PEXPIRE', KEYS[1], keep)
return wait
"""

# KEYS[1] the hold-until key; ARGV[1] seconds to hold. Never shortens a longer hold.
_HOLD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ms = now + math.floor(tonumber(ARGV[1]) * 1000)
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > cur then redis.call('SET', KEYS[1], until_ms, 'PX', until_ms - now + 1000) end
return until_ms
"""


class WritesDeferred(Exception):
    """The installation's writes are paced or held for longer than a job should sleep."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"GitHub writes for this installation wait {seconds:.1f} s")
        self.seconds = seconds


@dataclass(frozen=True)
class Limit:
    """At most ``count`` writes in any ``period_seconds``."""

    count: int
    period_seconds: float

    def bucket(self) -> tuple[int, int]:
        """(interval ms, burst): a quarter of the limit may go at once, the rest is spaced so
        that burst + period / interval never exceeds the count."""
        burst = max(1, self.count // 4)
        spaced = max(1, self.count - burst)
        return max(1, round(self.period_seconds * 1000 / spaced)), burst


def github_limits(per_minute: int, per_hour: int) -> tuple[Limit, ...]:
    """The limits to pace by; a count of 0 leaves that limit out."""
    found = []
    if per_minute > 0:
        found.append(Limit(per_minute, 60.0))
    if per_hour > 0:
        found.append(Limit(per_hour, 3600.0))
    return tuple(found)


class WritePacer:
    """Decides when one installation's next write may go; shared through Redis."""

    def __init__(
        self,
        client: redis.Redis,
        limits: Sequence[Limit],
        *,
        sleep: Callable[[float], None] = time.sleep,
        sleep_at_most: float = SLEEP_AT_MOST_SECONDS,
    ) -> None:
        self.redis = client
        self.limits = tuple(limits)
        self._sleep = sleep
        self.sleep_at_most = sleep_at_most
        self._acquire = client.register_script(_ACQUIRE)
        self._hold = client.register_script(_HOLD)
        self._buckets = [str(v) for limit in self.limits for v in limit.bucket()]

    @staticmethod
    def keys(installation_id: int) -> list[str]:
        return [f"{_PREFIX}{installation_id}:buckets", f"{_PREFIX}{installation_id}:hold"]

    def reserve(self, installation_id: int) -> float:
        """Reserve the next write slot: seconds until it (0.0: now).

        Raises WritesDeferred, reserving nothing, when the slot is further away than
        ``sleep_at_most``. Redis being away never stops a write: GitHub's own limits and
        the retry policy still hold.
        """
        if not self.limits:
            return 0.0
        try:
            ms = int(
                self._acquire(
                    keys=self.keys(installation_id),
                    args=[round(self.sleep_at_most * 1000), *self._buckets],
                )
            )
        except redis.RedisError:
            log.warning("write pacing unavailable (redis); writing unpaced")
            return 0.0
        if ms < 0:
            raise WritesDeferred(-ms / 1000)
        return ms / 1000

    def before_write(self, installation_id: int) -> None:
        """Wait for the installation's next write slot."""
        wait = self.reserve(installation_id)
        if wait > 0:
            self._sleep(wait)

    def held(self, installation_id: int) -> float:
        """Seconds left of a hold GitHub asked for (0.0: none, or Redis is away)."""
        try:
            raw = self.redis.get(self.keys(installation_id)[1])
            now = time.time() * 1000
        except redis.RedisError:
            return 0.0
        return max(0.0, (float(raw) - now) / 1000) if raw else 0.0

    def hold(self, installation_id: int, seconds: float) -> None:
        """GitHub said to wait (``Retry-After``): every process's writes wait that long."""
        try:
            self._hold(keys=self.keys(installation_id)[1:], args=[max(0.0, seconds)])
        except redis.RedisError:
            return
        log.warning("GitHub asked to slow down; writes held for %.0f s", seconds)
