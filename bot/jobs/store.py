"""What codex-guard remembers between jobs, in Redis, each with a bounded life.

Nothing here is the source of truth: every value can be rebuilt from GitHub,
so losing Redis costs API calls, never correctness.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import redis

_P = "codex-guard:"
DAY = 24 * 3600
OPEN_CHECKS = f"{_P}open-checks"
INSTALLATIONS = f"{_P}installations"


# {sha, updated_at} of the newest event seen; an older event's SHA never replaces it.
_NOTE_HEAD = """
local cur = redis.call('GET', KEYS[1])
if cur then
  local data = cjson.decode(cur)
  if data['updated_at'] > ARGV[2] then return data['sha'] end
end
redis.call('SET', KEYS[1], cjson.encode({sha=ARGV[1], updated_at=ARGV[2]}), 'EX', ARGV[3])
return ARGV[1]
"""


def _open_member(repo: str, sha: str, check_id: int) -> str:
    return json.dumps({"repo": repo, "sha": sha, "id": int(check_id)}, sort_keys=True)


# A refused or malformed command is answered in words once per person and PR in this
# window; repeats get a reaction, so 25 comments cannot make 25 bot replies.
REPLY_WINDOW_SECONDS = 3600


class Store:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def first_reply(self, repo: str, number: int, login: str) -> bool:
        """True once per person and PR per window: whether to answer with a comment."""
        key = f"{_P}replied:{repo}#{number}:{login.casefold()}"
        return bool(self.redis.set(key, 1, nx=True, ex=REPLY_WINDOW_SECONDS))

    # The newest head SHA seen for a PR: older evaluations must not touch the comment.
    def note_head(self, repo: str, number: int, sha: str, updated_at: str) -> str:
        """Record ``sha`` as the PR's head unless a newer event said otherwise; the head."""
        latest = self.redis.eval(
            _NOTE_HEAD, 1, f"{_P}head:{repo}#{number}", sha, updated_at or "", 30 * DAY
        )
        return latest.decode() if isinstance(latest, bytes) else str(latest)

    def latest_head(self, repo: str, number: int) -> str | None:
        raw = self.redis.get(f"{_P}head:{repo}#{number}")
        return json.loads(raw)["sha"] if raw else None

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
        # Every new check run starts as "maybe unfinished" until an evaluation says it
        # completed; the stuck-check sweeper looks at the ones left here too long.
        self.redis.zadd(OPEN_CHECKS, {_open_member(repo, sha, check_id): time.time()}, nx=True)

    def claim_check_creation(self, repo: str, sha: str, ttl: int = 60) -> bool:
        """True for the one job that may create the check run on ``sha`` now."""
        return bool(self.redis.set(f"{_P}check-claim:{repo}:{sha}", 1, nx=True, ex=ttl))

    def release_check_claim(self, repo: str, sha: str) -> None:
        self.redis.delete(f"{_P}check-claim:{repo}:{sha}")

    # Check runs that may still be `in_progress` (for the stuck-check sweeper).
    def check_settled(self, repo: str, sha: str) -> None:
        """The check run on ``sha`` is completed: the sweeper need not look at it."""
        check_id = self.check_id(repo, sha)
        if check_id is not None:
            self.redis.zrem(OPEN_CHECKS, _open_member(repo, sha, check_id))

    def open_checks(self, older_than: float, limit: int = 200) -> list[tuple[str, str, int]]:
        """(repo, sha, check id) of check runs noted in progress before ``older_than``."""
        found = []
        for raw in self.redis.zrangebyscore(OPEN_CHECKS, "-inf", older_than, start=0, num=limit):
            data = json.loads(raw)
            found.append((data["repo"], data["sha"], int(data["id"])))
        return found

    def touch_open_check(self, repo: str, sha: str, check_id: int) -> int:
        """Restart the clock of an open check run; returns how often it was swept."""
        self.redis.zadd(OPEN_CHECKS, {_open_member(repo, sha, check_id): time.time()})
        key = f"{_P}swept:{repo}:{sha}"
        count = int(self.redis.incr(key))
        self.redis.expire(key, 7 * DAY)
        return count

    def drop_open_check(self, repo: str, sha: str, check_id: int) -> None:
        self.redis.zrem(OPEN_CHECKS, _open_member(repo, sha, check_id))
        self.redis.delete(f"{_P}swept:{repo}:{sha}")

    def trim_open_checks(self) -> None:
        """Forget entries older than the life of the check ids they point at."""
        self.redis.zremrangebyscore(OPEN_CHECKS, "-inf", time.time() - 30 * DAY)

    # Which installation serves a repository (so sweepers can act without a delivery).
    def note_installation(self, repo: str, installation_id: int) -> None:
        self.redis.hset(INSTALLATIONS, repo, installation_id)

    def installation_for(self, repo: str) -> int | None:
        value = self.redis.hget(INSTALLATIONS, repo)
        return int(value) if value else None

    def repos_of(self, installation_id: int) -> list[str]:
        """The repositories noted as served by ``installation_id``."""
        return sorted(
            repo.decode()
            for repo, value in self.redis.hgetall(INSTALLATIONS).items()
            if int(value) == installation_id
        )

    def forget_installation(self, installation_id: int) -> None:
        for repo, value in self.redis.hgetall(INSTALLATIONS).items():
            if int(value) == installation_id:
                self.redis.hdel(INSTALLATIONS, repo)

    # The PR comment codex-guard edits in place.
    def comment_id(self, repo: str, number: int) -> int | None:
        """The comment's ID, if known (see `comment_state`)."""
        return int(self.comment_state(repo, number) or 0) or None

    def remember_comment(self, repo: str, number: int, comment_id: int) -> None:
        self.redis.set(f"{_P}comment:{repo}#{number}", comment_id, ex=90 * DAY)

    def remember_no_comment(self, repo: str, number: int) -> None:
        """GitHub was asked and the PR has no codex-guard comment (yet).

        Never over a known ID: a job that looked before another created the comment
        must not make the next one create a second.
        """
        self.redis.set(f"{_P}comment:{repo}#{number}", 0, ex=90 * DAY, nx=True)

    def claim_comment_creation(self, repo: str, number: int, ttl: int = 60) -> bool:
        """True for the one job that may create the PR's comment now."""
        return bool(self.redis.set(f"{_P}comment-claim:{repo}#{number}", 1, nx=True, ex=ttl))

    def release_comment_claim(self, repo: str, number: int) -> None:
        self.redis.delete(f"{_P}comment-claim:{repo}#{number}")

    def remembers_comments_of(self, created_at: str) -> bool:
        """Whether every comment codex-guard posted on a PR created at ``created_at`` is
        remembered here, so no record means no comment and GitHub need not be asked.

        True for PRs created after this Redis began remembering (its first use, marked once)
        and recently enough that no record has expired. A flushed Redis starts a new mark,
        so older PRs are looked up again.
        """
        if not created_at:
            return False
        key = f"{_P}memory-since"
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.redis.set(key, now, nx=True)
        since = self.redis.get(key)
        since_text = since.decode() if isinstance(since, bytes) else str(since or now)
        recent = (datetime.now(UTC) - timedelta(days=80)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return created_at > since_text and created_at > recent

    def comment_state(self, repo: str, number: int) -> int | bool | None:
        """The comment's ID, False when known to have none, None when never looked up."""
        value = self.redis.get(f"{_P}comment:{repo}#{number}")
        if value is None:
            return None
        return int(value) or False

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

    def uncache(self, key: str) -> None:
        self.redis.delete(f"{_P}cache:{key}")

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
        for raw in self.redis.zrange(OPEN_CHECKS, 0, -1):
            if json.loads(raw).get("repo") == repo:
                self.redis.zrem(OPEN_CHECKS, raw)
        self.redis.hdel(INSTALLATIONS, repo)


def dumps(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))
