"""The cost ledger: what Codex spent per PR thread, kept in Redis, each thread once.

A workflow artifact can be delivered twice, a run re-run, a PR evaluated on every
push: the same thread arrives again and again. The ledger keys each thread by
(repository, thread id), so it counts once; its figures are cumulative, so a later
delivery replaces the stored one only when its token total is larger.

Layout: one hash per thread, a sorted set of all threads by when each was first
recorded (for time ranges and trimming) and a set per PR. Each record is written by
one Lua script, so concurrent workers never interleave a read and a write. The
ledger keeps at most `MAX_THREADS` threads, dropping the oldest.

Writing never raises: cost bookkeeping must not fail the evaluation it rides on.
Reading raises `redis.RedisError`; the CLI reports it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

import redis

from bot.core import scrub
from bot.core.usage.record import TOKEN_FIELDS, UsageRecord

__all__ = [
    "MAX_THREADS",
    "UsageRecord",
    "month_spend",
    "pr_usage",
    "record_usage",
    "usage_records",
]

log = logging.getLogger("codex_guard.costs")

PREFIX = "codex-guard:costs:"
THREAD_PREFIX = PREFIX + "thread:"
BY_TIME = PREFIX + "by-time"
PR_PREFIX = PREFIX + "pr:"
MAX_THREADS = 200_000
_BATCH = 1000
_VERSION = "1"

# KEYS: thread hash, by-time sorted set, PR set. ARGV: member, total tokens, score,
# recorded_at (ISO, used only for a new thread), max threads, thread key prefix, then
# field/value pairs. Returns 1 when the thread was new or replaced, 0 when kept.
_RECORD = """
local old_total = redis.call('HGET', KEYS[1], 'total')
if old_total and tonumber(old_total) >= tonumber(ARGV[2]) then
  return 0
end
local recorded_at = redis.call('HGET', KEYS[1], 'recorded_at') or ARGV[4]
local old_pr = redis.call('HGET', KEYS[1], 'pr_key')
if old_pr and old_pr ~= KEYS[3] then
  redis.call('SREM', old_pr, ARGV[1])
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'total', ARGV[2], 'recorded_at', recorded_at, 'pr_key', KEYS[3],
           unpack(ARGV, 7))
redis.call('SADD', KEYS[3], ARGV[1])
if not old_total then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
  local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5])
  if excess > 0 then
    local gone = redis.call('ZPOPMIN', KEYS[2], excess)
    for i = 1, #gone, 2 do
      local key = ARGV[6] .. gone[i]
      local pr_key = redis.call('HGET', key, 'pr_key')
      if pr_key then
        redis.call('SREM', pr_key, gone[i])
      end
      redis.call('DEL', key)
    end
  end
end
return 1
"""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _member(repo: str, thread_id: str) -> str:
    """The thread's id in the ledger: repository names compare case-insensitively."""
    return _digest(f"{repo.lower()}\n{thread_id}")


def _pr_key(repo: str, pr: int) -> str:
    return PR_PREFIX + _digest(f"{repo.lower()}#{pr}")


def _score(at: datetime) -> float:
    return at.timestamp()


def _fields(record: UsageRecord) -> dict[str, str]:
    """The thread's texts, scrubbed with the job's scrubber (the ledger outlives the PR)."""
    data: dict[str, str] = {
        "v": _VERSION,
        "repo": record.repo,
        "pr": str(record.pr),
        "person": record.person,
        "thread_id": record.thread_id,
    }
    for name in TOKEN_FIELDS:
        data[name] = str(getattr(record, name))
    optional = {
        "team": record.team,
        "model": record.model,
        "dollars": None if record.dollars is None else str(record.dollars),
        "run_id": None if record.run_id is None else str(record.run_id),
    }
    data.update({k: v for k, v in optional.items() if v is not None})
    return scrub.current().data(data)


def record_usage(
    client: redis.Redis, records: Iterable[UsageRecord], *, max_threads: int | None = None
) -> int:
    """Record each thread once; how many records were new or changed (0 on a Redis error).

    A thread already recorded is replaced only by a record with a larger token total,
    and keeps the time it was first recorded. Never raises `redis.RedisError`.
    """
    limit = max(1, MAX_THREADS if max_threads is None else max_threads)
    changed = 0
    try:
        script = client.register_script(_RECORD)
        for record in records:
            member = _member(record.repo, record.thread_id)
            pairs = [part for item in _fields(record).items() for part in item]
            args = [
                member,
                record.total_tokens,
                repr(_score(record.recorded_at)),
                record.recorded_at.isoformat(),
                limit,
                THREAD_PREFIX,
                *pairs,
            ]
            keys = [THREAD_PREFIX + member, BY_TIME, _pr_key(record.repo, record.pr)]
            changed += int(script(keys=keys, args=args))
    except redis.RedisError as exc:
        log.warning(
            "cost ledger not written (%d records stored before): %s", changed, type(exc).__name__
        )
        return 0
    return changed


def _text(raw: Mapping[bytes, bytes], name: str) -> str | None:
    value = raw.get(name.encode())
    return None if value is None else value.decode("utf-8", "replace")


def _decode(raw: Mapping[bytes, bytes]) -> UsageRecord | None:
    """A stored thread, or None for one that is gone or does not parse."""
    if not raw:
        return None
    try:
        dollars = _text(raw, "dollars")
        run_id = _text(raw, "run_id")
        return UsageRecord(
            repo=_text(raw, "repo") or "",
            pr=int(_text(raw, "pr") or ""),
            person=_text(raw, "person") or "",
            team=_text(raw, "team"),
            thread_id=_text(raw, "thread_id") or "",
            model=_text(raw, "model"),
            dollars=None if dollars is None else Decimal(dollars),
            recorded_at=datetime.fromisoformat(_text(raw, "recorded_at") or ""),
            run_id=None if run_id is None else int(run_id),
            **{name: int(_text(raw, name) or "") for name in TOKEN_FIELDS},
        )
    except (ValueError, TypeError, InvalidOperation):
        log.warning("skipped a cost ledger entry that does not parse")
        return None


def _load(client: redis.Redis, members: list[bytes]) -> list[UsageRecord]:
    records: list[UsageRecord] = []
    for start in range(0, len(members), _BATCH):
        pipe = client.pipeline(transaction=False)
        for member in members[start : start + _BATCH]:
            pipe.hgetall(THREAD_PREFIX + member.decode())
        for raw in pipe.execute():
            record = _decode(raw)
            if record is not None:
                records.append(record)
    return records


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def usage_records(
    client: redis.Redis, since: datetime, until: datetime | None = None
) -> list[UsageRecord]:
    """Threads first recorded at or after `since` and before `until` (None: no end), oldest
    first. Naive times are taken as UTC. Raises `redis.RedisError`."""
    start = _utc(since)
    end = None if until is None else _utc(until)
    if end is not None and end <= start:
        return []
    members: list[bytes] = []
    low: str = repr(_score(start))
    high = "+inf" if end is None else "(" + repr(_score(end))
    while True:
        page = client.zrangebyscore(BY_TIME, low, high, start=len(members), num=_BATCH)
        members.extend(page)
        if len(page) < _BATCH:
            break
    records = [
        r
        for r in _load(client, members)
        if r.recorded_at >= start and (end is None or r.recorded_at < end)
    ]
    return sorted(records, key=lambda r: r.recorded_at)


def pr_usage(client: redis.Redis, repo: str, pr: int) -> list[UsageRecord]:
    """Every thread recorded for one PR, oldest first. Raises `redis.RedisError`."""
    members = sorted(client.smembers(_pr_key(repo, pr)))
    wanted = repo.lower()
    records = [r for r in _load(client, members) if r.repo.lower() == wanted and r.pr == pr]
    return sorted(records, key=lambda r: (r.recorded_at, r.thread_id))


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The UTC calendar month holding `month`: [first instant, first instant of the next)."""
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following


def month_spend(
    client: redis.Redis,
    *,
    team: str | None = None,
    repo: str | None = None,
    month: date | None = None,
) -> Decimal:
    """Dollars of the threads first recorded in one UTC calendar month (default: this one).

    `team` and `repo` narrow it (a repository compares case-insensitively); threads
    the rate card could not price add nothing. Raises `redis.RedisError`.
    """
    start, end = month_bounds(month or datetime.now(UTC).date())
    wanted_repo = repo.lower() if repo is not None else None
    total = Decimal(0)
    for record in usage_records(client, start, end):
        if team is not None and record.team != team:
            continue
        if wanted_repo is not None and record.repo.lower() != wanted_repo:
            continue
        if record.dollars is not None:
            total += record.dollars
    return total
