"""The GitHub API double behaves like GitHub for PyGithub and polices the API contract."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github import (
    Auth,
    Github,
    GithubException,
    RateLimitExceededException,
    UnknownObjectException,
)
from github_double import GitHubDouble, Seeded
from github_double.clients import NO_WAIT, installation_client, integration
from github_double.models import git_blob_sha

from tests.conftest import APP_ID, ROOT, example, free_port

pytest_plugins = ["tests.double_fixtures"]

BASE_FILES = {"README.md": "hello\n", "docs/guide.md": "# Guide\n\nStep one.\n"}
HEAD_FILES = {
    "README.md": "hello\nworld\n",
    "docs/guide.md": "# Guide\n\nStep one.\n",
    "AGENTS.md": "# Agents\n\nRun `make test`.\n",
}


def app_jwt(private_pem: str, **claims: Any) -> str:
    """An App JWT like PyGithub's, with claims overridable (even to values PyJWT refuses)."""
    now = int(time.time())
    payload = {"iat": now - 60, "exp": now + 300, "iss": str(APP_ID), **claims}
    return jwt.api_jws.encode(json.dumps(payload).encode(), private_pem, algorithm="RS256")


def raw(
    double: GitHubDouble,
    method: str,
    path: str,
    token: str | None = None,
    bearer: bool = False,
    **kwargs: Any,
) -> requests.Response:
    """A plain HTTP call, for what PyGithub would hide (headers, exact status, bad bodies)."""
    headers = {"Accept": "application/vnd.github+json"}
    if token:
        headers["Authorization"] = f"{'Bearer' if bearer else 'token'} {token}"
    return requests.request(method, double.base_url + path, headers=headers, timeout=10, **kwargs)


def token_for(double: GitHubDouble, private_pem: str, installation_id: int) -> str:
    return integration(double, private_pem).get_access_token(installation_id).token


@pytest.fixture
def client(github_double: GitHubDouble, app_key: tuple[str, str], seeded_pr: Seeded) -> Github:
    """PyGithub on an installation token, with files on the seeded PR's base and head."""
    github_double.put_files(seeded_pr.repo, seeded_pr.base_sha, BASE_FILES)
    github_double.put_files(seeded_pr.repo, seeded_pr.head_sha, HEAD_FILES)
    return installation_client(github_double, app_key[0], seeded_pr.installation_id, retry=None)


# -- App authentication --------------------------------------------------------------------------


def test_app_jwt_is_accepted(github_double: GitHubDouble, app_key: tuple[str, str]) -> None:
    app = integration(github_double, app_key[0]).get_app()

    assert (app.id, app.slug) == (APP_ID, "codex-guard")
    assert app.html_url.startswith(github_double.web_url)
    assert github_double.calls("GET", r"^/app$")[0].auth == "jwt"
    github_double.assert_clean()


def test_app_jwt_accepts_integer_issuer(
    github_double: GitHubDouble, app_key: tuple[str, str]
) -> None:
    response = raw(github_double, "GET", "/app", app_jwt(app_key[0], iss=APP_ID), bearer=True)
    assert response.status_code == 200


def _other_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.mark.parametrize(
    ("case", "claims"),
    [
        # Times are offsets from when the test runs, not from collection: a long suite
        # would otherwise carry "the future" into the past before this test is reached.
        ("expired", {"iat": -900, "exp": -300}),
        ("too long", {"exp": 900}),
        ("issued in the future", {"iat": 300, "exp": 600}),
        ("wrong issuer", {"iss": "1"}),
    ],
)
def test_bad_app_jwt_is_rejected(
    github_double: GitHubDouble, app_key: tuple[str, str], case: str, claims: dict[str, Any]
) -> None:
    now = int(time.time())
    claims = {k: now + v if k in ("iat", "exp") else v for k, v in claims.items()}
    response = raw(github_double, "GET", "/app", app_jwt(app_key[0], **claims), bearer=True)

    assert response.status_code == 401, case
    assert response.json()["message"]


def test_jwt_signed_by_another_key_is_rejected(github_double: GitHubDouble) -> None:
    with pytest.raises(GithubException) as caught:
        integration(github_double, _other_key_pem()).get_app()
    assert caught.value.status == 401
    assert "could not be decoded" in caught.value.data["message"]


def test_app_endpoints_need_a_jwt(
    github_double: GitHubDouble, app_key: tuple[str, str], seeded_pr: Seeded
) -> None:
    token = token_for(github_double, app_key[0], seeded_pr.installation_id)

    assert raw(github_double, "GET", "/app").status_code == 401
    assert raw(github_double, "GET", "/app/installations", token).status_code == 401


# -- installation tokens -------------------------------------------------------------------------


def test_token_exchange_then_read_pr_seeded_from_real_payload(
    github_double: GitHubDouble,
    app_key: tuple[str, str],
    seeded_pr: Seeded,
    pr_opened: dict[str, Any],
) -> None:
    gi = integration(github_double, app_key[0])
    auth = gi.get_access_token(seeded_pr.installation_id)
    assert auth.token.startswith("ghs_")
    assert 3500 < auth.expires_at.timestamp() - time.time() <= 3600

    github_double.reset_requests()
    gh = Github(base_url=github_double.base_url, auth=Auth.Token(auth.token), **NO_WAIT)
    pull = gh.get_repo(seeded_pr.repo).get_pull(seeded_pr.number)
    source = pr_opened["pull_request"]

    assert (pull.number, pull.title, pull.body) == (
        source["number"],
        source["title"],
        source["body"],
    )
    assert (pull.head.sha, pull.head.ref) == (source["head"]["sha"], source["head"]["ref"])
    assert (pull.base.sha, pull.base.ref) == (source["base"]["sha"], source["base"]["ref"])
    assert pull.user.login == source["user"]["login"]
    assert pull.head.repo.full_name == pr_opened["repository"]["full_name"]
    assert pull.url.startswith(github_double.base_url)
    # Complete objects: reading nested attributes must not trigger lazy re-fetches.
    assert [c.template for c in github_double.calls()] == [
        "/repos/{owner}/{repo}",
        "/repos/{owner}/{repo}/pulls/{pull_number}",
    ]
    assert {c.auth for c in github_double.calls()} == {"token"}
    github_double.assert_clean()


def test_tokens_are_checked(
    github_double: GitHubDouble, app_key: tuple[str, str], seeded_pr: Seeded
) -> None:
    other = github_double.add_installation(account="someone-else", repos=["someone-else/x"])
    stranger = token_for(github_double, app_key[0], other.id)
    token = token_for(github_double, app_key[0], seeded_pr.installation_id)
    path = f"/repos/{seeded_pr.repo}/pulls/{seeded_pr.number}"

    assert raw(github_double, "GET", path, token).status_code == 200
    assert raw(github_double, "GET", path, "ghs_" + "x" * 36).status_code == 401
    assert raw(github_double, "GET", path).status_code == 401
    assert raw(github_double, "GET", path, stranger).status_code == 404
    github_double.world.tokens[token].expires_at = time.time() - 1
    assert raw(github_double, "GET", path, token).status_code == 401
    assert (
        raw(
            github_double, "GET", "/app/installations/999999", app_jwt(app_key[0]), bearer=True
        ).status_code
        == 404
    )


def test_installation_repositories_and_repo_installation(
    github_double: GitHubDouble, app_key: tuple[str, str], seeded_pr: Seeded
) -> None:
    gi = integration(github_double, app_key[0])
    owner, name = seeded_pr.repo.split("/")

    assert gi.get_repo_installation(owner, name).id == seeded_pr.installation_id
    listing = raw(
        github_double,
        "GET",
        "/installation/repositories",
        token_for(github_double, app_key[0], seeded_pr.installation_id),
    ).json()
    assert [r["full_name"] for r in listing["repositories"]] == [seeded_pr.repo]
    github_double.assert_clean()


# -- checks --------------------------------------------------------------------------------------


def _annotation(path: str, line: int, message: str) -> dict[str, Any]:
    return {
        "path": path,
        "start_line": line,
        "end_line": line,
        "annotation_level": "warning",
        "message": message,
    }


def test_check_run_create_then_update(
    github_double: GitHubDouble, client: Github, seeded_pr: Seeded
) -> None:
    repo = client.get_repo(seeded_pr.repo)
    run = repo.create_check_run(
        name="codex-guard",
        head_sha=seeded_pr.head_sha,
        status="in_progress",
        external_id="eval-1",
        output={
            "title": "Checking",
            "summary": "Working on it",
            "annotations": [_annotation("README.md", 1, "first")],
        },
        actions=[{"label": "Re-check", "description": "Evaluate again", "identifier": "recheck"}],
    )
    assert (run.status, run.conclusion, run.app.id) == ("in_progress", None, APP_ID)
    assert run.output.annotations_count == 1

    run.edit(
        conclusion="failure",
        output={
            "title": "2 findings",
            "summary": "See annotations",
            "annotations": [_annotation("AGENTS.md", 2, "second")],
        },
    )

    assert (run.status, run.conclusion) == ("completed", "failure")
    assert run.completed_at is not None
    assert [a.message for a in run.get_annotations()] == ["first", "second"]
    stored = github_double.check_runs(seeded_pr.repo, head_sha=seeded_pr.head_sha)
    assert len(stored) == 1
    assert stored[0].actions[0]["identifier"] == "recheck"
    assert stored[0].output["title"] == "2 findings"
    assert repo.get_check_run(run.id).external_id == "eval-1"
    github_double.assert_clean()


def test_more_than_50_annotations_are_rejected_like_github(
    github_double: GitHubDouble, client: Github, seeded_pr: Seeded
) -> None:
    repo = client.get_repo(seeded_pr.repo)
    with pytest.raises(GithubException) as caught:
        repo.create_check_run(
            name="codex-guard",
            head_sha=seeded_pr.head_sha,
            status="in_progress",
            output={
                "title": "t",
                "summary": "s",
                "annotations": [_annotation("README.md", 1, str(i)) for i in range(51)],
            },
        )
    assert caught.value.status == 422
    assert any("annotations" in v for v in github_double.violations)
    assert github_double.check_runs(seeded_pr.repo) == []


def test_check_runs_for_ref_honour_filters(
    github_double: GitHubDouble, client: Github, seeded_pr: Seeded, app_key: tuple[str, str]
) -> None:
    sha = seeded_pr.head_sha
    token = token_for(github_double, app_key[0], seeded_pr.installation_id)
    github_double.add_check_run(seeded_pr.repo, sha, "test", "completed", "failure")
    github_double.add_check_run(seeded_pr.repo, sha, "test", "completed", "success")
    github_double.add_check_run(seeded_pr.repo, sha, "lint", "in_progress", None)
    github_double.add_check_run(
        seeded_pr.repo, sha, "deploy", "completed", "success", app_slug="vercel"
    )
    commit = client.get_repo(seeded_pr.repo).get_commit(sha)

    latest = {(r.name, r.conclusion) for r in commit.get_check_runs()}
    assert latest == {("test", "success"), ("lint", None), ("deploy", "success")}
    assert len(list(commit.get_check_runs(filter="all"))) == 4
    assert [r.name for r in commit.get_check_runs(check_name="lint")] == ["lint"]
    assert {r.name for r in commit.get_check_runs(status="completed")} == {"test", "deploy"}
    actions_id = github_double.world.other_app("github-actions").id
    by_app = raw(
        github_double,
        "GET",
        f"/repos/{seeded_pr.repo}/commits/{sha}/check-runs",
        token,
        params={"app_id": actions_id},
    ).json()
    assert {r["name"] for r in by_app["check_runs"]} == {"test", "lint"}
    assert by_app["total_count"] == 2
    suites = {s.app.slug: (s.status, s.conclusion) for s in commit.get_check_suites()}
    assert suites == {"github-actions": ("in_progress", None), "vercel": ("completed", "success")}
    github_double.assert_clean()


# -- contents and git data -----------------------------------------------------------------------


def test_contents_tree_and_blob(
    github_double: GitHubDouble, client: Github, seeded_pr: Seeded
) -> None:
    repo = client.get_repo(seeded_pr.repo)

    agents = repo.get_contents("AGENTS.md", ref=seeded_pr.head_sha)
    assert agents.decoded_content.decode() == HEAD_FILES["AGENTS.md"]
    assert agents.sha == git_blob_sha(HEAD_FILES["AGENTS.md"].encode())
    with pytest.raises(UnknownObjectException):
        repo.get_contents("AGENTS.md", ref=seeded_pr.base_sha)
    listing = repo.get_contents("docs", ref=seeded_pr.head_sha)
    assert [(c.path, c.type) for c in listing] == [("docs/guide.md", "file")]

    tree = repo.get_git_tree(seeded_pr.head_sha, recursive=True)
    entries = {e.path: e.type for e in tree.tree}
    assert entries == {
        "AGENTS.md": "blob",
        "README.md": "blob",
        "docs": "tree",
        "docs/guide.md": "blob",
    }
    flat = repo.get_git_tree(seeded_pr.head_sha)
    assert "docs/guide.md" not in {e.path for e in flat.tree}

    blob_sha = next(e.sha for e in tree.tree if e.path == "docs/guide.md")
    blob = repo.get_git_blob(blob_sha)
    assert base64.b64decode(blob.content).decode() == HEAD_FILES["docs/guide.md"]
    github_double.assert_clean()


def test_pull_files_and_commits_come_from_the_seeded_commits(
    github_double: GitHubDouble, client: Github, seeded_pr: Seeded
) -> None:
    pull = client.get_repo(seeded_pr.repo).get_pull(seeded_pr.number)

    files = {f.filename: (f.status, f.additions, f.deletions) for f in pull.get_files()}
    assert files == {"AGENTS.md": ("added", 3, 0), "README.md": ("modified", 1, 0)}
    assert (pull.changed_files, pull.additions) == (2, 4)
    assert [c.sha for c in pull.get_commits()] == [seeded_pr.head_sha]
    github_double.assert_clean()


# -- issues, comments, statuses, permissions ----------------------------------------------------


def test_comments_are_created_and_edited_as_the_bot(
    github_double: GitHubDouble, client: Github, seeded_pr: Seeded
) -> None:
    issue = client.get_repo(seeded_pr.repo).get_issue(seeded_pr.number)
    comment = issue.create_comment("codex-guard: 2 findings")

    assert comment.user.login == "codex-guard[bot]"
    assert comment.user.type == "Bot"
    comment.edit("codex-guard: all clear")
    comment.create_reaction("eyes")

    stored = github_double.comments(seeded_pr.repo, seeded_pr.number)
    assert [c.body for c in stored] == ["codex-guard: all clear"]
    assert [c.body for c in issue.get_comments()] == ["codex-guard: all clear"]
    assert [r.content for r in stored[0].reactions] == ["eyes"]
    comment.delete()
    assert github_double.comments(seeded_pr.repo, seeded_pr.number) == []
    github_double.assert_clean()


def test_combined_status_takes_the_newest_per_context(
    github_double: GitHubDouble, client: Github, seeded_pr: Seeded, app_key: tuple[str, str]
) -> None:
    sha = seeded_pr.head_sha
    commit = client.get_repo(seeded_pr.repo).get_commit(sha)
    assert commit.get_combined_status().state == "pending"

    github_double.add_status(seeded_pr.repo, sha, "failure", context="ci/build")
    commit.create_status("pending", context="codex-guard", description="Evaluating")
    github_double.add_status(seeded_pr.repo, sha, "success", context="ci/build")
    commit.create_status("success", context="codex-guard")
    combined = commit.get_combined_status()

    assert combined.state == "success"
    assert {(s.context, s.state) for s in combined.statuses} == {
        ("ci/build", "success"),
        ("codex-guard", "success"),
    }
    assert combined.total_count == 2
    token = token_for(github_double, app_key[0], seeded_pr.installation_id)
    listed = raw(github_double, "GET", f"/repos/{seeded_pr.repo}/commits/{sha}/statuses", token)
    assert [s["context"] for s in listed.json()] == ["codex-guard", "ci/build"] * 2
    github_double.add_status(seeded_pr.repo, sha, "error", context="ci/lint")
    assert commit.get_combined_status().state == "failure"
    github_double.assert_clean()


@pytest.mark.parametrize(
    ("level", "legacy"),
    [
        ("admin", "admin"),
        ("maintain", "write"),
        ("write", "write"),
        ("triage", "read"),
        ("read", "read"),
        ("none", "none"),
    ],
)
def test_collaborator_permission(
    github_double: GitHubDouble, client: Github, seeded_pr: Seeded, level: str, legacy: str
) -> None:
    github_double.set_permission(seeded_pr.repo, "octo-dev", level)
    repo = client.get_repo(seeded_pr.repo)

    assert repo.get_collaborator_permission("octo-dev") == legacy
    github_double.assert_clean()


def test_pull_list_is_paginated_with_link_headers(
    github_double: GitHubDouble, client: Github, seeded_pr: Seeded, app_key: tuple[str, str]
) -> None:
    for i in range(64):
        github_double.add_pull(
            seeded_pr.repo,
            title=f"PR {i}",
            head_ref=f"topic-{i}",
            state="closed" if i % 2 else "open",
        )
    repo = client.get_repo(seeded_pr.repo)
    github_double.reset_requests()

    numbers = [p.number for p in repo.get_pulls(state="all")]
    assert len(numbers) == len(set(numbers)) == 65
    assert len(github_double.calls("GET", r"/pulls$")) == 3  # 30 + 30 + 5
    assert len(list(repo.get_pulls(state="open"))) == 33

    token = token_for(github_double, app_key[0], seeded_pr.installation_id)
    page2 = raw(
        github_double,
        "GET",
        f"/repos/{seeded_pr.repo}/pulls",
        token,
        params={"state": "all", "per_page": 20, "page": 2},
    )
    links = page2.headers["Link"]
    assert 'page=3>; rel="next"' in links and 'page=4>; rel="last"' in links
    assert 'page=1>; rel="prev"' in links and links.startswith(f"<{github_double.base_url}/")
    assert len(page2.json()) == 20
    github_double.assert_clean()


# -- contract checking ---------------------------------------------------------------------------


def test_bad_requests_are_recorded_as_violations(
    github_double: GitHubDouble, app_key: tuple[str, str], seeded_pr: Seeded
) -> None:
    token = token_for(github_double, app_key[0], seeded_pr.installation_id)
    path = f"/repos/{seeded_pr.repo}/check-runs"

    missing_sha = raw(github_double, "POST", path, token, json={"name": "codex-guard"})
    bad_conclusion = raw(
        github_double,
        "POST",
        path,
        token,
        json={"name": "codex-guard", "head_sha": seeded_pr.head_sha, "conclusion": "passed"},
    )

    assert missing_sha.status_code == bad_conclusion.status_code == 422
    assert any("POST" in v and "head_sha" in v for v in github_double.violations)
    assert any("conclusion" in v for v in github_double.violations)
    assert github_double.check_runs(seeded_pr.repo) == []
    with pytest.raises(AssertionError, match="contract violation"):
        github_double.assert_clean()


def test_unknown_route_is_a_404_and_a_violation(
    github_double: GitHubDouble, app_key: tuple[str, str], seeded_pr: Seeded
) -> None:
    token = token_for(github_double, app_key[0], seeded_pr.installation_id)

    response = raw(github_double, "GET", f"/repos/{seeded_pr.repo}/deployments", token)

    assert response.status_code == 404
    assert github_double.violations == [
        f"GET /repos/{seeded_pr.repo}/deployments: unknown route (no such operation in spec)"
    ]


def test_pygithub_legacy_statuses_route_is_flagged(
    github_double: GitHubDouble, client: Github, seeded_pr: Seeded
) -> None:
    """PyGithub's Commit.get_statuses() uses GET /statuses/{sha}, which the spec lacks."""
    commit = client.get_repo(seeded_pr.repo).get_commit(seeded_pr.head_sha)

    with pytest.raises(UnknownObjectException):
        list(commit.get_statuses())
    assert any("unknown route (method not allowed" in v for v in github_double.violations)


def test_corrupted_response_is_caught(
    github_double: GitHubDouble, client: Github, seeded_pr: Seeded
) -> None:
    def corrupt(body: dict[str, Any]) -> dict[str, Any]:
        body["number"] = "two"
        del body["head"]
        return body

    github_double.tamper("GET", r"/pulls/\d+$", corrupt)
    client.get_repo(seeded_pr.repo).get_pull(seeded_pr.number)

    assert any("response 200" in v and "number" in v for v in github_double.violations)
    assert any("'head' is a required property" in v for v in github_double.violations)


def test_every_url_points_at_the_double(
    github_double: GitHubDouble, client: Github, seeded_pr: Seeded
) -> None:
    pull = client.get_repo(seeded_pr.repo).get_pull(seeded_pr.number)
    found = json.dumps(pull.raw_data)

    assert "api.github.com" not in found and "https://github.com" not in found
    assert pull.raw_data["_links"]["self"]["href"].startswith(github_double.base_url)
    github_double.assert_clean()


# -- fault injection and rate limits -------------------------------------------------------------


def test_injected_faults_reach_the_client(
    github_double: GitHubDouble, client: Github, seeded_pr: Seeded, app_key: tuple[str, str]
) -> None:
    repo = client.get_repo(seeded_pr.repo)
    github_double.inject("GET", r"/pulls/\d+$", 502)

    with pytest.raises(GithubException) as caught:
        repo.get_pull(seeded_pr.number)
    assert caught.value.status == 502
    assert repo.get_pull(seeded_pr.number).number == seeded_pr.number  # only once

    token = token_for(github_double, app_key[0], seeded_pr.installation_id)
    path = f"/repos/{seeded_pr.repo}/pulls/{seeded_pr.number}"
    github_double.inject("GET", r"/pulls/\d+$", 403, headers={"Retry-After": "7"})
    limited = raw(github_double, "GET", path, token)
    assert (limited.status_code, limited.headers["Retry-After"]) == (403, "7")
    assert "secondary rate limit" in limited.json()["message"]

    github_double.inject("GET", r"/pulls/\d+$", 200, headers={"X-RateLimit-Remaining": "0"})
    drained = raw(github_double, "GET", path, token)
    assert drained.status_code == 200 and drained.headers["X-RateLimit-Remaining"] == "0"
    assert drained.json()["number"] == seeded_pr.number

    github_double.inject("GET", r"/pulls/\d+$", None, delay=0.3)
    started = time.monotonic()
    raw(github_double, "GET", path, token)
    assert time.monotonic() - started >= 0.3

    assert sum(r.injected for r in github_double.calls("GET", r"/pulls/\d+$")) == 4
    github_double.assert_clean()  # undocumented injected statuses are not violations


def test_rate_limit_is_counted_per_installation(
    app_key: tuple[str, str], pr_opened: dict[str, Any]
) -> None:
    with GitHubDouble(APP_ID, app_key[1], rate_limit=3) as double:
        seeded = double.seed_from_event(pr_opened)
        token = token_for(double, app_key[0], seeded.installation_id)
        path = f"/repos/{seeded.repo}"

        remaining = [
            raw(double, "GET", path, token).headers["X-RateLimit-Remaining"] for _ in range(3)
        ]
        over = raw(double, "GET", path, token)

        assert remaining == ["2", "1", "0"]
        assert over.status_code == 403
        assert "rate limit exceeded" in over.json()["message"]
        gh = Github(base_url=double.base_url, auth=Auth.Token(token), retry=None, **NO_WAIT)
        with pytest.raises(RateLimitExceededException):
            gh.get_repo(seeded.repo)
        # The App's own JWT bucket is separate from the installation's.
        assert raw(double, "GET", "/app", app_jwt(app_key[0]), bearer=True).status_code == 200
        double.assert_clean()


def test_response_headers_look_like_github(
    github_double: GitHubDouble, client: Github, seeded_pr: Seeded, app_key: tuple[str, str]
) -> None:
    token = token_for(github_double, app_key[0], seeded_pr.installation_id)
    response = raw(github_double, "GET", f"/repos/{seeded_pr.repo}", token)

    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    for name in (
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
        "X-RateLimit-Used",
        "X-RateLimit-Resource",
        "X-GitHub-Request-Id",
    ):
        assert name in response.headers
    assert response.headers["X-RateLimit-Limit"] == "5000"


# -- App-level records ---------------------------------------------------------------------------


def test_webhook_deliveries_and_redelivery(
    github_double: GitHubDouble,
    app_key: tuple[str, str],
    seeded_pr: Seeded,
    pr_opened: dict[str, Any],
) -> None:
    first = github_double.add_delivery(
        "pull_request",
        "opened",
        payload=pr_opened,
        installation_id=seeded_pr.installation_id,
        status_code=502,
    )
    github_double.add_delivery("issue_comment", "created", status_code=200)
    bearer = app_jwt(app_key[0])

    listing = raw(github_double, "GET", "/app/hook/deliveries", bearer, bearer=True).json()
    assert [(d["event"], d["status_code"]) for d in listing] == [
        ("issue_comment", 200),
        ("pull_request", 502),
    ]
    failed = raw(
        github_double,
        "GET",
        "/app/hook/deliveries",
        bearer,
        bearer=True,
        params={"status": "failure"},
    ).json()
    assert [d["id"] for d in failed] == [first.id]
    detail = raw(
        github_double, "GET", f"/app/hook/deliveries/{first.id}", bearer, bearer=True
    ).json()
    assert detail["request"]["payload"]["action"] == "opened"
    retry = raw(
        github_double, "POST", f"/app/hook/deliveries/{first.id}/attempts", bearer, bearer=True
    )
    assert retry.status_code == 202
    assert github_double.world.redeliveries == [first.id]
    github_double.assert_clean()


def test_manifest_code_converts_once_without_auth(github_double: GitHubDouble) -> None:
    github_double.add_manifest_code("abc123", pem="-----BEGIN RSA PRIVATE KEY-----\n...")

    created = raw(github_double, "POST", "/app-manifests/abc123/conversions")
    again = raw(github_double, "POST", "/app-manifests/abc123/conversions")

    assert created.status_code == 201
    body = created.json()
    assert (body["id"], body["slug"]) == (APP_ID, "codex-guard")
    assert body["pem"].startswith("-----BEGIN") and body["webhook_secret"]
    assert body["client_id"] and body["client_secret"]
    assert again.status_code == 404
    github_double.assert_clean()


# -- standalone ----------------------------------------------------------------------------------


def test_standalone_server_serves_the_app(
    app_key: tuple[str, str], tmp_path: Path, pr_opened: dict[str, Any]
) -> None:
    key_file = tmp_path / "app.pub.pem"
    key_file.write_text(app_key[1])
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "github_double.server",
            "--port",
            str(port),
            "--app-id",
            str(APP_ID),
            "--public-key",
            str(key_file),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "double")},  # not installed: see README
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/api/v3" in line
        base = f"http://127.0.0.1:{port}"
        response = requests.get(
            f"{base}/api/v3/app",
            timeout=10,
            headers={"Authorization": f"Bearer {app_jwt(app_key[0])}"},
        )
        assert response.json()["id"] == APP_ID
        # The control API seeds a double living in another process (the sandbox demo does).
        seeded = requests.post(f"{base}/_double/events", json=pr_opened, timeout=10).json()
        assert seeded["repo"] == pr_opened["repository"]["full_name"]
        installations = requests.get(
            f"{base}/api/v3/app/installations",
            timeout=10,
            headers={"Authorization": f"Bearer {app_jwt(app_key[0])}"},
        ).json()
        assert [i["id"] for i in installations] == [seeded["installation_id"]]
        assert requests.get(f"{base}/_double/violations", timeout=10).json() == []
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_issue_comment_events_seed_issues_prs_and_comments(
    github_double: GitHubDouble,
    app_key: tuple[str, str],
    webhook_examples: dict[str, list[dict[str, Any]]],
) -> None:
    on_issue = example(webhook_examples, "issue_comment", "created")
    on_pull = example(webhook_examples, "issue_comment", "created")
    on_pull["issue"].update(number=7, pull_request={"url": "(made PR in memory)"})
    on_pull["comment"]["id"] += 1
    seeded = github_double.seed_from_event(on_issue)
    github_double.seed_from_event(on_pull)
    repo = installation_client(github_double, app_key[0], seeded.installation_id).get_repo(
        seeded.repo
    )

    issue = repo.get_issue(seeded.number)
    assert issue.title == on_issue["issue"]["title"]
    assert issue.pull_request is None
    assert [c.body for c in issue.get_comments()] == [on_issue["comment"]["body"]]
    with pytest.raises(UnknownObjectException):
        repo.get_pull(seeded.number)
    assert repo.get_pull(7).title == on_pull["issue"]["title"]
    assert [c.id for c in repo.get_issue(7).get_comments()] == [on_pull["comment"]["id"]]
    github_double.assert_clean()
