"""Scale-out: two web and two worker processes on one Redis never evaluate one event twice."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e_rig import *  # noqa: F403 - fixtures
from tests.e2e_rig import PullRequests, Stack, wait_for

pytestmark = pytest.mark.e2e


def test_one_delivery_sent_to_two_web_processes_is_evaluated_once(
    redis_server, double, app_key, webhook_examples
):
    stacks = [Stack(redis_server, double, app_key[0]) for _ in range(2)]
    for s in stacks:
        s.env["COALESCE_SECONDS"] = "0"  # the delivery ledger alone must hold
        s.start()
    try:
        prs = PullRequests(double, webhook_examples, start=4000)
        evaluated = []
        for n in range(5):
            payload = prs.open()
            repo, sha = payload["repository"]["full_name"], payload["pull_request"]["head"]["sha"]
            delivery = f"scaleout-{n}"
            with ThreadPoolExecutor(2) as pool:
                answers = list(
                    pool.map(lambda s, p=payload, d=delivery: s.send("pull_request", p, d), stacks)
                )
            assert sorted(a.status_code for a in answers) == [200, 202]
            stacks[0].completed_check(repo, sha)
            wait_for(
                lambda sha=sha: sum(s.worker_evaluations(sha) for s in stacks) >= 1,
                10,
                "the evaluation",
            )
            evaluated.append(sha)
        wait_for(lambda: not redis_server.client().llen("codex-guard"), 10, "an empty queue")
        for sha in evaluated:
            assert sum(s.worker_evaluations(sha) for s in stacks) == 1
            assert len(double.check_runs(repo, head_sha=sha, name="codex-guard")) == 1
    finally:
        for s in stacks:
            s.stop()
