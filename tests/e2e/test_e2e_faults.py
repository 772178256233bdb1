"""Faults on real processes: Redis outages, a killed worker, GitHub errors and rate limits.

Real redis-server, the Procfile's gunicorn `web`, Celery `worker` and (where the test
needs the scheduled sweeps) `clock`, and the GitHub API double. Retries are made fast
with `RETRY_BASE_SECONDS`, never by sleeping in the product.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import signal
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
from github_double import GitHubDouble

from bot.github.pacing import WritePacer, github_limits
from tests.conftest import APP_ID, WEBHOOK_SECRET, RedisServer, example
from tests.e2e_helpers import guard_runs, ids, worker_lines
from tests.e2e_rig import *  # noqa: F403 - fixtures
from tests.e2e_rig import GOOD_AGENTS_MD, PullRequests, Stack, wait_for

pytestmark = pytest.mark.e2e

FAST = {"RETRY_BASE_SECONDS": "0.05"}
FAILING_BODY = """## Summary
- tidy the export

------
https://chatgpt.com/codex/tasks/task_e_{task}
"""
# Every log line any process of this module printed (the security test searches it).
MODULE_LOGS: list[str] = []


_pr_numbers = itertools.count(7000, 10)


@pytest.fixture
def prs(double: GitHubDouble, webhook_examples) -> PullRequests:
    """PR numbers no other test of the module uses (no shared comments or counts)."""
    return PullRequests(double, webhook_examples, start=next(_pr_numbers))


def make_stack(redis: RedisServer, double: GitHubDouble, key: str, **env: str) -> Stack:
    s = Stack(redis, double, key)
    s.env.update(FAST)
    s.env.update(env)
    return s


def stop_and_keep_logs(s: Stack) -> None:
    MODULE_LOGS.append(s.logs())
    s.stop()


@contextmanager
def own_stack(s: Stack, own_redis: RedisServer) -> Iterator[Stack]:
    """Stop a test's own stack and Redis at the end, keeping the logs (printed on failure)."""
    try:
        yield s
    except AssertionError:
        print(s.log_tails())
        raise
    finally:
        stop_and_keep_logs(s)
        own_redis.stop()


@pytest.fixture(scope="module")
def fstack(redis_server: RedisServer, double: GitHubDouble, app_key) -> Iterator[Stack]:
    s = make_stack(redis_server, double, app_key[0])
    s.start()
    yield s
    stop_and_keep_logs(s)


def files_path(repo: str, number: int) -> str:
    return rf"^/repos/{re.escape(repo)}/pulls/{number}/files$"


def timestamps(double: GitHubDouble, path_regex: str, times: int) -> list[float]:
    """Record when each of the next ``times`` responses on ``path_regex`` is sent."""
    return timestamps_of(double, "GET", path_regex, times)


def timestamps_of(double: GitHubDouble, method: str, path_regex: str, times: int) -> list[float]:
    seen: list[float] = []

    def note(body: Any) -> Any:
        seen.append(time.time())
        return body

    double.tamper(method, path_regex, note, times=times)
    return seen


# -- GitHub errors ---------------------------------------------------------------------------


def test_github_5xx_is_retried_then_succeeds(fstack: Stack, prs):
    payload = prs.open()
    repo, number, sha = ids(payload)
    path = files_path(repo, number)
    fstack.double.inject("GET", path, 502, times=2)
    fstack.double.inject("GET", path, 503, times=1)
    assert fstack.send("pull_request", payload).status_code == 202
    run = fstack.completed_check(repo, sha)
    assert run.conclusion == "success", run.output
    assert len(fstack.double.calls("GET", path)) == 4  # three failures, then the answer
    assert len(guard_runs(fstack.double, repo, sha)) == 1


def test_persistent_github_failure_ends_could_not_finish_never_in_progress(fstack: Stack, prs):
    payload = prs.open()
    repo, number, sha = ids(payload)
    path = files_path(repo, number)
    fault = fstack.double.inject("GET", path, 502, times=10_000)
    try:
        assert fstack.send("pull_request", payload).status_code == 202
        run = fstack.completed_check(repo, sha, timeout=60)
    finally:
        fault.times = 0
    assert run.conclusion == "failure"
    assert run.output["title"] == "Evaluation could not finish"
    assert "Re-run" in run.output["summary"] and "/codex-guard recheck" in run.output["summary"]
    assert [a["identifier"] for a in run.actions] == ["rerun"]
    # Bounded: 5 attempts by PyGithub per job run, 1 + 4 task retries.
    assert len(fstack.double.calls("GET", path)) == 25
    assert len(guard_runs(fstack.double, repo, sha)) == 1
    time.sleep(0.5)
    assert len(fstack.double.calls("GET", path)) == 25  # and then nothing more


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_rate_limit_waits_retry_after_then_succeeds(fstack: Stack, prs, status):
    payload = prs.open()
    repo, number, sha = ids(payload)
    path = files_path(repo, number)
    fstack.double.inject("GET", path, status, times=1, headers={"Retry-After": "2"})
    seen = timestamps(fstack.double, path, 2)
    assert fstack.send("pull_request", payload).status_code == 202
    assert fstack.completed_check(repo, sha).conclusion == "success"
    assert len(fstack.double.calls("GET", path)) == 2
    assert seen[1] - seen[0] >= 1.9, "did not wait as long as Retry-After said"


def test_primary_rate_limit_defers_until_reset_without_a_retry_storm(fstack: Stack, prs):
    payload = prs.open()
    repo, number, sha = ids(payload)
    path = files_path(repo, number)
    reset = int(time.time()) + 3
    fstack.double.inject(
        "GET",
        path,
        403,
        times=1,
        headers={
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Used": "5000",
            "X-RateLimit-Reset": str(reset),
            "X-RateLimit-Resource": "core",
        },
    )
    seen = timestamps(fstack.double, path, 2)
    before = len(fstack.double.requests)
    assert fstack.send("pull_request", payload).status_code == 202
    assert fstack.completed_check(repo, sha).conclusion == "success"
    assert len(fstack.double.calls("GET", path)) == 2
    assert seen[1] >= reset, "asked again before X-RateLimit-Reset"
    # No storm: nothing reached GitHub between the refusal and the retry after the reset.
    calls = fstack.double.requests[before:]
    first = next(i for i, r in enumerate(calls) if r.injected and re.search(path, r.path))
    assert re.search(path, calls[first + 1].path), [r.path for r in calls[first + 1 :][:3]]


def test_pr_gone_404_ends_with_one_log_line_and_no_retry(fstack: Stack, prs):
    payload = prs.open()
    repo, _, sha = ids(payload)
    path = rf"^/repos/{re.escape(repo)}/commits/{sha}/check-runs$"
    fault = fstack.double.inject("GET", path, 404, times=10)
    delivery = f"gone-{uuid.uuid4()}"
    assert fstack.send("pull_request", payload, delivery=delivery).status_code == 202
    wait_for(lambda: worker_lines(fstack, delivery=delivery, level="info"), 20, "a log line")
    time.sleep(1.0)
    lines = [d["message"] for d in worker_lines(fstack, delivery=delivery)]
    ended = [m for m in lines if m.startswith("ended:")]
    assert len(ended) == 1, lines
    assert not [m for m in lines if re.search(r"retry \d|retry:", m)], lines
    assert len(fstack.double.calls("GET", path)) == 1
    assert guard_runs(fstack.double, repo, sha) == []
    fault.times = 0


def test_installation_removed_401_on_token_exchange_ends_without_retry(fstack: Stack, prs):
    payload = prs.open()
    payload["installation"]["id"] = 990_000 + secrets.randbelow(9_999)
    path = rf"^/app/installations/{payload['installation']['id']}/access_tokens$"
    fstack.double.inject("POST", path, 401, times=10)
    delivery = f"no-token-{uuid.uuid4()}"
    assert fstack.send("pull_request", payload, delivery=delivery).status_code == 202
    wait_for(lambda: worker_lines(fstack, delivery=delivery, level="info"), 20, "a log line")
    time.sleep(1.5)
    lines = [d["message"] for d in worker_lines(fstack, delivery=delivery)]
    assert len([m for m in lines if m.startswith("ended:")]) == 1, lines
    assert not [m for m in lines if re.search(r"retry \d|retry:", m)], lines
    assert len(fstack.double.calls("POST", path)) == 1


def test_installation_deleted_drops_cached_tokens(fstack: Stack, prs, webhook_examples):
    payload = prs.open()
    repo, _, sha = ids(payload)
    installation = payload["installation"]["id"]
    fstack.send("pull_request", payload)
    fstack.completed_check(repo, sha)
    client = fstack.redis.client()
    key = f"codex-guard:token:{installation}"
    assert client.exists(key)
    gone = example(webhook_examples, "installation", "deleted")
    gone["installation"]["id"] = installation
    assert fstack.send("installation", gone).status_code == 202
    wait_for(lambda: not client.exists(key), 20, "the cached token to be dropped")


def test_newer_head_sha_owns_the_comment_when_events_race(fstack: Stack, prs):
    """The older head's evaluation is held mid-way; it finishes last but must not win."""
    old = prs.open(body=FAILING_BODY.format(task=secrets.token_hex(16)))
    repo, number, sha_old = ids(old)
    old["pull_request"]["updated_at"] = "2030-01-01T10:00:00Z"
    new = json.loads(json.dumps(old))
    sha_new = secrets.token_hex(20)
    new["action"] = "synchronize"
    new["pull_request"]["head"]["sha"] = sha_new
    new["pull_request"]["updated_at"] = "2030-01-01T10:05:00Z"
    base_sha = old["pull_request"]["base"]["sha"]
    files = {"AGENTS.md": GOOD_AGENTS_MD, "app/export.py": "x = 3\n", "tests/test_x.py": ""}
    fstack.double.put_files(repo, sha_new, files, base=base_sha)
    fstack.double.add_check_run(repo, sha_new, "build", "completed", "success")
    fstack.double.inject("GET", rf"/git/trees/{sha_old}$", None, times=1, delay=3)
    assert fstack.send("pull_request", old).status_code == 202
    wait_for(lambda: guard_runs(fstack.double, repo, sha_old), 20, "the old head's check run")
    assert fstack.send("pull_request", new).status_code == 202
    fstack.completed_check(repo, sha_new)
    fstack.completed_check(repo, sha_old)
    time.sleep(0.5)
    comments = [c for c in fstack.double.comments(repo, number) if "codex-guard" in c.body]
    assert len(comments) == 1
    assert f"`{sha_new[:7]}`" in comments[0].body, comments[0].body[:400]


# -- the stuck-check and unchecked-PR sweepers ------------------------------------------------


def _services(stack: Stack):
    from bot.jobs.pipeline import Services
    from bot.runtime.settings import load_settings

    return Services.from_settings(load_settings(stack.env))


def test_stuck_check_is_found_and_re_evaluated(fstack: Stack, prs, monkeypatch):
    from bot.jobs import sweeper
    from worker.celery_app import make_celery

    payload = prs.open()
    repo, number, sha = ids(payload)
    installation = payload["installation"]["id"]
    svc = _services(fstack)
    # What a worker host lost right after starting the check run leaves behind.
    check_id = svc.gateway(installation).create_check(
        repo, sha, status="in_progress", output={"title": "Evaluating…", "summary": "…"}
    )
    svc.store.remember_check(repo, sha, check_id)
    svc.store.index_sha(repo, sha, number)
    svc.store.note_installation(repo, installation)
    celery = make_celery(fstack.redis.url)
    monkeypatch.setenv("STUCK_CHECK_SECONDS", "900")
    assert sweeper.sweep_stuck_checks(svc, celery) == 0  # not stuck long enough yet
    assert sweeper.sweep_stuck_checks(svc, celery, now=time.time() + 901) == 1
    run = fstack.completed_check(repo, sha)
    assert run.id == check_id and run.conclusion == "success", run.output
    assert len(guard_runs(fstack.double, repo, sha)) == 1
    # Completed now: the next sweep lets it go without re-queueing anything.
    assert sweeper.sweep_stuck_checks(svc, celery, now=time.time() + 2000) == 0
    assert (repo, sha, check_id) not in svc.store.open_checks(time.time() + 3000)


def test_open_pr_without_a_check_run_is_evaluated(fstack: Stack, prs, monkeypatch, caplog):
    from bot.jobs import sweeper
    from worker.celery_app import make_celery

    payload = prs.open()  # its delivery was lost: never sent
    repo, number, sha = ids(payload)
    svc = _services(fstack)
    celery = make_celery(fstack.redis.url)
    monkeypatch.setenv("MISSED_PR_GRACE_SECONDS", "0")
    caplog.set_level("INFO", "codex_guard.sweeper")
    wanted = f"open PR {repo}#{number} has no codex-guard check run; queued"
    assert sweeper.sweep_unchecked_prs(svc, celery) >= 1
    assert wanted in caplog.messages
    assert fstack.completed_check(repo, sha).conclusion == "success"
    wait_for(lambda: not fstack.redis.client().llen("codex-guard"), 20, "the queue to drain")
    caplog.clear()
    sweeper.sweep_unchecked_prs(svc, celery)
    assert wanted not in caplog.messages
    assert len(guard_runs(fstack.double, repo, sha)) == 1


# -- process and Redis faults (their own stacks) ----------------------------------------------


def test_redis_outage_refused_delivery_ends_as_a_check_run_without_human_action(
    double: GitHubDouble, app_key, prs, tmp_path
):
    """Redis down: 503 and /healthz 503; back: recovers by itself, the worker reconnects,
    and the clock's missed-delivery sweep asks GitHub to redeliver what was refused."""
    own_redis = RedisServer(tmp_path)
    own_redis.start()
    s = make_stack(
        own_redis,
        double,
        app_key[0],
        SWEEP_DELIVERIES_SECONDS="1",
        SWEEP_STUCK_SECONDS="0",
        SWEEP_PRS_SECONDS="0",
        CELERY_BEAT_SCHEDULE=str(tmp_path / "beat"),
    )
    with own_stack(s, own_redis):
        s.start("web", "worker", "clock")
        before = prs.open()
        s.send("pull_request", before)
        s.completed_check(*ids(before)[::2])  # the worker works before the outage

        own_redis.stop()
        payload = prs.open()
        repo, _, sha = ids(payload)
        guid = str(uuid.uuid4())
        refused = s.send("pull_request", payload, guid)
        assert refused.status_code == 503
        assert requests.get(f"{s.url}/healthz", timeout=5).status_code == 503
        # GitHub's delivery log records the failure.
        logged = double.add_delivery(
            "pull_request",
            "opened",
            installation_id=payload["installation"]["id"],
            status_code=503,
            payload=payload,
            guid=guid,
        )

        own_redis.start()  # same port
        wait_for(s._healthy, 20, "/healthz to recover by itself")
        wait_for(lambda: logged.id in double.world.redeliveries, 40, "a redelivery request")
        # Play GitHub: the redelivery carries the original GUID.
        assert s.send("pull_request", payload, guid).status_code == 202
        # Generous: the worker's broker connection comes back on Celery's own retry
        # schedule (2 s, 4 s, 6 s ... apart), which a loaded CI machine stretches.
        run = s.completed_check(repo, sha, timeout=90)
        assert run.conclusion == "success"
        assert s.send("pull_request", payload, guid).status_code == 200  # de-duplicated
        time.sleep(2.5)  # more sweeps: the same failure is not asked for again
        assert double.world.redeliveries.count(logged.id) == 1
        assert len(guard_runs(s.double, repo, sha)) == 1


def test_worker_killed_mid_evaluation_job_is_delivered_again(
    double: GitHubDouble, app_key, prs, tmp_path
):
    own_redis = RedisServer(tmp_path)
    own_redis.start()
    s = make_stack(own_redis, double, app_key[0], VISIBILITY_TIMEOUT="4")
    with own_stack(s, own_redis):
        s.start()
        payload = prs.open()
        repo, number, sha = ids(payload)
        path = files_path(repo, number)
        double.inject("GET", path, None, times=1, delay=20)  # hold it mid-evaluation
        assert s.send("pull_request", payload).status_code == 202
        wait_for(lambda: guard_runs(s.double, repo, sha), 20, "the check run to be started")
        time.sleep(1.0)
        assert guard_runs(s.double, repo, sha)[0].status == "in_progress"
        s.processes["worker"].signal(signal.SIGKILL)
        s.processes["worker"].proc.wait(timeout=10)
        MODULE_LOGS.append(s.processes["worker"].output())
        s.start("worker")
        run = s.completed_check(repo, sha, timeout=45)
        assert run.conclusion == "success", run.output
        time.sleep(1.0)
        assert len(guard_runs(s.double, repo, sha)) == 1
        assert len([c for c in double.comments(repo, number) if "codex-guard" in c.body]) <= 1


# -- secrets never reach the logs (searches everything this module's processes printed) --------


def test_no_secret_in_any_log_line_check_run_or_comment(fstack: Stack, prs, app_key):
    secret_value = "ghp_" + secrets.token_hex(18)
    agents = GOOD_AGENTS_MD + f"\n## Deploy\nUse the token {secret_value} to push.\n"
    payload = prs.open(base_files={"AGENTS.md": agents}, head_files={"AGENTS.md": agents})
    repo, number, sha = ids(payload)
    fstack.send("pull_request", payload)
    run = fstack.completed_check(repo, sha)
    assert run.conclusion == "failure"  # the secret is reported...
    time.sleep(0.5)
    logs = "\n".join([*MODULE_LOGS, fstack.logs()])
    assert len(logs) > 10_000
    key_lines = [ln for ln in app_key[0].splitlines() if ln and not ln.startswith("-----")]
    forbidden = {
        "webhook secret": WEBHOOK_SECRET,
        "AGENTS.md secret": secret_value,
        **{f"key line {i}": ln for i, ln in enumerate(key_lines)},
        **{f"token {t[:8]}": t for t in list(fstack.double.world.tokens)},
    }
    assert len(fstack.double.world.tokens) >= 2
    for what, value in forbidden.items():
        assert value not in logs, f"{what} appears in the logs"
    shown = json.dumps([run.output, [c.body for c in fstack.double.comments(repo, number)]])
    assert secret_value not in shown  # ...by kind and line, value masked
    assert str(APP_ID)  # (the App ID is not a secret)


def test_github_timing_out_is_retried_then_succeeds(double, app_key, prs, tmp_path):
    """A read that hangs past GITHUB_TIMEOUT_SECONDS is abandoned and tried again."""
    own_redis = RedisServer(tmp_path)  # so the module's worker cannot take this job
    own_redis.start()
    s = make_stack(own_redis, double, app_key[0], GITHUB_TIMEOUT_SECONDS="1")
    s.start()
    try:
        payload = prs.open()
        repo, number, sha = ids(payload)
        path = files_path(repo, number)
        s.double.inject("GET", path, None, times=1, delay=3.0)
        assert s.send("pull_request", payload).status_code == 202
        run = s.completed_check(repo, sha)
        assert run.conclusion == "success", run.output
        assert "Read timed out" in s.processes["worker"].output()
        # The abandoned first request is recorded once the double finishes sleeping.
        wait_for(lambda: len(s.double.calls("GET", path)) >= 2, 10, "both requests")
        assert len(guard_runs(s.double, repo, sha)) == 1
    finally:
        stop_and_keep_logs(s)
        own_redis.stop()


def test_writes_held_longer_than_a_job_may_sleep_defer_the_job_and_it_finishes(
    double: GitHubDouble, app_key, prs, tmp_path
):
    """Another process was told by GitHub to wait: the job does not sit asleep in a worker,
    it is retried when the hold ends (`WritesDeferred` → Celery retry) and completes once."""
    own_redis = RedisServer(tmp_path)
    own_redis.start()
    s = make_stack(
        own_redis, double, app_key[0], GITHUB_WRITES_PER_MINUTE="80", GITHUB_WRITES_PER_HOUR="500"
    )
    with own_stack(s, own_redis):
        s.start()
        payload = prs.open()
        repo, _, sha = ids(payload)
        hold = 12.0  # over the 10 s a job may sleep for a write slot
        WritePacer(own_redis.client(), github_limits(80, 500)).hold(
            payload["installation"]["id"], hold
        )
        held_until = time.time() + hold
        created = timestamps_of(double, "POST", rf"^/repos/{re.escape(repo)}/check-runs$", 1)
        assert s.send("pull_request", payload).status_code == 202
        wait_for(lambda: "deferred: GitHub writes" in s.logs(), 20, "the job to be deferred")
        assert not guard_runs(s.double, repo, sha), "wrote while GitHub said to wait"
        run = s.completed_check(repo, sha, timeout=45)
        assert run.conclusion == "success", run.output
        assert len(guard_runs(s.double, repo, sha)) == 1
        assert created[0] >= held_until - 0.5, "the check run was written inside the hold"
