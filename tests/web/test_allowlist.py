"""`ALLOWED_OWNERS` / `ALLOWED_REPOS`: the operator's narrow allowlist.

The receiver answers a delivery for a repository outside the list 202, queues nothing
and logs one line saying why (Flask test client over a real Redis). The worker refuses
a job for such a repository too (one queued before the list was narrowed, or by a
sweep): end to end, the Procfile's web and worker with the list set, and the GitHub
double, it writes no check run and logs one line.
"""

from __future__ import annotations

import logging
import re
import uuid

import pytest

from bot.core.routing import RouteContext
from bot.jobs.queue import enqueue
from bot.runtime.settings import load_settings
from bot.web.handlers import router
from tests.conftest import APP_ID, example
from tests.e2e_helpers import worker_lines
from tests.e2e_rig import *  # noqa: F403 - fixtures
from tests.e2e_rig import Stack, wait_for
from tests.receiver_rig import app_settings, post, queued, receiver_client
from worker.celery_app import make_celery

# GitHub's example payloads name these repositories.
PR_REPO = "Codertocat/Hello-World"
REFUSED = "ignored: repository not allowed by this deployment"

# (event, action): examples that queue a job when their repository is allowed.
QUEUEING = [
    ("pull_request", "opened"),
    ("pull_request", "synchronize"),
    ("check_suite", "rerequested"),
    ("status", None),
    ("merge_group", "checks_requested"),
]


@pytest.fixture
def receiver(app_key, redis_server, redis_client):
    """A receiver factory: ``receiver(ALLOWED_OWNERS=..., ALLOWED_REPOS=...)``."""

    def make(**env: str):
        return receiver_client(app_settings(app_key, redis_server, **env), redis_client)

    return make


def own_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("codex_guard")]


@pytest.mark.parametrize(("event", "action"), QUEUEING)
def test_delivery_outside_the_allowlist_is_202_queues_nothing_and_logs_one_line(
    receiver, redis_client, webhook_examples, caplog, event, action
):
    payload = example(webhook_examples, event, action)
    repo = payload["repository"]["full_name"]
    client = receiver(ALLOWED_OWNERS="some-other-org", ALLOWED_REPOS="some-other-org/app")
    caplog.set_level(logging.INFO)
    response = post(client, event, payload)
    assert response.status_code == 202
    assert response.get_json()["message"] == REFUSED
    assert queued(redis_client) == []
    lines = [r.getMessage() for r in own_lines(caplog)]
    assert lines == [f"ignored delivery for {repo}: not in ALLOWED_OWNERS/ALLOWED_REPOS"]


@pytest.mark.parametrize(("event", "action"), QUEUEING)
def test_delivery_inside_the_allowlist_is_queued(
    receiver, redis_client, webhook_examples, event, action
):
    payload = example(webhook_examples, event, action)
    owner = payload["repository"]["full_name"].split("/")[0]
    client = receiver(ALLOWED_OWNERS=f"some-other-org,{owner}")
    response = post(client, event, payload)
    assert response.status_code == 202
    assert response.get_json()["message"] == "queued"
    [(_, kwargs)] = queued(redis_client)
    assert kwargs["repo"] == payload["repository"]["full_name"]


@pytest.mark.parametrize(
    ("env", "allowed"),
    [
        ({"ALLOWED_OWNERS": "codertocat"}, True),
        ({"ALLOWED_OWNERS": "CODERTOCAT"}, True),
        ({"ALLOWED_OWNERS": "CoderTocat, octo-org"}, True),
        ({"ALLOWED_OWNERS": "codertocat-2"}, False),  # a prefix is not a match
        ({"ALLOWED_OWNERS": "octo-org"}, False),
        ({"ALLOWED_REPOS": "codertocat/hello-world"}, True),
        ({"ALLOWED_REPOS": "CODERTOCAT/HELLO-WORLD"}, True),
        ({"ALLOWED_REPOS": "codertocat/hello"}, False),
        ({"ALLOWED_REPOS": "octo-org/hello-world"}, False),  # same name, other owner
        ({"ALLOWED_OWNERS": "octo-org", "ALLOWED_REPOS": "Codertocat/Hello-World"}, True),
        ({}, True),  # no list: everything is allowed
    ],
)
def test_owner_and_repo_matching_is_case_insensitive_and_exact(
    receiver, redis_client, webhook_examples, env, allowed
):
    payload = example(webhook_examples, "pull_request", "opened")
    assert payload["repository"]["full_name"] == PR_REPO
    response = post(receiver(**env), "pull_request", payload)
    assert response.status_code == 202
    assert response.get_json()["message"] == ("queued" if allowed else REFUSED)
    assert len(queued(redis_client)) == (1 if allowed else 0)


def test_payload_repository_spelled_in_another_case_is_still_allowed(
    receiver, redis_client, webhook_examples
):
    payload = example(webhook_examples, "pull_request", "opened")
    payload["repository"]["full_name"] = "CODERTOCAT/hello-WORLD"
    response = post(receiver(ALLOWED_OWNERS="codertocat"), "pull_request", payload)
    assert response.get_json()["message"] == "queued"
    payload["pull_request"]["number"] += 1  # another PR (one PR's events may be coalesced)
    response = post(receiver(ALLOWED_REPOS="codertocat/hello-world"), "pull_request", payload)
    assert response.get_json()["message"] == "queued"
    assert len(queued(redis_client)) == 2


def test_installation_events_are_not_refused_at_the_receiver(
    receiver, redis_client, webhook_examples
):
    """They name no single repository: the worker applies the list per repository."""
    payload = example(webhook_examples, "installation", "created")
    response = post(receiver(ALLOWED_OWNERS="some-other-org"), "installation", payload)
    assert response.get_json()["message"] == "queued"
    assert [t for t, _ in queued(redis_client)] == ["codex_guard.installation"]


# -- the worker side, end to end ---------------------------------------------------------------


@pytest.fixture(scope="module")
def allow_stack(redis_server, double, app_key):
    s = Stack(redis_server, double, app_key[0])
    s.env["ALLOWED_OWNERS"] = "OCTO-ORG"
    s.start("web", "worker")
    yield s
    s.stop()


@pytest.mark.e2e
def test_worker_refuses_a_queued_job_for_a_repository_outside_the_allowlist(
    allow_stack: Stack, prs
):
    # A job that reached the queue anyway (queued before the list was narrowed, or by
    # a sweep): the receiver's check cannot stop it, the worker's must.
    outside = prs.open()
    repo, sha = outside["repository"]["full_name"], outside["pull_request"]["head"]["sha"]
    assert repo == PR_REPO
    jobs = router.dispatch("pull_request", outside, RouteContext(app_id=APP_ID))
    delivery = f"outside-{uuid.uuid4()}"
    enqueue(make_celery(allow_stack.redis.url), jobs, delivery)

    # Through the receiver it is refused outright.
    answered = allow_stack.send("pull_request", outside)
    assert (answered.status_code, answered.json()["message"]) == (202, REFUSED)

    # A repository inside the list (owner matched case-insensitively) is evaluated...
    inside = prs.open(repo="octo-org/app")
    inside_sha = inside["pull_request"]["head"]["sha"]
    assert allow_stack.send("pull_request", inside).status_code == 202
    assert allow_stack.completed_check("octo-org/app", inside_sha).conclusion == "success"

    # ...the one outside gets no check run, no GitHub call, and one line saying why.
    lines = wait_for(
        lambda: worker_lines(allow_stack, delivery=delivery), 20, "the worker's log line"
    )
    wait_for(lambda: not allow_stack.redis.client().llen("codex-guard"), 10, "an empty queue")
    assert [d["message"] for d in worker_lines(allow_stack, delivery=delivery)] == [
        f"skipped: {repo} is not in the allowlist"
    ], lines
    assert allow_stack.double.check_runs(repo, head_sha=sha, name="codex-guard") == []
    assert not allow_stack.double.calls(path_regex=rf"^/repos/{re.escape(repo)}/")
    assert not allow_stack.double.comments(repo, outside["pull_request"]["number"])


def test_every_worker_entry_point_checks_the_allowlist_before_calling_github(
    app_key, redis_server, redis_client
):
    """Jobs that reached the queue some other way still never touch a disallowed repo.

    GitHub is pointed at a closed port: any call at all would raise.
    """
    from bot.jobs import pipeline

    settings = load_settings({
        "APP_ID": "1", "PRIVATE_KEY": app_key[0], "WEBHOOK_SECRET": "s",
        "REDIS_URL": redis_server.url, "GITHUB_API_URL": "http://127.0.0.1:9/api/v3",
        "ALLOWED_OWNERS": "octo-org",
    })  # fmt: skip
    svc = pipeline.Services.from_settings(settings)
    repo = "someone-else/app"
    assert pipeline.evaluate_pull(svc, 1, repo, 5, None) is None
    assert pipeline.evaluate_sha(svc, 1, repo, "a" * 40, [5]) == 0
    assert pipeline.run_command(svc, 1, repo, 5, 9, "mallory", {"name": "recheck"}) == (
        "not allowed"
    )
    assert pipeline.merge_group(svc, 1, repo, "a" * 40) is None
