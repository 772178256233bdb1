"""Shared test rig: real redis-server processes, the App's key, real payloads."""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from bot.ops.local_redis import RedisMissing, free_port, key_pair, start_redis, stop_redis

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
APP_ID = 424242
WEBHOOK_SECRET = "It's a Secret to Everybody"
METRICS_TOKEN = "scraper-token-for-tests"
METRICS_AUTH = {"Authorization": f"Bearer {METRICS_TOKEN}"}


class RedisServer:
    """A throwaway redis-server on a free loopback port."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        try:
            self.proc = start_redis(self.port, self.workdir)
        except RedisMissing:
            pytest.fail("redis-server is not installed; run `make test`, which installs it")

    def stop(self) -> None:
        stop_redis(self.proc)
        self.proc = None

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis_server.client()
    client.flushall()
    yield client
    client.flushall()


@pytest.fixture(scope="session")
def app_key() -> tuple[str, str]:
    """An RSA key pair for the App: (private PEM, public PEM)."""
    return key_pair()


@pytest.fixture(scope="session")
def webhook_examples() -> dict[str, list[dict[str, Any]]]:
    """GitHub's example payloads by event name (see fixtures/github/PROVENANCE.md)."""
    data = json.loads((FIXTURES / "github" / "webhook-examples.json").read_text())
    return {entry["name"]: entry["examples"] for entry in data}


def example(
    examples: dict[str, list[dict[str, Any]]], event: str, action: str | None = None
) -> dict[str, Any]:
    """A deep copy of the first real example of ``event.action`` sent to an App."""
    for payload in examples[event]:
        if (action is None or payload.get("action") == action) and "installation" in payload:
            return copy.deepcopy(payload)
    raise LookupError(f"no App example for {event}.{action}")
