"""Shared rig for the benchmarks: Redis, the GitHub double, the Procfile's processes.

Everything runs on 127.0.0.1. Every loop here is bounded in count and in time.
"""

from __future__ import annotations

import copy
import http.client
import json
import os
import platform
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis

from bot.core.names import QUEUE
from bot.ops.local_redis import RedisMissing, free_port, key_pair, start_redis, stop_redis
from bot.ops.procfile import ROOT, Process, read_procfile
from tests.receiver_rig import headers

# The GitHub double is not installed (the product processes must not import it);
# benchmarks load it from the checkout, as the tests do.
if str(ROOT / "double") not in sys.path:
    sys.path.insert(0, str(ROOT / "double"))

RESULTS = Path(__file__).resolve().parent / "results"
APP_ID = 424242
SECRET = "bench-secret"
WEBHOOK_PATH = "/api/github/webhooks"
QUICK = os.environ.get("BENCH_FULL", "") == ""


def wait_for(check: Callable[[], Any], timeout: float, what: str, poll: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(poll)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


# -- Redis ---------------------------------------------------------------------------------


class RedisProc:
    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="bench-redis-")
        try:
            self.proc = start_redis(self.port, Path(self.dir))
        except RedisMissing:
            raise SystemExit(
                "redis-server is missing (make bench runs scripts/ensure-redis.sh)"
            ) from None
        self.client = redis.Redis(port=self.port)

    def _up(self) -> bool:
        try:
            return bool(self.client.ping())
        except redis.RedisError:
            return False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def queue_length(self) -> int:
        return int(self.client.llen(QUEUE))

    def stop(self) -> None:
        stop_redis(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


# -- the deployed processes ------------------------------------------------------------------


class Deployment:
    """N web and M worker processes from the Procfile, sharing one Redis and one double.

    ``product_defaults=True`` passes only what reaching the double needs (URLs, keys,
    secret): write pacing, coalescing, concurrency and logging are the product's defaults.
    """

    def __init__(
        self, redis_url: str, api_url: str, private_key: str, *, product_defaults: bool = False,
        **env: str,
    ) -> None:  # fmt: skip
        self.base_env = {
            "APP_ID": str(APP_ID),
            "PRIVATE_KEY": private_key,
            "WEBHOOK_SECRET": SECRET,
            "REDIS_URL": redis_url,
            "GITHUB_API_URL": api_url,
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(Path.home()),
        }
        if not product_defaults:
            self.base_env.update({
                "LOG_LEVEL": "INFO",
                "LOG_FORMAT": "json",
                "GITHUB_SECONDS_BETWEEN_WRITES": "0",
                # The double has no secondary limits, and one installation serves every test:
                # pacing is tested on its own (tests/github/test_write_pacing.py).
                "GITHUB_WRITES_PER_MINUTE": "0",
                "GITHUB_WRITES_PER_HOUR": "0",
            })  # fmt: skip
        self.base_env.update(env)
        self.procfile = read_procfile()
        self.webs: list[tuple[int, Process]] = []
        self.workers: list[Process] = []

    def start(self, webs: int = 1, workers: int = 1) -> Deployment:
        for _ in range(webs):
            port = free_port()
            env = {**self.base_env, "PORT": str(port)}
            self.webs.append((port, Process("web", self.procfile["web"], env)))
        for _ in range(workers):
            self.workers.append(Process("worker", self.procfile["worker"], self.base_env))
        for port, proc in self.webs:
            wait_for(lambda p=port, pr=proc: _healthy(p) or not pr.alive(), 60, "web /healthz")
            if not proc.alive():
                raise RuntimeError(f"web process died:\n{proc.output()[-3000:]}")
        for proc in self.workers:
            wait_for(lambda pr=proc: "ready" in pr.output() or not pr.alive(), 90, "worker")
            if not proc.alive():
                raise RuntimeError(f"worker process died:\n{proc.output()[-3000:]}")
        return self

    @property
    def ports(self) -> list[int]:
        return [port for port, _ in self.webs]

    def worker_lines(self) -> list[str]:
        lines: list[str] = []
        for proc in self.workers:
            lines.extend(list(proc.lines))
        return lines

    def evaluated(self) -> list[dict[str, Any]]:
        """Every "evaluated:" log record of the workers, parsed."""
        found = []
        for line in self.worker_lines():
            if "evaluated: " not in line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if str(record.get("message", "")).startswith("evaluated: "):
                found.append(record)
        return found

    def stop(self) -> None:
        for _, proc in self.webs:
            proc.stop()
        for proc in self.workers:
            proc.stop()
        self.webs.clear()
        self.workers.clear()


def _healthy(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        conn.request("GET", "/healthz")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


@contextmanager
def deployment(
    redis_url: str, api_url: str, private_key: str, webs: int = 1, workers: int = 1, **env: Any
) -> Iterator[Deployment]:
    dep = Deployment(redis_url, api_url, private_key, **env)
    try:
        yield dep.start(webs, workers)
    finally:
        dep.stop()


# -- the GitHub double and real payloads ----------------------------------------------------


class World:
    """The double, a Redis, the App's keys and a factory of PRs from real payloads."""

    def __init__(self) -> None:
        from github_double import GitHubDouble

        from tests.e2e_rig import PullRequests

        self.private_key, public = key_pair()
        self.redis = RedisProc()
        self.double = GitHubDouble(APP_ID, public).start()
        self.examples = load_examples()
        self.prs = PullRequests(self.double, self.examples)

    def deployment(self, webs: int = 1, workers: int = 1, **env: Any) -> Any:
        """``product_defaults=True`` (see `Deployment`) or env overrides as keywords."""
        return deployment(
            self.redis.url, self.double.base_url, self.private_key, webs, workers, **env
        )

    def watcher(self, repo: str) -> CompletionWatcher:
        return CompletionWatcher(self.double, repo)

    def close(self) -> None:
        self.double.stop()
        self.redis.stop()


def load_examples() -> dict[str, list[dict[str, Any]]]:
    path = ROOT / "tests" / "fixtures" / "github" / "webhook-examples.json"
    data = json.loads(path.read_text())
    return {entry["name"]: entry["examples"] for entry in data}


def example(examples: dict[str, list[dict[str, Any]]], event: str, action: str) -> dict[str, Any]:
    for payload in examples[event]:
        if payload.get("action") == action:
            return copy.deepcopy(payload)
    raise LookupError(f"{event}.{action}")


def check_suite_completed(examples: Any, pr_payload: dict[str, Any], sha: str) -> dict[str, Any]:
    """A real check_suite.completed example, made an App delivery for ``pr_payload``'s PR."""
    payload = example(examples, "check_suite", "completed")
    pr = pr_payload["pull_request"]
    payload["installation"] = copy.deepcopy(pr_payload["installation"])
    payload["repository"] = copy.deepcopy(pr_payload["repository"])
    suite = payload["check_suite"]
    suite["head_sha"] = sha
    suite["conclusion"] = "success"
    suite["pull_requests"] = [
        {"url": pr.get("url", ""), "id": pr["id"], "number": pr["number"],
         "head": {"ref": pr["head"]["ref"], "sha": sha, "repo": {}},
         "base": {"ref": pr["base"]["ref"], "sha": pr["base"]["sha"], "repo": {}}}
    ]  # fmt: skip
    return payload


def sign_headers(event: str, body: bytes, delivery: str | None = None) -> dict[str, str]:
    return headers(event, body, delivery, secret=SECRET, agent="bench")


class Sender:
    """A keep-alive HTTP/1.1 connection per thread, posting signed deliveries."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._local = threading.local()

    def _conn(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            self._local.conn = conn
        return conn

    def post_raw(self, body: bytes, headers: dict[str, str]) -> int:
        for attempt in range(2):
            conn = self._conn()
            try:
                conn.request("POST", WEBHOOK_PATH, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                return response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                self._local.conn = None
                if attempt:
                    raise
        return 0

    def post(self, event: str, payload: dict[str, Any], delivery: str | None = None) -> int:
        body = json.dumps(payload).encode()
        return self.post_raw(body, sign_headers(event, body, delivery))


class CompletionWatcher:
    """Polls the double for completed codex-guard check runs; first-seen time per head SHA."""

    def __init__(self, double: Any, repo: str, poll: float = 0.02) -> None:
        self.double = double
        self.repo = repo.lower()
        self.poll = poll
        self.completed: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CompletionWatcher:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        world = self.double.world
        while not self._stop.is_set():
            with world.lock:
                runs = list(world.check_runs_by_id.values())
            now = time.perf_counter()
            for run in runs:
                if (
                    run.name == "codex-guard"
                    and run.status == "completed"
                    and run.head_sha not in self.completed
                    and run.repo.lower() == self.repo
                ):
                    self.completed[run.head_sha] = now
            self._stop.wait(self.poll)

    def wait(self, shas: list[str], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(s in self.completed for s in shas):
                return True
            time.sleep(0.02)
        return all(s in self.completed for s in shas)


# -- statistics and reporting ----------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def ratio(value: float, base: float) -> float:
    return value / base if base else float("nan")


def fmt(value: Any, digits: int = 1) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "n/a"
        return f"{value:,.{digits}f}"
    return str(value)


def table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(fmt(c) if not isinstance(c, str) else c for c in row) + " |")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model or platform.processor(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def write_result(name: str, data: dict[str, Any], markdown: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = {"benchmark": name, "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": machine(), **data, "markdown": markdown}  # fmt: skip
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
    print(f"\n### {name}\n\n{markdown}\n", flush=True)


def new_sha() -> str:
    return secrets.token_hex(20)
