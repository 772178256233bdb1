"""Records of the double's GitHub world (accounts, repos, PRs, checks...) and git hashing.

Plain dataclasses with no locking of their own: `state.World` owns them and its lock.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

PERMISSION_LEVELS = ("admin", "maintain", "write", "triage", "read", "none")
LEGACY_PERMISSION = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
    "none": "none",
}


def iso(ts: float | None = None) -> str:
    """GitHub's timestamp format (UTC, seconds, trailing Z)."""
    moment = datetime.fromtimestamp(time.time() if ts is None else ts, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def git_blob_sha(content: bytes) -> str:
    """The SHA git gives a blob, so tree and contents SHAs match what GitHub would return."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


def git_tree_sha(entries: Iterable[tuple[str, str, str]]) -> str:
    """Hash a tree from (mode, name, sha) entries in git's canonical order."""

    def order(entry: tuple[str, str, str]) -> str:
        mode, name, _ = entry
        return name + "/" if mode == "40000" else name

    body = b"".join(
        f"{mode} {name}".encode() + b"\0" + bytes.fromhex(sha)
        for mode, name, sha in sorted(entries, key=order)
    )
    return hashlib.sha1(b"tree %d\0" % len(body) + body, usedforsecurity=False).hexdigest()


def as_bytes(content: str | bytes) -> bytes:
    return content if isinstance(content, bytes) else content.encode("utf-8")


@dataclass
class Account:
    """A user, organisation or bot."""

    login: str
    id: int
    type: str = "User"

    @property
    def node_id(self) -> str:
        return f"U_{self.id}"


@dataclass
class App:
    """A GitHub App: ours (authenticated by JWT) or another one that owns CI check runs."""

    id: int
    slug: str
    name: str
    owner: Account
    client_id: str = "Iv1.8a61f9b3a7aba766"
    permissions: dict[str, str] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    webhook_url: str = "https://example.invalid/webhook"

    @property
    def bot_login(self) -> str:
        return f"{self.slug}[bot]"


@dataclass
class Installation:
    id: int
    account: Account
    repos: list[str] = field(default_factory=list)
    repository_selection: str = "selected"
    permissions: dict[str, str] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    created_at: str = field(default_factory=iso)
    suspended_at: str | None = None


@dataclass
class Commit:
    sha: str
    files: dict[str, bytes] = field(default_factory=dict)
    message: str = ""
    parents: list[str] = field(default_factory=list)
    author: str = "octocat"
    date: str = field(default_factory=iso)


@dataclass
class Pull:
    number: int
    id: int
    title: str
    body: str | None
    user: Account
    head_ref: str
    head_sha: str
    base_ref: str
    base_sha: str
    labels: list[str] = field(default_factory=list)
    state: str = "open"
    draft: bool = False
    merged: bool = False
    commits: list[str] = field(default_factory=list)
    head_repo: str | None = None
    created_at: str = field(default_factory=iso)
    updated_at: str = field(default_factory=iso)
    closed_at: str | None = None


@dataclass
class Issue:
    number: int
    id: int
    title: str
    body: str | None
    user: Account
    labels: list[str] = field(default_factory=list)
    state: str = "open"
    created_at: str = field(default_factory=iso)
    updated_at: str = field(default_factory=iso)
    closed_at: str | None = None


@dataclass
class Reaction:
    id: int
    content: str
    user: Account
    created_at: str = field(default_factory=iso)


@dataclass
class Comment:
    id: int
    repo: str
    issue_number: int
    body: str
    user: Account
    created_at: str = field(default_factory=iso)
    updated_at: str = field(default_factory=iso)
    reactions: list[Reaction] = field(default_factory=list)


@dataclass
class CheckRun:
    id: int
    repo: str
    name: str
    head_sha: str
    app: App
    suite_id: int
    status: str = "queued"
    conclusion: str | None = None
    started_at: str | None = field(default_factory=iso)
    completed_at: str | None = None
    output: dict[str, Any] = field(default_factory=dict)
    annotations: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    external_id: str | None = None
    details_url: str | None = None


@dataclass
class Status:
    id: int
    repo: str
    sha: str
    state: str
    context: str
    description: str | None
    target_url: str | None
    creator: Account
    created_at: str = field(default_factory=iso)


@dataclass
class WorkflowRun:
    """A GitHub Actions workflow run (owned by the `github-actions` App's check suite)."""

    id: int
    repo: str
    name: str
    head_sha: str
    head_branch: str | None
    event: str
    status: str
    conclusion: str | None
    run_number: int
    suite_id: int
    actor: Account
    pull_numbers: list[int] | None = None  # None: the open PRs whose head is head_sha
    path: str = ""
    created_at: str = field(default_factory=iso)
    updated_at: str = field(default_factory=iso)


@dataclass
class Artifact:
    """A workflow run's artifact; `data` is the zip archive the download redirect serves."""

    id: int
    repo: str
    run_id: int
    name: str
    data: bytes
    expired: bool = False
    created_at: str = field(default_factory=iso)
    expires_at: str = field(default_factory=lambda: iso(time.time() + 90 * 86400))

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.data).hexdigest()


@dataclass
class Delivery:
    """One webhook delivery as GitHub logs it for the App."""

    id: int
    guid: str
    event: str
    action: str | None
    installation_id: int | None
    repository_id: int | None
    status: str = "OK"
    status_code: int = 200
    delivered_at: str = field(default_factory=iso)
    redelivery: bool = False
    duration: float = 0.05
    payload: dict[str, Any] = field(default_factory=dict)
    request_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = "ok"


@dataclass
class Token:
    token: str
    installation_id: int
    expires_at: float
    permissions: dict[str, str]
    repositories: list[str] | None


@dataclass
class Repo:
    id: int
    full_name: str
    owner: Account
    default_branch: str = "main"
    private: bool = False
    branches: dict[str, str] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    trees: dict[str, list[tuple[str, str, str, str]]] = field(default_factory=dict)
    pulls: dict[int, Pull] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)
    created_at: str = field(default_factory=iso)

    @property
    def name(self) -> str:
        return self.full_name.split("/", 1)[1]

    def next_number(self) -> int:
        return max([0, *self.pulls, *self.issues]) + 1


@dataclass
class Seeded:
    """What `World.seed_from_event` created, so tests can address it."""

    installation_id: int
    repo: str
    number: int | None = None
    head_sha: str | None = None
    base_sha: str | None = None


class NotFound(LookupError):
    """Raised by world lookups; the server turns it into GitHub's 404."""
