"""Practice `scope` end to end (issue 12): protected paths wait for a person's approval
on the head commit, and a credential in the diff fails whatever anyone says.

Real redis-server, the Procfile's gunicorn `web` and Celery `worker`, and the GitHub
API double; reviews arrive as GitHub's own `pull_request_review` example payloads.
"""

from __future__ import annotations

import json
import secrets

import pytest

from tests.e2e_helpers import (
    Seeder,
    deliver_and_wait,
    fresh_repo,
    guard_comments,
    ids,
    pull_request_review_event,
    wait_evaluations,
)
from tests.e2e_rig import *  # noqa: F403 - fixtures (stack, double, _contract)
from tests.e2e_rig import Stack

pytestmark = pytest.mark.e2e

WORKFLOW = ".github/workflows/ci.yml"


@pytest.fixture
def seed(double, webhook_examples) -> Seeder:
    return Seeder(double, webhook_examples)


def _review(stack: Stack, examples, payload, login: str, count: int, on: str | None = None):
    repo, number, sha = ids(payload)
    stack.double.add_review(repo, number, login, "APPROVED", on or sha)
    event = pull_request_review_event(examples, payload, login)
    assert stack.send("pull_request_review", event).status_code == 202
    wait_evaluations(stack, repo, number, count)
    [run] = stack.double.check_runs(repo, head_sha=sha, name="codex-guard")
    return run


def test_a_workflow_change_waits_for_a_writers_approval_on_its_head(
    stack: Stack, seed: Seeder, webhook_examples
):
    payload = seed.open(repo=fresh_repo(), head_files={WORKFLOW: "on: push\njobs: {}\n"})
    repo, number, sha = ids(payload)
    run = deliver_and_wait(stack, payload)
    assert run.conclusion == "failure"
    assert run.output["title"] == "4 of 5 practices pass — scope fails"
    assert "scope/protected-path" in run.output["text"] and WORKFLOW in run.output["text"]
    # A reader's approval does not count, and the finding says why (without @-mentioning).
    stack.double.set_permission(repo, "rita", "read")
    run = _review(stack, webhook_examples, payload, "rita", 2)
    assert run.conclusion == "failure"
    assert "`@rita`" in run.output["text"]
    # A writer's approval of an older commit does not count either: a push needs a new one.
    stack.double.set_permission(repo, "olly", "write")
    run = _review(stack, webhook_examples, payload, "olly", 3, on="0" * 40)
    assert run.conclusion == "failure"
    assert "`@olly`" in run.output["text"]
    # A writer's approval on the head commit unblocks it.
    stack.double.set_permission(repo, "erin", "write")
    run = _review(stack, webhook_examples, payload, "erin", 4)
    assert run.conclusion == "success", run.output["text"]
    assert "approved by `@erin` on head" in run.output["summary"]
    assert len(stack.double.check_runs(repo, head_sha=sha, name="codex-guard")) == 1
    # Reviews are read once per evaluation that needs a person; a reviewer's permission only
    # when their approval is of the head (olly's, of an old commit, never needed asking).
    assert len(stack.double.calls("GET", rf"^/repos/{repo}/pulls/{number}/reviews$")) == 4
    asked = [c.path.rsplit("/", 2)[-2] for c in stack.double.calls("GET", r"/permission$")]
    assert sorted(set(asked)) == ["erin", "rita"]


def test_a_credential_in_the_diff_fails_and_is_never_echoed(stack: Stack, seed: Seeder):
    token = "ghp_" + secrets.token_hex(18)
    payload = seed.open(repo=fresh_repo(), head_files={"app/settings.py": f'TOKEN = "{token}"\n'})
    repo, number, _sha = ids(payload)
    run = deliver_and_wait(stack, payload)
    assert run.conclusion == "failure"
    assert "scope/credential" in run.output["text"]
    [note] = [a for a in run.annotations if a["path"] == "app/settings.py"]
    assert note["start_line"] == 1 and "ghp_…" in note["message"]
    shown = [json.dumps(run.output), json.dumps(run.annotations), stack.logs()]
    shown += [c.body for c in guard_comments(stack.double, repo, number)]
    assert all(token not in text and token[4:20] not in text for text in shown)
    # Nothing but the credential is wrong, and no approval could waive it: no reviews read.
    assert not stack.double.calls("GET", rf"^/repos/{repo}/pulls/{number}/reviews$")


def test_a_persons_pr_changing_a_workflow_is_not_held(stack: Stack, seed: Seeder):
    body = "## Summary\n- pin the CI image\n\n## Done when\n- CI is green\n"
    payload = seed.open(
        repo=fresh_repo(), head_ref="ci/pin-image", body=body, head_files={WORKFLOW: "on: push\n"}
    )
    run = deliver_and_wait(stack, payload)
    assert run.conclusion == "success", run.output["summary"]
    assert "scope/" not in run.output.get("text", "")
