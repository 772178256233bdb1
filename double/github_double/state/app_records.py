"""What belongs to the App rather than a repository: deliveries, manifests, tokens, rate use."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Any

from github_double.models import Delivery, Token
from github_double.state.base import WorldBase


class AppRecords(WorldBase):
    """World methods for the App's deliveries, manifest codes, tokens and rate limits."""

    def add_delivery(
        self,
        event: str,
        action: str | None = None,
        *,
        installation_id: int | None = None,
        repository_id: int | None = None,
        status_code: int = 200,
        payload: dict[str, Any] | None = None,
        guid: str | None = None,
    ) -> Delivery:
        with self.lock:
            delivery = Delivery(
                id=self.new_id(),
                guid=guid or secrets.token_hex(16),
                event=event,
                action=action,
                installation_id=installation_id,
                repository_id=repository_id,
                status="OK"
                if 200 <= status_code < 300
                else f"Invalid HTTP Response: {status_code}",
                status_code=status_code,
                payload=payload or {},
            )
            self.deliveries[delivery.id] = delivery
            return delivery

    def add_manifest_code(
        self,
        code: str,
        slug: str | None = None,
        app_id: int | None = None,
        pem: str = "",
        webhook_secret: str | None = None,
    ) -> dict[str, Any]:
        """Register a manifest `code` that `POST /app-manifests/{code}/conversions` accepts once."""
        with self.lock:
            record = {
                "id": app_id or self.app.id,
                "slug": slug or self.app.slug,
                "pem": pem,
                "webhook_secret": webhook_secret or secrets.token_hex(20),
                "client_id": "Iv1." + secrets.token_hex(8),
                "client_secret": secrets.token_hex(20),
            }
            self.manifests[code] = record
            return record

    def issue_token(
        self,
        installation_id: int,
        permissions: Mapping[str, str] | None = None,
        repositories: list[str] | None = None,
        ttl: float = 3600.0,
    ) -> Token:
        with self.lock:
            token = Token(
                token="ghs_" + secrets.token_urlsafe(27).replace("-", "a").replace("_", "b")[:36],
                installation_id=installation_id,
                expires_at=time.time() + ttl,
                permissions=dict(permissions or self.installations[installation_id].permissions),
                repositories=repositories,
            )
            self.tokens[token.token] = token
            return token

    def live_token(self, value: str) -> Token | None:
        with self.lock:
            token = self.tokens.get(value)
            if token is None or token.expires_at <= time.time():
                return None
            return token

    def count_request(self, bucket: str) -> tuple[int, int, int]:
        """Count one request against `bucket`; returns (limit, used, reset epoch)."""
        with self.lock:
            now = time.time()
            start, used = self.rate_usage.get(bucket, (now, 0))
            if now - start >= 3600:
                start, used = now, 0
            used += 1
            self.rate_usage[bucket] = (start, used)
            return self.rate_limit, used, int(start + 3600)
