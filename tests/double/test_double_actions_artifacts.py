"""The double serves GitHub Actions workflow runs and artifacts the way GitHub does.

Runs and artifacts validate against GitHub's description; an artifact download is a 302 to
a short-lived signed URL the double serves itself (GitHub's goes to blob storage), an
expired artifact answers 410, and a token without `actions: read` gets GitHub's 403.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
import requests
from github import Auth, Github, GithubException
from github.Artifact import Artifact
from github.PaginatedList import PaginatedList
from github_double import GitHubDouble, Seeded
from github_double.clients import NO_WAIT, installation_client, integration

from tests.conftest import ROOT

pytest_plugins = ["tests.double_fixtures"]

USAGE = ROOT / "tests" / "fixtures" / "usage" / "exec-two-threads.jsonl"
USAGE_NAME = "codex-usage"


def usage_zip() -> bytes:
    """A Codex usage artifact as upload-artifact stores it: a zip of the JSONL stream."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(USAGE, USAGE.name)
    return buffer.getvalue()


def raw(
    double: GitHubDouble, path: str, token: str | None = None, **kwargs: Any
) -> requests.Response:
    headers = {"Accept": "application/vnd.github+json"}
    if token:
        headers["Authorization"] = f"token {token}"
    return requests.get(double.base_url + path, headers=headers, timeout=10, **kwargs)


@pytest.fixture
def token(github_double: GitHubDouble, app_key: tuple[str, str], seeded_pr: Seeded) -> str:
    """An installation token with the installation's permissions (they include actions)."""
    return integration(github_double, app_key[0]).get_access_token(seeded_pr.installation_id).token


@pytest.fixture
def client(github_double: GitHubDouble, app_key: tuple[str, str], seeded_pr: Seeded) -> Github:
    return installation_client(github_double, app_key[0], seeded_pr.installation_id, retry=None)


@pytest.fixture
def codex_run(github_double: GitHubDouble, seeded_pr: Seeded) -> Any:
    """A finished `codex` run on the PR head with a usage artifact and a log artifact."""
    github_double.put_files(seeded_pr.repo, seeded_pr.head_sha, {"README.md": "hi\n"})
    run = github_double.add_workflow_run(
        seeded_pr.repo, seeded_pr.head_sha, pull_numbers=(seeded_pr.number,)
    )
    github_double.add_artifact(seeded_pr.repo, run.id, USAGE_NAME, usage_zip())
    github_double.add_artifact(seeded_pr.repo, run.id, "codex-logs", b"PK\x05\x06" + b"\0" * 18)
    return run


def test_list_runs_by_head_sha(
    github_double: GitHubDouble, client: Github, seeded_pr: Seeded, codex_run: Any
) -> None:
    github_double.add_workflow_run(seeded_pr.repo, "f" * 40, name="ci", event="push")
    repo = client.get_repo(seeded_pr.repo)

    runs = list(repo.get_workflow_runs(head_sha=seeded_pr.head_sha))

    assert [(r.id, r.name, r.head_sha) for r in runs] == [
        (codex_run.id, "codex", seeded_pr.head_sha)
    ]
    (run,) = runs
    assert (run.event, run.status, run.conclusion) == ("pull_request", "completed", "success")
    assert [p.number for p in run.pull_requests] == [seeded_pr.number]
    assert run.artifacts_url == f"{repo.url}/actions/runs/{codex_run.id}/artifacts"
    assert run.head_branch == github_double.pull(seeded_pr.repo, seeded_pr.number).head_ref
    assert [r.name for r in repo.get_workflow_runs(event="push")] == ["ci"]
    assert [r.name for r in repo.get_workflow_runs(status="success")] == ["ci", "codex"]
    assert list(repo.get_workflow_runs(status="failure")) == []
    assert repo.get_workflow_run(codex_run.id).display_title
    github_double.assert_clean()


def test_run_statuses_and_pull_links(github_double: GitHubDouble, seeded_pr: Seeded) -> None:
    queued = github_double.add_workflow_run(seeded_pr.repo, seeded_pr.head_sha, status="queued")
    forked = github_double.add_workflow_run(seeded_pr.repo, seeded_pr.head_sha, pull_numbers=())
    token = github_double.issue_token(seeded_pr.installation_id).token

    body = raw(github_double, f"/repos/{seeded_pr.repo}/actions/runs/{queued.id}", token).json()
    assert (body["status"], body["conclusion"]) == ("queued", None)
    assert [p["number"] for p in body["pull_requests"]] == [seeded_pr.number]  # open PR on sha
    body = raw(github_double, f"/repos/{seeded_pr.repo}/actions/runs/{forked.id}", token).json()
    assert body["pull_requests"] == []
    missing = raw(github_double, f"/repos/{seeded_pr.repo}/actions/runs/999999", token)
    assert missing.status_code == 404
    github_double.assert_clean()


def test_list_artifacts_filtered_by_name(
    github_double: GitHubDouble, client: Github, seeded_pr: Seeded, codex_run: Any
) -> None:
    run = client.get_repo(seeded_pr.repo).get_workflow_run(codex_run.id)

    everything = list(run.get_artifacts())
    named = PaginatedList(
        Artifact,
        run.requester,
        run.artifacts_url,
        {"name": USAGE_NAME},
        list_item="artifacts",
    )

    assert sorted(a.name for a in everything) == ["codex-logs", USAGE_NAME]
    (artifact,) = list(named)
    assert named.totalCount == 1
    assert artifact.size_in_bytes == len(usage_zip())
    assert artifact.expired is False
    assert artifact.archive_download_url == (
        f"{github_double.base_url}/repos/{seeded_pr.repo}/actions/artifacts/{artifact.id}/zip"
    )
    assert artifact.workflow_run.id == codex_run.id
    assert artifact.workflow_run.head_sha == seeded_pr.head_sha
    assert artifact.digest.startswith("sha256:")
    nothing = PaginatedList(
        Artifact, run.requester, run.artifacts_url, {"name": "nope"}, list_item="artifacts"
    )
    assert list(nothing) == []
    github_double.assert_clean()


def test_download_follows_the_redirect_to_the_exact_bytes(
    github_double: GitHubDouble, client: Github, seeded_pr: Seeded, codex_run: Any
) -> None:
    """The way that works on github.com too: take the 302 from PyGithub, fetch it yourself."""
    run = client.get_repo(seeded_pr.repo).get_workflow_run(codex_run.id)
    artifact = next(a for a in run.get_artifacts() if a.name == USAGE_NAME)

    status, headers, _ = run.requester.requestJson("GET", artifact.archive_download_url)
    blob = requests.get(headers["location"], timeout=10)  # no token: the URL is signed

    assert status == 302
    assert blob.status_code == 200 and blob.headers["Content-Type"] == "application/zip"
    assert blob.content == usage_zip()
    with zipfile.ZipFile(io.BytesIO(blob.content)) as archive:
        assert archive.read(USAGE.name) == USAGE.read_bytes()
    assert [c.status for c in github_double.calls("GET", r"/actions/artifacts/")] == [302]
    (fetched,) = [r for r in github_double.requests if r.path.startswith("/_blobs/")]
    assert (fetched.status, fetched.template) == (200, "/_blobs/artifacts/{artifact_id}.zip")
    assert fetched.auth == "none"
    github_double.assert_clean()


def test_pygithub_will_not_follow_the_redirect_off_the_api_host(
    github_double: GitHubDouble, client: Github, seeded_pr: Seeded, codex_run: Any
) -> None:
    """Like GitHub's blob storage, the download host is not the API host: PyGithub's own
    302 following (`getStream`) refuses it, as it refuses `*.blob.core.windows.net`."""
    run = client.get_repo(seeded_pr.repo).get_workflow_run(codex_run.id)
    artifact = next(a for a in run.get_artifacts() if a.name == USAGE_NAME)

    with pytest.raises(AssertionError, match="localhost"):
        run.requester.getStream(artifact.archive_download_url)
    github_double.assert_clean()


def test_redirect_is_a_short_lived_signed_url_on_the_double(
    github_double: GitHubDouble, token: str, seeded_pr: Seeded, codex_run: Any
) -> None:
    (artifact,) = github_double.artifacts(seeded_pr.repo, codex_run.id)[:1]
    path = f"/repos/{seeded_pr.repo}/actions/artifacts/{artifact.id}/zip"

    answer = raw(github_double, path, token, allow_redirects=False)

    assert answer.status_code == 302 and answer.content == b""
    location = answer.headers["Location"]
    assert location.startswith(f"{github_double.blob_url}/_blobs/artifacts/{artifact.id}.zip?")
    blob = requests.get(location, timeout=10)  # no token: the signature is the credential
    assert blob.status_code == 200 and blob.content == artifact.data
    assert blob.headers["Content-Type"] == "application/zip"
    forged = requests.get(location.replace("sig=", "sig=0"), timeout=10)
    assert forged.status_code == 403
    stale = (
        location.split("?")[0]
        + "?"
        + github_double.world.sign_artifact_download(artifact.id, now=0)
    )
    assert requests.get(stale, timeout=10).status_code == 403
    github_double.assert_clean()


def test_expired_artifact_is_gone(
    github_double: GitHubDouble, token: str, seeded_pr: Seeded, codex_run: Any
) -> None:
    old = github_double.add_artifact(
        seeded_pr.repo, codex_run.id, "old-usage", usage_zip(), expired=True
    )
    artifacts = f"/repos/{seeded_pr.repo}/actions/runs/{codex_run.id}/artifacts"
    listed = raw(github_double, artifacts, token, params={"name": "old-usage"}).json()

    answer = raw(github_double, f"/repos/{seeded_pr.repo}/actions/artifacts/{old.id}/zip", token)

    assert listed["artifacts"][0]["expired"] is True
    assert answer.status_code == 410
    assert answer.json()["message"] == "Artifact has expired"
    github_double.assert_clean()


def test_token_without_actions_permission_is_forbidden(
    github_double: GitHubDouble, app_key: tuple[str, str], seeded_pr: Seeded, codex_run: Any
) -> None:
    gh = integration(github_double, app_key[0])
    narrow = gh.get_access_token(seeded_pr.installation_id, permissions={"contents": "read"})
    client = Github(base_url=github_double.base_url, auth=Auth.Token(narrow.token), **NO_WAIT)
    (artifact,) = github_double.artifacts(seeded_pr.repo, codex_run.id)[:1]

    with pytest.raises(GithubException) as caught:
        list(client.get_repo(seeded_pr.repo).get_workflow_runs(head_sha=seeded_pr.head_sha))
    assert caught.value.status == 403
    assert caught.value.data["message"] == "Resource not accessible by integration"
    for path in (
        f"/repos/{seeded_pr.repo}/actions/runs/{codex_run.id}",
        f"/repos/{seeded_pr.repo}/actions/runs/{codex_run.id}/artifacts",
        f"/repos/{seeded_pr.repo}/actions/artifacts/{artifact.id}/zip",
    ):
        answer = raw(github_double, path, narrow.token, allow_redirects=False)
        assert answer.status_code == 403, path
        assert answer.headers["X-Accepted-GitHub-Permissions"] == "actions=read"
    assert raw(github_double, f"/repos/{seeded_pr.repo}", narrow.token).status_code == 200
    github_double.assert_clean()


def test_paging_with_per_page(
    github_double: GitHubDouble, token: str, seeded_pr: Seeded, codex_run: Any
) -> None:
    for n in range(3):
        github_double.add_artifact(seeded_pr.repo, codex_run.id, f"shard-{n}", b"x" * n)
        github_double.add_workflow_run(seeded_pr.repo, seeded_pr.head_sha, name=f"extra-{n}")
    base = f"/repos/{seeded_pr.repo}/actions/runs/{codex_run.id}/artifacts"

    pages = [raw(github_double, base, token, params={"per_page": 2, "page": p}) for p in (1, 2, 3)]

    bodies = [p.json() for p in pages]
    assert [b["total_count"] for b in bodies] == [5, 5, 5]
    names = [[a["name"] for a in b["artifacts"]] for b in bodies]
    assert names == [["shard-2", "shard-1"], ["shard-0", "codex-logs"], [USAGE_NAME]]
    assert 'rel="next"' in pages[0].headers["Link"] and "page=2" in pages[0].headers["Link"]
    assert 'rel="next"' not in pages[2].headers["Link"]
    query = {"head_sha": seeded_pr.head_sha, "per_page": 3}
    runs = raw(github_double, f"/repos/{seeded_pr.repo}/actions/runs", token, params=query).json()
    assert runs["total_count"] == 4 and len(runs["workflow_runs"]) == 3
    github_double.assert_clean()


def test_paging_through_pygithub(
    github_double: GitHubDouble, app_key: tuple[str, str], seeded_pr: Seeded, codex_run: Any
) -> None:
    for n in range(4):
        github_double.add_workflow_run(seeded_pr.repo, seeded_pr.head_sha, name=f"extra-{n}")
    token = integration(github_double, app_key[0]).get_access_token(seeded_pr.installation_id)
    client = Github(
        base_url=github_double.base_url, auth=Auth.Token(token.token), per_page=2, **NO_WAIT
    )

    runs = list(client.get_repo(seeded_pr.repo).get_workflow_runs(head_sha=seeded_pr.head_sha))

    assert len(runs) == 5 and runs[-1].id == codex_run.id  # newest first
    assert len(github_double.calls("GET", r"/actions/runs$")) == 3
    github_double.assert_clean()


def test_response_contract_is_checked(
    github_double: GitHubDouble, token: str, seeded_pr: Seeded, codex_run: Any
) -> None:
    def corrupt(body: Any) -> Any:
        body["artifacts"][0]["size_in_bytes"] = "big"
        return body

    github_double.tamper("GET", r"/artifacts$", corrupt)
    raw(github_double, f"/repos/{seeded_pr.repo}/actions/runs/{codex_run.id}/artifacts", token)

    assert any("size_in_bytes" in v for v in github_double.violations)
    github_double.clear_violations()
    other = raw(github_double, f"/repos/{seeded_pr.repo}/actions/artifacts/1/tar", token)
    assert other.status_code == 404
    assert any("archive_format must be zip" in v for v in github_double.violations)
    github_double.clear_violations()
    github_double.assert_clean()


def test_deleting_a_run_needs_actions_write(
    github_double: GitHubDouble, token: str, seeded_pr: Seeded, codex_run: Any
) -> None:
    path = f"/repos/{seeded_pr.repo}/actions/runs/{codex_run.id}"
    denied = requests.delete(
        github_double.base_url + path, headers={"Authorization": f"token {token}"}, timeout=10
    )
    assert denied.status_code == 403
    assert denied.headers["X-Accepted-GitHub-Permissions"] == "actions=write"

    installation = github_double.world.installations[seeded_pr.installation_id]
    installation.permissions["actions"] = "write"
    writer = github_double.issue_token(seeded_pr.installation_id).token
    deleted = requests.delete(
        github_double.base_url + path, headers={"Authorization": f"token {writer}"}, timeout=10
    )
    assert deleted.status_code == 204
    assert github_double.workflow_runs(seeded_pr.repo) == []
    assert github_double.artifacts(seeded_pr.repo) == []
    github_double.assert_clean()
