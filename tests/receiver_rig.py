"""Helpers for tests that talk to the receiver: signing and reading the queue."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import redis

from bot import signature
from tests.conftest import WEBHOOK_SECRET

QUEUE = "codex-guard"


def headers(event: str, body: bytes, delivery: str | None = None, secret: str = WEBHOOK_SECRET):
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": signature.sign(secret, body),
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/test",
    }


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
