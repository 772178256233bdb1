"""Seeding the world from real webhook payloads, so tests start from what GitHub sent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from github_double.models import CheckRun, Repo, Seeded
from github_double.state.checks import Checks
from github_double.state.pulls import Pulls
from github_double.state.repos import Repos


class Seeding(Repos, Pulls, Checks):
    """World methods that seed state from webhook payloads."""

    def seed_from_event(self, payload: Mapping[str, Any]) -> Seeded:
        """Create installation, repo, PR/issue/comment/check run described by a webhook payload."""
        with self.lock:
            repo_obj = payload["repository"]
            owner = repo_obj["owner"]
            inst_id = (payload.get("installation") or {}).get("id")
            if inst_id is None:
                existing = self.installation_for_repo(repo_obj["full_name"])
                inst_id = existing.id if existing else None
            if inst_id is None:
                inst_id = self.add_installation(
                    account=owner["login"], account_type=owner.get("type", "User")
                ).id
            elif inst_id not in self.installations:
                self.add_installation(inst_id, owner["login"], owner.get("type", "User"))
            self.user(owner["login"], owner.get("type", "User"), owner.get("id"))
            repo = self.add_repo(
                repo_obj["full_name"],
                installation_id=inst_id,
                repo_id=repo_obj.get("id"),
                default_branch=repo_obj.get("default_branch") or "main",
                private=bool(repo_obj.get("private")),
                owner_type=owner.get("type"),
                owner_id=owner.get("id"),
            )
            seeded = Seeded(installation_id=inst_id, repo=repo.full_name)
            if "sender" in payload:
                sender = payload["sender"]
                self.user(sender["login"], sender.get("type", "User"), sender.get("id"))
            pr = payload.get("pull_request")
            if pr:
                self._seed_pull(repo, pr)
                seeded.number = pr["number"]
                seeded.head_sha, seeded.base_sha = pr["head"]["sha"], pr["base"]["sha"]
            issue = payload.get("issue")
            if issue and not pr:
                seeded.number = issue["number"]
                if issue.get("pull_request") is None:
                    self._seed_issue(repo, issue)
                elif issue["number"] not in repo.pulls:
                    self._seed_pull_from_issue(repo, issue)
            comment = payload.get("comment")
            if comment and issue and "id" in comment:
                author = comment["user"]
                self.user(author["login"], author.get("type", "User"), author.get("id"))
                self.add_comment(
                    repo.full_name,
                    issue["number"],
                    comment.get("body") or "",
                    user=author["login"],
                    comment_id=comment["id"],
                )
            run = payload.get("check_run")
            if run:
                self._seed_check_run(repo, run)
                seeded.head_sha = run["head_sha"]
            return seeded

    def _seed_pull(self, repo: Repo, pr: Mapping[str, Any]) -> None:
        user = pr["user"]
        self.user(user["login"], user.get("type", "User"), user.get("id"))
        head_repo = (pr["head"].get("repo") or {}).get("full_name")
        pull = self.add_pull(
            repo.full_name,
            number=pr["number"],
            title=pr.get("title") or "",
            body=pr.get("body"),
            user=user["login"],
            head_ref=pr["head"]["ref"],
            head_sha=pr["head"]["sha"],
            base_ref=pr["base"]["ref"],
            base_sha=pr["base"]["sha"],
            labels=[label["name"] for label in pr.get("labels") or []],
            state=pr.get("state", "open"),
            draft=bool(pr.get("draft")),
            pull_id=pr.get("id"),
        )
        pull.created_at = pr.get("created_at") or pull.created_at
        pull.updated_at = pr.get("updated_at") or pull.updated_at
        pull.merged = bool(pr.get("merged"))
        pull.closed_at = pr.get("closed_at")
        if head_repo and head_repo.lower() != repo.full_name.lower():
            fork = pr["head"]["repo"]
            fork_owner = fork.get("owner") or {}
            self.add_repo(
                head_repo,
                repo_id=fork.get("id"),
                default_branch=fork.get("default_branch") or "main",
                owner_type=fork_owner.get("type"),
                owner_id=fork_owner.get("id"),
            )
            pull.head_repo = head_repo
            repo.branches.pop(pull.head_ref, None)

    def _seed_pull_from_issue(self, repo: Repo, issue: Mapping[str, Any]) -> None:
        """A PR known only through the issues API (issue_comment events): refs are made up."""
        user = issue["user"]
        self.user(user["login"], user.get("type", "User"), user.get("id"))
        self.add_pull(
            repo.full_name,
            number=issue["number"],
            title=issue.get("title") or "",
            body=issue.get("body"),
            user=user["login"],
            head_ref=f"pr-{issue['number']}",
            labels=[label["name"] for label in issue.get("labels") or []],
            state=issue.get("state", "open"),
            pull_id=issue.get("id"),
        )

    def _seed_issue(self, repo: Repo, issue: Mapping[str, Any]) -> None:
        if issue["number"] in repo.issues:
            return
        made = self.add_issue(
            repo.full_name,
            number=issue["number"],
            title=issue.get("title") or "",
            body=issue.get("body"),
            user=issue["user"]["login"],
            labels=[label["name"] for label in issue.get("labels") or []],
            state=issue.get("state", "open"),
        )
        made.id = issue.get("id", made.id)

    def _seed_check_run(self, repo: Repo, run: Mapping[str, Any]) -> None:
        if run["id"] in self.check_runs_by_id:
            return
        app_info = run.get("app") or {}
        slug = app_info.get("slug") or self.app.slug
        app = self.other_app(slug)
        self.check_runs_by_id[run["id"]] = CheckRun(
            id=run["id"],
            repo=repo.full_name,
            name=run["name"],
            head_sha=run["head_sha"],
            app=app,
            suite_id=self.suite_id(repo.full_name, run["head_sha"], app),
            status=run.get("status", "queued"),
            conclusion=run.get("conclusion"),
            started_at=run.get("started_at"),
            completed_at=run.get("completed_at"),
            output={k: (run.get("output") or {}).get(k) for k in ("title", "summary", "text")},
            external_id=run.get("external_id"),
            details_url=run.get("details_url"),
        )
