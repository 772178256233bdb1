"""All GitHub access, in one place, as plain data.

Everything else in codex-guard works on dicts and dataclasses; only this module
knows PyGithub. That keeps the practices pure, makes the number of API calls
per evaluation visible in one file, and gives retries one home.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from github import Auth, Github, GithubException

from bot import CHECK_NAME
from bot.core.pulls import pr_summary
from bot.core.snapshot import CheckEvidence
from bot.github import actions
from bot.github.actions import ArtifactInfo
from bot.github.pacing import WritePacer
from bot.github.retry import retry_policy
from bot.github.tokens import TokenStore
from bot.runtime.settings import Settings

log = logging.getLogger("codex_guard.gateway")

PERMISSION_ORDER = ("none", "read", "triage", "write", "maintain", "admin")
MAX_EVIDENCE_PAGES = 10
MAX_PULL_FILES = 3000
"""GitHub's own cap on "list pull request files"."""


class NotFound(Exception):
    """The PR, repository or file is gone: the job ends, no retry."""


@dataclass(frozen=True)
class ExistingCheck:
    id: int
    status: str
    conclusion: str | None
    summary: str | None
    title: str | None


class Gateway:
    """GitHub as one installation sees it."""

    def __init__(
        self,
        settings: Settings,
        tokens: TokenStore,
        installation_id: int,
        pacer: WritePacer | None = None,
    ) -> None:
        self.installation_id = installation_id
        self._settings = settings
        self._tokens = tokens
        self._pacer = pacer
        hold = (lambda seconds: pacer.hold(installation_id, seconds)) if pacer else None
        self._gh = Github(
            auth=Auth.Token(tokens.token(installation_id)),
            base_url=settings.github_api_url,
            timeout=settings.github_timeout,
            retry=retry_policy(hold),
            lazy=True,
            seconds_between_requests=settings.seconds_between_requests,
            seconds_between_writes=settings.seconds_between_writes,
        )

    @property
    def requester(self) -> Any:
        """PyGithub's requester, for instrumentation (metrics count every call)."""
        return self._gh.requester

    # -- raw access -------------------------------------------------------
    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        try:
            _, data = self._gh.requester.requestJsonAndCheck("GET", path, parameters=params)
        except GithubException as exc:
            if exc.status == 404:
                raise NotFound(path) from None
            raise
        return data

    def _write(self, verb: str, path: str, body: dict[str, Any]) -> Any:
        """Every write, paced per installation across all processes (`bot.github.pacing`)."""
        if self._pacer is not None:
            self._pacer.before_write(self.installation_id)
        _, data = self._gh.requester.requestJsonAndCheck(verb, path, input=body)
        return data

    # -- pull requests ----------------------------------------------------
    def pull(self, repo: str, number: int) -> dict[str, Any]:
        return pr_summary(self._get(f"/repos/{repo}/pulls/{number}"))

    def open_pulls(self, repo: str, limit: int = 300) -> list[dict[str, Any]]:
        pulls: list[dict[str, Any]] = []
        page = 1
        while len(pulls) < limit:
            batch = self._get(
                f"/repos/{repo}/pulls", {"state": "open", "per_page": 100, "page": page}
            )
            pulls.extend(pr_summary(p) for p in batch)
            if len(batch) < 100:
                break
            page += 1
        return pulls

    def installation_repos(self, max_pages: int = 10) -> list[str]:
        """Full names of the repositories this installation can see (paged, bounded)."""
        names: list[str] = []
        for page in range(1, max_pages + 1):
            data = self._get("/installation/repositories", {"per_page": 100, "page": page})
            batch = data.get("repositories") or []
            names.extend(r["full_name"] for r in batch if "full_name" in r)
            if len(batch) < 100:
                break
        return names

    def pull_files(
        self, repo: str, number: int, limit: int = MAX_PULL_FILES
    ) -> list[dict[str, Any]]:
        """ "List pull request files": name, status, old name, additions and patch of each.

        GitHub lists at most 3000 files; a list that long may be cut short.
        """
        keep = ("filename", "status", "previous_filename", "additions", "patch")
        entries: list[dict[str, Any]] = []
        page = 1
        while len(entries) < limit:
            batch = self._get(
                f"/repos/{repo}/pulls/{number}/files", {"per_page": 100, "page": page}
            )
            entries.extend({k: f[k] for k in keep if k in f} for f in batch)
            if len(batch) < 100:
                break
            page += 1
        return entries[:limit]

    def pull_reviews(self, repo: str, number: int, max_pages: int = 10) -> list[dict[str, Any]]:
        """Every review of the PR in submission order (the `scope` practice's approvals)."""
        reviews: list[dict[str, Any]] = []
        for page in range(1, max_pages + 1):
            batch = self._get(
                f"/repos/{repo}/pulls/{number}/reviews", {"per_page": 100, "page": page}
            )
            reviews.extend(batch)
            if len(batch) < 100:
                break
        return reviews

    def pull_commit_messages(self, repo: str, number: int) -> list[str]:
        batch = self._get(f"/repos/{repo}/pulls/{number}/commits", {"per_page": 100})
        return [c["commit"]["message"] for c in batch]

    def issue_body(self, repo: str, number: int) -> str | None:
        try:
            return self._get(f"/repos/{repo}/issues/{number}").get("body") or ""
        except NotFound:
            return None

    # -- files --------------------------------------------------------------
    def file_text(self, repo: str, path: str, ref: str | None) -> str | None:
        """A file's text at ``ref`` (default branch if None), or None when absent."""
        found = self.file_blob(repo, path, ref)
        return None if found is None else found[1]

    def file_blob(self, repo: str, path: str, ref: str | None) -> tuple[str, str] | None:
        """(blob SHA, text) of a file at ``ref`` (default branch if None); None when absent."""
        try:
            params = {"ref": ref} if ref else None
            data = self._get(f"/repos/{repo}/contents/{path}", params)
        except NotFound:
            return None
        if not isinstance(data, dict) or data.get("type") != "file":
            return None
        text = base64.b64decode(data.get("content") or "").decode("utf-8", "replace")
        return str(data.get("sha") or ""), text

    def tree(self, repo: str, sha: str) -> dict[str, str]:
        """Every file path at ``sha`` with its blob SHA (one call, recursive)."""
        data = self._get(f"/repos/{repo}/git/trees/{sha}", {"recursive": "1"})
        return {e["path"]: e["sha"] for e in data.get("tree", []) if e.get("type") == "blob"}

    def blob_text(self, repo: str, sha: str) -> str:
        data = self._get(f"/repos/{repo}/git/blobs/{sha}")
        return base64.b64decode(data.get("content") or "").decode("utf-8", "replace")

    # -- CI evidence --------------------------------------------------------
    def ci_evidence(self, repo: str, sha: str) -> tuple[list[CheckEvidence], ExistingCheck | None]:
        """Check runs and statuses on ``sha``, and codex-guard's own run if any."""
        evidence: list[CheckEvidence] = []
        own: ExistingCheck | None = None
        runs = self._all_pages(f"/repos/{repo}/commits/{sha}/check-runs", "check_runs")
        for run in runs:
            app = run.get("app") or {}
            if run.get("name") == CHECK_NAME and (
                app.get("id") == self._settings.app_id or not app
            ):
                if own is None or run["id"] > own.id:
                    output = run.get("output") or {}
                    own = ExistingCheck(
                        id=run["id"],
                        status=run.get("status") or "",
                        conclusion=run.get("conclusion"),
                        summary=output.get("summary"),
                        title=output.get("title"),
                    )
                continue
            evidence.append(
                CheckEvidence(
                    name=run.get("name") or "",
                    source="check_run",
                    status=run.get("status") or "queued",
                    conclusion=run.get("conclusion"),
                    url=run.get("html_url") or run.get("details_url"),
                    app_slug=app.get("slug"),
                    details_url=run.get("details_url"),
                )
            )
        for status in self._all_pages(f"/repos/{repo}/commits/{sha}/status", "statuses"):
            if status.get("context") == CHECK_NAME:
                continue
            state = status.get("state")
            evidence.append(
                CheckEvidence(
                    name=status.get("context") or "",
                    source="status",
                    status="in_progress" if state == "pending" else "completed",
                    conclusion=None
                    if state == "pending"
                    else ("success" if state == "success" else "failure"),
                    url=status.get("target_url"),
                )
            )
        return evidence, own

    def _all_pages(self, path: str, key: str, max_pages: int = MAX_EVIDENCE_PAGES) -> list[Any]:
        """Every item of a ``{total_count, <key>: [...]}`` listing, at most ``max_pages``.

        A failure on a later page must not be missed (a red commit would pass);
        one page is one call, as before.
        """
        items: list[Any] = []
        for page in range(1, max_pages + 1):
            data = self._get(path, {"per_page": 100, "page": page})
            batch = data.get(key) or []
            items.extend(batch)
            if len(batch) < 100 or len(items) >= int(data.get("total_count") or 0):
                break
        return items

    # -- the check run ------------------------------------------------------
    def create_check(self, repo: str, sha: str, **fields: Any) -> int:
        body = {"name": CHECK_NAME, "head_sha": sha, **_jsonable(fields)}
        return self._write("POST", f"/repos/{repo}/check-runs", body)["id"]

    def update_check(self, repo: str, check_id: int, **fields: Any) -> None:
        self._write("PATCH", f"/repos/{repo}/check-runs/{check_id}", _jsonable(fields))

    # -- the PR comment -----------------------------------------------------
    def find_comment(self, repo: str, number: int, marker: str) -> tuple[int, str] | None:
        page = 1
        while True:
            batch = self._get(
                f"/repos/{repo}/issues/{number}/comments", {"per_page": 100, "page": page}
            )
            for comment in batch:
                body = comment.get("body") or ""
                if body.startswith(marker) and self._is_ours(comment):
                    return comment["id"], body
            if len(batch) < 100 or page >= 10:
                return None
            page += 1

    def _is_ours(self, comment: dict[str, Any]) -> bool:
        """Written by this App: another App's comment that copies the marker is not ours."""
        app = comment.get("performed_via_github_app")
        if isinstance(app, dict):
            return app.get("id") == self._settings.app_id
        user = comment.get("user") or {}
        return "performed_via_github_app" not in comment and user.get("type") == "Bot"

    def create_comment(self, repo: str, number: int, body: str) -> int:
        return self._write("POST", f"/repos/{repo}/issues/{number}/comments", {"body": body})["id"]

    def edit_comment(self, repo: str, comment_id: int, body: str) -> None:
        self._write("PATCH", f"/repos/{repo}/issues/comments/{comment_id}", {"body": body})

    def react(self, repo: str, comment_id: int, content: str) -> None:
        path = f"/repos/{repo}/issues/comments/{comment_id}/reactions"
        self._write("POST", path, {"content": content})

    # -- people -------------------------------------------------------------
    def permission(self, repo: str, user: str) -> str:
        try:
            data = self._get(f"/repos/{repo}/collaborators/{user}/permission")
        except NotFound:
            return "none"
        legacy = data.get("permission") or "none"
        for role in (data.get("role_name"), (data.get("user") or {}).get("role_name")):
            if role in PERMISSION_ORDER:
                return str(role)
        return legacy if legacy in PERMISSION_ORDER else "none"

    def team_membership(self, org: str, team_slug: str, login: str) -> str:
        """``member``, ``none`` or ``denied`` (the optional org permission `members: read`)."""
        return actions.team_membership(self._gh.requester, org, team_slug, login)

    # -- Actions artifacts (cost attribution) --------------------------------
    def run_artifacts(self, repo: str, run_id: int, name: str) -> list[ArtifactInfo]:
        """A workflow run's artifacts called ``name``; GithubException on a refusal."""
        return actions.run_artifacts(self._gh.requester, repo, run_id, name)

    def artifact_zip(self, repo: str, artifact_id: int, max_bytes: int) -> bytes:
        """An artifact's zip, at most ``max_bytes``; `ArtifactUnavailable` says why not."""
        timeout = float(self._settings.github_timeout)
        return actions.download_zip(self._gh.requester, repo, artifact_id, max_bytes, timeout)

    def default_branch_head(self, repo: str) -> tuple[str, str]:
        data = self._get(f"/repos/{repo}")
        branch = data["default_branch"]
        head = self._get(f"/repos/{repo}/branches/{branch}")
        return branch, head["commit"]["sha"]


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def at_least(role: str, wanted: str) -> bool:
    order = {name: i for i, name in enumerate(PERMISSION_ORDER)}
    return order.get(role, 0) >= order[wanted]
