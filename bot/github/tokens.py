"""Installation tokens, shared by every worker process through Redis.

PyGithub caches a token per auth object only; a fleet of workers would mint a
token per process per job. Tokens are kept in Redis, encrypted with a key
derived from the App's private key, until five minutes before they expire.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from datetime import UTC, datetime

import redis
from cryptography.fernet import Fernet, InvalidToken
from github import Auth, GithubException, GithubIntegration

from bot.runtime.settings import Settings

log = logging.getLogger("codex_guard.tokens")

REFRESH_MARGIN_SECONDS = 300
_PREFIX = "codex-guard:token:"


class InstallationGone(Exception):
    """GitHub refused to mint a token (installation removed or suspended): no retry helps."""

    def __init__(self, installation_id: int, status: int | None) -> None:
        super().__init__(f"installation {installation_id} refused a token (HTTP {status})")
        self.installation_id = installation_id
        self.status = status


class TokenStore:
    def __init__(self, settings: Settings, client: redis.Redis) -> None:
        self._settings = settings
        self._redis = client
        digest = hashlib.sha256(
            b"codex-guard installation-token cache\0" + settings.private_key.encode()
        ).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))
        self._local: dict[int, tuple[str, float]] = {}
        self._app: GithubIntegration | None = None

    def _integration(self) -> GithubIntegration:
        """The client authenticated as the App itself; it signs a fresh JWT per request."""
        if self._app is None:
            self._app = GithubIntegration(
                auth=Auth.AppAuth(self._settings.app_id, self._settings.private_key),
                base_url=self._settings.github_api_url,
                timeout=self._settings.github_timeout,
                seconds_between_requests=self._settings.seconds_between_requests,
                seconds_between_writes=self._settings.seconds_between_writes,
            )
        return self._app

    def app_request(self, method: str, path: str, **kwargs: object) -> tuple[dict, object]:
        """One request as the App itself (JWT): returns (headers, data)."""
        return self._integration().requester.requestJsonAndCheck(method, path, **kwargs)

    def token(self, installation_id: int) -> str:
        now = time.time()
        cached = self._local.get(installation_id)
        if cached and cached[1] - REFRESH_MARGIN_SECONDS > now:
            return cached[0]
        key = f"{_PREFIX}{installation_id}"
        try:
            stored = self._redis.get(key)
        except redis.RedisError:
            stored = None
        if stored:
            try:
                token = self._fernet.decrypt(stored).decode()
                ttl = self._redis.ttl(key)
                if ttl and ttl > 0:
                    self._local[installation_id] = (token, now + ttl + REFRESH_MARGIN_SECONDS)
                    return token
            except (InvalidToken, redis.RedisError):
                pass
        try:
            auth = self._integration().get_access_token(installation_id)
        except GithubException as exc:
            if exc.status in (401, 403, 404):
                self.forget(installation_id)
                raise InstallationGone(installation_id, exc.status) from None
            raise
        expires = auth.expires_at
        expires_at = expires.timestamp() if isinstance(expires, datetime) else now + 3600
        self._local[installation_id] = (auth.token, expires_at)
        ttl = int(expires_at - now - REFRESH_MARGIN_SECONDS)
        if ttl > 0:
            try:
                self._redis.set(key, self._fernet.encrypt(auth.token.encode()), ex=ttl)
            except redis.RedisError:
                log.warning("could not share the installation token through redis")
        log.info(
            "minted installation token (expires %s)",
            datetime.fromtimestamp(expires_at, UTC).isoformat(timespec="seconds"),
        )
        return auth.token

    def forget(self, installation_id: int) -> None:
        """Drop a token GitHub no longer accepts, or of a removed installation."""
        self._local.pop(installation_id, None)
        try:
            self._redis.delete(f"{_PREFIX}{installation_id}")
        except redis.RedisError:
            pass
