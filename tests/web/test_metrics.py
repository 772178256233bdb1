"""Metrics kept in Redis add up across processes and come out on /metrics."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import redis
from flask import Flask
from github import Auth, Github
from github_double import GitHubDouble
from prometheus_client.parser import text_string_to_metric_families

from bot.runtime import metrics
from bot.web.metrics_endpoint import metrics_blueprint
from tests.conftest import APP_ID, ROOT, RedisServer, free_port
from worker.celery_app import make_celery


def scrape(client: redis.Redis) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """GET /metrics through Flask and parse it the way Prometheus would."""
    app = Flask(__name__)
    app.register_blueprint(metrics_blueprint(client))
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


@pytest.fixture
def down_client() -> redis.Redis:
    """A client for a port nothing listens on."""
    return redis.Redis(port=free_port(), socket_connect_timeout=0.2, socket_timeout=0.2)


def test_deliveries_are_counted_by_event_and_outcome(redis_client: redis.Redis) -> None:
    for _ in range(3):
        metrics.record_delivery(redis_client, "pull_request", "queued")
    metrics.record_delivery(redis_client, "pull_request", "duplicate")
    metrics.record_delivery(redis_client, "status", "ignored")
    samples = scrape(redis_client)
    total = "codex_guard_deliveries_total"
    assert samples[(total, (("event", "pull_request"), ("outcome", "queued")))] == 3
    assert samples[(total, (("event", "pull_request"), ("outcome", "duplicate")))] == 1
    assert samples[(total, (("event", "status"), ("outcome", "ignored")))] == 1
    assert samples[("codex_guard_metrics_redis_up", ())] == 1


def test_unverified_event_names_cannot_blow_up_label_cardinality(
    redis_client: redis.Redis,
) -> None:
    for i in range(20):
        metrics.record_delivery(redis_client, f"made_up_{i}", "rejected")
    metrics.record_delivery(redis_client, "push", "bogus-outcome")
    samples = scrape(redis_client)
    deliveries = {k: v for k, v in samples.items() if k[0] == "codex_guard_deliveries_total"}
    assert deliveries == {
        ("codex_guard_deliveries_total", (("event", "other"), ("outcome", "rejected"))): 20,
        ("codex_guard_deliveries_total", (("event", "push"), ("outcome", "other"))): 1,
    }


def test_evaluations_practices_and_latency_histogram(redis_client: redis.Redis) -> None:
    outcomes = {"task-thread": "pass", "done-when": "fail", "tests": "pending"}
    metrics.record_evaluation(redis_client, "failure", outcomes, 0.1)
    metrics.record_evaluation(redis_client, "success", {"task-thread": "pass"}, 3.0)
    metrics.record_evaluation(redis_client, "success", {"task-thread": "warn"}, 1000.0)
    samples = scrape(redis_client)
    assert samples[("codex_guard_evaluations_total", (("conclusion", "success"),))] == 2
    assert samples[("codex_guard_evaluations_total", (("conclusion", "failure"),))] == 1
    practice = "codex_guard_practice_outcomes_total"
    assert samples[(practice, (("outcome", "pass"), ("practice", "task-thread")))] == 2
    assert samples[(practice, (("outcome", "warn"), ("practice", "task-thread")))] == 1
    assert samples[(practice, (("outcome", "fail"), ("practice", "done-when")))] == 1
    assert samples[(practice, (("outcome", "pending"), ("practice", "tests")))] == 1
    hist = "codex_guard_evaluation_duration_seconds"
    assert samples[(f"{hist}_bucket", (("le", "0.25"),))] == 1
    assert samples[(f"{hist}_bucket", (("le", "2.0"),))] == 1
    assert samples[(f"{hist}_bucket", (("le", "5.0"),))] == 2
    assert samples[(f"{hist}_bucket", (("le", "300.0"),))] == 2
    assert samples[(f"{hist}_bucket", (("le", "+Inf"),))] == 3
    assert samples[(f"{hist}_count", ())] == 3
    assert samples[(f"{hist}_sum", ())] == pytest.approx(1003.1)


def test_counts_from_separate_processes_add_up(
    redis_server: RedisServer, redis_client: redis.Redis
) -> None:
    """gunicorn and Celery workers are separate processes: one scrape must see them all."""
    script = (
        "import redis, sys\n"
        "from bot.runtime import metrics\n"
        "c = redis.Redis.from_url(sys.argv[1])\n"
        "for _ in range(5): metrics.record_delivery(c, 'pull_request', 'queued')\n"
        "metrics.record_api_call(c, '/repos/{owner}/{repo}/pulls/{n}', 200)\n"
    )
    children = [
        subprocess.Popen([sys.executable, "-c", script, redis_server.url], cwd=ROOT)
        for _ in range(3)
    ]
    assert all(child.wait(timeout=60) == 0 for child in children)
    metrics.record_delivery(redis_client, "pull_request", "queued")
    samples = scrape(redis_client)
    key = (("event", "pull_request"), ("outcome", "queued"))
    assert samples[("codex_guard_deliveries_total", key)] == 16
    api = (("endpoint", "/repos/{owner}/{repo}/pulls/{n}"), ("status", "200"))
    assert samples[("codex_guard_github_api_calls_total", api)] == 3


def test_rate_limit_remaining_per_installation(redis_client: redis.Redis) -> None:
    metrics.record_rate_limit(redis_client, 11, 4990)
    metrics.record_rate_limit(redis_client, 11, 4980)
    metrics.record_rate_limit(redis_client, 12, 100)
    metrics.record_rate_limit(redis_client, "not-a-number", 1)
    samples = scrape(redis_client)
    gauge = "codex_guard_rate_limit_remaining"
    assert samples[(gauge, (("installation", "11"),))] == 4980
    assert samples[(gauge, (("installation", "12"),))] == 100
    assert [k for k in samples if k[0] == gauge] == [
        (gauge, (("installation", "11"),)),
        (gauge, (("installation", "12"),)),
    ]


def test_stale_rate_limit_entries_drop_out(redis_client: redis.Redis) -> None:
    old = time.time() - metrics.RATE_LIMIT_STALE_SECONDS - 60
    redis_client.hset(metrics.PREFIX + "rate_limit_remaining", "99", f"5 {old:.0f}")
    metrics.record_rate_limit(redis_client, 7, 42)
    samples = scrape(redis_client)
    gauges = {k[1] for k in samples if k[0] == "codex_guard_rate_limit_remaining"}
    assert gauges == {(("installation", "7"),)}


def test_queue_depth_and_oldest_age_from_real_celery_messages(
    redis_server: RedisServer, redis_client: redis.Redis
) -> None:
    celery = make_celery(redis_server.url)
    now = time.time()
    celery.send_task(
        "codex_guard.evaluate", kwargs={"repo": "o/r"}, headers={"queued_at": now - 90}
    )
    celery.send_task("codex_guard.evaluate", kwargs={"repo": "o/r", "queued_at": now - 10})
    celery.send_task("codex_guard.evaluate", kwargs={"repo": "o/r"})
    depth, age = metrics.queue_state(redis_client)
    assert depth == 3
    assert age is not None and 89 <= age < 120
    samples = scrape(redis_client)
    assert samples[("codex_guard_queue_depth", ())] == 3
    assert 89 <= samples[("codex_guard_queue_oldest_age_seconds", ())] < 120


def test_stamp_in_kwargs_is_read_when_headers_have_none(
    redis_server: RedisServer, redis_client: redis.Redis
) -> None:
    celery = make_celery(redis_server.url)
    celery.send_task("codex_guard.evaluate", kwargs={"queued_at": time.time() - 40})
    _, age = metrics.queue_state(redis_client)
    assert age is not None and 39 <= age < 70


def test_empty_queue_reports_zero(redis_client: redis.Redis) -> None:
    assert metrics.queue_state(redis_client) == (0, None)
    samples = scrape(redis_client)
    assert samples[("codex_guard_queue_depth", ())] == 0
    assert samples[("codex_guard_queue_oldest_age_seconds", ())] == 0


def test_enqueued_at_tolerates_garbage() -> None:
    assert metrics.enqueued_at(b"not json") is None
    assert (
        metrics.enqueued_at(b'{"body": "!!!", "properties": {"body_encoding": "base64"}}') is None
    )
    assert metrics.enqueued_at(b'{"headers": {"queued_at": "soon"}}') is None


def test_recording_never_raises_when_redis_is_down(down_client: redis.Redis) -> None:
    metrics.record_delivery(down_client, "pull_request", "unavailable")
    metrics.record_evaluation(down_client, "success", {"tests": "pass"}, 1.0)
    metrics.record_api_call(down_client, "/app", 200)
    metrics.record_rate_limit(down_client, 1, 10)
    samples = scrape(down_client)
    assert samples[("codex_guard_metrics_redis_up", ())] == 0
    assert not any(name.startswith("codex_guard_deliveries") for name, _ in samples)


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/repos/octo/app/pulls/12/files", "/repos/{owner}/{repo}/pulls/{n}/files"),
        (
            "https://ghe.example/api/v3/repos/o/r/commits/" + "a" * 40 + "/check-runs",
            "/repos/{owner}/{repo}/commits/{ref}/check-runs",
        ),
        ("/repos/o/r/contents/docs/a b.md?ref=main", "/repos/{owner}/{repo}/contents/{path}"),
        ("/repos/o/r/git/trees/main", "/repos/{owner}/{repo}/git/trees/{ref}"),
        ("/repos/o/r/compare/main...feature", "/repos/{owner}/{repo}/compare/{ref}"),
        # Branch names hold slashes: everything after `branches/` is one value, so a
        # branch per label can never happen.
        ("/repos/o/r/branches/main", "/repos/{owner}/{repo}/branches/{branch}"),
        ("/repos/o/r/branches/jtchyu-codex/fix-x", "/repos/{owner}/{repo}/branches/{branch}"),
        ("/app/installations/123/access_tokens", "/app/installations/{n}/access_tokens"),
        (
            "/repos/o/r/collaborators/alice/permission",
            "/repos/{owner}/{repo}/collaborators/{name}/permission",
        ),
        ("/app", "/app"),
    ],
)
def test_api_template(path: str, template: str) -> None:
    assert metrics.api_template(path) == template


@pytest.fixture
def double(app_key: tuple[str, str]) -> Iterator[GitHubDouble]:
    with GitHubDouble(APP_ID, app_key[1]) as started:
        yield started


def test_observe_github_counts_calls_and_rate_limit(
    redis_client: redis.Redis, double: GitHubDouble, app_key: tuple[str, str]
) -> None:
    inst = double.add_installation(account="octo-org", repos=["octo-org/app"])
    token = double.issue_token(inst.id).token
    gh = Github(
        auth=Auth.Token(token),
        base_url=double.base_url,
        seconds_between_requests=0,
        seconds_between_writes=0,
        retry=0,
    )
    metrics.observe_github(gh.requester, redis_client, inst.id)
    gh.requester.requestJsonAndCheck("GET", "/repos/octo-org/app")
    gh.requester.requestJsonAndCheck("GET", "/repos/octo-org/app")
    with pytest.raises(Exception):  # noqa: B017 - any GithubException will do
        gh.requester.requestJsonAndCheck("GET", "/repos/octo-org/app/pulls/999")
    samples = scrape(redis_client)
    api = "codex_guard_github_api_calls_total"
    assert samples[(api, (("endpoint", "/repos/{owner}/{repo}"), ("status", "200")))] == 2
    assert samples[(api, (("endpoint", "/repos/{owner}/{repo}/pulls/{n}"), ("status", "404")))] == 1
    remaining = samples[("codex_guard_rate_limit_remaining", (("installation", str(inst.id)),))]
    assert remaining == 5000 - 3


def test_a_failing_redis_is_left_alone_for_a_few_seconds(
    redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Redis outage must not add a connect timeout to every webhook answer."""
    clock = {"now": 1000.0}
    fake_time = type(
        "FakeTime", (), {"monotonic": staticmethod(lambda: clock["now"]), "time": time.time}
    )
    monkeypatch.setattr(metrics, "time", fake_time)
    attempts = []
    real_pipeline = redis_client.pipeline

    def broken(*args, **kwargs):
        attempts.append(1)
        raise redis.ConnectionError("down")

    monkeypatch.setattr(redis_client, "pipeline", broken)
    metrics.record_delivery(redis_client, "push", "queued")
    metrics.record_delivery(redis_client, "push", "queued")
    assert len(attempts) == 1
    monkeypatch.setattr(redis_client, "pipeline", real_pipeline)
    metrics.record_delivery(redis_client, "push", "queued")  # still within the pause
    clock["now"] += metrics.PAUSE_AFTER_FAILURE_SECONDS + 1
    metrics.record_delivery(redis_client, "push", "queued")
    key = (("event", "push"), ("outcome", "queued"))
    assert scrape(redis_client)[("codex_guard_deliveries_total", key)] == 1
