"""``GET /metrics`` on the web process, behind an optional bearer token (the webhook
port is public and the figures name installations)."""

from __future__ import annotations

import hmac

import redis
from flask import Blueprint, Response, request
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.core.names import QUEUE
from bot.runtime.metrics_export import registry_for


def metrics_blueprint(
    client: redis.Redis, queue: str = QUEUE, token: str | None = None
) -> Blueprint:
    """``GET /metrics`` in Prometheus text format, the same answer from any web process.

    With ``token`` the scraper must send ``Authorization: Bearer <token>`` (compared in
    constant time): the webhook port is public, and the figures name installations.
    """
    blueprint = Blueprint("codex_guard_metrics", __name__)
    registry = registry_for(client, queue)
    expected = f"Bearer {token}".encode() if token else None

    @blueprint.get("/metrics")
    def metrics() -> Response:
        if expected is not None:
            given = request.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return Response(
                    "send Authorization: Bearer <METRICS_TOKEN>\n",
                    status=401,
                    content_type="text/plain",
                    headers={"WWW-Authenticate": "Bearer"},
                )
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)

    return blueprint
