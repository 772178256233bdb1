"""A closed PR releases its task thread and is not swept as a stuck check."""

import time

from bot.core.routing import RouteContext
from bot.jobs import pipeline
from bot.runtime.settings import load_settings
from bot.web.handlers import PR_CLOSED, router
from tests.conftest import example


def test_closed_pr_is_released_and_not_swept(app_key, redis_server, redis_client, webhook_examples):
    payload = example(webhook_examples, "pull_request", "closed")
    [job] = router.dispatch("pull_request", payload, RouteContext())
    assert job.task == PR_CLOSED
    repo, number = payload["repository"]["full_name"], payload["pull_request"]["number"]
    sha = job.kwargs["head_sha"]
    assert sha == payload["pull_request"]["head"]["sha"]

    svc = pipeline.Services.from_settings(load_settings({
        "APP_ID": "1", "PRIVATE_KEY": app_key[0], "WEBHOOK_SECRET": "s",
        "REDIS_URL": redis_server.url,
    }))  # fmt: skip
    svc.store.record_tasks(repo, number, ["task_e_" + "a" * 32])
    svc.store.remember_check(repo, sha, 77)
    assert svc.store.open_checks(time.time() + 1)

    pipeline.pull_closed(svc, repo, number, sha)
    assert number not in svc.store.open_pr_tasks(repo)
    assert svc.store.open_checks(time.time() + 1) == []
