"""`make run`: start Redis, the Procfile's processes, and (without credentials) the sandbox.

With GitHub App credentials in the environment or `.env`, it serves GitHub.
Without them it runs everything against the built-in GitHub sandbox (the same
API double the tests use), replays a bundled Codex pull request through the
real path (signed webhook, Redis, Celery worker, GitHub API calls), prints the
check run and comment that came out, and keeps serving.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import redis
import requests

from bot.ops.local_redis import RedisMissing, free_port, key_pair, start_redis
from bot.ops.procfile import ROOT, Process, read_procfile
from bot.web import signature
from bot.web.env_file import read_env_file
from bot.web.setup_flow import PathOnlyLog, create_setup_app

REQUIRED = ("APP_ID", "WEBHOOK_SECRET")
SANDBOX_APP_ID = 1


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("0.0.0.0", port))  # noqa: S104 - checking, not serving
        except OSError:
            return False
    return True


def say(message: str) -> None:
    print(f"codex-guard: {message}", flush=True)


def ensure_redis(url: str, workdir: Path) -> subprocess.Popen[bytes] | None:
    """Use the Redis at ``url`` if it answers; start a local one if the URL is local."""
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        say(f"using the Redis that answers at {url}")
        return None
    except redis.RedisError:
        pass
    parsed = urlparse(url)
    if parsed.hostname not in ("localhost", "127.0.0.1", "::1"):
        raise SystemExit(f"codex-guard: no Redis answers at REDIS_URL={url}")
    port = parsed.port or 6379
    try:
        proc = start_redis(port, workdir)
    except RedisMissing:
        raise SystemExit(
            "codex-guard: redis-server is missing; run `make run`, which installs it"
        ) from None
    except RuntimeError:
        raise SystemExit("codex-guard: redis-server did not start") from None
    say(f"started redis-server on 127.0.0.1:{port}")
    return proc


def _wait(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise SystemExit(f"codex-guard: timed out waiting for {what}")


def _healthy(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _load_double() -> Any:
    """The GitHub double, loaded from the checkout's double/ folder: the sandbox needs it,
    the product processes must not be able to import it, so it is not installed."""
    home = str(ROOT / "double")
    if home not in sys.path:
        sys.path.insert(0, home)
    try:
        from github_double import GitHubDouble
    except ImportError:
        raise SystemExit(
            f"codex-guard: the built-in GitHub sandbox needs the GitHub double in {home}; run "
            "`make run` from a full checkout, or put a GitHub App's credentials in .env"
        ) from None
    return GitHubDouble


def replay_sample(double: Any, port: int, secret: str, webhook_path: str) -> dict[str, Any]:
    """Send the bundled Codex PR through the real path; return what GitHub would show."""
    from github_double import SAMPLES as samples

    payload = json.loads((samples / "codex_pull_request_opened.json").read_text())
    files = json.loads((samples / "codex_pull_request_files.json").read_text())
    pr = payload["pull_request"]
    repo = payload["repository"]["full_name"]
    head, base = pr["head"]["sha"], pr["base"]["sha"]
    double.seed_from_event(payload)
    double.put_files(repo, base, files["base"])
    double.put_files(repo, head, {**files["base"], **files["head"]}, base=base)
    for name, status, conclusion in files["ci"]:
        double.add_check_run(repo, head, name, status, conclusion)
    body = json.dumps(payload).encode()
    answer = requests.post(
        f"http://127.0.0.1:{port}{webhook_path}",
        data=body,
        headers=signature.delivery_headers("pull_request", body, secret),
        timeout=10,
    )
    say(f"sent a signed pull_request.opened delivery: HTTP {answer.status_code}")

    def done() -> Any:
        runs = double.check_runs(repo, head_sha=head, name="codex-guard")
        return next((r for r in runs if r.status == "completed"), None)

    run = _wait(done, 60, "the worker to complete the check run")
    if run.conclusion != "success":  # the comment is written right after the check run
        _wait(lambda: double.comments(repo, pr["number"]), 30, "the PR comment")
    comments = [c.body for c in double.comments(repo, pr["number"])]
    return {"repo": repo, "number": pr["number"], "run": run, "comments": comments}


def show(result: dict[str, Any]) -> None:
    run = result["run"]
    out = run.output or {}
    line = "=" * 72
    print(f"\n{line}\nCheck run `codex-guard` on {result['repo']}@{run.head_sha[:7]}: "
          f"{run.conclusion}\n{line}")  # fmt: skip
    print(f"# {out.get('title', '')}\n")
    print(out.get("summary", ""))
    annotations = getattr(run, "annotations", None) or []
    if annotations:
        print("Annotations:")
        for a in annotations:
            print(f"  {a.get('path')}:{a.get('start_line')} [{a.get('annotation_level')}] "
                  f"{a.get('message')}")  # fmt: skip
    print(f"\n{line}\nComment on PR #{result['number']}\n{line}")
    print(result["comments"][-1] if result["comments"] else "(no comment)")
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make run", description=__doc__)
    parser.add_argument("--once", action="store_true", help="exit after the sandbox demo")
    args = parser.parse_args(argv)

    env = {**read_env_file(ROOT / ".env"), **os.environ}  # the environment wins
    sandbox = not all(env.get(k) for k in REQUIRED) or not (
        env.get("PRIVATE_KEY") or env.get("PRIVATE_KEY_PATH")
    )
    children: list[Process] = []
    redis_proc: subprocess.Popen[bytes] | None = None
    double = None
    run_dir = ROOT / "run"
    user_env = dict(env)
    if sandbox:
        GitHubDouble = _load_double()

        say("no GitHub App credentials in .env: running against the built-in GitHub sandbox")
        private, public = key_pair()
        double = GitHubDouble(SANDBOX_APP_ID, public).start()
        redis_port = free_port()
        env.update(
            APP_ID=str(SANDBOX_APP_ID),
            PRIVATE_KEY=private,
            WEBHOOK_SECRET=secrets.token_hex(16),
            GITHUB_API_URL=double.base_url,
            REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
            GITHUB_SECONDS_BETWEEN_WRITES="0",
            LOG_FORMAT=env.get("LOG_FORMAT", "text"),
        )
        say(f"GitHub sandbox API at {double.base_url}")
    env.setdefault("REDIS_URL", "redis://localhost:6379/0")
    port = int(env.get("PORT") or 3000)
    if port == 0 or not _port_free(port):
        port = free_port()
    env["PORT"] = str(port)
    webhook_path = env.get("WEBHOOK_PATH") or "/api/github/webhooks"

    def shutdown(*_: Any) -> None:
        for child in children:
            child.stop()
        if redis_proc is not None:
            redis_proc.terminate()
        if double is not None:
            double.stop()

    signal.signal(signal.SIGTERM, lambda *_: (shutdown(), sys.exit(0)))
    try:
        redis_proc = ensure_redis(env["REDIS_URL"], run_dir / "redis")
        sink = None if sandbox else sys.stdout
        for name, command in read_procfile().items():
            children.append(Process(name, command, env, sink=sink))
        _wait(lambda: _healthy(port) or _dead(children), 60, "the web process")
        if _dead(children):
            for child in children:
                print(child.output(), file=sys.stderr)
            return 1
        say(f"web listening on http://0.0.0.0:{port}{webhook_path}")
        if sandbox:
            assert double is not None
            worker = next(c for c in children if c.name == "worker")
            _wait(lambda: "ready" in worker.output(), 60, "the worker")
            show(replay_sample(double, port, env["WEBHOOK_SECRET"], webhook_path))
            double.assert_clean()
            say("every GitHub API call above was checked against GitHub's OpenAPI description")
            if args.once:
                return 0
            setup_link = _serve_setup(user_env)
            say(f"to register a real GitHub App, open {setup_link} "
                "(it writes .env; then run `make run` again)")  # fmt: skip
            say(f"still serving; send signed deliveries to http://127.0.0.1:{port}{webhook_path} "
                "(Ctrl-C to stop)")  # fmt: skip
        while not _dead(children):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        shutdown()


def _serve_setup(user_env: dict[str, str]) -> str:
    """The App-manifest setup page, served beside the sandbox until credentials exist."""
    import threading

    from werkzeug.serving import make_server

    port = 3001 if _port_free(3001) else free_port()
    app = create_setup_app(ROOT / ".env", environ=user_env)
    server = make_server("127.0.0.1", port, app, request_handler=PathOnlyLog)
    threading.Thread(target=server.serve_forever, daemon=True, name="setup").start()
    return f"http://localhost:{port}/setup?token={app.config['SETUP_TOKEN']}"


def _dead(children: list[Process]) -> bool:
    return any(not c.alive() for c in children)


if __name__ == "__main__":
    sys.exit(main())
