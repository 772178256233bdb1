"""Coalescing bursts of events for one key (a PR) into few evaluations.

GitHub sends bursts for one PR: an edit, two labels, several
``check_suite.completed`` within a second or two. Each would queue an
evaluation of the same PR. The receiver ``offer``s each event's state instead.
Debouncing is leading-edge: an offer for a key nobody evaluated in the last
``window`` seconds queues a job that runs at once, so a lone event waits for
nothing; an offer inside the window (of the last queued or taken job) queues
one job that runs after the window, and later offers only replace the stored
state when they are newer. The job ``take``s the newest state when it runs, so
a burst costs one evaluation at its start and about one per window after.

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

from bot.core.names import EVALUATE, EVALUATE_SHA
from bot.core.routing import Job

_PREFIX = "codex-guard:coalesce:"


def key_for(job: Job) -> tuple[str, str] | None:
    """(coalescing key, updated_at) for a job that may ride along with others, else None.

    Evaluations of one PR share a key whether a ``pull_request`` event or a CI event
    (naming exactly that PR) asked for them, so a burst of edits, labels and
    ``check_suite.completed`` is one evaluation; the newest PR snapshot wins (CI events
    carry no ``updated_at``, so they never replace one) and CI is read when the job runs.
    A CI event without exactly one PR is keyed by its commit. Forced jobs (the Re-run
    button, a recheck) and everything else are never coalesced.
    """
    kwargs = job.kwargs
    repo = kwargs.get("repo")
    if not isinstance(repo, str):
        return None
    if job.task == EVALUATE and not kwargs.get("force"):
        number = kwargs.get("number")
        if isinstance(number, int):
            pr = kwargs.get("pull_request") or {}
            return f"pr:{repo}#{number}", str(pr.get("updated_at") or "")
    elif job.task == EVALUATE_SHA and not kwargs.get("force"):
        numbers = kwargs.get("pull_numbers") or []
        if len(numbers) == 1 and isinstance(numbers[0], int):
            return f"pr:{repo}#{numbers[0]}", ""
        sha = kwargs.get("head_sha")
        if isinstance(sha, str) and sha:
            return f"sha:{repo}@{sha}", ""
    return None


# The offer, as a Lua function shared with the receiver's one-round-trip delivery script
# (``bot.jobs.queue``). sk/pk/rk: state, pending and recent keys; st: state json; at:
# updated_at; token: the pending mark's value (the queued job's id, or '1'); window_ms: the
# debounce window. Returns 0 when a job is already pending (the state rides along), 1 when
# the caller must queue a job to run now (nothing evaluated the key within the window: the
# leading edge), 2 when it must queue one to run after the window.
OFFER_FUNCTION = """
local function offer(sk, pk, rk, st, at, state_ttl, pending_ttl, token, window_ms)
  local cur = redis.call('GET', sk)
  local replace = true
  if cur then
    local ok, data = pcall(cjson.decode, cur)
    if ok and type(data) == 'table' and type(data['updated_at']) == 'string'
       and data['updated_at'] > at then
      replace = false
    end
  end
  if replace then
    redis.call('SET', sk, cjson.encode({updated_at=at, state=st, dirty=1}), 'EX', state_ttl)
  else
    redis.call('EXPIRE', sk, state_ttl)
  end
  if redis.call('SET', pk, token, 'NX', 'EX', pending_ttl) then
    if redis.call('SET', rk, '1', 'NX', 'PX', window_ms) then
      return 1
    end
    return 2
  end
  return 0
end
"""

# KEYS[1] state key, KEYS[2] pending key, KEYS[3] recent key; ARGV: state json, updated_at,
# state ttl, pending ttl, token, window in ms. Returns what ``offer`` returns.
_OFFER = (
    OFFER_FUNCTION
    + """
return offer(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
"""
)

# KEYS[1] state key, KEYS[2] pending key, KEYS[3] taken key, KEYS[4] recent key; ARGV[1] the
# job's token ('' for none), ARGV[2] the taken key's ttl, ARGV[3] the window in ms (a take
# starts an evaluation: offers within the window after it wait for the window's end).
# Returns {state json, 1 if no job took this state before else 0}, or false when this job
# has nothing to do:
# - another job is pending for the key (a newer offer queued it; it will take the state);
# - the pending mark is gone, the state was taken by an earlier job and nothing changed
#   since (this job's work is done), unless this job is that taker (a redelivery).
# The state itself is kept (until its TTL) so an older, late event cannot replace it.
_TAKE = """
local pending = redis.call('GET', KEYS[2])
local token = ARGV[1]
if pending and token ~= '' and pending ~= token then return false end
if pending then redis.call('DEL', KEYS[2]) end
local cur = redis.call('GET', KEYS[1])
if not cur then return false end
local ok, data = pcall(cjson.decode, cur)
if not ok or type(data) ~= 'table' then return false end
if token ~= '' then
  if not pending and data['dirty'] ~= 1 and redis.call('GET', KEYS[3]) ~= token then
    return false
  end
  redis.call('SET', KEYS[3], token, 'EX', ARGV[2])
end
if tonumber(ARGV[3]) > 0 then redis.call('SET', KEYS[4], '1', 'PX', ARGV[3]) end
local fresh = 0
if data['dirty'] == 1 then
  fresh = 1
  data['dirty'] = 0
  redis.call('SET', KEYS[1], cjson.encode(data), 'KEEPTTL')
end
return {data['state'], fresh}
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
    def keys(key: str) -> list[str]:
        """[state, pending, taken, recent] keys for a coalescing key."""
        return [f"{_PREFIX}{key}:{part}" for part in ("state", "pending", "taken", "recent")]

    @staticmethod
    def offer_keys(key: str) -> list[str]:
        """The keys an offer touches: [state, pending, recent]."""
        state, pending, _, recent = Coalescer.keys(key)
        return [state, pending, recent]

    @property
    def window_ms(self) -> int:
        return max(1, round(self.window * 1000))

    def offer(
        self, key: str, state: dict[str, Any], updated_at: str, token: str | None = None
    ) -> bool:
        """Store ``state`` if it is the newest for ``key``; True when the caller must queue a job.

        ``updated_at`` compares as a string (GitHub's ISO 8601 UTC timestamps sort
        correctly); an equal one replaces the stored state (the later arrival wins).
        """
        return self.offer_delay(key, state, updated_at, token) is not None

    def offer_delay(
        self, key: str, state: dict[str, Any], updated_at: str, token: str | None = None
    ) -> float | None:
        """``offer``, saying when the job to queue should run: None (none to queue), 0.0 (now:
        the leading edge) or the window (an evaluation of the key started within it)."""
        result = int(
            self._offer(
                keys=self.offer_keys(key),
                args=[
                    json.dumps(state, separators=(",", ":"), sort_keys=True),
                    updated_at or "",
                    self.state_ttl,
                    self.pending_ttl,
                    token or "1",
                    self.window_ms,
                ],
            )
        )
        return None if result == 0 else (0.0 if result == 1 else self.window)

    def take(self, key: str, token: str | None = None) -> dict[str, Any] | None:
        """For the job: clear the pending mark and return the newest state, atomically.

        With ``token`` (the job's id, as given to ``offer``), None means the job has
        nothing to do: another queued job will take the state, or an earlier job took it
        and nothing changed since. A job taking again with its own token (a redelivery
        after its worker died) gets the state again.
        """
        return self.take_entry(key, token)[0]

    def take_entry(self, key: str, token: str | None = None) -> tuple[dict[str, Any] | None, bool]:
        """``take``, plus whether this state is new (no job took it before)."""
        reply = self._take(keys=self.keys(key), args=[token or "", self.state_ttl, self.window_ms])
        if not reply:
            return None, False
        raw, fresh = reply
        if isinstance(raw, bytes):
            raw = raw.decode()
        value = json.loads(raw)
        return (value if isinstance(value, dict) else None), bool(int(fresh))

    def release(self, key: str) -> None:
        """Undo a ``True`` offer whose job could not be queued (so a redelivery queues one).

        Best effort: the pending mark expires anyway.
        """
        try:
            self.redis.delete(*self.offer_keys(key)[1:])
        except redis.RedisError:
            pass

    def pending(self, key: str) -> bool:
        return bool(self.redis.exists(self.keys(key)[1]))
