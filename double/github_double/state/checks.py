"""Check runs, their suites and commit statuses."""

from __future__ import annotations

from typing import Any

from github_double.models import App, CheckRun, Status, iso
from github_double.state.base import WorldBase


class Checks(WorldBase):
    """World methods for check runs, suites and commit statuses."""

    def suite_id(self, repo: str, head_sha: str, app: App) -> int:
        with self.lock:
            key = (repo.lower(), head_sha, app.id)
            if key not in self.suites:
                self.suites[key] = self.new_id()
            return self.suites[key]

    def add_check_run(
        self,
        repo: str,
        head_sha: str,
        name: str,
        status: str = "completed",
        conclusion: str | None = "success",
        app_slug: str = "github-actions",
        **extra: Any,
    ) -> CheckRun:
        """Add a check run owned by another App (CI), or by ours if `app_slug` is our slug."""
        with self.lock:
            r = self.repo(repo)
            app = self.other_app(app_slug)
            run = CheckRun(
                id=self.new_id(),
                repo=r.full_name,
                name=name,
                head_sha=head_sha,
                app=app,
                suite_id=self.suite_id(r.full_name, head_sha, app),
                status=status,
                conclusion=conclusion if status == "completed" else None,
                completed_at=iso() if status == "completed" else None,
                **extra,
            )
            self.check_runs_by_id[run.id] = run
            return run

    def check_runs(
        self, repo: str, head_sha: str | None = None, name: str | None = None
    ) -> list[CheckRun]:
        """Check runs on a repo, oldest first, optionally filtered by head SHA and name."""
        with self.lock:
            return [
                run
                for run in sorted(self.check_runs_by_id.values(), key=lambda c: c.id)
                if run.repo.lower() == repo.lower()
                and (head_sha is None or run.head_sha == head_sha)
                and (name is None or run.name == name)
            ]

    def add_status(
        self,
        repo: str,
        sha: str,
        state: str,
        context: str = "default",
        description: str | None = None,
        target_url: str | None = None,
        creator: str | None = None,
    ) -> Status:
        with self.lock:
            r = self.repo(repo)
            status = Status(
                id=self.new_id(),
                repo=r.full_name,
                sha=sha,
                state=state,
                context=context,
                description=description,
                target_url=target_url,
                creator=self.bot if creator is None else self.user(creator),
            )
            self.statuses.append(status)
            return status

    def statuses_for(self, repo: str, sha: str) -> list[Status]:
        """Statuses on a commit, newest first (GitHub's order)."""
        with self.lock:
            found = [s for s in self.statuses if s.repo.lower() == repo.lower() and s.sha == sha]
            return sorted(found, key=lambda s: s.id, reverse=True)
