"""Coalescing on the real stack: a burst of events for one PR is a few evaluations, and the
check run ends on the newest state.

Real redis-server, the Procfile's gunicorn `web` and Celery `worker`, the GitHub double;
the coalescing window is 1 s (the default), set explicitly in case the rig changes it.
"""

from __future__ import annotations

import copy
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from github_double import GitHubDouble

from tests.conftest import RedisServer
from tests.e2e_helpers import check_suite_completed, log_records
from tests.e2e_rig import *  # noqa: F403 - fixtures
from tests.e2e_rig import GOOD_BODY, PullRequests, Stack, wait_for

pytestmark = pytest.mark.e2e

EVENTS = 30
SPREAD = 2.0
BAD_BODY = """## Summary
- tidy the export (draft {n})

## Testing
- ✅ `pytest -q`

------
https://chatgpt.com/codex/tasks/task_e_{task}
"""


@pytest.fixture(scope="module")
def bstack(
    redis_server: RedisServer, double: GitHubDouble, app_key: tuple[str, str]
) -> Iterator[Stack]:
    s = Stack(redis_server, double, app_key[0])
    s.env["COALESCE_SECONDS"] = "1.0"
    s.start()
    yield s
    s.stop()


def evaluated(stack: Stack, repo: str, number: int, sha: str) -> list[dict[str, Any]]:
    return [
        r
        for r in log_records(stack)
        if str(r.get("message", "")).startswith("evaluated:")
        and r.get("repo") == repo
        and (r.get("pr") == number or r.get("head_sha") == sha)
    ]


def test_a_burst_of_thirty_events_is_at_most_three_evaluations_ending_on_the_last_state(
    bstack: Stack, prs: PullRequests, webhook_examples
):
    task = secrets.token_hex(16)
    opened = prs.open(body=BAD_BODY.format(n=0, task=task))
    repo = opened["repository"]["full_name"]
    number, sha = opened["pull_request"]["number"], opened["pull_request"]["head"]["sha"]
    opened["pull_request"]["updated_at"] = "2030-01-01T00:00:00Z"
    assert bstack.send("pull_request", opened).status_code == 202
    first = bstack.completed_check(repo, sha)
    assert first.conclusion == "failure"  # no "Done when" yet
    wait_for(lambda: evaluated(bstack, repo, number, sha), 20, "the first evaluation")
    before = len(evaluated(bstack, repo, number, sha))

    events: list[tuple[str, dict[str, Any]]] = []
    labels: list[dict[str, Any]] = []
    body = opened["pull_request"]["body"]
    for i in range(1, EVENTS + 1):
        if i % 3 == 2:
            events.append(("check_suite", check_suite_completed(webhook_examples, opened)))
            continue
        p = copy.deepcopy(opened)
        if i == EVENTS - 2:
            p["action"], body = "edited", GOOD_BODY.format(task=task)  # the fixing edit
        elif i % 3 == 0 and i < EVENTS - 2:
            p["action"], body = "edited", BAD_BODY.format(n=i, task=task)
        else:
            name = f"burst-{i}"
            label = {"id": 900 + i, "node_id": f"LB{i}", "url": "", "name": name,
                     "color": "ededed", "default": False, "description": None}  # fmt: skip
            p["action"], p["label"] = "labeled", label
            labels.append(label)
        p["pull_request"]["body"] = body
        p["pull_request"]["labels"] = list(labels)
        p["pull_request"]["updated_at"] = f"2030-01-01T00:01:{i:02d}Z"
        events.append(("pull_request", p))
    last_body = body
    assert "## Done when" in last_body

    started = time.perf_counter()
    deliveries = []
    for i, (event, p) in enumerate(events):
        delay = started + i * SPREAD / EVENTS - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        if event == "pull_request":
            bstack.double.seed_from_event(p)  # GitHub's PR follows every edit
        deliveries.append(str(uuid.uuid4()))
        assert bstack.send(event, p, delivery=deliveries[-1]).status_code == 202
    assert time.perf_counter() - started < SPREAD + 1.0

    def settled() -> bool:
        n = len(evaluated(bstack, repo, number, sha))
        time.sleep(2.5)
        return n == len(evaluated(bstack, repo, number, sha)) and not bstack.redis.client().llen(
            "codex-guard"
        )

    wait_for(settled, 60, "the worker to go quiet")
    runs = bstack.double.check_runs(repo, head_sha=sha, name="codex-guard")
    assert len(runs) == 1
    final = runs[0]
    burst = evaluated(bstack, repo, number, sha)[before:]
    assert 1 <= len(burst) <= 3, [r.get("message") for r in burst]
    assert final.status == "completed" and final.conclusion == "success", final.output
    # The evaluation that wrote it read the last edit (its delivery is the newest PR event's).
    assert burst[-1].get("delivery") in deliveries

    # Every delivery of the burst is remembered: a redelivery of any is a duplicate.
    for event, p in events[-3:]:
        i = events.index((event, p))
        again = bstack.send(event, p, delivery=deliveries[i])
        assert again.status_code == 200, again.text
        assert json.loads(again.text)["message"].startswith("duplicate")
