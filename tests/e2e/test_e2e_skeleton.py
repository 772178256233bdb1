"""Walking skeleton, end to end: a signed webhook becomes one check run."""

from __future__ import annotations

import pytest

from tests.conftest import METRICS_AUTH
from tests.e2e_rig import *  # noqa: F403 - fixtures
from tests.e2e_rig import Stack, wait_for

pytestmark = pytest.mark.e2e


def test_pull_request_opened_gives_one_completed_check_run(stack: Stack, prs):
    payload = prs.open()
    repo = payload["repository"]["full_name"]
    sha = payload["pull_request"]["head"]["sha"]
    response = stack.send("pull_request", payload, delivery="skeleton-1")
    assert response.status_code == 202
    run = stack.completed_check(repo, sha)
    assert run.head_sha == sha
    assert run.conclusion == "success", (run.output, stack.logs()[-3000:])
    runs = stack.double.check_runs(repo, head_sha=sha, name="codex-guard")
    assert len(runs) == 1


def test_same_delivery_twice_still_gives_one_check_run(stack: Stack, prs):
    payload = prs.open()
    repo = payload["repository"]["full_name"]
    sha = payload["pull_request"]["head"]["sha"]
    first = stack.send("pull_request", payload, delivery="dup-delivery")
    second = stack.send("pull_request", payload, delivery="dup-delivery")
    assert (first.status_code, second.status_code) == (202, 200)
    stack.completed_check(repo, sha)
    wait_for(lambda: not stack.redis.client().llen("codex-guard"), 10, "the queue to drain")
    assert len(stack.double.check_runs(repo, head_sha=sha, name="codex-guard")) == 1


def test_evaluation_is_audited_and_measured(stack: Stack, prs):
    import json
    import subprocess
    import sys

    import requests

    payload = prs.open()
    repo = payload["repository"]["full_name"]
    sha = payload["pull_request"]["head"]["sha"]
    delivery = "audited-delivery"
    assert stack.send("pull_request", payload, delivery=delivery).status_code == 202
    stack.completed_check(repo, sha)

    def audited():
        out = subprocess.run(
            [sys.executable, "-m", "bot.ops.cli", "audit", "--format", "json",
             "--redis-url", stack.redis.url, "--repo", repo],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        return [r for r in json.loads(out.stdout) if r.get("delivery") == delivery]

    [record] = wait_for(audited, 40, "the audit record")
    assert record["head_sha"] == sha and record["pr"] == payload["pull_request"]["number"]
    assert record["person"] == payload["pull_request"]["user"]["login"]
    assert set(record["outcomes"]) == {"task-thread", "done-when", "tests", "agents-md", "scope"}
    metrics = requests.get(f"{stack.url}/metrics", headers=METRICS_AUTH, timeout=5).text
    assert 'codex_guard_evaluations_total{conclusion="success"}' in metrics
    assert "codex_guard_github_api_calls_total{" in metrics
