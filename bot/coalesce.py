"""Coalescing bursts of events for one key (a PR) into one evaluation.

GitHub sends bursts for one PR: an edit, two labels, several
``check_suite.completed`` within a second or two. Each would queue an
evaluation of the same PR. The receiver ``offer``s each event's state instead;
only the first offer in a window asks the caller to queue a job (with
``countdown=window``), and later offers just replace the stored state when they
are newer. The job ``take``s the newest state when it runs, so one evaluation
covers the whole burst.

Safety: the pending mark carries a TTL, so a job that is lost (a worker host
dies, the enqueue after a ``True`` fails and ``release`` was not called) can
only delay the next evaluation by ``pending_ttl`` seconds, never lose it.
Offers that arrive while a taken job is running set a new pending mark, so
their state is evaluated by a following job: nothing is dropped.
"""

from __future__ import annotations

import json
from typing import Any

import redis

_PREFIX = "codex-guard:coalesce:"

# KEYS[1] state key, KEYS[2] pending key; ARGV: state json, updated_at, state ttl, pending ttl
# Returns 1 when the caller must queue a job (no job pending), else 0.
_OFFER = """
local cur = redis.call('GET', KEYS[1])
local replace = true
if cur then
  local ok, data = pcall(cjson.decode, cur)
  if ok and type(data) == 'table' and type(data['updated_at']) == 'string'
     and data['updated_at'] > ARGV[2] then
    replace = false
  end
end
if replace then
  redis.call('SET', KEYS[1], cjson.encode({updated_at=ARGV[2], state=ARGV[1]}), 'EX', ARGV[3])
else
  redis.call('EXPIRE', KEYS[1], ARGV[3])
end
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[4]) then
  return 1
end
return 0
"""

# KEYS[1] state key, KEYS[2] pending key. Clears the pending mark, returns the state json.
# The state itself is kept (until its TTL) so an older, late event cannot replace it.
_TAKE = """
redis.call('DEL', KEYS[2])
local cur = redis.call('GET', KEYS[1])
if not cur then return false end
local ok, data = pcall(cjson.decode, cur)
if not ok or type(data) ~= 'table' then return false end
return data['state']
"""


class Coalescer:
    """A Redis-backed debouncer shared by the receiver (``offer``) and the worker (``take``)."""

    def __init__(
        self,
        redis_client: redis.Redis,
        window_seconds: float = 1.0,
        *,
        pending_ttl: float | None = None,
        state_ttl: int = 24 * 3600,
    ) -> None:
        self.redis = redis_client
        self.window = float(window_seconds)
        # Long enough for a job queued with countdown=window to be taken even behind a
        # backlog; short enough that a lost job only delays the next evaluation.
        self.pending_ttl = max(1, round(pending_ttl if pending_ttl else 60 + self.window))
        self.state_ttl = int(state_ttl)
        self._offer = redis_client.register_script(_OFFER)
        self._take = redis_client.register_script(_TAKE)

    @staticmethod
    def _keys(key: str) -> list[str]:
        return [f"{_PREFIX}{key}:state", f"{_PREFIX}{key}:pending"]

    def offer(self, key: str, state: dict[str, Any], updated_at: str) -> bool:
        """Store ``state`` if it is the newest for ``key``; True when the caller must queue a job.

        ``updated_at`` compares as a string (GitHub's ISO 8601 UTC timestamps sort
        correctly); an equal one replaces the stored state (the later arrival wins).
        """
        result = self._offer(
            keys=self._keys(key),
            args=[
                json.dumps(state, separators=(",", ":"), sort_keys=True),
                updated_at or "",
                self.state_ttl,
                self.pending_ttl,
            ],
        )
        return bool(int(result))

    def take(self, key: str) -> dict[str, Any] | None:
        """For the job: clear the pending mark and return the newest state, atomically."""
        raw = self._take(keys=self._keys(key))
        if raw is None or raw is False:
            return None
        if isinstance(raw, bytes):
            raw = raw.decode()
        value = json.loads(raw)
        return value if isinstance(value, dict) else None

    def release(self, key: str) -> None:
        """Undo a ``True`` offer whose job could not be queued (so a redelivery queues one)."""
        self.redis.delete(self._keys(key)[1])

    def pending(self, key: str) -> bool:
        return bool(self.redis.exists(self._keys(key)[1]))
