"""Hostile AGENTS.md files end to end: bounded GitHub calls, one check run.

Real web and worker processes, Redis and the GitHub double; the calls are
counted at the double (issue 11, items 1 and 2).
"""

from __future__ import annotations

import pytest

from bot.present.annotations import MAX_ANNOTATIONS
from tests.e2e_rig import *  # noqa: F403 - fixtures
from tests.e2e_rig import Stack, wait_for

pytestmark = pytest.mark.e2e

# A cold Codex evaluation (token, base and org config, PR, files, tree, blobs, CI) takes
# 14 calls with an ordinary AGENTS.md; before the caps these files took over 1,400
# (a PATCH per 50 annotations). Nothing may grow with the file.
MAX_CALLS = 16

SEVENTY_THOUSAND_LINES = "# Agents\n" + "".join(f"/home/alice/p{i}\n" for i in range(70_000))
ONE_MEGABYTE_LINE = (
    "# Agents\n"
    + " ".join(f"token=abc{i:08d}xyzQ password='p{i:09d}x'" for i in range(25_000))
    + "\n"
)


@pytest.mark.parametrize(
    "agents", [SEVENTY_THOUSAND_LINES, ONE_MEGABYTE_LINE], ids=["70000-lines", "1mb-line"]
)
def test_a_hostile_agents_md_costs_a_bounded_number_of_calls(stack: Stack, prs, agents):
    assert len(agents) > 900_000
    payload = prs.open(head_files={"AGENTS.md": agents})
    repo, sha = payload["repository"]["full_name"], payload["pull_request"]["head"]["sha"]
    stack.double.reset_requests()
    stack.send("pull_request", payload)
    run = stack.completed_check(repo, sha, timeout=120)
    wait_for(lambda: not stack.redis.client().llen("codex-guard"), 30, "an empty queue")
    assert run.conclusion == "failure"
    calls = stack.double.calls()
    assert len(calls) <= MAX_CALLS, [(c.method, c.path) for c in calls]
    assert len(run.annotations or []) <= MAX_ANNOTATIONS
    assert len(stack.double.check_runs(repo, head_sha=sha, name="codex-guard")) == 1
