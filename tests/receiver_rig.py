"""Helpers for tests that talk to the receiver: settings, a client, signing, reading the queue."""

from __future__ import annotations

import base64
import json
from typing import Any

import redis
from flask.testing import FlaskClient

from bot.runtime.settings import Settings, load_settings
from bot.web import signature
from bot.web.app import create_app
from tests.conftest import APP_ID, METRICS_TOKEN, WEBHOOK_SECRET, RedisServer
from worker.celery_app import make_celery

QUEUE = "codex-guard"
WEBHOOK_URL = "/api/github/webhooks"


def app_settings(app_key: tuple[str, ...], redis_server: RedisServer, **env: str) -> Settings:
    """The test App's settings over `redis_server`, with `env` on top."""
    return load_settings(
        {
            "APP_ID": str(APP_ID),
            "PRIVATE_KEY": app_key[0],
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "REDIS_URL": redis_server.url,
            "METRICS_TOKEN": METRICS_TOKEN,
            **env,
        }
    )


def receiver_client(settings: Settings, redis_client: redis.Redis) -> FlaskClient:
    """A Flask test client for the receiver built from `settings`."""
    return create_app(settings, make_celery(settings.redis_url), redis_client).test_client()


def headers(
    event: str,
    body: bytes,
    delivery: str | None = None,
    secret: str = WEBHOOK_SECRET,
    agent: str = "test",
) -> dict[str, str]:
    """The headers GitHub sends with a signed delivery; the benchmarks send the same."""
    return signature.delivery_headers(event, body, secret, delivery, agent)


def post(client: FlaskClient, event: str, payload: dict[str, Any] | bytes, **kw: Any):
    """Deliver `payload` (a dict, or bytes as they are) signed, as GitHub would."""
    body = encode(payload) if isinstance(payload, dict) else payload
    return client.post(WEBHOOK_URL, data=body, headers=headers(event, body, **kw))


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def queued(client: redis.Redis) -> list[tuple[str, dict[str, Any]]]:
    """(task name, kwargs) of every message waiting in the Celery queue."""
    jobs = []
    for raw in client.lrange(QUEUE, 0, -1):
        message = json.loads(raw)
        body = json.loads(base64.b64decode(message["body"]))
        jobs.append((message["headers"]["task"], body[1]))
    return jobs
