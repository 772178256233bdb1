"""Behaviours the issues name that had no test of their own.

- Issue 4: GitHub 5xx and timeouts are retried "with exponential backoff and jitter, a
  bounded number of times" (`bot/core/backoff.py`).
- Issue 2: installation tokens are "reused until near expiry", also across worker processes.
- Issue 6: logs are JSON lines (or plain text for a terminal) carrying delivery ID,
  installation, repository, PR and head SHA.
"""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.core import backoff as backoff_mod
from bot.github.tokens import TokenStore
from bot.runtime import logs
from bot.runtime.settings import load_settings
from tests.conftest import APP_ID

pytest_plugins = ["tests.double_fixtures"]


# -- exponential backoff with jitter ----------------------------------------------------------


def test_backoff_doubles_per_retry_with_jitter_and_a_cap(monkeypatch) -> None:
    monkeypatch.setenv("RETRY_BASE_SECONDS", "2")
    for retries in range(6):
        nominal = 2 * 2**retries
        waits = [backoff_mod.backoff(retries) for _ in range(200)]
        # Jitter in [0.5, 1] of the nominal wait: never more, never less than half.
        assert all(nominal * 0.5 <= w <= nominal for w in waits), (retries, min(waits), max(waits))
        # It really is jittered: 200 draws are not all the same value.
        assert len(set(waits)) > 1
    # Exponential: the smallest wait of retry n+1 is at least the largest nominal of retry n-1.
    assert min(backoff_mod.backoff(4) for _ in range(50)) >= 2 * 2**3 * 0.5
    # Bounded: the wait never exceeds the cap however many retries came before.
    assert all(backoff_mod.backoff(40) <= backoff_mod.MAX_WAIT_SECONDS for _ in range(50))
    assert max(backoff_mod.backoff(40) for _ in range(200)) > backoff_mod.MAX_WAIT_SECONDS / 2


@pytest.mark.parametrize(
    ("value", "expected"), [("0.01", 0.01), ("", 2.0), ("x", 2.0), ("-1", 2.0)]
)
def test_retry_base_seconds_setting(monkeypatch, value: str, expected: float) -> None:
    monkeypatch.setenv("RETRY_BASE_SECONDS", value)
    assert backoff_mod.retry_base_seconds() == expected
    assert expected * 0.5 <= backoff_mod.backoff(0) <= expected


# -- installation tokens reused until near expiry ---------------------------------------------


def _settings(app_key, redis_server, github_double):
    return load_settings({
        "APP_ID": str(APP_ID), "PRIVATE_KEY": app_key[0], "WEBHOOK_SECRET": "s",
        "REDIS_URL": redis_server.url, "GITHUB_API_URL": github_double.base_url,
    })  # fmt: skip


def test_installation_token_is_minted_once_and_shared_across_processes(
    github_double, seeded_pr, app_key, redis_client, redis_server
) -> None:
    settings = _settings(app_key, redis_server, github_double)
    installation = seeded_pr.installation_id
    exchanges = rf"^/app/installations/{installation}/access_tokens$"
    first = TokenStore(settings, redis_client)
    token = first.token(installation)
    assert token
    assert first.token(installation) == token
    # A second store stands for another worker process: it reads the shared token from Redis.
    second = TokenStore(settings, redis_client)
    assert second.token(installation) == token
    assert len(github_double.calls("POST", exchanges)) == 1
    # The shared copy is stored encrypted and expires before the token itself does.
    [key] = [k for k in redis_client.keys("*") if str(installation) in k.decode()]
    assert token.encode() not in redis_client.get(key)
    assert 0 < redis_client.ttl(key) <= 3600
    # Forgotten (e.g. installation removed): the next call mints a fresh one.
    second.forget(installation)
    third = TokenStore(settings, redis_client)
    assert third.token(installation)
    assert len(github_double.calls("POST", exchanges)) == 2
    github_double.assert_clean()


# -- log lines carry the delivery's context ---------------------------------------------------


def _capture(fmt: str) -> tuple[logging.Logger, io.StringIO]:
    logs.configure("INFO", fmt)
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    handler.setStream(stream)
    return logging.getLogger("codex_guard.test_gaps"), stream


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in saved[0]:
        root.addHandler(h)
    root.setLevel(saved[1])


def test_json_log_lines_carry_the_delivery_context(restore_logging) -> None:
    log, stream = _capture("json")
    ctx = {"delivery": "d-1", "installation": 7, "repo": "o/r", "pr": 3, "head_sha": "a" * 40}
    with logs.log_context(**ctx):
        with logs.log_context(task="evaluate"):
            log.info("evaluated: %s", "success")
    log.info("outside")
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["message"] == "evaluated: success"
    assert inside["level"] == "info" and inside["logger"] == "codex_guard.test_gaps"
    assert {k: inside[k] for k in ctx} == ctx
    assert inside["task"] == "evaluate"
    # The context ends with its block: the next line carries none of it.
    assert not set(ctx) & set(outside)


def test_text_log_lines_for_a_terminal(restore_logging) -> None:
    log, stream = _capture("text")
    with logs.log_context(delivery="d-2", repo="o/r", pr=9):
        log.warning("slow")
    line = stream.getvalue().strip()
    assert not line.startswith("{")
    assert "warning" in line and "slow" in line
    assert "delivery=d-2" in line and "repo=o/r" in line and "pr=9" in line


# -- URLs in PR text are never followed (issue 4, Security) -----------------------------------


def test_urls_in_the_pr_text_are_never_fetched(
    github_double, pr_opened, app_key, redis_client, redis_server
) -> None:
    from bot.jobs import pipeline

    base = github_double.base_url
    root = base.removesuffix("/api/v3")
    pr_opened["pull_request"]["body"] = (
        "https://chatgpt.com/codex/tasks/task_e_" + "a" * 32 + "\n\n"
        f"See [the spec]({base}/canary-link) and ![img]({root}/canary-image.png).\n\n"
        f"Done when: {base}/repos/canary/canary/contents/x answers.\n\n"
        f"## Testing\n- Ran `curl {root}/canary-curl` (failed)\n"
    )
    seeded = github_double.seed_from_event(pr_opened)
    settings = _settings(app_key, redis_server, github_double)
    svc = pipeline.Services.from_settings(settings)
    result = pipeline.evaluate_pull(svc, seeded.installation_id, seeded.repo, seeded.number)
    assert result is not None  # it did evaluate, so the body was read
    paths = [c.path for c in github_double.calls()]
    assert paths, "the evaluation made no GitHub calls at all"
    assert not [p for p in paths if "canary" in p], paths
    github_double.assert_clean()
