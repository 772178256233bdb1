"""The worker's long-lived services and the allowlist gate every job passes first.

A module of their own so the evaluations and the events that evaluate nothing
(`bot.jobs.lifecycle`) share them without importing each other.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis

from bot.github.gateway import Gateway
from bot.github.pacing import WritePacer, github_limits
from bot.github.tokens import TokenStore
from bot.jobs.store import Store
from bot.runtime.metrics import observe_github
from bot.runtime.settings import Settings

# One logger name for the whole pipeline: operators and the e2e tests filter on it.
log = logging.getLogger("codex_guard.pipeline")


@dataclass
class Services:
    """What a worker process holds for its lifetime."""

    settings: Settings
    redis: redis.Redis
    tokens: TokenStore
    store: Store
    pacer: WritePacer | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2)
        limits = github_limits(settings.writes_per_minute, settings.writes_per_hour)
        pacer = WritePacer(client, limits)
        return cls(settings, client, TokenStore(settings, client), Store(client), pacer)

    def gateway(self, installation_id: int) -> Gateway:
        gw = Gateway(self.settings, self.tokens, installation_id, self.pacer)
        observe_github(gw.requester, self.redis, installation_id)
        return gw


def is_allowed(svc: Services, repo: str) -> bool:
    """The operator's allowlist, checked before any GitHub call for a repository."""
    if svc.settings.allows(repo):
        return True
    log.info("skipped: %s is not in the allowlist", repo)
    return False
