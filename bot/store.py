"""What codex-guard remembers between jobs, in Redis, each with a bounded life.

Nothing here is the source of truth: every value can be rebuilt from GitHub,
so losing Redis costs API calls, never correctness.
"""

from __future__ import annotations

import json
from typing import Any

import redis

_P = "codex-guard:"
DAY = 24 * 3600


class Store:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    # The newest head SHA seen for a PR: older evaluations must not touch the comment.
    def note_head(self, repo: str, number: int, sha: str) -> None:
        self.redis.set(f"{_P}head:{repo}#{number}", sha, ex=30 * DAY)

    def latest_head(self, repo: str, number: int) -> str | None:
        value = self.redis.get(f"{_P}head:{repo}#{number}")
        return value.decode() if value else None

    # Head SHA -> PR numbers, so a `status` event (which names no PR) finds its PRs.
    def index_sha(self, repo: str, sha: str, number: int) -> None:
        key = f"{_P}sha:{repo}:{sha}"
        self.redis.sadd(key, number)
        self.redis.expire(key, 30 * DAY)

    def prs_for_sha(self, repo: str, sha: str) -> list[int]:
        return sorted(int(n) for n in self.redis.smembers(f"{_P}sha:{repo}:{sha}"))

    # codex-guard's own check run for a head SHA.
    def check_id(self, repo: str, sha: str) -> int | None:
        value = self.redis.get(f"{_P}check:{repo}:{sha}")
        return int(value) if value else None

    def remember_check(self, repo: str, sha: str, check_id: int) -> None:
        self.redis.set(f"{_P}check:{repo}:{sha}", check_id, ex=30 * DAY)

    # The PR comment codex-guard edits in place.
    def comment_id(self, repo: str, number: int) -> int | None:
        value = self.redis.get(f"{_P}comment:{repo}#{number}")
        return int(value) if value else None

    def remember_comment(self, repo: str, number: int, comment_id: int) -> None:
        self.redis.set(f"{_P}comment:{repo}#{number}", comment_id, ex=90 * DAY)

    # Overrides from `/codex-guard skip`.
    def add_override(self, repo: str, number: int, practice: str, by: str, reason: str) -> None:
        key = f"{_P}overrides:{repo}#{number}"
        self.redis.hset(key, practice, json.dumps({"by": by, "reason": reason}))
        self.redis.expire(key, 180 * DAY)

    def overrides(self, repo: str, number: int) -> dict[str, dict[str, str]]:
        raw = self.redis.hgetall(f"{_P}overrides:{repo}#{number}")
        return {k.decode(): json.loads(v) for k, v in raw.items()}

    # Small caches keyed by content (blob SHA) or with a short life.
    def cached(self, key: str) -> str | None:
        value = self.redis.get(f"{_P}cache:{key}")
        return value.decode("utf-8") if value is not None else None

    def cache(self, key: str, value: str, ttl: int) -> None:
        self.redis.set(f"{_P}cache:{key}", value.encode("utf-8"), ex=ttl)

    def forget_cache(self, prefix: str) -> None:
        for key in self.redis.scan_iter(f"{_P}cache:{prefix}*", count=500):
            self.redis.delete(key)

    # Codex task IDs of open PRs, so the shared-thread rule needs no listing of PRs.
    def record_tasks(self, repo: str, number: int, task_ids: list[str]) -> None:
        key = f"{_P}tasks:{repo}"
        self.redis.hset(key, str(number), json.dumps(task_ids))
        self.redis.expire(key, 90 * DAY)

    def drop_tasks(self, repo: str, number: int) -> None:
        self.redis.hdel(f"{_P}tasks:{repo}", str(number))

    def open_pr_tasks(self, repo: str) -> dict[int, list[str]]:
        raw = self.redis.hgetall(f"{_P}tasks:{repo}")
        return {int(k): json.loads(v) for k, v in raw.items()}

    def forget_repo(self, repo: str) -> None:
        for pattern in (f"{_P}*:{repo}#*", f"{_P}*:{repo}:*", f"{_P}tasks:{repo}"):
            for key in self.redis.scan_iter(pattern, count=500):
                self.redis.delete(key)
        self.forget_cache(f"{repo}:")


def dumps(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))
