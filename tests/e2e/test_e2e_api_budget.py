"""GitHub API calls per evaluation, counted at the double (issue 5's budgets).

Counts, not timings: a regression that adds a call fails here on any machine.
Counted after one warm-up evaluation in the repository, as the installation
token and the repository's config are then shared from Redis.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e_helpers import fresh_repo
from tests.e2e_rig import *  # noqa: F403 - fixtures
from tests.e2e_rig import Stack, wait_for

pytestmark = pytest.mark.e2e

HUMAN_BODY = "Fix the flaky date parser.\n\nCloses #3\n"


def _settle(stack: Stack, repo: str, sha: str) -> None:
    stack.completed_check(repo, sha)
    wait_for(lambda: not stack.redis.client().llen("codex-guard"), 10, "an empty queue")
    # The comment, if any, is written right after the check run.
    wait_for(lambda: stack.worker_evaluations(sha) >= 1, 10, "the evaluation log line")


def _writes(calls) -> list:
    return [c for c in calls if c.method in ("POST", "PATCH", "PUT", "DELETE")]


@pytest.fixture
def warm(stack: Stack, prs):
    payload = prs.open()
    stack.send("pull_request", payload)
    _settle(stack, payload["repository"]["full_name"], payload["pull_request"]["head"]["sha"])
    stack.double.reset_requests()


def test_non_codex_pr_costs_at_most_two_calls(stack: Stack, prs, warm):
    payload = prs.open(body=HUMAN_BODY, head_ref="fix-date-parser")
    stack.send("pull_request", payload)
    _settle(stack, payload["repository"]["full_name"], payload["pull_request"]["head"]["sha"])
    calls = stack.double.calls()
    assert len(calls) <= 2, [(c.method, c.path) for c in calls]
    [run] = stack.double.check_runs(payload["repository"]["full_name"],
                                    head_sha=payload["pull_request"]["head"]["sha"],
                                    name="codex-guard")  # fmt: skip
    assert run.conclusion == "success"


def test_full_codex_evaluation_costs_at_most_seven_calls(stack: Stack, prs, warm):
    payload = prs.open()
    stack.send("pull_request", payload)
    _settle(stack, payload["repository"]["full_name"], payload["pull_request"]["head"]["sha"])
    calls = stack.double.calls()
    assert len(calls) <= 7, [(c.method, c.path) for c in calls]


def test_codex_pr_in_a_repository_never_seen_costs_at_most_seven_calls(stack: Stack, prs, warm):
    """Cold for the repository: its config is read (one call), nothing else is added."""
    payload = prs.open(repo=fresh_repo())
    stack.send("pull_request", payload)
    _settle(stack, payload["repository"]["full_name"], payload["pull_request"]["head"]["sha"])
    calls = stack.double.calls()
    assert len(calls) <= 7, [(c.method, c.path) for c in calls]
    assert [c.template for c in calls].count("/repos/{owner}/{repo}/contents/{path}") == 1


def test_unchanged_redelivery_writes_nothing(stack: Stack, prs, warm):
    payload = prs.open(body="## Summary\n- tweak\n\n------\n"
                       "https://chatgpt.com/codex/tasks/task_e_" + "ab" * 16 + "\n")  # fmt: skip
    repo, sha = payload["repository"]["full_name"], payload["pull_request"]["head"]["sha"]
    stack.send("pull_request", payload)
    _settle(stack, repo, sha)
    assert len(stack.double.comments(repo, payload["pull_request"]["number"])) == 1
    stack.double.reset_requests()
    stack.send("pull_request", payload)  # a new delivery ID, the same content
    wait_for(lambda: stack.worker_evaluations(sha) >= 2, 20, "the second evaluation")
    assert _writes(stack.double.calls()) == []
    assert len(stack.double.check_runs(repo, head_sha=sha, name="codex-guard")) == 1


def _check_writes(calls) -> list[tuple[str, str | None]]:
    """(method, status sent) of each write to codex-guard's check run."""
    found = []
    for c in _writes(calls):
        if "/check-runs" in c.path:
            found.append((c.method, (c.body or {}).get("status")))
    return found


def test_a_quick_evaluation_creates_its_check_run_once_already_completed(stack: Stack, prs, warm):
    payload = prs.open()
    stack.send("pull_request", payload)
    _settle(stack, payload["repository"]["full_name"], payload["pull_request"]["head"]["sha"])
    assert _check_writes(stack.double.calls()) == [("POST", "completed")]


def test_a_slow_evaluation_shows_in_progress_first(stack: Stack, prs, warm):
    payload = prs.open()
    repo, number = payload["repository"]["full_name"], payload["pull_request"]["number"]
    # The PR's files take 3 s to list: long past the in-progress threshold.
    stack.double.inject("GET", rf"^/repos/{re.escape(repo)}/pulls/{number}/files$", None, delay=3)
    stack.send("pull_request", payload)
    _settle(stack, repo, payload["pull_request"]["head"]["sha"])
    assert _check_writes(stack.double.calls()) == [("POST", "in_progress"), ("PATCH", "completed")]


def _comment_listings(calls) -> int:
    return sum(1 for c in calls if c.method == "GET" and c.path.endswith("/comments"))


def test_a_new_pr_is_not_asked_for_comments_codex_guard_never_posted(stack: Stack, prs, warm):
    passing = prs.open()
    failing = prs.open(body="Refactor the exporter.\n\n------\nhttps://chatgpt.com/codex/tasks/"
                       "task_e_" + "cd" * 16 + "\n")  # fmt: skip
    for payload in (passing, failing):
        stack.send("pull_request", payload)
        _settle(stack, payload["repository"]["full_name"], payload["pull_request"]["head"]["sha"])
    calls = stack.double.calls()
    assert _comment_listings(calls) == 0, [(c.method, c.path) for c in calls]
    repo = failing["repository"]["full_name"]
    # The failing one still gets its one comment, and the passing one none.
    assert len(stack.double.comments(repo, failing["pull_request"]["number"])) == 1
    assert stack.double.comments(repo, passing["pull_request"]["number"]) == []


def test_a_pr_older_than_codex_guards_memory_is_looked_up_once(stack: Stack, prs, warm):
    payload = prs.open()
    payload["pull_request"]["created_at"] = "2019-05-15T15:20:33Z"  # before Redis remembered
    stack.send("pull_request", payload)
    _settle(stack, payload["repository"]["full_name"], payload["pull_request"]["head"]["sha"])
    assert _comment_listings(stack.double.calls()) == 1
