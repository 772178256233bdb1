"""Installing the App, end to end: real web and worker processes, the GitHub double.

`installation.created` and `installation_repositories.added` post a completed
`codex-guard` check run on each repository's default-branch head, so the check can be
picked in branch protection and rulesets before the first PR (issue 6). Repositories
outside `ALLOWED_OWNERS` / `ALLOWED_REPOS` get none. `installation.deleted` and
`installation.suspend` drop what is cached for the installation.
"""

from __future__ import annotations

import copy
import itertools
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from github_double import GitHubDouble

from tests.conftest import RedisServer, example
from tests.e2e_helpers import worker_lines
from tests.e2e_rig import *  # noqa: F403 - fixtures
from tests.e2e_rig import Stack, wait_for

pytestmark = pytest.mark.e2e

INSTALLED_TITLE = "codex-guard is installed"
_ids = itertools.count(880_001)


@pytest.fixture(scope="module")
def istack(redis_server: RedisServer, double: GitHubDouble, app_key) -> Iterator[Stack]:
    s = Stack(redis_server, double, app_key[0])
    s.env.update(ALLOWED_OWNERS="Codertocat", ALLOWED_REPOS="other-org/allowed")
    s.start("web", "worker")
    yield s
    s.stop()


def seed_repo(double: GitHubDouble, installation: int, full_name: str, default: str) -> str:
    """A repository of the installation whose default branch has a head; returns that SHA."""
    double.add_repo(full_name, installation_id=installation, default_branch=default)
    head = double.commit_files(full_name, {"README.md": f"# {full_name}\n"}, branch=default)
    # Another branch, ahead of the default one: the check belongs on the default head.
    double.commit_files(full_name, {"app.py": "x = 1\n"}, base=head, branch="feature")
    return head


def repo_entries(template: dict[str, Any], names: list[str]) -> list[dict[str, Any]]:
    """GitHub's repository entries of an installation payload, renamed."""
    out = []
    for i, full_name in enumerate(names):
        entry = copy.deepcopy(template)
        entry.update(full_name=full_name, name=full_name.split("/")[1], id=770_000 + i)
        out.append(entry)
    return out


def installation_payload(
    examples, action: str, installation: int, account: str, repos: list[str]
) -> dict[str, Any]:
    payload = example(examples, "installation", action)
    template = (example(examples, "installation", "created")["repositories"])[0]
    payload["installation"]["id"] = installation
    payload["installation"]["account"]["login"] = account
    payload["repositories"] = repo_entries(template, repos)
    return payload


def installed_runs(stack: Stack, repo: str) -> list[Any]:
    return [r for r in stack.double.check_runs(repo, name="codex-guard")]


def worker_messages(stack: Stack, delivery: str) -> list[str]:
    return [d["message"] for d in worker_lines(stack, delivery=delivery)]


def test_installation_created_posts_a_passing_check_on_each_default_branch_head(
    istack: Stack, webhook_examples
):
    double = istack.double
    installation = next(_ids)
    double.add_installation(installation, "Codertocat", "User")
    repos = {
        "Codertocat/Hello-World": "main",  # the name in GitHub's example
        f"Codertocat/trunk-{installation}": "trunk",
    }
    heads = {name: seed_repo(double, installation, name, branch) for name, branch in repos.items()}
    payload = installation_payload(
        webhook_examples, "created", installation, "Codertocat", list(repos)
    )
    assert istack.send("installation", payload).status_code == 202

    for repo, branch in repos.items():
        run = istack.completed_check(repo, heads[repo])
        assert run.conclusion == "success"
        assert run.output["title"] == INSTALLED_TITLE
        assert f"`{branch}`" in run.output["summary"]
        assert "required status check" in run.output["summary"]
        # One run, on the default branch's head and nowhere else.
        assert [(r.head_sha, r.status) for r in installed_runs(istack, repo)] == [
            (heads[repo], "completed")
        ]


def test_repositories_added_get_the_check_and_those_outside_the_allowlist_none(
    istack: Stack, webhook_examples
):
    double = istack.double
    installation = next(_ids)
    double.add_installation(installation, "other-org", "Organization")
    outside = ["other-org/not-allowed", "other-org/allowed-not"]
    for name in outside:
        seed_repo(double, installation, name, "main")
    head = seed_repo(double, installation, "other-org/allowed", "main")
    payload = example(webhook_examples, "installation_repositories", "added")
    template = payload["repositories_added"][0]
    payload["installation"]["id"] = installation
    payload["installation"]["account"]["login"] = "other-org"
    # The allowed one last: once its check exists, the others were passed over.
    payload["repositories_added"] = repo_entries(template, [*outside, "other-org/allowed"])
    delivery = f"added-{uuid.uuid4()}"
    assert istack.send("installation_repositories", payload, delivery=delivery).status_code == 202

    run = istack.completed_check("other-org/allowed", head)
    assert (run.conclusion, run.output["title"]) == ("success", INSTALLED_TITLE)
    for name in outside:
        assert installed_runs(istack, name) == []
        assert not double.calls(path_regex=rf"^/repos/{re.escape(name)}(/|$)")
    skipped = [m for m in worker_messages(istack, delivery) if "allowlist" in m]
    assert skipped == [f"skipped: {', '.join(outside)} are not in the allowlist"]


def test_an_installation_wholly_outside_the_allowlist_gets_nothing_and_one_log_line(
    istack: Stack, webhook_examples
):
    double = istack.double
    installation = next(_ids)
    double.add_installation(installation, "outside-org", "Organization")
    repos = ["outside-org/one", "outside-org/two"]
    for name in repos:
        seed_repo(double, installation, name, "main")
    payload = installation_payload(webhook_examples, "created", installation, "outside-org", repos)
    delivery = f"outside-{uuid.uuid4()}"
    assert istack.send("installation", payload, delivery=delivery).status_code == 202

    wait_for(lambda: worker_messages(istack, delivery), 20, "the worker's log line")
    wait_for(lambda: not istack.redis.client().llen("codex-guard"), 10, "an empty queue")
    assert worker_messages(istack, delivery) == [
        "skipped: outside-org/one, outside-org/two are not in the allowlist"
    ]
    for name in repos:
        assert installed_runs(istack, name) == []
    # Not even a token is minted for it.
    assert not double.calls("POST", rf"^/app/installations/{installation}/access_tokens$")
    assert not istack.redis.client().exists(f"codex-guard:token:{installation}")


def test_installation_deleted_drops_its_cached_token_and_repository_keys(
    istack: Stack, webhook_examples, prs
):
    installation = next(_ids)
    repo = "Codertocat/Hello-World"
    pr = prs.open()
    pr["installation"]["id"] = installation
    istack.double.add_installation(installation, "Codertocat", "User", repos=[repo])
    assert istack.send("pull_request", pr).status_code == 202
    istack.completed_check(repo, pr["pull_request"]["head"]["sha"])
    client = istack.redis.client()
    token = f"codex-guard:token:{installation}"
    assert client.exists(token)
    assert client.keys(f"codex-guard:*{repo}*")

    # GitHub's real `installation.deleted` example, for this installation.
    gone = installation_payload(webhook_examples, "deleted", installation, "Codertocat", [repo])
    assert istack.send("installation", gone).status_code == 202
    wait_for(lambda: not client.exists(token), 20, "the cached token to be dropped")
    wait_for(lambda: not client.keys(f"codex-guard:*{repo}*"), 10, "the repository's keys")
    assert not client.hget("codex-guard:installations", repo)


def test_installation_suspend_without_a_repository_list_still_drops_its_repositories_keys(
    istack: Stack, webhook_examples, prs
):
    """GitHub's `installation.suspend` payload lists no repositories (nor does its
    example): what the worker noted about the installation says which they are."""
    installation = next(_ids)
    repo = f"Codertocat/suspended-{installation}"
    pr = prs.open(repo=repo)
    pr["installation"]["id"] = installation
    istack.double.add_installation(installation, "Codertocat", "User", repos=[repo])
    assert istack.send("pull_request", pr).status_code == 202
    istack.completed_check(repo, pr["pull_request"]["head"]["sha"])
    client = istack.redis.client()
    assert client.keys(f"codex-guard:*{repo}*")

    suspend = example(webhook_examples, "installation", "suspend")
    assert not suspend.get("repositories")
    suspend["installation"]["id"] = installation
    assert istack.send("installation", suspend).status_code == 202
    wait_for(lambda: not client.exists(f"codex-guard:token:{installation}"), 20, "the token")
    wait_for(lambda: not client.keys(f"codex-guard:*{repo}*"), 10, "the repository's keys")
    assert not client.hget("codex-guard:installations", repo)
