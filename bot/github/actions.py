"""GitHub Actions artifacts and org team membership, for cost attribution.

Helpers the gateway calls with its PyGithub requester; nothing else uses them. An
artifact download is a 302 to short-lived signed storage on another host: PyGithub
refuses to follow a redirect off the API host, and the signed URL is its own
credential, so the Location is read without following and fetched with plain
`requests`, without the installation token, reading at most a bounded number of bytes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from github import GithubException

log = logging.getLogger("codex_guard.gateway")

MAX_ARTIFACT_PAGES = 5
_CHUNK = 64 * 1024


class ArtifactUnavailable(Exception):
    """An artifact that cannot be downloaded; the message says why, for a note on the PR."""


@dataclass(frozen=True)
class ArtifactInfo:
    """One artifact of a workflow run, as listed (its bytes are fetched separately)."""

    id: int
    name: str
    size_in_bytes: int
    expired: bool


def run_artifacts(requester: Any, repo: str, run_id: int, name: str) -> list[ArtifactInfo]:
    """The run's artifacts called ``name`` (GitHub filters by exact name), oldest first.

    Raises GithubException as the API answered it (403 without `actions: read`)."""
    found: list[ArtifactInfo] = []
    path = f"/repos/{repo}/actions/runs/{run_id}/artifacts"
    for page in range(1, MAX_ARTIFACT_PAGES + 1):
        params = {"name": name, "per_page": 100, "page": page}
        _, data = requester.requestJsonAndCheck("GET", path, parameters=params)
        batch = (data or {}).get("artifacts") or []
        for item in batch:
            if not isinstance(item, dict) or not isinstance(item.get("id"), int):
                continue
            if item.get("name") == name:
                found.append(
                    ArtifactInfo(
                        id=item["id"],
                        name=item["name"],
                        size_in_bytes=int(item.get("size_in_bytes") or 0),
                        expired=bool(item.get("expired")),
                    )
                )
        if len(batch) < 100:
            break
    return sorted(found, key=lambda a: a.id)


def _status_note(status: int) -> str:
    if status == 410:
        return "the artifact has expired (GitHub answered 410 Gone)"
    if status == 404:
        return "the artifact is gone (GitHub answered 404)"
    if status == 403:
        return "codex-guard may not download it: it needs the `actions: read` permission"
    return f"GitHub answered {status} to the download"


def download_zip(
    requester: Any, repo: str, artifact_id: int, max_bytes: int, timeout: float
) -> bytes:
    """The artifact's zip archive, at most ``max_bytes`` long.

    Raises `ArtifactUnavailable` for an expired or missing artifact, a refused download
    or an archive over the limit; `requests.RequestException` when storage did not answer.
    """
    path = f"/repos/{repo}/actions/artifacts/{artifact_id}/zip"
    try:
        status, headers, _ = requester.requestJson("GET", path)
    except GithubException as exc:  # PyGithub's retry raises some 4xx itself (a plain 403)
        if exc.status is None or exc.status >= 500 or exc.status == 429:
            raise
        raise ArtifactUnavailable(_status_note(exc.status)) from None
    if status >= 500 or status == 429:
        raise GithubException(status, None, headers)  # transient: the caller retries later
    location = (headers or {}).get("location")
    if status != 302 or not location:
        raise ArtifactUnavailable(_status_note(status))
    if urlsplit(location).scheme not in ("http", "https"):
        raise ArtifactUnavailable("GitHub's download link is not an http(s) URL")
    # The signed URL is the credential: no Authorization header, and it is never logged.
    with requests.get(location, timeout=timeout, stream=True, allow_redirects=False) as blob:
        if blob.status_code != 200:
            raise ArtifactUnavailable(f"the artifact storage answered {blob.status_code}")
        declared = blob.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise ArtifactUnavailable(
                f"the artifact is {int(declared)} bytes, more than the {max_bytes} allowed"
            )
        chunks: list[bytes] = []
        size = 0
        for chunk in blob.iter_content(_CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise ArtifactUnavailable(
                    f"the artifact is more than the {max_bytes} bytes allowed"
                )
            chunks.append(chunk)
    return b"".join(chunks)


def team_membership(requester: Any, org: str, team_slug: str, login: str) -> str:
    """``member`` (an active membership), ``none`` (404: not a member, or a team the App
    cannot see) or ``denied`` (403: the App lacks the organisation permission
    `members: read`). Raises GithubException for anything else."""
    path = f"/orgs/{org}/teams/{team_slug}/memberships/{login}"
    try:
        _, data = requester.requestJsonAndCheck("GET", path)
    except GithubException as exc:
        if exc.status == 404:
            return "none"
        if exc.status == 403:
            return "denied"
        raise
    return "member" if isinstance(data, dict) and data.get("state") == "active" else "none"
