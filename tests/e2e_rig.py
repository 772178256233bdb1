"""End-to-end rig: real redis-server, the Procfile's web and worker, the GitHub double.

Nothing of the project is mocked: the test posts signed deliveries over HTTP to
gunicorn, the Celery worker takes the job from Redis and talks to the double
through PyGithub, and the test reads what GitHub would show.
"""

from __future__ import annotations

import copy
import itertools
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
from github_double import GitHubDouble

from bot.ops.procfile import Process, read_procfile
from bot.web import signature
from tests.conftest import APP_ID, METRICS_TOKEN, WEBHOOK_SECRET, RedisServer, example, free_port

T = TypeVar("T")

GOOD_AGENTS_MD = """# Agent instructions

## Layout
- Application code lives in `app/`; tests in `tests/`.

## Checks
Run `pytest -q` before committing.
"""

GOOD_BODY = """## Summary
- stop the nightly export from double-counting refunded orders

## Done when
- the export for 2025-01-31 lists each refunded order once

## Testing
- ✅ `pytest -q`


------
https://chatgpt.com/codex/tasks/task_e_{task}
"""


def wait_for(check: Callable[[], T], timeout: float = 45.0, what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


class Stack:
    """The deployed shape of codex-guard, on loopback."""

    def __init__(self, redis: RedisServer, double: GitHubDouble, private_key: str) -> None:
        self.redis = redis
        self.double = double
        self.port = free_port()
        self.env = {
            "APP_ID": str(APP_ID),
            "PRIVATE_KEY": private_key,
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "METRICS_TOKEN": METRICS_TOKEN,
            "REDIS_URL": redis.url,
            "GITHUB_API_URL": double.base_url,
            "PORT": str(self.port),
            "LOG_LEVEL": "INFO",
            "LOG_FORMAT": "json",
            "WEB_CONCURRENCY": "1",
            "WORKER_CONCURRENCY": "2",
            "GITHUB_SECONDS_BETWEEN_WRITES": "0",
            # The double has no secondary limits, and one installation serves every test:
            # pacing is tested on its own (tests/github/test_write_pacing.py).
            "GITHUB_WRITES_PER_MINUTE": "0",
            "GITHUB_WRITES_PER_HOUR": "0",
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(Path.home()),
        }
        self.procfile = read_procfile()
        self.processes: dict[str, Process] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *names: str) -> None:
        for name in names or ("web", "worker"):
            self.processes[name] = Process(name, self.procfile[name], self.env)
        if "web" in self.processes:
            wait_for(self._healthy, 30, "the web process to answer /healthz")
        if "worker" in self.processes:
            wait_for(
                lambda: "ready" in self.processes["worker"].output(),
                60,
                "the worker to be ready",
            )

    def _healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop()
        self.processes.clear()

    def worker_evaluations(self, sha: str) -> int:
        """How many "evaluated:" log lines the worker wrote for a head SHA."""
        worker = self.processes.get("worker")
        if worker is None:
            return 0
        return sum(1 for line in worker.lines if "evaluated:" in line and sha in line)

    def logs(self) -> str:
        return "\n".join(p.output() for p in self.processes.values())

    def log_tails(self, lines: int = 40) -> str:
        """Each process's last lines (the clock's routine "Sending due task" lines left out),
        so a failure shows what the web and the worker did rather than only the clock."""
        parts = []
        for name, process in self.processes.items():
            kept = [line for line in process.lines if "Sending due task" not in line]
            parts.append(f"--- {name}, last {min(lines, len(kept))} lines ---")
            parts.extend(kept[-lines:])
        return "\n".join(parts)

    def send(
        self, event: str, payload: dict[str, Any], delivery: str | None = None
    ) -> requests.Response:
        import json

        body = json.dumps(payload).encode()
        return requests.post(
            f"{self.url}/api/github/webhooks",
            data=body,
            headers=signature.delivery_headers(event, body, WEBHOOK_SECRET, delivery),
            timeout=10,
        )

    def completed_check(self, repo: str, sha: str, timeout: float = 45.0) -> Any:
        return wait_for(
            lambda: next(
                (
                    r
                    for r in self.double.check_runs(repo, head_sha=sha, name="codex-guard")
                    if r.status == "completed"
                ),
                None,
            ),
            timeout,
            f"a completed codex-guard check run on {sha[:8]}",
        )


def label_objects(labels: tuple[str, ...]) -> list[dict[str, Any]]:
    """A PR's `labels` as GitHub sends them."""
    return [
        {"id": i + 1, "node_id": f"L{i}", "url": "", "name": name, "color": "ededed",
         "default": False, "description": None}
        for i, name in enumerate(labels)
    ]  # fmt: skip


def pr_files(
    base_files: dict[str, str] | None, head_files: dict[str, str] | None
) -> tuple[dict[str, str], dict[str, str]]:
    """The base and head trees of a seeded PR: a good AGENTS.md and one changed file,
    with ``base_files`` and ``head_files`` on top."""
    base = {"AGENTS.md": GOOD_AGENTS_MD, "app/export.py": "x = 1\n", "tests/test_x.py": ""}
    base.update(base_files or {})
    head = {**base, "app/export.py": "x = 2\n"}
    head.update(head_files or {})
    return base, head


class PullRequests:
    """Builds Codex (or not) PRs in the double from GitHub's real `pull_request` payload."""

    def __init__(
        self,
        double: GitHubDouble,
        examples: dict[str, list[dict[str, Any]]],
        start: int | None = None,
    ) -> None:
        self.double = double
        self.examples = examples
        # Numbers never repeat within a run: the double and Redis outlive one test, and a
        # real repository never reuses a PR number.
        self._numbers = _PR_NUMBERS if start is None else itertools.count(start)

    def open(
        self,
        *,
        body: str | None = None,
        head_ref: str = "codex/fix-export",
        head_files: dict[str, str] | None = None,
        base_files: dict[str, str] | None = None,
        ci: list[tuple[str, str, str | None]] | None = None,
        labels: tuple[str, ...] = (),
        action: str = "opened",
        repo: str | None = None,
    ) -> dict[str, Any]:
        """Seed a PR and return the signed-ready `pull_request` payload for it."""
        payload = example(self.examples, "pull_request", "opened")
        payload["action"] = action
        pr = payload["pull_request"]
        number = next(self._numbers)
        pr["number"] = number
        pr["id"] = 10_000 + number
        pr["title"] = "Stop double-counting refunds in the nightly export"
        task = secrets.token_hex(16)
        pr["body"] = GOOD_BODY.format(task=task) if body is None else body
        pr["head"]["ref"] = head_ref
        pr["head"]["sha"] = secrets.token_hex(20)
        pr["base"]["sha"] = secrets.token_hex(20)
        pr["labels"] = label_objects(labels)
        # Opened now, as a real `opened` delivery is (the example payload dates from 2019).
        pr["created_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        if repo:
            payload["repository"]["full_name"] = repo
            payload["repository"]["name"] = repo.split("/")[1]
        full = payload["repository"]["full_name"]
        base, head = pr_files(base_files, head_files)
        self.double.seed_from_event(payload)
        self.double.put_files(full, pr["base"]["sha"], base)
        self.double.put_files(full, pr["head"]["sha"], head, base=pr["base"]["sha"])
        checks = ci if ci is not None else [("build", "completed", "success")]
        for name, status, conclusion in checks:
            self.double.add_check_run(full, pr["head"]["sha"], name, status, conclusion)
        return payload


_PR_NUMBERS = itertools.count(101)


def payload_copy(payload: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(payload)


@pytest.fixture(scope="module")
def double(app_key: tuple[str, str]) -> Iterator[GitHubDouble]:
    with GitHubDouble(APP_ID, app_key[1]) as d:
        yield d


@pytest.fixture(scope="module")
def stack(redis_server: RedisServer, double: GitHubDouble, app_key: tuple[str, str]):
    s = Stack(redis_server, double, app_key[0])
    s.start()
    yield s
    s.stop()


@pytest.fixture
def prs(double: GitHubDouble, webhook_examples) -> PullRequests:
    return PullRequests(double, webhook_examples)


@pytest.fixture(autouse=True)
def _contract(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every e2e test ends with the double's contract check."""
    yield
    if "double" in request.fixturenames:
        d: GitHubDouble = request.getfixturevalue("double")
        try:
            d.assert_clean()
        finally:
            d.clear_violations()
